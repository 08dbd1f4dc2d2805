//! Posting notices to the merchant's webhook: the genuine one after a payment (with retries on
//! the configured schedule, copies and misbehaviour as the webhook behaviour says), and forged
//! ones on demand. Every attempt goes to the delivery log.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pocket_core::{Amount, InvoiceId, InvoiceState};
use serde_json::{Value, json};

use crate::state::{SandboxInvoice, Shared};
use crate::webhook::{Delivery, DeliveryKind, DeliveryOutcome, FieldStyle, Forgery, Redelivery};
use crate::wire::{StateCase, state_text};

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
        body["heldId"] = match (style, invoice.held_id) {
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
            "invoiceId": crate::wire::numeric_id(&invoice.id),
            "invoiceState": state_code(state),
            "phoneNumber": invoice.payer_phone,
        }),
        _ => json!({
            "id": transaction,
            "amount": amount,
            "info": invoice.info,
            "invoiceId": crate::wire::numeric_id(&invoice.id),
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
    let behaviour = shared.webhooks().behaviour();
    let notice = shared.webhooks().next_notice();
    let url = shared.webhook_urls().get(&invoice.client_id).cloned();
    let copies =
        std::iter::once(DeliveryKind::Genuine).chain((0..behaviour.duplicates).map(|_| DeliveryKind::Duplicate));
    for (copy, kind) in (0u32..).zip(copies) {
        let delay = behaviour
            .shuffle_ms
            .map(|max| Duration::from_millis(shared.webhooks().random_delay_ms(max)))
            .unwrap_or_default();
        let (shared, url, invoice) = (shared.clone(), url.clone(), invoice.clone());
        let behaviour = behaviour.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let retries =
                if kind == DeliveryKind::Genuine { shared.config().webhook_retry_schedule.clone() } else { vec![] };
            let policy = Policy { redelivery: behaviour.redelivery, dropped: behaviour.drop_notices };
            let seed = shared.webhooks().seed();
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
        shared.webhooks().record(Delivery {
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
        .http()
        .post(url)
        .timeout(shared.config().webhook_timeout)
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
    let case = shared.webhooks().state_case();
    let invoice_of = |id: &InvoiceId| {
        let number: u64 = id.as_str().parse().map_err(|_| format!("no invoice {id}"))?;
        shared.invoices().get(&number).cloned().ok_or_else(|| format!("no invoice {id}"))
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
    let url = shared.webhook_urls().get(client_id).cloned();
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
    shared.webhooks().record(delivery.clone());
    Ok(delivery)
}
