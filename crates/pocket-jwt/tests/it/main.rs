//! pocket-jwt's integration tests, one binary: each module is one area, all against a loopback
//! OIDC realm; `metrics` builds only with that feature.

mod accepted;
mod common;
mod decoder_props;
mod keys;
#[cfg(feature = "metrics")]
mod metrics;
mod providers;
mod recovery;
mod rejected;
mod service_accounts;
