#![doc = include_str!("../README.md")]
#![warn(clippy::unwrap_used)]

mod claims;
mod compact;
mod discovery;
mod fetch;
mod keys;
mod store;
mod telemetry;
mod verifier;

/// The metrics this crate records (feature `metrics`): name, Prometheus type, meaning.
#[cfg(feature = "metrics")]
pub use telemetry::METRICS;
pub use verifier::{JwtVerifier, JwtVerifierBuilder};
