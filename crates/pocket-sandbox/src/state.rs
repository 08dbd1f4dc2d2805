//! The sandbox's shared state: keys, tokens, invoices, webhook addresses, faults and the
//! delivery log, behind short-lived locks (never held across an `.await`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use pocket_core::{Amount, InvoiceId, InvoiceState};
use serde_json::Value;

use crate::faults::Faults;
use crate::keys::KeyRing;
use crate::tokens::TokenRegistry;
use crate::webhook::Webhooks;
use crate::wire::{StateCase, state_text};
use crate::{SandboxConfig, SandboxError, TestClient};

pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub base_url: String,
    /// The web view's origin, where the mini-app is shown with the wallet bridge.
    pub webview_url: String,
    pub keys: Mutex<KeyRing>,
    pub tokens: Mutex<TokenRegistry>,
    pub invoices: Mutex<BTreeMap<u64, SandboxInvoice>>,
    pub webhook_urls: Mutex<HashMap<String, String>>,
    pub faults: Faults,
    pub webhooks: Webhooks,
    pub http: reqwest::Client,
    pub mini_app_url: Mutex<Option<String>>,
    /// The grant of every token request that authenticated, in order, answered or refused.
    pub grants: Mutex<Vec<String>>,
    next_invoice_id: AtomicU64,
    next_transaction_id: AtomicU64,
    next_hold_id: AtomicU64,
}

/// Locks a mutex, carrying on if a panicking thread poisoned it: every update here leaves the
/// data consistent, so the data is still good.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig, base_url: String, webview_url: String) -> Result<Shared, SandboxError> {
        let seed = config.seed;
        Ok(Shared {
            keys: Mutex::new(KeyRing::new()?),
            tokens: Mutex::default(),
            invoices: Mutex::default(),
            webhook_urls: Mutex::default(),
            faults: Faults::new(seed),
            webhooks: Webhooks::new(seed),
            // Neither webhooks nor the mini-app pass-through follow redirects: the browser does.
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default(),
            mini_app_url: Mutex::new(config.mini_app_url.clone()),
            grants: Mutex::default(),
            next_invoice_id: AtomicU64::new(10_001),
            next_transaction_id: AtomicU64::new(880_001),
            next_hold_id: AtomicU64::new(330_001),
            config,
            base_url,
            webview_url,
        })
    }

    pub(crate) fn issuer(&self) -> String {
        format!("{}/auth/realms/invescore", self.base_url)
    }

    pub(crate) fn client(&self, client_id: &str) -> Option<&TestClient> {
        self.config.clients.iter().find(|c| c.client_id == client_id)
    }

    /// The invoice a path segment names (surrounding whitespace ignored), if there is one.
    pub(crate) fn invoice(&self, id: &str) -> Option<SandboxInvoice> {
        let number: u64 = id.trim().parse().ok()?;
        lock(&self.invoices).get(&number).cloned()
    }

    pub(crate) fn next_invoice_id(&self) -> u64 {
        self.next_invoice_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn next_transaction_id(&self) -> u64 {
        self.next_transaction_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn next_hold_id(&self) -> u64 {
        self.next_hold_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// An invoice as the sandbox holds it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SandboxInvoice {
    /// Its id.
    pub id: InvoiceId,
    /// The merchant client that created it.
    pub client_id: String,
    /// The merchant's terminal.
    pub terminal_id: u64,
    /// The amount.
    pub amount: Amount,
    /// The note.
    pub info: String,
    /// Pending, then paid or rejected.
    pub state: InvoiceState,
    /// The wallet user it was created for (`sub` of the consumer token).
    pub payer: String,
    /// The payer's phone number, from the consumer token when the user shared it.
    pub payer_phone: Option<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it was paid.
    pub paid_at: Option<SystemTime>,
    /// The payment's transaction record number, once paid.
    pub transaction_id: Option<u64>,
    /// For a gateway invoice: the merchant's order number (`None` for a mini-app invoice).
    pub order_number: Option<String>,
    /// For a gateway invoice: `PURCHASE` or `ZERO`.
    pub invoice_type: Option<String>,
    /// For a gateway invoice: `ecommerce`, `pos` or `merchant`.
    pub channel: Option<String>,
    /// For a paid gateway invoice: the hold of the payment (what `cancel` takes).
    pub hold_id: Option<u64>,
    /// The payer's name, once a wallet user paid it.
    pub payer_name: Option<String>,
    /// For an invoice anyone may pay by scanning it (a merchant QR invoice or a gateway
    /// invoice): the text of its QR code.
    pub qr: Option<String>,
    /// Why the payment failed, when its state is failed (`unsuccess`): the check's `description`.
    pub failure: Option<String>,
}

impl SandboxInvoice {
    /// A pending invoice of `amount` with the note `info`, for no payer yet.
    pub(crate) fn new(
        id: InvoiceId,
        client_id: String,
        terminal_id: u64,
        amount: Amount,
        info: &str,
    ) -> SandboxInvoice {
        SandboxInvoice {
            id,
            client_id,
            terminal_id,
            amount,
            info: info.to_owned(),
            state: InvoiceState::Pending,
            payer: String::new(),
            payer_phone: None,
            created_at: SystemTime::now(),
            paid_at: None,
            transaction_id: None,
            order_number: None,
            invoice_type: None,
            channel: None,
            hold_id: None,
            payer_name: None,
            qr: None,
            failure: None,
        }
    }

    /// Whether anyone may pay it by scanning its QR code (else only the wallet user it was made for).
    pub fn is_scannable(&self) -> bool {
        self.qr.is_some()
    }

    /// Whether it was generated through the payment gateway (v2).
    pub fn is_gateway(&self) -> bool {
        self.order_number.is_some()
    }

    /// The gateway's detail answer: `{id, state, description, senderName, receiverName, amount,
    /// info, holdId, createdAt, aliasName, terminalId, branchName, branchId, orderNumber,
    /// invoiceType}`, states in `case`.
    pub(crate) fn detail_view(&self, branch: Option<(u64, &str)>, case: StateCase) -> Value {
        serde_json::json!({
            "id": numeric_id(&self.id),
            "state": state_text(&self.state, case),
            "description": self.failure.as_deref().unwrap_or(&self.info),
            "senderName": self.payer_name,
            "receiverName": self.client_id,
            "amount": self.amount,
            "info": self.info,
            "holdId": self.hold_id,
            "createdAt": rfc3339(self.created_at),
            "aliasName": self.client_id,
            "terminalId": self.terminal_id,
            "branchName": branch.map(|(_, name)| name),
            "branchId": branch.map(|(id, _)| id),
            "orderNumber": self.order_number,
            "invoiceType": self.invoice_type,
        })
    }

    /// The check endpoint's answer, states in `case`. Within `lag` of its payment a paid invoice
    /// still reads `processing` (a lagging check).
    pub(crate) fn check_view(&self, lag: Option<Duration>, case: StateCase) -> Value {
        let lagging = match (lag, self.paid_at) {
            (Some(lag), Some(paid_at)) => paid_at.elapsed().unwrap_or_default() < lag,
            _ => false,
        };
        let state = state_text(if lagging { &InvoiceState::Processing } else { &self.state }, case);
        let mut view = serde_json::json!({
            "id": numeric_id(&self.id),
            "state": state,
            "amount": self.amount,
            "info": self.info,
            "description": self.failure.as_deref().unwrap_or(&self.info),
            "createdAt": rfc3339(self.created_at),
            "terminalId": self.terminal_id,
            "orderNumber": self.order_number.clone().unwrap_or_else(|| format!("ORD-{}", self.id)),
        });
        if let Some(paid_at) = self.paid_at.filter(|_| !lagging) {
            view["paidAt"] = Value::String(rfc3339(paid_at));
        }
        view
    }
}

/// Ids are numbers on the wire, as Pocket sends them.
pub(crate) fn numeric_id(id: &InvoiceId) -> Value {
    id.as_str().parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(id.to_string()))
}

/// `2026-11-26T10:00:00.000Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_689_296_789);
        assert_eq!(rfc3339(t), "2026-11-26T10:34:56.789Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }
}
