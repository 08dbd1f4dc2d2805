#![doc = include_str!("../README.md")]
#![warn(clippy::unwrap_used)]

mod client;
mod gateway;
mod introspection;
mod merchant;
mod paging;
mod retry;
mod settings;
mod telemetry;
mod token;
mod transport;

pub use client::{PocketClient, PocketClientBuilder};
pub use introspection::{Introspection, IntrospectionVerifier};
pub use merchant::WebhookChange;
/// The domain types this crate's methods take and return (invoices, amounts, errors, …).
pub use pocket_core;
pub use retry::RetryPolicy;
pub use settings::ClientAuth;
/// The metrics this crate records (feature `metrics`): name, Prometheus type, meaning.
#[cfg(feature = "metrics")]
pub use telemetry::METRICS;
