#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

mod amount;
mod environment;
mod error;
mod invoice;
mod lenient;
mod note;
mod secret;
mod state;
mod traits;
mod user;
mod webhook;

pub use amount::{Amount, AmountError};
pub use environment::{CustomEnvironment, CustomEnvironmentBuilder, Environment, EnvironmentError};
pub use error::{Error, ErrorKind, TokenRejection, UnconfirmedInvoice, ValidationError};
pub use invoice::{Invoice, InvoiceId, InvoiceIdError, InvoiceStatus, NewInvoice};
pub use note::{InvoiceNote, NoteError};
pub use secret::{ClientSecret, ConsumerToken, ConsumerTokenError, Credentials, MerchantToken, RefreshToken};
pub use state::InvoiceState;
pub use traits::{ConsumerTokenVerifier, MerchantApi};
#[cfg(feature = "mock")]
pub use traits::{MockConsumerTokenVerifier, MockMerchantApi};
pub use user::PocketUser;
pub use webhook::{PaymentConfig, WebhookNotice};
