#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

mod claims;
mod compact;
mod discovery;
mod keys;
mod state;
mod store;
mod verifier;

pub use verifier::{JwtVerifier, JwtVerifierBuilder};
