//! Payment webhooks as the sandbox sends them: how they may misbehave (duplicates, out-of-order
//! delivery, strings instead of numbers, forged notices) and the log of every attempt. The
//! sending itself is [`crate::delivery`]'s.

use std::time::{Duration, SystemTime};

use parking_lot::Mutex;
use pocket_core::InvoiceId;
use serde_json::Value;
use tokio::sync::Notify;

use crate::wire::StateCase;

/// Why a webhook was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryKind {
    /// The notice of a real payment.
    Genuine,
    /// An extra copy of a genuine notice (see [`WebhookBehaviour::duplicates`]).
    Duplicate,
    /// A forged notice, sent on request.
    Forged(Forgery),
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// The merchant answered with this status.
    Answered(u16),
    /// No answer: connection refused, timeout, broken response.
    Failed(String),
    /// The merchant has no fallBackUrl; nothing was sent.
    NoAddress,
    /// The notice was dropped on purpose ([`WebhookBehaviour::drop_notices`]); nothing was sent.
    Dropped,
}

impl DeliveryOutcome {
    /// Whether the merchant accepted the notice (a 2xx answer).
    pub fn is_success(&self) -> bool {
        matches!(self, DeliveryOutcome::Answered(status) if (200..300).contains(status))
    }
}

/// One delivery attempt, as the log keeps it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    /// The invoice the notice is about (as written in the body).
    pub invoice_id: String,
    /// Where it was posted.
    pub url: Option<String>,
    /// The JSON body.
    pub body: Value,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: u32,
    /// Why it was sent.
    pub kind: DeliveryKind,
    /// How it ended.
    pub outcome: DeliveryOutcome,
    /// When the attempt ended.
    pub at: SystemTime,
}

/// How webhook fields are written: Pocket documents them all as text, public code reads
/// `invoiceId` as text and `id`/`amount` as numbers, and one integration reports integer state
/// codes. Which one Pocket sends is unknown, so a webhook must read every form.
///
/// [`Numbers`](Self::Numbers) is the default because it is the form Pocket's own example and
/// most public code were written against, and tests want one fixed form;
/// [`Varied`](Self::Varied) is the one to develop against (`pocket trigger` uses it), because
/// code that reads only one form then fails on a laptop, not in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FieldStyle {
    /// `{"id": 880001, "amount": 560, "invoiceId": 10001, "invoiceState": "paid", …}`
    #[default]
    Numbers,
    /// `{"id": "880001", "amount": "560.00", "invoiceId": "10001", …}`
    Strings,
    /// Numbers and strings by turns, notice by notice.
    Alternate,
    /// Numbers, with the state as Pocket's integer code: `{"invoiceState": 20, …}`.
    Codes,
    /// Numbers, strings or integer codes, chosen anew for every delivery — each copy and each
    /// retry of a notice too — from the sandbox's seed: the same seed and the same payments give
    /// the same forms, run after run.
    Varied,
}

impl FieldStyle {
    /// The fixed form (numbers, strings or codes) of attempt `attempt` of copy `copy` of notice
    /// `notice`.
    pub(crate) fn resolve(self, seed: u64, notice: u64, copy: u32, attempt: u32) -> FieldStyle {
        match self {
            FieldStyle::Alternate if notice.is_multiple_of(2) => FieldStyle::Strings,
            FieldStyle::Alternate => FieldStyle::Numbers,
            FieldStyle::Varied => {
                // A pure function of the delivery, not a shared generator, so that notices
                // delivered concurrently still get the same forms on every run.
                let draw = mix(seed ^ notice.rotate_left(32) ^ u64::from(copy).rotate_left(16) ^ u64::from(attempt));
                [FieldStyle::Numbers, FieldStyle::Strings, FieldStyle::Codes][(draw % 3) as usize]
            }
            fixed => fixed,
        }
    }
}

/// SplitMix64's finaliser: every input bit moves every output bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// When the sandbox delivers a notice again after an attempt that was not accepted. Real
/// senders differ; the policy that hides a defect least is the one to test with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Redelivery {
    /// After any non-2xx answer or failed attempt (the default).
    #[default]
    AnyFailure,
    /// After 5xx answers and failed attempts only: a 4xx answer stops delivery, as many senders
    /// treat "client error" as final.
    ServerErrors,
    /// Never: one attempt per notice.
    Never,
}

impl Redelivery {
    pub(crate) fn again(self, outcome: &DeliveryOutcome) -> bool {
        match (self, outcome) {
            (_, DeliveryOutcome::NoAddress | DeliveryOutcome::Dropped) => false,
            (_, outcome) if outcome.is_success() => false,
            (Redelivery::Never, _) => false,
            (Redelivery::ServerErrors, DeliveryOutcome::Answered(status)) => *status >= 500,
            _ => true,
        }
    }
}

/// How the sandbox sends webhooks, changeable at run time.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookBehaviour {
    /// Extra copies of every genuine notice, sent at the same time as it.
    pub duplicates: u32,
    /// When set, every notice first waits a random (seeded) time up to this many milliseconds,
    /// so notices of several payments arrive in another order than the payments happened.
    pub shuffle_ms: Option<u64>,
    /// How fields are written.
    pub field_style: FieldStyle,
    /// When a notice is delivered again.
    pub redelivery: Redelivery,
    /// When set, the check endpoint answers `processing` for a paid invoice until this many
    /// milliseconds after it was paid (and its notice sent): a check that lags the webhook.
    pub check_lag_ms: Option<u64>,
    /// How states are written in check and detail answers and in notices (default lower case).
    pub state_case: StateCase,
    /// Payment notices are not sent at all (logged as [`DeliveryOutcome::Dropped`]): a webhook
    /// that never comes.
    pub drop_notices: bool,
}

impl WebhookBehaviour {
    /// Sends `copies` extra copies of every notice.
    pub fn duplicates(copies: u32) -> WebhookBehaviour {
        WebhookBehaviour { duplicates: copies, ..WebhookBehaviour::default() }
    }

    /// Delays every notice by a random time up to `max`.
    pub fn out_of_order(max: Duration) -> WebhookBehaviour {
        WebhookBehaviour { shuffle_ms: Some(u64::try_from(max.as_millis()).unwrap_or(u64::MAX)), ..Self::default() }
    }

    /// Writes fields in `style`.
    pub fn field_style(style: FieldStyle) -> WebhookBehaviour {
        WebhookBehaviour { field_style: style, ..WebhookBehaviour::default() }
    }

    /// Delivers again only as `policy` says.
    pub fn redelivery(policy: Redelivery) -> WebhookBehaviour {
        WebhookBehaviour { redelivery: policy, ..WebhookBehaviour::default() }
    }

    /// Sends no payment notices at all.
    pub fn dropped() -> WebhookBehaviour {
        WebhookBehaviour { drop_notices: true, ..WebhookBehaviour::default() }
    }

    /// The same behaviour, with the check endpoint lagging the webhook by `lag`.
    pub fn with_check_lag(mut self, lag: Duration) -> WebhookBehaviour {
        self.check_lag_ms = Some(u64::try_from(lag.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// The same behaviour, writing states in `case`.
    pub fn with_state_case(mut self, case: StateCase) -> WebhookBehaviour {
        self.state_case = case;
        self
    }

    /// The same behaviour, delivering again only as `policy` says.
    pub fn with_redelivery(mut self, policy: Redelivery) -> WebhookBehaviour {
        self.redelivery = policy;
        self
    }
}

/// A notice that did not come from a payment, to prove a merchant's webhook resists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Forgery {
    /// "Paid" for an invoice that exists but is not paid.
    UnpaidInvoice(InvoiceId),
    /// "Paid" for an invoice Pocket never issued.
    UnknownInvoice,
    /// "Paid" for a paid invoice, but claiming another amount than was paid.
    WrongAmount(InvoiceId),
}

pub(crate) struct Webhooks {
    log: Mutex<Vec<Delivery>>,
    behaviour: Mutex<WebhookBehaviour>,
    rng: Mutex<fastrand::Rng>,
    seed: u64,
    notices_sent: Mutex<u64>,
    logged: Notify,
}

impl Webhooks {
    pub(crate) fn new(seed: u64) -> Webhooks {
        Webhooks {
            log: Mutex::default(),
            behaviour: Mutex::default(),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            seed,
            notices_sent: Mutex::new(0),
            logged: Notify::new(),
        }
    }

    pub(crate) fn set_behaviour(&self, behaviour: WebhookBehaviour) {
        *self.behaviour.lock() = behaviour;
    }

    pub(crate) fn behaviour(&self) -> WebhookBehaviour {
        self.behaviour.lock().clone()
    }

    /// How states are written now (without copying the whole behaviour).
    pub(crate) fn state_case(&self) -> StateCase {
        self.behaviour.lock().state_case
    }

    pub(crate) fn log(&self) -> Vec<Delivery> {
        self.log.lock().clone()
    }

    /// A random delay of at most `max` milliseconds, from the seeded generator.
    pub(crate) fn random_delay_ms(&self, max: u64) -> u64 {
        self.rng.lock().u64(0..=max)
    }

    /// The seed misbehaviour is drawn from.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    pub(crate) fn record(&self, delivery: Delivery) {
        self.log.lock().push(delivery);
        self.logged.notify_waiters();
    }

    /// Waits until the log holds at least `count` attempts, or `timeout` passes.
    pub(crate) async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.logged.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let log = self.log();
            if log.len() >= count {
                return log;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.log();
            }
        }
    }

    /// The number of the next payment notice (1, 2, …).
    pub(crate) fn next_notice(&self) -> u64 {
        let mut sent = self.notices_sent.lock();
        *sent += 1;
        *sent
    }
}

#[cfg(test)]
mod tests {
    use super::FieldStyle;

    #[test]
    fn a_varied_notice_changes_form_between_retries_and_copies_as_the_seed_says() {
        let forms = |seed| {
            (1..=30).map(|attempt| FieldStyle::Varied.resolve(seed, 1, attempt % 3, attempt)).collect::<Vec<_>>()
        };
        let first = forms(1);
        for fixed in [FieldStyle::Numbers, FieldStyle::Strings, FieldStyle::Codes] {
            assert!(first.contains(&fixed), "{fixed:?} never drawn: {first:?}");
        }
        assert_eq!(forms(1), first);
        assert_ne!(forms(2), first);
        assert_eq!(FieldStyle::Codes.resolve(1, 1, 0, 1), FieldStyle::Codes, "a fixed style stays");
    }
}
