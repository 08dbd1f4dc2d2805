//! How one notice or poll ended, and how a web framework should answer the sender so that Pocket
//! delivers again exactly when it should.

use std::fmt;

use pocket_core::InvoiceState;

/// Why Pocket's word does not confirm a notice (answered 422: sending it again will not help).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// Pocket does not know the invoice.
    UnknownInvoice,
    /// Pocket's answer is about another invoice than the notice names.
    OtherInvoice,
    /// The notice claims another amount than Pocket reports.
    AmountMismatch,
    /// Pocket's invoice does not match the app's own order.
    OrderMismatch,
}

impl Refusal {
    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            Refusal::UnknownInvoice => "Pocket does not know this invoice",
            Refusal::OtherInvoice => "Pocket's answer is about another invoice than the notice names",
            Refusal::AmountMismatch => "the amount differs from the invoice's",
            Refusal::OrderMismatch => "the payment does not match the order",
        }
    }
}

/// How a notice (or a poll) ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// Pocket confirmed the payment and the merchant's handler took it, now.
    Handled,
    /// The merchant's handler took the payment before (by any delivery, spelling, replica or
    /// poll).
    AlreadyHandled,
    /// Pocket says the invoice will not be paid; the `failed` callback has been told (now or
    /// before).
    NotPaid(InvoiceState),
    /// Pocket's state is not final (or unknown): ask again later; the reconciler watches it.
    NotFinal(InvoiceState),
    /// Pocket's word does not confirm the notice.
    Refused(Refusal),
    /// Pocket reports no amount and the app's order could not stand in for it (see
    /// [`MissingAmount`](crate::MissingAmount)); the reconciler watches it.
    AmountUnconfirmed,
    /// Pocket does not know the invoice yet, but it may: the app watches it (Pocket lags behind
    /// its own invoices now and then), or Pocket did not know this very spelling moments ago and
    /// was not asked again. Deliver again later; a watched invoice stays watched.
    NotYetKnown,
    /// Another delivery is acting on this payment right now.
    InProgress,
    /// Pocket could not be asked.
    PocketUnavailable,
    /// The payment store could not be used.
    StoreUnavailable,
    /// Too many checks at once or per second.
    Overloaded,
    /// The handler (or the order check) failed, panicked or ran out of time.
    HandlerFailed,
}

impl Outcome {
    /// The HTTP status a webhook endpoint should answer: 2xx when the notice needs no further
    /// delivery; 422 when delivering it again cannot help; 500 when the merchant's own code
    /// failed; 503 (with [`Payments::retry_after`](crate::Payments::retry_after)) when a later delivery may succeed.
    pub fn http_status(&self) -> u16 {
        match self {
            Outcome::Handled | Outcome::AlreadyHandled | Outcome::NotPaid(_) => 200,
            Outcome::Refused(_) => 422,
            Outcome::HandlerFailed => 500,
            Outcome::NotFinal(_)
            | Outcome::AmountUnconfirmed
            | Outcome::NotYetKnown
            | Outcome::InProgress
            | Outcome::PocketUnavailable
            | Outcome::StoreUnavailable
            | Outcome::Overloaded => 503,
        }
    }

    /// Whether a later delivery (or poll) may change the outcome.
    pub fn is_retryable(&self) -> bool {
        matches!(self.http_status(), 500 | 503)
    }

    /// A short word for the answer body and logs.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Handled => "handled",
            Outcome::AlreadyHandled => "already_handled",
            Outcome::NotPaid(_) => "not_paid",
            Outcome::NotFinal(_) => "not_final",
            Outcome::Refused(_) => "refused",
            Outcome::AmountUnconfirmed => "amount_unconfirmed",
            Outcome::NotYetKnown => "not_yet_known",
            Outcome::InProgress => "in_progress",
            Outcome::PocketUnavailable => "pocket_unavailable",
            Outcome::StoreUnavailable => "store_unavailable",
            Outcome::Overloaded => "overloaded",
            Outcome::HandlerFailed => "handler_failed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Handled => f.write_str("the payment was processed"),
            Outcome::AlreadyHandled => f.write_str("this payment was processed before"),
            Outcome::NotPaid(state) => write!(f, "Pocket says the invoice is {state}; it will not be paid"),
            Outcome::NotFinal(state) if state.as_str().is_empty() => {
                f.write_str("Pocket gave no state yet; deliver again later")
            }
            Outcome::NotFinal(state) => write!(f, "Pocket says the invoice is {state}; deliver again later"),
            Outcome::Refused(refusal) => f.write_str(refusal.describe()),
            Outcome::AmountUnconfirmed => f.write_str("Pocket reports no amount to confirm; deliver again later"),
            Outcome::NotYetKnown => f.write_str("Pocket does not know this invoice yet; deliver again later"),
            Outcome::InProgress => f.write_str("another delivery is processing this payment"),
            Outcome::PocketUnavailable => f.write_str("Pocket could not be asked; deliver again"),
            Outcome::StoreUnavailable => f.write_str("the payment store is unavailable; deliver again"),
            Outcome::Overloaded => f.write_str("too many notices at once; deliver again"),
            Outcome::HandlerFailed => f.write_str("the merchant could not process it; deliver again"),
        }
    }
}
