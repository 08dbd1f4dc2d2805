//! The reconciler: the app's handle on the pipeline's watch list, for payments whose webhook
//! never comes (or comes too early) — what to watch, durably, and the takeover of what other
//! replicas left behind. The list and its polling are [`crate::watching`]'s.

use std::sync::Arc;
use std::time::SystemTime;

use pocket_core::{Error, ErrorKind, GatewayApi, InvoiceId, OrderNumber, TerminalId};

use crate::Expected;
use crate::journal::Watched;
use crate::store::StoreError;
use crate::watching::{Origin, Poller, Watch, Watcher};

/// Watches invoices until Pocket settles them: the way a payment is confirmed when its webhook
/// never arrives. A handle to the pipeline's watch list; clones share it.
///
/// Call [`watch`](Self::watch) right after creating an invoice. The pipeline also watches, by
/// itself, every invoice a notice named while Pocket's state was not final. Polls go through the
/// same store and handler as notices, so a payment seen by both runs the handler once.
///
/// It runs in the background on the current tokio runtime while anything is watched, and stops
/// by itself when nothing is. Without a [`WatchJournal`](crate::WatchJournal) its list lives in
/// this process: on shutdown keep what [`stop`](Self::stop) returns somewhere durable and hand
/// it to [`resume`](Self::resume) on start, or a restart forgets what it was watching.
#[derive(Clone)]
pub struct Reconciler {
    watcher: Arc<Watcher>,
    /// The pipeline, kept alive while the app holds this handle (its polls go through it).
    _pipeline: Arc<dyn Poller>,
    gateway: Option<Arc<dyn GatewayApi>>,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler").field("watched", &self.watcher.census().0).finish_non_exhaustive()
    }
}

impl Reconciler {
    pub(crate) fn new(
        watcher: Arc<Watcher>,
        pipeline: Arc<dyn Poller>,
        gateway: Option<Arc<dyn GatewayApi>>,
    ) -> Reconciler {
        Reconciler { watcher, _pipeline: pipeline, gateway }
    }

    /// Watches `invoice` until the pipeline's default deadline (30 min unless set otherwise).
    /// `expected` is the app's order, compared with Pocket's answer — on every path, the
    /// webhook's too. The watch is in effect at once; with a watch journal, await
    /// [`Watch::durable`] to know the journal has it.
    pub fn watch(&self, invoice: InvoiceId, expected: Option<Expected>) -> Watch {
        self.watch_until(invoice, expected, self.watcher.default_deadline())
    }

    /// Watches `invoice` until `deadline`. Watching an invoice already watched keeps the later
    /// deadline and the given order.
    pub fn watch_until(&self, invoice: InvoiceId, expected: Option<Expected>, deadline: SystemTime) -> Watch {
        self.watcher.add(Watched::new(invoice, expected, deadline), Origin::App)
    }

    /// Watches a gateway invoice on `terminal` until the default deadline (it is asked about
    /// through the gateway's detail lookup; see [`PaymentsBuilder::gateway`](crate::PaymentsBuilder::gateway)).
    pub fn watch_gateway(&self, terminal: TerminalId, invoice: InvoiceId, expected: Option<Expected>) -> Watch {
        let mut watched = Watched::new(invoice, expected, self.watcher.default_deadline());
        watched.terminal = Some(terminal);
        self.watcher.add(watched, Origin::App)
    }

    /// Watches the invoice of an order: looks the order up on `terminal` now, then watches its
    /// invoice like [`watch_gateway`](Self::watch_gateway), and returns the invoice's id. For
    /// an order whose `generate` answer was lost, too. Fails when the pipeline has no gateway
    /// ([`ErrorKind::Configuration`]), when Pocket does not know the order
    /// ([`ErrorKind::NotFound`]) or cannot be asked now — then nothing is watched.
    pub async fn watch_order(
        &self,
        terminal: TerminalId,
        order: &OrderNumber,
        expected: Option<Expected>,
    ) -> Result<InvoiceId, Error> {
        let Some(gateway) = &self.gateway else {
            return Err(Error::new(
                ErrorKind::Configuration,
                "watching an order needs a gateway: build the pipeline with PaymentsBuilder::gateway",
            ));
        };
        let detail = gateway.invoice_by_order_number(terminal, order).await?;
        let Some(invoice) = detail.id else {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("Pocket's detail of order {order} names no invoice id"),
            ));
        };
        let _ = self.watch_gateway(terminal, invoice.clone(), expected);
        Ok(invoice)
    }

    /// Watches again what [`watched`](Self::watched) listed before a restart.
    pub fn resume(&self, watched: impl IntoIterator<Item = Watched>) {
        for watched in watched {
            let _ = self.watcher.add(watched, Origin::App);
        }
    }

    /// Everything watched now.
    pub fn watched(&self) -> Vec<Watched> {
        self.watcher.watched()
    }

    /// Stops watching everything (and taking other replicas' invoices over) and returns what
    /// was watched, to save on shutdown and [`resume`](Self::resume) after the restart. A poll
    /// already under way finishes.
    pub fn stop(&self) -> Vec<Watched> {
        self.watcher.stop()
    }

    /// Whether `invoice` (in any spelling of its number) is watched.
    pub fn is_watching(&self, invoice: &InvoiceId) -> bool {
        self.watcher.is_watching(&invoice.key())
    }

    /// Takes over everything the journal holds — what other replicas watch, and what a crashed
    /// or restarted process watched — and returns how many invoices that added. With a journal,
    /// call it at start-up: it also starts taking over, every polling lease (twice the longest
    /// wait between polls, 2 min by default), what replicas that never come back left behind —
    /// so their invoices are polled again within two polling leases.
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let added = self.watcher.take_over().await?;
        self.watcher.keep_taking_over();
        Ok(added)
    }
}
