//! The reconciler: for payments whose webhook never comes (or comes too early), the app's handle
//! on the watch list — what to watch, durably, and the takeover of what other replicas left
//! behind. The polling itself is [`crate::polling`]'s.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use pocket_core::{Error, ErrorKind, InvoiceId, OrderNumber, TerminalId};
use tokio::time::Instant;

use crate::pipeline::{Inner, Payments, invoice_key};
use crate::polling::{polling_lease, work};
use crate::store::StoreError;
use crate::watch_list::{Durability, Slot, Watch, WatchError, WatchList};
use crate::{Expected, Watched};

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
#[derive(Clone, Debug)]
pub struct Reconciler {
    payments: Payments,
}

/// Who asks for a watch: the app (whose deadline and order win) or the pipeline itself (which
/// never extends what is watched, so repeated notices cannot keep an invoice watched for ever).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    App,
    Pipeline,
    /// Read from the journal: written down already.
    Journal,
}

impl Reconciler {
    pub(crate) fn new(payments: Payments) -> Reconciler {
        Reconciler { payments }
    }

    fn inner(&self) -> &Inner {
        &self.payments.inner
    }

    fn list(&self) -> &WatchList {
        &self.inner().watching
    }

    /// Watches `invoice` until the pipeline's default deadline (30 min unless set otherwise).
    /// `expected` is the app's order, compared with Pocket's answer — on every path, the
    /// webhook's too. The watch is in effect at once; with a watch journal, await
    /// [`Watch::durable`] to know the journal has it.
    pub fn watch(&self, invoice: InvoiceId, expected: Option<Expected>) -> Watch {
        let deadline = SystemTime::now() + self.inner().settings.poll.deadline;
        self.watch_until(invoice, expected, deadline)
    }

    /// Watches `invoice` until `deadline`. Watching an invoice already watched keeps the later
    /// deadline and the given order.
    pub fn watch_until(&self, invoice: InvoiceId, expected: Option<Expected>, deadline: SystemTime) -> Watch {
        self.add(Watched::new(invoice, expected, deadline), Origin::App)
    }

    /// Watches a gateway invoice on `terminal` until the default deadline (it is asked about
    /// through the gateway's detail lookup; see [`PaymentsBuilder::gateway`](crate::PaymentsBuilder::gateway)).
    pub fn watch_gateway(&self, terminal: TerminalId, invoice: InvoiceId, expected: Option<Expected>) -> Watch {
        let deadline = SystemTime::now() + self.inner().settings.poll.deadline;
        let mut watched = Watched::new(invoice, expected, deadline);
        watched.terminal = Some(terminal);
        self.add(watched, Origin::App)
    }

    /// Watches the invoice of an order: looks the order up on `terminal` now, then watches its
    /// invoice like [`watch_gateway`](Self::watch_gateway), and returns the invoice's id. For
    /// an order whose `generate` answer was lost, too. Fails when the pipeline has no gateway
    /// ([`ErrorKind::Validation`]), when Pocket does not know the order
    /// ([`ErrorKind::NotFound`]) or cannot be asked now — then nothing is watched.
    pub async fn watch_order(
        &self,
        terminal: TerminalId,
        order: &OrderNumber,
        expected: Option<Expected>,
    ) -> Result<InvoiceId, Error> {
        let Some(gateway) = self.inner().gateway() else {
            return Err(Error::new(
                ErrorKind::Validation,
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

    /// Watches again what [`pending`](Self::pending) listed before a restart.
    pub fn resume(&self, watched: impl IntoIterator<Item = Watched>) {
        for watched in watched {
            let _ = self.add(watched, Origin::App);
        }
    }

    /// Everything watched now.
    pub fn pending(&self) -> Vec<Watched> {
        self.list().lock().values().map(|slot| slot.watched.clone()).collect()
    }

    /// Stops watching everything (and taking other replicas' invoices over) and returns what
    /// was watched, to save on shutdown and [`resume`](Self::resume) after the restart. A poll
    /// already under way finishes.
    pub fn stop(&self) -> Vec<Watched> {
        let list = self.list();
        list.taking_over.store(false, Ordering::Release);
        let stopped: Vec<Watched> = list.lock().drain().map(|(_, slot)| slot.watched).collect();
        list.wake.notify_one();
        stopped
    }

    /// Whether `invoice` (in any spelling of its number) is watched.
    pub fn is_watching(&self, invoice: &InvoiceId) -> bool {
        self.list().contains(&invoice_key(invoice))
    }

    /// Watches an invoice a notice named; never extends what the app set.
    pub(crate) fn watch_quietly(&self, invoice: InvoiceId, expected: Option<Expected>) {
        let deadline = SystemTime::now() + self.inner().settings.poll.deadline;
        let _ = self.add(Watched::new(invoice, expected, deadline), Origin::Pipeline);
    }

    fn add(&self, watched: Watched, origin: Origin) -> Watch {
        let settings = &self.inner().settings.poll;
        let key = invoice_key(&watched.invoice_id);
        let journal = self.inner().journal.is_some();
        let watch = {
            let mut slots = self.list().lock();
            if let Some(slot) = slots.get_mut(&key) {
                if origin == Origin::App {
                    slot.watched.deadline = slot.watched.deadline.max(watched.deadline);
                    if watched.expected.is_some() {
                        slot.watched.expected = watched.expected;
                    }
                    if watched.terminal.is_some() {
                        slot.watched.terminal = watched.terminal;
                    }
                    if journal {
                        slot.generation += 1;
                        slot.durability.send_replace(Durability::Saving);
                    }
                }
                let watch = slot.watch();
                self.save_in_background(&key, slot);
                return watch;
            }
            if slots.len() >= settings.capacity {
                tracing::error!(invoice_id = %watched.invoice_id, "the reconciler's list is full; this invoice is not watched");
                return Watch::refused(WatchError::Full { capacity: settings.capacity });
            }
            tracing::debug!(invoice_id = %watched.invoice_id, "watching an invoice");
            let durable = !journal || origin == Origin::Journal;
            let slot = slots.entry(key.clone()).or_insert(Slot::new(watched, Instant::now() + settings.first, durable));
            let watch = slot.watch();
            self.save_in_background(&key, slot);
            watch
        };
        self.list().wake.notify_one();
        if !self.ensure_running() {
            return Watch::refused(WatchError::NoRuntime);
        }
        watch
    }

    /// Writes the slot to the journal in a task that retries until the journal has its latest
    /// state (or the invoice leaves the list), then marks it durable.
    fn save_in_background(&self, key: &str, slot: &mut Slot) {
        let Some(journal) = self.inner().journal.clone() else { return };
        if slot.saving || *slot.durability.borrow() == Durability::Saved {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        slot.saving = true;
        let (inner, key) = (Arc::downgrade(&self.payments.inner), key.to_owned());
        runtime.spawn(async move {
            let mut wait = Duration::from_millis(50);
            let mut failures = 0u32;
            loop {
                let Some(payments) = inner.upgrade() else { return };
                let Some((watched, generation)) =
                    payments.watching.lock().get(&key).map(|slot| (slot.watched.clone(), slot.generation))
                else {
                    return;
                };
                drop(payments);
                match journal.save(&key, &watched).await {
                    Ok(()) => {
                        let Some(payments) = inner.upgrade() else { return };
                        let mut slots = payments.watching.lock();
                        let Some(slot) = slots.get_mut(&key) else { return };
                        if slot.generation == generation {
                            slot.saving = false;
                            slot.durability.send_replace(Durability::Saved);
                            return;
                        }
                    }
                    Err(error) => {
                        failures += 1;
                        if failures == 1 {
                            tracing::error!(%error, invoice_id = %watched.invoice_id, "could not write a watched invoice down; retrying until the journal has it");
                        }
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(2));
                    }
                }
            }
        });
    }

    /// Takes over everything the journal holds — what other replicas watch, and what a crashed
    /// or restarted process watched — and returns how many invoices that added. With a journal,
    /// call it at start-up: it also starts taking over, every polling lease (twice the longest
    /// wait between polls, 2 min by default), what replicas that never come back left behind —
    /// so their invoices are polled again within two polling leases.
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let Some(journal) = self.inner().journal.clone() else { return Ok(0) };
        let added = self.take_over(&journal).await?;
        if !self.list().taking_over.swap(true, Ordering::AcqRel) {
            self.start_takeover();
        }
        Ok(added)
    }

    async fn take_over(&self, journal: &crate::counted::Journal) -> Result<usize, StoreError> {
        let before = self.list().len();
        for watched in journal.load().await? {
            let _ = self.add(watched, Origin::Journal);
        }
        Ok(self.list().len().saturating_sub(before))
    }

    /// Reads the journal every polling lease while the pipeline lives and the reconciler is not
    /// stopped.
    fn start_takeover(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let inner = Arc::downgrade(&self.payments.inner);
        let every = polling_lease(&self.inner().settings.poll);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = inner.upgrade() else { return };
                if !inner.watching.taking_over.load(Ordering::Acquire) {
                    return;
                }
                let Some(journal) = inner.journal.clone() else { return };
                let reconciler = Reconciler::new(Payments { inner });
                match reconciler.take_over(&journal).await {
                    Ok(0) => {}
                    Ok(added) => tracing::info!(added, "took over invoices that no replica polls any more"),
                    Err(error) => tracing::warn!(%error, "could not read the watch journal; taking over later"),
                }
            }
        });
    }

    /// Makes sure the worker runs; `false` when there is no runtime to run it on.
    fn ensure_running(&self) -> bool {
        let list = self.list();
        if list.running.swap(true, Ordering::AcqRel) {
            return true;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(work(self.payments.clone()));
                true
            }
            Err(_) => {
                list.running.store(false, Ordering::Release);
                tracing::error!("no tokio runtime: the reconciler cannot run, watched invoices are not polled");
                false
            }
        }
    }
}
