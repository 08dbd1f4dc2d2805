//! pocket-axum's integration tests, one binary: each module is one area; modules that need a
//! feature build only with it. `soak` stays a binary of its own: it runs itself again as each
//! replica process and has its own harness.

mod adversarial;
mod assets;
#[cfg(all(feature = "jwt", feature = "http"))]
mod auth_builder;
mod common;
mod extractor;
mod health;
mod more_webhook;
#[cfg(feature = "postgres")]
mod postgres;
mod redis;
mod typescript;
mod user;
mod webhook;
