#![doc = include_str!("../README.md")]
#![warn(clippy::unwrap_used)]

mod assets;
#[cfg(feature = "jwt")]
mod auth_builder;
mod health;
#[cfg(feature = "openapi")]
mod notice_schema;
#[cfg(feature = "openapi")]
mod openapi;
mod user;
mod webhook;

pub use assets::{POCKET_D_TS, POCKET_JS, pocket_js_router};
#[cfg(feature = "jwt")]
pub use auth_builder::PocketAuthBuilder;
pub use health::health_router;
#[cfg(feature = "openapi")]
pub use openapi::openapi;
/// The confirmation pipeline this crate's webhook is the HTTP face of.
pub use pocket_payments;
pub use pocket_payments::{
    Claim, ClaimToken, Expected, FailedPayment, HandlerError, HandlerFn, InMemoryStore, OrderCheck, PaymentHandler,
    PaymentStore, Payments, StoreError, VerifiedPayment, handler_fn,
};
#[cfg(feature = "postgres")]
pub use pocket_payments::{PgStore, TransactionalHandler};
pub use user::{AuthRejection, PocketAuth, RejectionBody, WalletUser};
pub use webhook::{BODY_LIMIT, BODY_TIMEOUT, PocketWebhook, WebhookAnswer, webhook_router};
