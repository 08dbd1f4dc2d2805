#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

mod assets;
mod openapi;
mod store;
mod user;
mod webhook;

pub use assets::{POCKET_JS, pocket_js_router};
pub use openapi::openapi;
pub use store::{Claim, InMemoryStore, StoreError, WebhookStore};
pub use user::{AuthRejection, PocketAuth, RejectionBody, WalletUser};
pub use webhook::{
    BODY_LIMIT, Expected, HandlerError, HandlerFn, OrderCheck, PaymentHandler, PocketWebhook, VerifiedPayment,
    WebhookAnswer, handler_fn, webhook_router,
};
