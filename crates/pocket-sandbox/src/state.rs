//! The sandbox's shared state: keys, tokens, invoices, webhook addresses, faults and the
//! delivery log, behind short-lived locks (never held across an `.await`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use pocket_core::{Amount, InvoiceId, InvoiceState};
use serde_json::Value;

use crate::faults::Faults;
use crate::keys::KeyRing;
use crate::tokens::TokenRegistry;
use crate::webhook::Webhooks;
use crate::wire::{StateCase, numeric_id, rfc3339, state_text};
use crate::{SandboxConfig, SandboxError, TestClient};

pub(crate) struct Shared {
    config: SandboxConfig,
    base_url: String,
    /// The web view's origin, where the mini-app is shown with the wallet bridge.
    webview_url: String,
    keys: Mutex<KeyRing>,
    tokens: Mutex<TokenRegistry>,
    invoices: Mutex<BTreeMap<u64, SandboxInvoice>>,
    webhook_urls: Mutex<HashMap<String, String>>,
    faults: Arc<Faults>,
    webhooks: Webhooks,
    http: reqwest::Client,
    mini_app_url: Mutex<Option<String>>,
    /// The grant of every token request that authenticated, in order, answered or refused.
    grants: Mutex<Vec<String>>,
    next_invoice_id: AtomicU64,
    next_transaction_id: AtomicU64,
    next_held_id: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig, base_url: String, webview_url: String) -> Result<Shared, SandboxError> {
        let seed = config.seed;
        Ok(Shared {
            keys: Mutex::new(KeyRing::new()?),
            tokens: Mutex::default(),
            invoices: Mutex::default(),
            webhook_urls: Mutex::default(),
            faults: Arc::new(Faults::new(seed)),
            webhooks: Webhooks::new(seed),
            // Neither webhooks nor the mini-app pass-through follow redirects: the browser does.
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default(),
            mini_app_url: Mutex::new(config.mini_app_url.clone()),
            grants: Mutex::default(),
            next_invoice_id: AtomicU64::new(10_001),
            next_transaction_id: AtomicU64::new(880_001),
            next_held_id: AtomicU64::new(330_001),
            config,
            base_url,
            webview_url,
        })
    }

    /// How the sandbox was configured.
    pub(crate) fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Where the sandbox serves Pocket's API.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The web view's origin.
    pub(crate) fn webview_url(&self) -> &str {
        &self.webview_url
    }

    /// The realm's signing keys.
    pub(crate) fn keys(&self) -> MutexGuard<'_, KeyRing> {
        self.keys.lock()
    }

    /// Every token issued.
    pub(crate) fn tokens(&self) -> MutexGuard<'_, TokenRegistry> {
        self.tokens.lock()
    }

    /// Every invoice, by number.
    pub(crate) fn invoices(&self) -> MutexGuard<'_, BTreeMap<u64, SandboxInvoice>> {
        self.invoices.lock()
    }

    /// Each merchant client's webhook address.
    pub(crate) fn webhook_urls(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.webhook_urls.lock()
    }

    /// Where the wallet opens the mini-app.
    pub(crate) fn mini_app_url(&self) -> MutexGuard<'_, Option<String>> {
        self.mini_app_url.lock()
    }

    /// The grant of every token request that authenticated, in order.
    pub(crate) fn grants(&self) -> MutexGuard<'_, Vec<String>> {
        self.grants.lock()
    }

    /// The faults injected in front of Pocket's endpoints (shared with their middleware).
    pub(crate) fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// Webhook deliveries: how they behave and what was sent.
    pub(crate) fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// The client that posts webhooks and passes the mini-app through (no redirects followed).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
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
        self.invoices.lock().get(&number).cloned()
    }

    pub(crate) fn next_invoice_id(&self) -> u64 {
        self.next_invoice_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn next_transaction_id(&self) -> u64 {
        self.next_transaction_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn next_held_id(&self) -> u64 {
        self.next_held_id.fetch_add(1, Ordering::Relaxed)
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
    pub held_id: Option<u64>,
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
            held_id: None,
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
            "holdId": self.held_id,
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
