#![doc = include_str!("../README.md")]
#![warn(clippy::unwrap_used)]

mod config;
mod consumer;
mod control;
mod delivery;
mod faults;
mod gateway;
mod html;
mod keys;
mod limits;
mod merchant;
mod openapi;
mod pay_screen;
mod payments;
mod reply;
mod server;
mod signing;
mod sso;
mod state;
mod tokens;
mod wallet;
mod webhook;
mod webview;
mod wire;

pub use config::{DuplicateOrders, SandboxConfig, TestBranch, TestClient, TestUser};
pub use consumer::ConsumerTokens;
pub use faults::{Endpoint, Fault};
pub use limits::WalletTier;
pub use openapi::document as openapi_json;
pub use server::Sandbox;
pub use signing::TestSignature;
pub use state::SandboxInvoice;
pub use webhook::{Delivery, DeliveryKind, DeliveryOutcome, FieldStyle, Forgery, Redelivery, WebhookBehaviour};
pub use wire::StateCase;

/// Why the sandbox could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The listening socket could not be opened.
    #[error("the sandbox could not listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    /// Generating or using an RSA key failed.
    #[error("the sandbox could not generate or use an RSA key")]
    KeyGeneration,
    /// A minted token was not usable.
    #[error("the sandbox minted an unusable token: {0}")]
    Token(String),
    /// No invoice has this id.
    #[error("no invoice {0:?} exists in the sandbox")]
    UnknownInvoice(String),
    /// The invoice was already paid or rejected.
    #[error("invoice {id} is {state}, not pending")]
    NotPending {
        /// The invoice.
        id: String,
        /// Its state.
        state: String,
    },
    /// A forged webhook could not be made as asked.
    #[error("cannot forge that webhook: {0}")]
    Forgery(String),
}
