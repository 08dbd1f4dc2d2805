#![doc = include_str!("../README.md")]
#![warn(clippy::unwrap_used)]

mod amount;
mod environment;
mod error;
mod extra_claims;
mod gateway;
mod ids;
mod invoice;
mod java_long;
mod lenient;
mod merchant_invoice;
mod note;
mod pins;
#[cfg(feature = "qr")]
mod qr;
mod secret;
mod state;
mod traits;
mod user;
mod webhook;

pub use amount::{Amount, AmountError};
pub use environment::{CustomEnvironment, CustomEnvironmentBuilder, Environment, EnvironmentError};
pub use error::{Error, ErrorKind, TokenRejection, UnconfirmedInvoice, ValidationError};
pub use extra_claims::{ClaimNames, ExtraClaims};
pub use gateway::{Branch, Channel, GatewayInvoice, InvoiceDetail, InvoiceType, NewGatewayInvoice, Page, Terminal};
pub use ids::{
    BranchId, BranchIdError, InvoiceId, InvoiceIdError, OrderNumber, OrderNumberError, TerminalId, TerminalIdError,
};
pub use invoice::{Invoice, InvoiceStatus, NewInvoice};
pub use merchant_invoice::{MerchantInvoice, NewMerchantInvoice};
pub use note::{InvoiceNote, NoteError};
pub use pins::check_pins;
#[cfg(feature = "qr")]
pub use qr::{qr_png, qr_svg, qr_text};
pub use secret::{ClientSecret, ConsumerToken, ConsumerTokenError, Credentials, MerchantToken, RefreshToken};
pub use state::InvoiceState;
pub use traits::{ConsumerTokenVerifier, GatewayApi, MerchantApi};
#[cfg(feature = "mock")]
pub use traits::{MockConsumerTokenVerifier, MockGatewayApi, MockMerchantApi};
pub use user::PocketUser;
pub use webhook::{PaymentConfig, WebhookNotice};
