//! A scripted Pocket (check answers only) and a handler that records what it was told.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use pocket_core::{
    Amount, Branch, BranchId, Error, ErrorKind, GatewayApi, Invoice, InvoiceDetail, InvoiceId, InvoiceStatus,
    MerchantApi, NewInvoice, OrderNumber, Page, PaymentConfig, Terminal, TerminalId, WebhookNotice,
};

#[cfg(any(feature = "redis", feature = "postgres"))]
mod replica;
pub use pocket_test_support::{Misbehave, Recorder, eventually};

/// How long a test waits for what the pipeline does in the background.
pub const WAIT: Duration = Duration::from_secs(5);
#[cfg(any(feature = "redis", feature = "postgres"))]
pub use replica::Replica;

/// Pocket's check endpoint, scripted: answers from a table keyed by the number the id reads as
/// — as Pocket's Spring services read a `Long` path variable (pocket-test-support's reference,
/// 400 for an id that is no number) — counts calls, and can be slow or down.
#[derive(Clone, Default)]
pub struct FakePocket {
    answers: Arc<Mutex<HashMap<i64, serde_json::Value>>>,
    pub checks: Arc<AtomicUsize>,
    delay: Arc<Mutex<Duration>>,
    down_for: Arc<AtomicUsize>,
    per_invoice: Arc<Mutex<HashMap<i64, usize>>>,
}

impl FakePocket {
    /// Pocket answers `answer` (a check body) about invoice `id`.
    pub fn answer(&self, id: i64, answer: serde_json::Value) {
        self.answers.lock().unwrap().insert(id, answer);
    }

    /// Invoice `id` is paid for `tugrik`.
    pub fn paid(&self, id: i64, tugrik: u64) {
        self.answer(id, serde_json::json!({"id": id, "state": "PAID", "amount": tugrik, "info": "Цай"}));
    }

    pub fn state(&self, id: i64, state: serde_json::Value, tugrik: u64) {
        self.answer(id, serde_json::json!({"id": id, "state": state, "amount": tugrik, "info": "Цай"}));
    }

    pub fn slow(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// The next `checks` checks fail as if Pocket were down.
    pub fn down_for(&self, checks: usize) {
        self.down_for.store(checks, Ordering::SeqCst);
    }

    pub fn checks(&self) -> usize {
        self.checks.load(Ordering::SeqCst)
    }

    /// How many checks asked about invoice `id`.
    pub fn checks_of(&self, id: i64) -> usize {
        self.per_invoice.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    /// The same Pocket (same answers), counted apart: what a second replica talks to.
    #[cfg(feature = "redis")]
    pub fn sibling(&self) -> FakePocket {
        FakePocket { answers: self.answers.clone(), ..FakePocket::default() }
    }
}

#[async_trait]
impl MerchantApi for FakePocket {
    async fn create_invoice(&self, _: &NewInvoice) -> Result<Invoice, Error> {
        Err(Error::new(ErrorKind::Validation, "not scripted"))
    }

    async fn create_merchant_invoice(
        &self,
        _: &pocket_core::NewMerchantInvoice,
    ) -> Result<pocket_core::MerchantInvoice, Error> {
        Err(Error::new(ErrorKind::Validation, "not scripted"))
    }

    async fn check_invoice(&self, id: &InvoiceId) -> Result<InvoiceStatus, Error> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        let delay = *self.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        if self.down_for.load(Ordering::SeqCst) > 0 {
            self.down_for.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::new(ErrorKind::Unavailable, "Pocket is down"));
        }
        let number = pocket_test_support::spring_long(id.as_str()).ok_or_else(|| {
            Error::new(
                ErrorKind::Rejected,
                "Failed to convert value of type 'java.lang.String' to required type 'long'",
            )
            .with_status(400)
        })?;
        *self.per_invoice.lock().unwrap().entry(number).or_default() += 1;
        let answer = self.answers.lock().unwrap().get(&number).cloned();
        match answer {
            Some(body) => Ok(serde_json::from_value(body).expect("a scripted answer decodes")),
            None => Err(Error::new(ErrorKind::NotFound, "no such invoice")),
        }
    }

    async fn payment_config(&self) -> Result<PaymentConfig, Error> {
        Ok(PaymentConfig::default())
    }

    async fn set_webhook_url(&self, _: &str) -> Result<(), Error> {
        Ok(())
    }
}

pub fn notice(id: &str) -> WebhookNotice {
    WebhookNotice::new(InvoiceId::new(id).unwrap())
}

pub fn notice_for(id: &str, tugrik: u64) -> WebhookNotice {
    let mut notice = notice(id);
    notice.amount = Some(Amount::from_tugrik(tugrik).unwrap());
    notice
}

pub fn tugrik(n: u64) -> Amount {
    Amount::from_tugrik(n).unwrap()
}

/// A watch journal in memory, shared by the replicas made with [`MemJournal::replica`]: each
/// has its own identity for polling markers, as `RedisStore` replicas do. It can be down.
#[derive(Clone)]
pub struct MemJournal {
    shared: Arc<Mutex<JournalData>>,
    down: Arc<std::sync::atomic::AtomicBool>,
    replica: String,
    /// This replica's look-ups of one invoice fail (the rest works).
    pub finds_fail: Arc<std::sync::atomic::AtomicBool>,
}

#[derive(Default)]
struct JournalData {
    watched: HashMap<String, pocket_payments::Watched>,
    polling: HashMap<String, (String, tokio::time::Instant)>,
}

impl Default for MemJournal {
    fn default() -> Self {
        MemJournal {
            shared: Arc::default(),
            down: Arc::default(),
            replica: "replica-0".to_owned(),
            finds_fail: Arc::default(),
        }
    }
}

impl MemJournal {
    /// The same journal, seen by another replica.
    pub fn replica(&self, name: &str) -> MemJournal {
        MemJournal {
            shared: self.shared.clone(),
            down: self.down.clone(),
            replica: name.to_owned(),
            finds_fail: Arc::default(),
        }
    }

    /// Every call fails while down.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn keys(&self) -> Vec<String> {
        self.shared.lock().unwrap().watched.keys().cloned().collect()
    }

    fn up(&self) -> Result<(), pocket_payments::StoreError> {
        if self.down.load(Ordering::SeqCst) { Err("the journal is unreachable".into()) } else { Ok(()) }
    }
}

#[async_trait]
impl pocket_payments::WatchJournal for MemJournal {
    async fn save(&self, key: &str, watched: &pocket_payments::Watched) -> Result<(), pocket_payments::StoreError> {
        self.up()?;
        self.shared.lock().unwrap().watched.insert(key.to_owned(), watched.clone());
        Ok(())
    }

    async fn forget(&self, key: &str) -> Result<bool, pocket_payments::StoreError> {
        self.up()?;
        Ok(self.shared.lock().unwrap().watched.remove(key).is_some())
    }

    async fn load(&self) -> Result<Vec<pocket_payments::Watched>, pocket_payments::StoreError> {
        self.up()?;
        Ok(self.shared.lock().unwrap().watched.values().cloned().collect())
    }

    async fn find(&self, key: &str) -> Result<Option<pocket_payments::Watched>, pocket_payments::StoreError> {
        self.up()?;
        if self.finds_fail.load(Ordering::SeqCst) {
            return Err("HGET timed out".into());
        }
        Ok(self.shared.lock().unwrap().watched.get(key).cloned())
    }

    async fn try_poll(&self, key: &str, lease: Duration) -> Result<bool, pocket_payments::StoreError> {
        self.up()?;
        let now = tokio::time::Instant::now();
        let mut data = self.shared.lock().unwrap();
        let free = match data.polling.get(key) {
            Some((owner, until)) => *owner == self.replica || *until <= now,
            None => true,
        };
        if free {
            data.polling.insert(key.to_owned(), (self.replica.clone(), now + lease));
        }
        Ok(free)
    }
}

/// The terminal the scripted gateway's invoices are on.
pub const TERMINAL: TerminalId = TerminalId::new(74_686_381_183_671);

/// The gateway's detail lookups, scripted per (terminal, invoice number), counted.
#[derive(Clone, Default)]
pub struct FakeGateway {
    details: Arc<Mutex<HashMap<(TerminalId, i64), serde_json::Value>>>,
    pub lookups: Arc<AtomicUsize>,
}

impl FakeGateway {
    pub fn detail(&self, id: i64, state: &str, tugrik: u64) {
        let body = serde_json::json!({"id": id, "state": state, "amount": tugrik, "info": "Цай", "terminalId": TERMINAL,
                          "orderNumber": format!("SHOP-{id}"), "holdId": 330_001, "senderName": "Бат"});
        self.details.lock().unwrap().insert((TERMINAL, id), body);
    }

    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl GatewayApi for FakeGateway {
    async fn generate_invoice(&self, _: &pocket_core::NewGatewayInvoice) -> Result<pocket_core::GatewayInvoice, Error> {
        Err(Error::new(ErrorKind::Validation, "not scripted"))
    }

    async fn invoice_by_order_number(&self, terminal: TerminalId, order: &OrderNumber) -> Result<InvoiceDetail, Error> {
        let number: Option<i64> = order.as_str().strip_prefix("SHOP-").and_then(|n| n.parse().ok());
        self.invoice_by_id(terminal, &InvoiceId::new(number.unwrap_or(-1).to_string()).unwrap()).await
    }

    async fn invoice_by_id(&self, terminal: TerminalId, id: &InvoiceId) -> Result<InvoiceDetail, Error> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let number = id.as_number().unwrap_or(-1);
        match self.details.lock().unwrap().get(&(terminal, number)) {
            Some(body) => Ok(serde_json::from_value(body.clone()).unwrap()),
            None => Err(Error::new(ErrorKind::NotFound, "no such invoice")),
        }
    }

    async fn is_paid(&self, _: TerminalId, _: &OrderNumber) -> Result<bool, Error> {
        Ok(false)
    }

    async fn branches_page(&self, _: u32) -> Result<Page<Branch>, Error> {
        Ok(Page::new(vec![]))
    }

    async fn terminals_page(&self, _: &BranchId, _: u32) -> Result<Page<Terminal>, Error> {
        Ok(Page::new(vec![]))
    }

    async fn cancel(&self, _: &str) -> Result<(), Error> {
        Ok(())
    }
}

/// A store that cannot be reached: every operation fails.
pub struct BrokenStore;

#[async_trait::async_trait]
impl pocket_payments::PaymentStore for BrokenStore {
    async fn claim(&self, _: &str, _: Duration) -> Result<pocket_payments::Claim, pocket_payments::StoreError> {
        Err("connection refused".into())
    }
    async fn complete(&self, _: &str, _: &pocket_payments::ClaimToken) -> Result<bool, pocket_payments::StoreError> {
        Err("connection refused".into())
    }
    async fn release(&self, _: &str, _: &pocket_payments::ClaimToken) -> Result<bool, pocket_payments::StoreError> {
        Err("connection refused".into())
    }
    async fn is_done(&self, _: &str) -> Result<bool, pocket_payments::StoreError> {
        Err("connection refused".into())
    }
}
