//! Building a [`Payments`] pipeline: what it talks to, and every setting with its default.

use std::sync::Arc;
use std::time::Duration;

use pocket_core::{GatewayApi, MerchantApi, TerminalId};

use crate::checks::Gateway;
use crate::counted::Backend;
use crate::handler::{Handler, OrderCheck, PaymentHandler};
use crate::journal::WatchJournal;
use crate::pipeline::{Parts, Payments};
use crate::settings::{MissingAmount, ProcessedState, Settings};
use crate::store::PaymentStore;

impl Payments {
    /// A pipeline that asks `merchant` (Pocket's merchant API) about invoices and calls `handler`.
    /// An app that shares them elsewhere passes its `Arc`s: both traits are implemented for them.
    pub fn builder(merchant: impl MerchantApi + 'static, handler: impl PaymentHandler) -> PaymentsBuilder {
        PaymentsBuilder::new(Arc::new(merchant), Handler::Plain(Arc::new(handler)))
    }

    /// A pipeline whose handler runs inside a PostgreSQL transaction of `store`'s database, in
    /// which the payment is recorded too: the handler's writes and "this payment is done"
    /// commit together or not at all (see [`TransactionalHandler`](crate::TransactionalHandler)).
    /// `store` is the pipeline's payment store and, unless set otherwise, its watch journal.
    #[cfg(feature = "postgres")]
    pub fn transactional(
        merchant: impl MerchantApi + 'static,
        store: crate::PgStore,
        handler: impl crate::TransactionalHandler,
    ) -> PaymentsBuilder {
        PaymentsBuilder::new(Arc::new(merchant), Handler::InTransaction { handler: Arc::new(handler), store })
    }
}

/// Builds [`Payments`]. Every setting has a production default.
#[must_use]
pub struct PaymentsBuilder {
    merchant: Arc<dyn MerchantApi>,
    gateway: Option<Gateway>,
    handler: Handler,
    store: Backend,
    order: Option<Arc<dyn OrderCheck>>,
    journal: Option<Arc<dyn WatchJournal>>,
    settings: Settings,
}

impl PaymentsBuilder {
    pub(crate) fn new(merchant: Arc<dyn MerchantApi>, handler: Handler) -> PaymentsBuilder {
        let (store, journal): (Backend, Option<Arc<dyn WatchJournal>>) = match &handler {
            Handler::Plain(_) => (Backend::of(crate::InMemoryStore::default()), None),
            #[cfg(feature = "postgres")]
            Handler::InTransaction { store, .. } => (Backend::of(store.clone()), Some(Arc::new(store.clone()))),
        };
        PaymentsBuilder { merchant, gateway: None, handler, store, order: None, journal, settings: Settings::default() }
    }

    /// Where claims and processed payments are kept (default: [`InMemoryStore::default`](crate::InMemoryStore), one
    /// process only). Share one store between every pipeline that may see the same payment.
    ///
    /// A [transactional](Payments::transactional) pipeline records its payments in its
    /// `PgStore`, in the handler's transaction: there this setting is ignored (with a warning).
    pub fn store(mut self, store: impl PaymentStore) -> Self {
        match self.handler {
            Handler::Plain(_) => self.store = Backend::of(store),
            #[cfg(feature = "postgres")]
            Handler::InTransaction { .. } => {
                tracing::warn!(
                    "a transactional pipeline keeps its payments in its PgStore; the store given is not used"
                )
            }
        }
        self
    }

    /// Confirm payments of gateway (QR / deep-link) invoices too, by asking `gateway`'s detail
    /// lookup on `terminals` (the merchant's terminals that generate invoices). A notice that
    /// carries `orderNumber` or `heldId` is asked about through the gateway first, any other
    /// through the merchant API's check first; when the first does not know the invoice, the
    /// other is asked. Default: no gateway (the merchant API only).
    ///
    /// One store serves both: Pocket's invoice ids are assumed unique across its two APIs (the
    /// sandbox gives them from one sequence). Should they overlap, build one pipeline per API,
    /// each with its own store.
    pub fn gateway(
        mut self,
        gateway: impl GatewayApi + 'static,
        terminals: impl IntoIterator<Item = TerminalId>,
    ) -> Self {
        self.gateway = Some(Gateway { api: Arc::new(gateway), terminals: terminals.into_iter().collect() });
        self
    }

    /// Write the reconciler's list down in `journal` (a `RedisStore` or `PgStore`, say), so that
    /// replicas share it and a crashed process's watches are taken over
    /// ([`Reconciler::recover`](crate::Reconciler::recover)). Default: none, the list lives in
    /// this process — except for a [transactional](Payments::transactional) pipeline, whose
    /// `PgStore` is its journal unless set otherwise.
    pub fn watch_journal(mut self, journal: impl WatchJournal) -> Self {
        self.journal = Some(Arc::new(journal));
        self
    }

    /// Compare confirmed payments with the app's own orders before the handler runs.
    pub fn order_check(mut self, check: impl OrderCheck) -> Self {
        self.order = Some(Arc::new(check));
        self
    }

    /// How to treat Pocket's `processed` state (default: not final).
    pub fn processed(mut self, treatment: ProcessedState) -> Self {
        self.settings.processed = treatment;
        self
    }

    /// What to do when Pocket's answer has no amount (default: refuse).
    pub fn missing_amount(mut self, rule: MissingAmount) -> Self {
        self.settings.missing_amount = rule;
        self
    }

    /// How long the handler may run (default 60 s); past it, it is cancelled and the payment is
    /// tried again later. The claim's lease is kept longer than this by half of it (at most 10 s).
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.settings.handler_timeout = timeout;
        self
    }

    /// How long a claim holds before it lapses by itself (default 5 min): how long a crashed
    /// process can delay a payment.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.settings.lease = lease;
        self
    }

    /// The wait suggested to senders with a 503 answer (default 5 s).
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.settings.retry_after = wait;
        self
    }

    /// At most `concurrent` check calls at once (default 8); a notice that cannot get one within
    /// `queue_wait` (default 2 s) is asked to come again.
    pub fn max_concurrent_checks(mut self, concurrent: usize, queue_wait: Duration) -> Self {
        self.settings.check_concurrency = concurrent;
        self.settings.check_queue_wait = queue_wait;
        self
    }

    /// Notices may start at most `per_second` check calls a second on average, `burst` at once
    /// (default 50 and 100); `None` lifts the limit. The reconciler's polls do not count.
    pub fn checks_per_second(mut self, per_second: Option<f64>, burst: u32) -> Self {
        self.settings.checks_per_second = per_second;
        self.settings.check_burst = f64::from(burst);
        self
    }

    /// How long an invoice Pocket does not know is answered 422 without asking again (default
    /// 30 s), and how many such invoices are remembered (default 10 000).
    pub fn unknown_invoice_memory(mut self, ttl: Duration, capacity: usize) -> Self {
        self.settings.unknown_ttl = ttl;
        self.settings.unknown_capacity = capacity;
        self
    }

    /// The reconciler polls a watched invoice after `first` (default 2 s), then doubles the wait
    /// up to `max` (default 60 s).
    pub fn poll_schedule(mut self, first: Duration, max: Duration) -> Self {
        self.settings.poll.first = first;
        self.settings.poll.max = max;
        self
    }

    /// How long the reconciler watches an invoice by default before giving up on it and calling
    /// [`PaymentHandler::unresolved`](crate::PaymentHandler::unresolved) (default 30 min).
    pub fn watch_deadline(mut self, deadline: Duration) -> Self {
        self.settings.poll.deadline = deadline;
        self
    }

    /// At most `concurrent` polls at once (default 4), and at most `capacity` watched invoices
    /// (default 100 000).
    pub fn reconciler_limits(mut self, concurrent: usize, capacity: usize) -> Self {
        self.settings.poll.concurrency = concurrent;
        self.settings.poll.capacity = capacity;
        self
    }

    /// The pipeline.
    pub fn build(self) -> Payments {
        let settings = self.settings.settle();
        Payments::new(Parts {
            merchant: self.merchant,
            gateway: self.gateway,
            store: self.store,
            handler: self.handler,
            order: self.order,
            journal: self.journal,
            settings,
        })
    }
}
