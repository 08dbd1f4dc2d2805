//! pocket-sandbox's integration tests, one binary: each module is one area of the local Pocket,
//! driven over loopback; `program` runs the `pocket-sandbox` binary (the `cli` feature).

mod browser;
mod common;
mod faults;
mod merchant;
#[cfg(feature = "cli")]
mod program;
mod sso;
mod wallet;
mod webhooks;
