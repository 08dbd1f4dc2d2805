//! What the merchant's handler is given: payments Pocket confirmed, invoices Pocket says will not
//! be paid, and invoices nobody could settle in time.

use pocket_core::{Amount, InvoiceId, InvoiceState, InvoiceStatus, WebhookNotice};
use serde::{Deserialize, Serialize};

/// How the pipeline came to ask Pocket about an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// A webhook notice arrived.
    Webhook,
    /// The reconciler polled it.
    Poll,
}

/// A payment Pocket confirmed: its check endpoint said the invoice is paid, the amount rule held
/// (see the crate docs), and this is the one run of the handler for it within the store's
/// retention. Only the pipeline makes one (and, with the `test-util` feature, tests).
///
/// Everything here is Pocket's word, except [`unverified_notice`](Self::unverified_notice).
#[derive(Debug, Clone)]
pub struct VerifiedPayment {
    pub(crate) invoice_id: InvoiceId,
    pub(crate) amount: Option<Amount>,
    pub(crate) status: InvoiceStatus,
    pub(crate) expected: Option<Expected>,
    pub(crate) source: Source,
    pub(crate) notice: Option<WebhookNotice>,
}

impl VerifiedPayment {
    /// The paid invoice, as Pocket identifies it (its check answer's id; the id asked about
    /// when the answer carries none).
    pub fn invoice_id(&self) -> &InvoiceId {
        &self.invoice_id
    }

    /// The amount Pocket reports as paid. `None` only when Pocket's answer has no amount and the
    /// app allowed confirming against its own order ([`MissingAmount::AgainstOrder`](crate::MissingAmount)):
    /// then [`expected`](Self::expected) holds the order it was confirmed against.
    pub fn amount(&self) -> Option<Amount> {
        self.amount
    }

    /// Pocket's state for the invoice (paid, or `processed` when the app treats that as paid).
    pub fn state(&self) -> &InvoiceState {
        &self.status.state
    }

    /// Pocket's whole answer about the invoice (its state, amount, ids and every other field).
    pub fn answer(&self) -> &InvoiceStatus {
        &self.status
    }

    /// What the app's own order expected, when it was consulted.
    pub fn expected(&self) -> Option<&Expected> {
        self.expected.as_ref()
    }

    /// Whether a webhook or the reconciler led to it.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The webhook notice that led to it, **unverified**: anyone could have written its fields
    /// (the payer's phone number among them). `None` when the reconciler found the payment.
    pub fn unverified_notice(&self) -> Option<&WebhookNotice> {
        self.notice.as_ref()
    }
}

/// An invoice Pocket says will not be paid (cancelled, rejected or failed), so the shop can
/// release what it held for it. Told once per invoice within the store's retention.
#[derive(Debug, Clone)]
pub struct FailedPayment {
    pub(crate) invoice_id: InvoiceId,
    pub(crate) status: InvoiceStatus,
    pub(crate) source: Source,
}

impl FailedPayment {
    /// The invoice, as Pocket identifies it.
    pub fn invoice_id(&self) -> &InvoiceId {
        &self.invoice_id
    }

    /// Pocket's final state for it.
    pub fn state(&self) -> &InvoiceState {
        &self.status.state
    }

    /// Pocket's explanation (`description`), when it gave one — the failure text for `unsuccess`.
    pub fn description(&self) -> Option<&str> {
        self.status.description.as_deref()
    }

    /// Pocket's whole answer about the invoice (its state, amount, ids and every other field).
    pub fn answer(&self) -> &InvoiceStatus {
        &self.status
    }

    /// Whether a webhook or the reconciler led to it.
    pub fn source(&self) -> Source {
        self.source
    }
}

/// An invoice the reconciler watched until its deadline without reaching a verdict: never
/// silently forgotten, handed to [`PaymentHandler::unresolved`](crate::PaymentHandler::unresolved)
/// and, with a shared journal, written down for operators (`pocket payments unresolved`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Unresolved {
    /// The invoice.
    pub invoice_id: InvoiceId,
    /// The last state Pocket reported, if it answered at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state: Option<InvoiceState>,
    /// Why it is unresolved, in words.
    pub reason: String,
    /// When the reconciler gave up on it.
    pub at: std::time::SystemTime,
}

/// What the app expects of an invoice's payment, from its own order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Expected {
    /// The amount the order costs.
    pub amount: Amount,
    /// The note the invoice was created with, if it should be compared too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
}

impl Expected {
    /// The order costs `amount`.
    pub fn amount(amount: Amount) -> Expected {
        Expected { amount, info: None }
    }

    /// The invoice's note must be `info` too.
    pub fn with_info(mut self, info: impl Into<String>) -> Expected {
        self.info = Some(info.into());
        self
    }
}

#[cfg(feature = "test-util")]
impl VerifiedPayment {
    /// A payment as the pipeline would hand it over for `status` (its id or `invoice_id`), for
    /// the app's own unit tests of its handler. Only with the `test-util` feature.
    ///
    /// ```
    /// use pocket_core::{Amount, InvoiceId, InvoiceState, InvoiceStatus, WebhookNotice};
    /// use pocket_payments::VerifiedPayment;
    ///
    /// let mut status = InvoiceStatus::new(InvoiceState::Paid);
    /// status.amount = Some(Amount::from_tugrik(560)?);
    /// let payment = VerifiedPayment::for_test(InvoiceId::from(42), status)
    ///     .with_notice(WebhookNotice::new(InvoiceId::from(42)));
    /// assert_eq!(payment.amount(), Some(Amount::from_tugrik(560)?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_test(invoice_id: InvoiceId, status: InvoiceStatus) -> VerifiedPayment {
        VerifiedPayment {
            invoice_id,
            amount: status.amount,
            status,
            expected: None,
            source: Source::Webhook,
            notice: None,
        }
    }

    /// The same payment, as if the webhook `notice` had led to it.
    pub fn with_notice(mut self, notice: WebhookNotice) -> VerifiedPayment {
        self.notice = Some(notice);
        self.source = Source::Webhook;
        self
    }

    /// The same payment, as if the reconciler had found it.
    pub fn polled(mut self) -> VerifiedPayment {
        self.notice = None;
        self.source = Source::Poll;
        self
    }

    /// The same payment, confirmed against the app's order `expected`.
    pub fn with_expected(mut self, expected: Expected) -> VerifiedPayment {
        self.expected = Some(expected);
        self
    }
}

#[cfg(feature = "test-util")]
impl FailedPayment {
    /// A failed payment as the pipeline would report it for `status`, for the app's own unit
    /// tests. Only with the `test-util` feature.
    pub fn for_test(invoice_id: InvoiceId, status: InvoiceStatus) -> FailedPayment {
        FailedPayment { invoice_id, status, source: Source::Webhook }
    }
}
