//! Watching invoices until Pocket settles them, below the pipeline: the list, its journal, the
//! takeover of what other replicas left behind, and the worker that polls what is due. It knows
//! nothing of how an invoice is asked about: the pipeline above it is its [`Poller`].

mod list;
mod polling;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use pocket_core::InvoiceId;
use tokio::time::Instant;

use list::{Durability, Slot, WatchList};
pub use list::{Watch, WatchError};

use crate::counted::Journal;
use crate::journal::Watched;
use crate::settings::PollSettings;
use crate::store::StoreError;
use crate::telemetry::Meters;
use crate::{Expected, Outcome, Unresolved};

/// A boxed future, as [`Poller`]'s calls return.
pub(crate) type Pending<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the watcher asks of the pipeline above it.
pub(crate) trait Poller: Send + Sync + 'static {
    /// Asks Pocket about a watched invoice now and acts on the answer, as for a notice.
    fn poll(self: Arc<Self>, watched: Watched) -> Pending<Outcome>;
    /// Tells the merchant about an invoice given up on.
    fn unresolved(self: Arc<Self>, unresolved: Unresolved) -> Pending<()>;
}

/// Who asks for a watch: the app (whose deadline and order win) or the pipeline itself (which
/// never extends what is watched, so repeated notices cannot keep an invoice watched for ever).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    App,
    Pipeline,
    /// Read from the journal: written down already.
    Journal,
}

/// The watch list and everything that works through it.
pub(crate) struct Watcher {
    list: WatchList,
    journal: Option<Journal>,
    settings: PollSettings,
    /// The longest a merchant callback may run (`unresolved`, and each one a poll leads to).
    callback_timeout: Duration,
    meters: Arc<Meters>,
    /// The pipeline: held weakly, so that the watcher does not keep it alive; the worker holds
    /// it while anything is watched.
    poller: Weak<dyn Poller>,
}

impl Watcher {
    pub(crate) fn new(
        settings: PollSettings,
        journal: Option<Journal>,
        callback_timeout: Duration,
        meters: Arc<Meters>,
        poller: Weak<dyn Poller>,
    ) -> Watcher {
        Watcher { list: WatchList::new(settings.concurrency), journal, settings, callback_timeout, meters, poller }
    }

    pub(crate) fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// When a watch starting now ends, unless the app says otherwise.
    pub(crate) fn default_deadline(&self) -> SystemTime {
        SystemTime::now() + self.settings.deadline
    }

    /// Whether `key` is watched here.
    pub(crate) fn is_watching(&self, key: &str) -> bool {
        self.list.contains(key)
    }

    /// Everything watched here now.
    pub(crate) fn watched(&self) -> Vec<Watched> {
        self.list.lock().values().map(|slot| slot.watched.clone()).collect()
    }

    /// How many invoices are watched here, and how long the oldest has been (when known).
    pub(crate) fn census(&self) -> (usize, Option<Duration>) {
        self.list.census()
    }

    /// Whether the worker runs now.
    pub(crate) fn is_running(&self) -> bool {
        self.list.is_running()
    }

    /// The order the app gave when it watched `key` — here, or on another replica (the shared
    /// journal) — if it gave one.
    pub(crate) async fn expected(&self, key: &str) -> Result<Option<Expected>, StoreError> {
        if let Some(expected) = self.list.expected(key) {
            return Ok(Some(expected));
        }
        let Some(journal) = &self.journal else { return Ok(None) };
        Ok(journal.find(key).await?.and_then(|watched| watched.expected))
    }

    /// Watches an invoice the pipeline came across; never extends what the app set.
    pub(crate) fn watch_quietly(self: &Arc<Self>, invoice: InvoiceId, expected: Option<Expected>) {
        let _ = self.add(Watched::new(invoice, expected, self.default_deadline()), Origin::Pipeline);
    }

    /// Stops watching everything (and taking other replicas' invoices over); returns what was
    /// watched. A poll already under way finishes.
    pub(crate) fn stop(&self) -> Vec<Watched> {
        self.list.taking_over.store(false, Ordering::Release);
        let stopped: Vec<Watched> = self.list.lock().drain().map(|(_, slot)| slot.watched).collect();
        self.list.wake.notify_one();
        stopped
    }

    pub(crate) fn add(self: &Arc<Self>, watched: Watched, origin: Origin) -> Watch {
        let key = watched.invoice_id.key();
        let journal = self.journal.is_some();
        let watch = {
            let mut slots = self.list.lock();
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
            if slots.len() >= self.settings.capacity {
                tracing::error!(invoice_id = %watched.invoice_id, "the reconciler's list is full; this invoice is not watched");
                return Watch::refused(WatchError::Full { capacity: self.settings.capacity });
            }
            tracing::debug!(invoice_id = %watched.invoice_id, "watching an invoice");
            let durable = !journal || origin == Origin::Journal;
            let first_poll = Instant::now() + self.settings.first;
            let slot = slots.entry(key.clone()).or_insert(Slot::new(watched, first_poll, durable));
            let watch = slot.watch();
            self.save_in_background(&key, slot);
            watch
        };
        self.list.wake.notify_one();
        if !self.ensure_running() {
            return Watch::refused(WatchError::NoRuntime);
        }
        watch
    }

    /// Writes the slot to the journal in a task that retries until the journal has its latest
    /// state (or the invoice leaves the list), then marks it durable.
    fn save_in_background(self: &Arc<Self>, key: &str, slot: &mut Slot) {
        let Some(journal) = self.journal.clone() else { return };
        if slot.saving || *slot.durability.borrow() == Durability::Saved {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        slot.saving = true;
        let (watcher, key) = (Arc::downgrade(self), key.to_owned());
        runtime.spawn(async move {
            let mut retry = crate::backoff::Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
            let mut failures = 0u32;
            loop {
                let Some(latest) = watcher.upgrade() else { return };
                let Some((watched, generation)) =
                    latest.list.lock().get(&key).map(|slot| (slot.watched.clone(), slot.generation))
                else {
                    return;
                };
                drop(latest);
                match journal.save(&key, &watched).await {
                    Ok(()) => {
                        let Some(latest) = watcher.upgrade() else { return };
                        let mut slots = latest.list.lock();
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
                        tokio::time::sleep(retry.next_wait()).await;
                    }
                }
            }
        });
    }

    /// Adds everything the journal holds; returns how many invoices that added.
    pub(crate) async fn take_over(self: &Arc<Self>) -> Result<usize, StoreError> {
        let Some(journal) = &self.journal else { return Ok(0) };
        let before = self.list.len();
        for watched in journal.load().await? {
            let _ = self.add(watched, Origin::Journal);
        }
        Ok(self.list.len().saturating_sub(before))
    }

    /// Takes over, every polling lease while the watcher lives and is not stopped, what the
    /// journal holds that no replica polls any more. Started once.
    pub(crate) fn keep_taking_over(self: &Arc<Self>) {
        if self.journal.is_none() || self.list.taking_over.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (watcher, every) = (Arc::downgrade(self), self.settings.polling_lease());
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(watcher) = watcher.upgrade() else { return };
                if !watcher.list.taking_over.load(Ordering::Acquire) {
                    return;
                }
                match watcher.take_over().await {
                    Ok(0) => {}
                    Ok(added) => tracing::info!(added, "took over invoices that no replica polls any more"),
                    Err(error) => tracing::warn!(%error, "could not read the watch journal; taking over later"),
                }
            }
        });
    }

    /// Makes sure the worker runs; `false` when there is no runtime to run it on (or no
    /// pipeline any more to poll with).
    fn ensure_running(self: &Arc<Self>) -> bool {
        if self.list.running.swap(true, Ordering::AcqRel) {
            return true;
        }
        let why = match (tokio::runtime::Handle::try_current(), self.poller.upgrade()) {
            (Ok(runtime), Some(poller)) => {
                runtime.spawn(polling::work(self.clone(), poller));
                return true;
            }
            (Err(_), _) => "no tokio runtime: the reconciler cannot run, watched invoices are not polled",
            (Ok(_), None) => "the pipeline is gone: watched invoices are no longer polled",
        };
        self.list.running.store(false, Ordering::Release);
        tracing::error!("{why}");
        false
    }
}
