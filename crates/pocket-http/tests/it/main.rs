//! pocket-http's integration tests, one binary: each module is one area, all against the sandbox
//! or a small loopback server; `metrics` builds only with that feature.

mod client_auth;
mod common;
mod create;
mod decoding;
mod gateway;
mod introspection;
#[cfg(feature = "metrics")]
mod metrics;
mod operations;
mod qr_invoice;
mod retries;
mod secrets;
mod tokens;
mod wire_extremes;
