//! The reconciler: for payments whose webhook never comes (or comes too early), polls Pocket
//! about watched invoices — fast at first, then slower, until a deadline — and acts on what it
//! learns through the same pipeline, store and handler as the webhook.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use pocket_core::{Error, ErrorKind, InvoiceId, InvoiceState, OrderNumber, TerminalId};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::pipeline::{Payments, invoice_key};
use crate::store::StoreError;
use crate::{Expected, Outcome, Refusal, Unresolved};

/// A watched invoice, as [`Reconciler::pending`] lists it and [`Reconciler::resume`] takes it
/// back (serializable, so an app can keep its list across a restart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Watched {
    /// The invoice.
    pub invoice_id: InvoiceId,
    /// The app's own order for it, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
    /// When to give up on it.
    pub deadline: SystemTime,
    /// The last state Pocket reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state: Option<InvoiceState>,
    /// How many times it was polled.
    #[serde(default)]
    pub polls: u32,
    /// For a gateway invoice: its terminal (it is then asked about through the gateway first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<TerminalId>,
}

impl Watched {
    /// An invoice to watch until `deadline`.
    pub fn new(invoice_id: InvoiceId, expected: Option<Expected>, deadline: SystemTime) -> Watched {
        Watched { invoice_id, expected, deadline, last_state: None, polls: 0, terminal: None }
    }
}

/// Where the reconciler writes down what it watches, so that other replicas and a restarted (or
/// crashed) process can take it over, and where replicas agree who polls an invoice right now.
/// `RedisStore` (feature `redis`) implements it; without one, the list lives in this process.
#[async_trait::async_trait]
pub trait WatchJournal: Send + Sync + 'static {
    /// Writes down (or overwrites) a watched invoice under its key.
    async fn save(&self, key: &str, watched: &Watched) -> Result<(), StoreError>;
    /// Crosses it out: settled, or given up at its deadline.
    async fn forget(&self, key: &str) -> Result<(), StoreError>;
    /// Everything written down, by every replica.
    async fn load(&self) -> Result<Vec<Watched>, StoreError>;
    /// Whether this replica may poll `key` now: it takes the invoice's polling for `lease` if no
    /// other replica holds it, or keeps it if it holds it already. One replica polls each
    /// invoice; when it goes away, another takes over after the lease.
    async fn try_poll(&self, key: &str, lease: Duration) -> Result<bool, StoreError>;
}

struct Slot {
    watched: Watched,
    next_poll: Instant,
    polling: bool,
}

/// The watch list, inside the pipeline; the worker that polls it runs only while it is not empty.
#[derive(Default)]
pub(crate) struct WatchList {
    slots: Mutex<HashMap<String, Slot>>,
    wake: Notify,
    running: AtomicBool,
}

impl WatchList {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // Updates leave the map consistent; a panic elsewhere does not spoil it.
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Watches invoices until Pocket settles them: the way a payment is confirmed when its webhook
/// never arrives. A handle to the pipeline's watch list; clones share it.
///
/// Call [`watch`](Self::watch) right after creating an invoice. The pipeline also watches, by
/// itself, every invoice a notice named while Pocket's state was not final. Polls go through the
/// same store and handler as notices, so a payment seen by both runs the handler once.
///
/// It runs in the background on the current tokio runtime while anything is watched, and stops
/// by itself when nothing is. Its list lives in this process: on shutdown keep what
/// [`stop`](Self::stop) returns somewhere durable and hand it to [`resume`](Self::resume) on
/// start, or a restart forgets what it was watching.
#[derive(Clone, Debug)]
pub struct Reconciler {
    payments: Payments,
}

impl Reconciler {
    pub(crate) fn new(payments: Payments) -> Reconciler {
        Reconciler { payments }
    }

    /// Watches `invoice` until the pipeline's default deadline (30 min unless set otherwise).
    /// `expected` is the app's order, compared with Pocket's answer like an order check.
    pub fn watch(&self, invoice: InvoiceId, expected: Option<Expected>) {
        let deadline = SystemTime::now() + self.payments.inner.settings.poll.deadline;
        self.watch_until(invoice, expected, deadline);
    }

    /// Watches `invoice` until `deadline`. Watching an invoice already watched keeps the later
    /// deadline and the given order.
    pub fn watch_until(&self, invoice: InvoiceId, expected: Option<Expected>, deadline: SystemTime) {
        self.add(Watched::new(invoice, expected, deadline), true);
    }

    /// Watches a gateway invoice on `terminal` until the default deadline (it is asked about
    /// through the gateway's detail lookup; see [`PaymentsBuilder::gateway`](crate::PaymentsBuilder::gateway)).
    pub fn watch_gateway(&self, terminal: TerminalId, invoice: InvoiceId, expected: Option<Expected>) {
        let deadline = SystemTime::now() + self.payments.inner.settings.poll.deadline;
        let mut watched = Watched::new(invoice, expected, deadline);
        watched.terminal = Some(terminal);
        self.add(watched, true);
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
        let Some(gateway) = self.payments.inner.gateway() else {
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
        self.watch_gateway(terminal, invoice.clone(), expected);
        Ok(invoice)
    }

    /// Watches again what [`pending`](Self::pending) listed before a restart.
    pub fn resume(&self, watched: impl IntoIterator<Item = Watched>) {
        for watched in watched {
            self.add(watched, true);
        }
    }

    /// Everything watched now.
    pub fn pending(&self) -> Vec<Watched> {
        self.payments.inner.watching.lock().values().map(|slot| slot.watched.clone()).collect()
    }

    /// Stops watching everything and returns what was watched, to save on shutdown and
    /// [`resume`](Self::resume) after the restart. A poll already under way finishes.
    pub fn stop(&self) -> Vec<Watched> {
        let list = &self.payments.inner.watching;
        let stopped: Vec<Watched> = list.lock().drain().map(|(_, slot)| slot.watched).collect();
        list.wake.notify_one();
        stopped
    }

    /// Whether `invoice` (in any spelling of its number) is watched.
    pub fn is_watching(&self, invoice: &InvoiceId) -> bool {
        self.payments.inner.watching.lock().contains_key(&invoice_key(invoice))
    }

    /// Watches an invoice a notice named; never extends what the app set, so repeated notices
    /// cannot keep an invoice watched for ever.
    pub(crate) fn watch_quietly(&self, invoice: InvoiceId, expected: Option<Expected>) {
        let deadline = SystemTime::now() + self.payments.inner.settings.poll.deadline;
        self.add(Watched::new(invoice, expected, deadline), false);
    }

    fn add(&self, watched: Watched, from_app: bool) {
        let settings = &self.payments.inner.settings.poll;
        let list = &self.payments.inner.watching;
        let key = invoice_key(&watched.invoice_id);
        {
            let mut slots = list.lock();
            if let Some(slot) = slots.get_mut(&key) {
                if from_app {
                    slot.watched.deadline = slot.watched.deadline.max(watched.deadline);
                    if watched.expected.is_some() {
                        slot.watched.expected = watched.expected;
                    }
                    if watched.terminal.is_some() {
                        slot.watched.terminal = watched.terminal;
                    }
                    self.journal_save(&key, &slot.watched);
                }
                return;
            }
            if slots.len() >= settings.capacity {
                tracing::error!(invoice_id = %watched.invoice_id, "the reconciler's list is full; this invoice is not watched");
                return;
            }
            tracing::debug!(invoice_id = %watched.invoice_id, "watching an invoice");
            let next_poll = Instant::now() + settings.first;
            self.journal_save(&key, &watched);
            slots.insert(key, Slot { watched, next_poll, polling: false });
        }
        list.wake.notify_one();
        self.ensure_running();
    }

    /// Writes a watch down in the background (a journal that cannot be reached is logged; the
    /// watch still runs here).
    fn journal_save(&self, key: &str, watched: &Watched) {
        let Some(journal) = self.payments.inner.journal.clone() else { return };
        let (key, watched) = (key.to_owned(), watched.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = journal.save(&key, &watched).await {
                    tracing::error!(%error, invoice_id = %watched.invoice_id, "could not write a watched invoice down");
                }
            });
        }
    }

    /// Takes over everything the journal holds — what other replicas watch, and what a crashed
    /// or restarted process watched — and returns how many invoices that added. With a journal,
    /// call it at start-up. Replicas then poll each invoice one at a time between them.
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let Some(journal) = self.payments.inner.journal.clone() else { return Ok(0) };
        let before = self.payments.inner.watching.len();
        for watched in journal.load().await? {
            self.add(watched, false);
        }
        Ok(self.payments.inner.watching.len().saturating_sub(before))
    }

    fn ensure_running(&self) {
        let list = &self.payments.inner.watching;
        if list.running.swap(true, Ordering::AcqRel) {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(work(self.payments.clone()));
            }
            Err(_) => {
                list.running.store(false, Ordering::Release);
                tracing::error!("no tokio runtime: the reconciler cannot run, watched invoices are not polled");
            }
        }
    }
}

/// Takes the invoices due now (marking them as being polled) and says when the next one is due.
fn due(payments: &Payments) -> (Vec<(String, Watched)>, Option<Instant>) {
    let now = Instant::now();
    let mut slots = payments.inner.watching.lock();
    let mut taken = Vec::new();
    let mut next = None::<Instant>;
    for (key, slot) in slots.iter_mut().filter(|(_, slot)| !slot.polling) {
        if slot.next_poll <= now && taken.len() < payments.inner.settings.poll.concurrency {
            slot.polling = true;
            taken.push((key.clone(), slot.watched.clone()));
        } else {
            next = Some(next.map_or(slot.next_poll, |next| next.min(slot.next_poll)));
        }
    }
    (taken, next)
}

async fn work(payments: Payments) {
    let list = &payments.inner.watching;
    loop {
        let wake = list.wake.notified();
        let (batch, next) = due(&payments);
        if batch.is_empty() {
            if list.lock().is_empty() {
                list.running.store(false, Ordering::Release);
                // A watch added between the check and the store above found `running` set and
                // spawned nothing: take the work back if so.
                if list.lock().is_empty() || list.running.swap(true, Ordering::AcqRel) {
                    return;
                }
                continue;
            }
            match next {
                Some(next) => {
                    // Woken by the next due time or by a new watch, whichever comes first.
                    let _ = tokio::time::timeout_at(next, wake).await;
                }
                None => wake.await,
            }
            continue;
        }
        let mut polls = JoinSet::new();
        for (key, watched) in batch {
            let payments = payments.clone();
            polls.spawn(async move {
                if let Some(journal) = &payments.inner.journal {
                    // Long enough to keep it across this replica's longest wait between polls.
                    let lease = payments.inner.settings.poll.max * 2;
                    match journal.try_poll(&key, lease).await {
                        Ok(true) => {}
                        // Another replica polls it now: it decides; this one looks again later.
                        Ok(false) => return (key, None),
                        Err(error) => {
                            tracing::warn!(%error, "the watch journal could not be asked; polling later");
                            return (key, Some(Outcome::StoreUnavailable));
                        }
                    }
                }
                let outcome = match watched.terminal {
                    Some(terminal) => {
                        payments.poll_gateway(terminal, &watched.invoice_id, watched.expected.clone()).await
                    }
                    None => payments.poll(&watched.invoice_id, watched.expected.clone()).await,
                };
                (key, Some(outcome))
            });
        }
        while let Some(joined) = polls.join_next().await {
            match joined {
                Ok((key, Some(outcome))) => after_poll(&payments, &key, outcome).await,
                Ok((key, None)) => skipped(&payments, &key),
                Err(_) => {}
            }
        }
    }
}

/// Another replica polls this invoice now: look again later, or, past the deadline, leave the
/// verdict (and the `unresolved` callback) to that replica.
fn skipped(payments: &Payments, key: &str) {
    let settings = &payments.inner.settings.poll;
    let mut slots = payments.inner.watching.lock();
    let Some(slot) = slots.get_mut(key) else { return };
    if SystemTime::now() >= slot.watched.deadline {
        slots.remove(key);
        return;
    }
    slot.polling = false;
    slot.next_poll = Instant::now() + backoff(settings.first, settings.max, slot.watched.polls.max(1));
}

/// Records a poll's outcome: settled invoices leave the list, others are polled again later, and
/// those past their deadline (or that can never be confirmed) go to the `unresolved` callback.
async fn after_poll(payments: &Payments, key: &str, outcome: Outcome) {
    let settings = &payments.inner.settings.poll;
    let gave_up = {
        let mut slots = payments.inner.watching.lock();
        let Some(slot) = slots.get_mut(key) else { return };
        slot.polling = false;
        slot.watched.polls += 1;
        if let Outcome::NotFinal(state) = &outcome {
            slot.watched.last_state = Some(state.clone());
        }
        let invoice_id = slot.watched.invoice_id.clone();
        let verdict = match &outcome {
            Outcome::Processed | Outcome::AlreadyProcessed | Outcome::NotPaid(_) => Some(None),
            Outcome::Refused(refusal @ (Refusal::OtherInvoice | Refusal::AmountMismatch | Refusal::OrderMismatch)) => {
                Some(Some(refusal.describe().to_owned()))
            }
            _ if SystemTime::now() >= slot.watched.deadline => {
                Some(Some(format!("still {} at its deadline after {} polls", outcome.word(), slot.watched.polls)))
            }
            _ => None,
        };
        match verdict {
            Some(reason) => {
                let last_state = slot.watched.last_state.clone();
                slots.remove(key);
                forget(payments, key);
                tracing::info!(%invoice_id, outcome = outcome.word(), "the reconciler is done with an invoice");
                reason.map(|reason| Unresolved { invoice_id, last_state, reason })
            }
            None => {
                let wait = backoff(settings.first, settings.max, slot.watched.polls);
                let until_deadline = slot.watched.deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
                slot.next_poll = Instant::now() + wait.min(until_deadline);
                tracing::debug!(%invoice_id, outcome = outcome.word(), ?wait, "polled; polling again later");
                None
            }
        }
    };
    if let Some(unresolved) = gave_up {
        payments.inner.handler().unresolved(unresolved).await;
    }
}

/// Crosses a settled (or given up) invoice out of the journal, in the background.
fn forget(payments: &Payments, key: &str) {
    let Some(journal) = payments.inner.journal.clone() else { return };
    let key = key.to_owned();
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            if let Err(error) = journal.forget(&key).await {
                tracing::error!(%error, %key, "could not cross a settled invoice out of the watch journal");
            }
        });
    }
}

/// `first`, doubled after every poll, at most `max`.
fn backoff(first: Duration, max: Duration, polls: u32) -> Duration {
    first.saturating_mul(1u32 << polls.saturating_sub(1).min(20)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_start_fast_then_slow_down_to_the_cap() {
        let (first, max) = (Duration::from_secs(2), Duration::from_secs(60));
        let waits: Vec<u64> = (1..=8).map(|polls| backoff(first, max, polls).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(first, max, u32::MAX), max);
    }
}
