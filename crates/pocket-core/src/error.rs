//! The error shared by every pocket-rs crate's public calls.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::ids::{BranchIdError, InvoiceIdError, OrderNumber, OrderNumberError, TerminalId, TerminalIdError};
use crate::{Amount, AmountError, ConsumerTokenError, EnvironmentError, InvoiceNote, NoteError};

/// What kind of failure an [`Error`] is: match on this, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Input was refused before anything was sent; see [`Error::validation`].
    Validation,
    /// Pocket refused the merchant's credentials or token (HTTP 401/403, `invalid_client`, …).
    Unauthorized,
    /// Pocket does not know the thing asked for (HTTP 404).
    NotFound,
    /// Pocket asked to slow down (HTTP 429); see [`Error::retry_after`].
    RateLimited,
    /// Pocket could not be reached or could not answer (connection failure, HTTP 502/503/504),
    /// or no signing keys are available to verify a token.
    Unavailable,
    /// No answer came in time.
    Timeout,
    /// The request may or may not have taken effect — an invoice creation that failed after it
    /// may have reached Pocket. Do not blindly repeat it; see [`Error::unconfirmed_invoice`].
    Ambiguous,
    /// The wallet user's token is not acceptable, and why.
    InvalidToken(TokenRejection),
    /// Pocket answered with another client error (HTTP 400, 409, 422, …); see
    /// [`Error::status`] and [`Error::code`].
    Rejected,
    /// Pocket's answer could not be understood; see [`Error::json_path`].
    Protocol,
    /// The SDK is not set up for the call — a pipeline without a gateway asked to watch an
    /// order, an HTTP client that could not be built (its TLS backend) — so nothing was sent.
    Configuration,
}

/// Why a wallet user's token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenRejection {
    /// `exp` has passed (beyond the allowed leeway).
    Expired,
    /// `nbf` or `iat` is in the future.
    NotYetValid,
    /// The signature does not match.
    BadSignature,
    /// `iss` is not this realm.
    WrongIssuer,
    /// `aud` is not one of the accepted audiences.
    WrongAudience,
    /// `azp` is not one of the accepted clients.
    WrongAuthorizedParty,
    /// `typ` is not `Bearer`: an ID or refresh token used as an access token.
    WrongType,
    /// A signing algorithm other than RS256.
    UnsupportedAlgorithm,
    /// No key of the realm has the token's `kid`.
    UnknownKey,
    /// Not a well-formed token.
    Malformed,
    /// Larger than the configured limit.
    TooLarge,
    /// A required scope was not granted.
    MissingScope,
    /// The realm says the token is not active (introspection), or does not know its format.
    Inactive,
    /// A client's own token (a service account, such as the merchant's client-credentials
    /// token), not a wallet user's; see [`PocketUser::service_account_mark`](crate::PocketUser::service_account_mark).
    ServiceAccount,
}

impl TokenRejection {
    /// A short, stable, lowercase name, usable as an OAuth `error_description` or metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenRejection::Expired => "expired",
            TokenRejection::NotYetValid => "not yet valid",
            TokenRejection::BadSignature => "bad signature",
            TokenRejection::WrongIssuer => "wrong issuer",
            TokenRejection::WrongAudience => "wrong audience",
            TokenRejection::WrongAuthorizedParty => "wrong authorized party",
            TokenRejection::WrongType => "wrong token type",
            TokenRejection::UnsupportedAlgorithm => "unsupported algorithm",
            TokenRejection::UnknownKey => "unknown signing key",
            TokenRejection::Malformed => "malformed",
            TokenRejection::TooLarge => "too large",
            TokenRejection::MissingScope => "missing scope",
            TokenRejection::Inactive => "inactive",
            TokenRejection::ServiceAccount => "service account",
        }
    }
}

impl fmt::Display for TokenRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Input that was refused, and which field it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The `amount`.
    #[error("amount: {0}")]
    Amount(#[from] AmountError),
    /// The `info` note.
    #[error("info: {0}")]
    Note(#[from] NoteError),
    /// The `consumerToken`.
    #[error("consumerToken: {0}")]
    ConsumerToken(#[from] ConsumerTokenError),
    /// An invoice id.
    #[error("invoice id: {0}")]
    InvoiceId(#[from] InvoiceIdError),
    /// The environment.
    #[error("environment: {0}")]
    Environment(#[from] EnvironmentError),
    /// A gateway order number (its message names it).
    #[error("{0}")]
    OrderNumber(#[from] OrderNumberError),
    /// A gateway terminal id (its message names it).
    #[error("{0}")]
    TerminalId(#[from] TerminalIdError),
    /// A gateway branch id (its message names it).
    #[error("{0}")]
    BranchId(#[from] BranchIdError),
    /// Any other field.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, as the caller knows it.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl ValidationError {
    /// The field that was refused, by its wire name where it has one.
    pub fn field(&self) -> &'static str {
        match self {
            ValidationError::Amount(_) => "amount",
            ValidationError::Note(_) => "info",
            ValidationError::ConsumerToken(_) => "consumerToken",
            ValidationError::InvoiceId(_) => "invoiceId",
            ValidationError::Environment(_) => "environment",
            ValidationError::OrderNumber(_) => "orderNumber",
            ValidationError::TerminalId(_) => "terminalId",
            ValidationError::BranchId(_) => "branchId",
            ValidationError::Invalid { field, .. } => field,
        }
    }
}

/// What was sent in an invoice creation whose outcome is unknown — everything but the user's
/// token — so the caller can look for the invoice before trying again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnconfirmedInvoice {
    /// The amount that was requested.
    pub amount: Amount,
    /// The note that was sent.
    pub info: InvoiceNote,
    /// For a gateway invoice: its terminal and order number, by which it can be found
    /// (`recover_invoice` in pocket-http). `None` for a mini-app or merchant QR invoice.
    pub order: Option<(TerminalId, OrderNumber)>,
}

/// An error from a pocket-rs call: a [`kind`](Error::kind) to match on, a message a person can
/// act on, and — where they exist — the HTTP status, Pocket's error code, the JSON path of an
/// unreadable field, and the underlying cause. Never contains a secret.
#[derive(Clone)]
pub struct Error(Box<Inner>);

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    code: Option<String>,
    json_path: Option<String>,
    retry_after: Option<Duration>,
    validation: Option<ValidationError>,
    unconfirmed_invoice: Option<UnconfirmedInvoice>,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl Error {
    /// An error of `kind` with a message for people. The message must not contain secrets.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            status: None,
            code: None,
            json_path: None,
            retry_after: None,
            validation: None,
            unconfirmed_invoice: None,
            source: None,
        }))
    }

    /// A token rejection.
    pub fn invalid_token(reason: TokenRejection, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidToken(reason), message)
    }

    /// A response that could not be decoded, naming the JSON path of the field at fault
    /// (for example `amount` or `data.items[2].id`).
    pub fn decode(json_path: impl Into<String>, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Protocol, message).with_json_path(json_path)
    }

    /// An invoice creation that may have reached Pocket before it failed: what was asked for is
    /// kept (`UnconfirmedInvoice::from(&new_invoice)`), so it can be looked up before it is
    /// created again.
    pub fn ambiguous(unconfirmed: UnconfirmedInvoice, message: impl Into<String>) -> Error {
        let mut error = Error::new(ErrorKind::Ambiguous, message);
        error.0.unconfirmed_invoice = Some(unconfirmed);
        error
    }

    /// Adds the HTTP status Pocket answered with.
    pub fn with_status(mut self, status: u16) -> Error {
        self.0.status = Some(status);
        self
    }

    /// Adds Pocket's error code (such as Keycloak's `invalid_client`).
    pub fn with_code(mut self, code: impl Into<String>) -> Error {
        self.0.code = Some(code.into());
        self
    }

    /// Adds the JSON path of the field that could not be read.
    pub fn with_json_path(mut self, path: impl Into<String>) -> Error {
        self.0.json_path = Some(path.into());
        self
    }

    /// Adds how long Pocket asked the caller to wait.
    pub fn with_retry_after(mut self, wait: Duration) -> Error {
        self.0.retry_after = Some(wait);
        self
    }

    /// Adds the underlying cause. It must not carry secrets in its `Display` or `Debug`.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Error {
        self.0.source = Some(Arc::new(source));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// Whether trying the same call again later may succeed: rate limits, unavailability and
    /// timeouts. An [`Ambiguous`](ErrorKind::Ambiguous) invoice creation is *not* retryable.
    pub fn is_retryable(&self) -> bool {
        matches!(self.0.kind, ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout)
    }

    /// The message, without the status, code or path.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The HTTP status Pocket answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// Pocket's error code, if it sent one.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// The JSON path of the field that could not be read, for [`Protocol`](ErrorKind::Protocol) errors.
    pub fn json_path(&self) -> Option<&str> {
        self.0.json_path.as_deref()
    }

    /// How long Pocket asked the caller to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// The refused input, for [`Validation`](ErrorKind::Validation) errors.
    pub fn validation(&self) -> Option<&ValidationError> {
        self.0.validation.as_ref()
    }

    /// The invoice that may or may not have been created, for [`Ambiguous`](ErrorKind::Ambiguous) errors.
    pub fn unconfirmed_invoice(&self) -> Option<&UnconfirmedInvoice> {
        self.0.unconfirmed_invoice.as_ref()
    }

    /// The token rejection reason, for [`InvalidToken`](ErrorKind::InvalidToken) errors.
    pub fn token_rejection(&self) -> Option<TokenRejection> {
        match self.0.kind {
            ErrorKind::InvalidToken(reason) => Some(reason),
            _ => None,
        }
    }
}

impl From<ValidationError> for Error {
    fn from(invalid: ValidationError) -> Error {
        let mut error = Error::new(ErrorKind::Validation, invalid.to_string());
        error.0.validation = Some(invalid);
        error
    }
}

macro_rules! validation_from {
    ($($source:ty),*) => {$(
        impl From<$source> for Error {
            fn from(invalid: $source) -> Error {
                ValidationError::from(invalid).into()
            }
        }
    )*};
}
validation_from!(
    AmountError,
    NoteError,
    ConsumerTokenError,
    InvoiceIdError,
    EnvironmentError,
    OrderNumberError,
    TerminalIdError,
    BranchIdError
);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        match (self.0.status, &self.0.code) {
            (Some(status), Some(code)) => write!(f, " (HTTP {status}, {code})")?,
            (Some(status), None) => write!(f, " (HTTP {status})")?,
            (None, Some(code)) => write!(f, " ({code})")?,
            (None, None) => {}
        }
        if let Some(path) = &self.0.json_path {
            write!(f, " at `{path}`")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &self.0.kind).field("message", &self.0.message);
        if let Some(status) = self.0.status {
            debug.field("status", &status);
        }
        if let Some(code) = &self.0.code {
            debug.field("code", code);
        }
        if let Some(path) = &self.0.json_path {
            debug.field("json_path", path);
        }
        if let Some(wait) = self.0.retry_after {
            debug.field("retry_after", &wait);
        }
        if let Some(invoice) = &self.0.unconfirmed_invoice {
            debug.field("unconfirmed_invoice", invoice);
        }
        if let Some(source) = &self.0.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        if let Some(source) = &self.0.source {
            return Some(source.as_ref());
        }
        self.0.validation.as_ref().map(|v| v as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BranchId, OrderNumber};

    #[test]
    fn each_ids_error_names_its_field() {
        let order = ValidationError::from(OrderNumber::new("").unwrap_err());
        assert_eq!((order.field(), order.to_string().as_str()), ("orderNumber", "the order number is empty"));
        let terminal = ValidationError::from("T-1".parse::<TerminalId>().unwrap_err());
        assert_eq!(terminal.field(), "terminalId");
        let branch = ValidationError::from(BranchId::new("..").unwrap_err());
        assert_eq!(branch.field(), "branchId");
        let error = Error::from(OrderNumber::new("x".repeat(25)).unwrap_err());
        assert_eq!(error.kind(), ErrorKind::Validation);
        assert_eq!(error.validation().map(ValidationError::field), Some("orderNumber"));
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        let retryable: Vec<ErrorKind> = [
            ErrorKind::Validation,
            ErrorKind::Unauthorized,
            ErrorKind::NotFound,
            ErrorKind::RateLimited,
            ErrorKind::Unavailable,
            ErrorKind::Timeout,
            ErrorKind::Ambiguous,
            ErrorKind::InvalidToken(TokenRejection::Expired),
            ErrorKind::Rejected,
            ErrorKind::Protocol,
        ]
        .into_iter()
        .filter(|kind| Error::new(*kind, "x").is_retryable())
        .collect();
        assert_eq!(retryable, [ErrorKind::RateLimited, ErrorKind::Unavailable, ErrorKind::Timeout]);
    }

    #[test]
    fn display_carries_status_code_and_path() {
        let error = Error::new(ErrorKind::Unauthorized, "Pocket refused the client credentials")
            .with_status(401)
            .with_code("invalid_client");
        assert_eq!(error.to_string(), "Pocket refused the client credentials (HTTP 401, invalid_client)");
        let error = Error::decode("amount", "Pocket's invoice could not be read: expected a number");
        assert_eq!(error.to_string(), "Pocket's invoice could not be read: expected a number at `amount`");
        assert_eq!(error.json_path(), Some("amount"));
        assert_eq!(error.kind(), ErrorKind::Protocol);
    }

    #[test]
    fn validation_errors_name_the_field() {
        let error = Error::from(AmountError::Negative);
        assert_eq!(error.kind(), ErrorKind::Validation);
        assert_eq!(error.validation().map(ValidationError::field), Some("amount"));
        assert_eq!(error.to_string(), "amount: the amount is negative");
        assert!(StdError::source(&error).is_some());
        let error = Error::from(NoteError::Empty);
        assert_eq!(error.validation().map(ValidationError::field), Some("info"));
    }

    #[test]
    fn token_rejections_are_matchable() {
        let error = Error::invalid_token(TokenRejection::Expired, "the token expired");
        assert_eq!(error.token_rejection(), Some(TokenRejection::Expired));
        assert!(matches!(error.kind(), ErrorKind::InvalidToken(TokenRejection::Expired)));
        assert_eq!(Error::new(ErrorKind::Timeout, "x").token_rejection(), None);
    }
}
