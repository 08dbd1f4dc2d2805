//! Payment webhook delivery: POSTs the notice to the merchant's fallBackUrl, retries non-2xx
//! answers and failures on a schedule, keeps a log, and on demand misbehaves the way a real
//! sender may — duplicates, out-of-order delivery, strings instead of numbers, forged notices.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use pocket_core::{Amount, InvoiceId, InvoiceState};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::state::{SandboxInvoice, Shared, lock};
use crate::wire::{StateCase, state_text};

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
    fn resolve(self, seed: u64, notice: u64, copy: u32, attempt: u32) -> FieldStyle {
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
    fn again(self, outcome: &DeliveryOutcome) -> bool {
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
        *lock(&self.behaviour) = behaviour;
    }

    pub(crate) fn behaviour(&self) -> WebhookBehaviour {
        lock(&self.behaviour).clone()
    }

    /// How states are written now (without copying the whole behaviour).
    pub(crate) fn state_case(&self) -> StateCase {
        lock(&self.behaviour).state_case
    }

    pub(crate) fn log(&self) -> Vec<Delivery> {
        lock(&self.log).clone()
    }

    fn record(&self, delivery: Delivery) {
        lock(&self.log).push(delivery);
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
    fn next_notice(&self) -> u64 {
        let mut sent = lock(&self.notices_sent);
        *sent += 1;
        *sent
    }
}

/// The webhook body for `invoice`, claiming `state` and `amount`, in `style` (a fixed one).
fn notice_body(
    invoice: &SandboxInvoice,
    state: &InvoiceState,
    amount: Amount,
    style: FieldStyle,
    case: StateCase,
) -> Value {
    let mut body = v1_notice_body(invoice, state, amount, style, case);
    // A gateway invoice's notice also names its order and the payment's hold.
    if let Some(order) = &invoice.order_number {
        body["orderNumber"] = json!(order);
        body["heldId"] = match (style, invoice.hold_id) {
            (FieldStyle::Strings, Some(hold)) => json!(hold.to_string()),
            (_, hold) => json!(hold),
        };
    }
    body
}

fn v1_notice_body(
    invoice: &SandboxInvoice,
    state: &InvoiceState,
    amount: Amount,
    style: FieldStyle,
    case: StateCase,
) -> Value {
    let transaction = invoice.transaction_id.unwrap_or(0);
    match style {
        FieldStyle::Strings => json!({
            "id": transaction.to_string(),
            "amount": amount.to_decimal_string(),
            "info": invoice.info,
            "invoiceId": invoice.id.to_string(),
            "invoiceState": state_text(state, case),
            "phoneNumber": invoice.payer_phone,
            "orderNumber": format!("ORD-{}", invoice.id),
        }),
        FieldStyle::Codes => json!({
            "id": transaction,
            "amount": amount,
            "info": invoice.info,
            "invoiceId": crate::state::numeric_id(&invoice.id),
            "invoiceState": state_code(state),
            "phoneNumber": invoice.payer_phone,
        }),
        _ => json!({
            "id": transaction,
            "amount": amount,
            "info": invoice.info,
            "invoiceId": crate::state::numeric_id(&invoice.id),
            "invoiceState": state_text(state, case),
            "phoneNumber": invoice.payer_phone,
        }),
    }
}

/// Pocket's integer code for a state, as one integration reports the webhook sends it.
fn state_code(state: &InvoiceState) -> Value {
    match state {
        InvoiceState::Pending => json!(10),
        InvoiceState::Paid => json!(20),
        InvoiceState::Cancelled => json!(30),
        InvoiceState::Rejected => json!(40),
        InvoiceState::Failed => json!(50),
        InvoiceState::Processing => json!(60),
        InvoiceState::Processed => json!(70),
        other => json!(state_text(other, StateCase::Lower)),
    }
}

/// Starts delivering the notice of a payment (and its duplicates) in the background.
pub(crate) fn deliver_payment(shared: &Arc<Shared>, invoice: SandboxInvoice) {
    let behaviour = lock(&shared.webhooks.behaviour).clone();
    let notice = shared.webhooks.next_notice();
    let url = lock(&shared.webhook_urls).get(&invoice.client_id).cloned();
    let copies =
        std::iter::once(DeliveryKind::Genuine).chain((0..behaviour.duplicates).map(|_| DeliveryKind::Duplicate));
    for (copy, kind) in (0u32..).zip(copies) {
        let delay = behaviour
            .shuffle_ms
            .map(|max| Duration::from_millis(lock(&shared.webhooks.rng).u64(0..=max)))
            .unwrap_or_default();
        let (shared, url, invoice) = (shared.clone(), url.clone(), invoice.clone());
        let behaviour = behaviour.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let retries =
                if kind == DeliveryKind::Genuine { shared.config.webhook_retry_schedule.clone() } else { vec![] };
            let policy = Policy { redelivery: behaviour.redelivery, dropped: behaviour.drop_notices };
            let seed = shared.webhooks.seed;
            let body = |attempt| {
                let style = behaviour.field_style.resolve(seed, notice, copy, attempt);
                notice_body(&invoice, &invoice.state, invoice.amount, style, behaviour.state_case)
            };
            let id = invoice.id.to_string();
            deliver_with_retries(&shared, &id, url.as_deref(), body, kind, &retries, policy).await;
        });
    }
}

/// How one notice is delivered: again or not, or not at all.
#[derive(Clone, Copy)]
struct Policy {
    redelivery: Redelivery,
    dropped: bool,
}

async fn deliver_with_retries(
    shared: &Shared,
    invoice_id: &str,
    url: Option<&str>,
    body: impl Fn(u32) -> Value,
    kind: DeliveryKind,
    retries: &[Duration],
    policy: Policy,
) {
    let mut waits = retries.iter();
    for attempt in 1.. {
        let body = body(attempt);
        let outcome = match url {
            _ if policy.dropped => DeliveryOutcome::Dropped,
            Some(url) => post(shared, url, &body).await,
            None => DeliveryOutcome::NoAddress,
        };
        let done = !policy.redelivery.again(&outcome);
        tracing::info!(invoice_id, attempt, kind = ?kind, outcome = ?outcome, "webhook delivery");
        shared.webhooks.record(Delivery {
            invoice_id: invoice_id.to_owned(),
            url: url.map(str::to_owned),
            body,
            attempt,
            kind: kind.clone(),
            outcome,
            at: SystemTime::now(),
        });
        match waits.next() {
            Some(wait) if !done => tokio::time::sleep(*wait).await,
            _ => return,
        }
    }
}

async fn post(shared: &Shared, url: &str, body: &Value) -> DeliveryOutcome {
    let sent = shared
        .http
        .post(url)
        .timeout(shared.config.webhook_timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, "pocket-sandbox-webhook/1")
        .body(body.to_string())
        .send()
        .await;
    match sent {
        Ok(response) => DeliveryOutcome::Answered(response.status().as_u16()),
        Err(error) if error.is_timeout() => DeliveryOutcome::Failed("timed out".to_owned()),
        Err(error) if error.is_connect() => DeliveryOutcome::Failed("could not connect".to_owned()),
        Err(error) => DeliveryOutcome::Failed(error.to_string()),
    }
}

/// Sends one forged notice now and returns how it went. Forged notices are not retried.
pub(crate) async fn send_forged(shared: &Shared, forgery: Forgery, client_id: &str) -> Result<Delivery, String> {
    let case = shared.webhooks.state_case();
    let invoice_of = |id: &InvoiceId| {
        let number: u64 = id.as_str().parse().map_err(|_| format!("no invoice {id}"))?;
        lock(&shared.invoices).get(&number).cloned().ok_or_else(|| format!("no invoice {id}"))
    };
    let paid = InvoiceState::Paid;
    let body = match &forgery {
        Forgery::UnpaidInvoice(id) => {
            let mut invoice = invoice_of(id)?;
            if invoice.state.is_paid() {
                return Err(format!("invoice {id} is paid; a forgery needs an unpaid one"));
            }
            invoice.transaction_id = Some(shared.next_transaction_id());
            notice_body(&invoice, &paid, invoice.amount, FieldStyle::Numbers, case)
        }
        Forgery::UnknownInvoice => {
            let amount = Amount::from_tugrik(50_000).map_err(|e| e.to_string())?;
            let mut invoice =
                SandboxInvoice::new(InvoiceId::from(999_999_999), client_id.to_owned(), 0, amount, "forged");
            invoice.state = paid.clone();
            invoice.payer = "nobody".to_owned();
            invoice.payer_phone = Some("88000000".to_owned());
            invoice.transaction_id = Some(shared.next_transaction_id());
            notice_body(&invoice, &paid, invoice.amount, FieldStyle::Numbers, case)
        }
        Forgery::WrongAmount(id) => {
            let invoice = invoice_of(id)?;
            let inflated = invoice.amount.checked_mul(10).unwrap_or(Amount::MAX);
            notice_body(&invoice, &paid, inflated, FieldStyle::Numbers, case)
        }
    };
    let url = lock(&shared.webhook_urls).get(client_id).cloned();
    let outcome = match &url {
        Some(url) => post(shared, url, &body).await,
        None => DeliveryOutcome::NoAddress,
    };
    let delivery = Delivery {
        invoice_id: body["invoiceId"].to_string().trim_matches('"').to_owned(),
        url,
        body,
        attempt: 1,
        kind: DeliveryKind::Forged(forgery),
        outcome,
        at: SystemTime::now(),
    };
    shared.webhooks.record(delivery.clone());
    Ok(delivery)
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
