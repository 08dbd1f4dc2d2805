//! The reconciler's list of watched invoices, inside the pipeline: what is watched, when each is
//! due, which are being polled, and whether each is written down in the journal yet.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use pocket_core::{InvoiceId, InvoiceState, TerminalId};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;

use crate::store::StoreError;
use crate::{Expected, Unresolved};

/// A watched invoice, as [`Reconciler::pending`](crate::Reconciler::pending) lists it and
/// [`Reconciler::resume`](crate::Reconciler::resume) takes it back (serializable, so an app can
/// keep its list across a restart).
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
    /// When it was first watched (absent in what older versions wrote down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<SystemTime>,
    /// When the replica that polls it means to poll it next (written down after each poll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_poll: Option<SystemTime>,
}

impl Watched {
    /// An invoice to watch until `deadline`.
    pub fn new(invoice_id: InvoiceId, expected: Option<Expected>, deadline: SystemTime) -> Watched {
        let since = Some(SystemTime::now());
        Watched { invoice_id, expected, deadline, last_state: None, polls: 0, terminal: None, since, next_poll: None }
    }
}

/// Where the reconciler writes down what it watches, so that other replicas and a restarted (or
/// crashed) process can take it over, and where replicas agree who polls an invoice right now.
/// `RedisStore` (feature `redis`) implements it; without one, the list lives in this process.
#[async_trait::async_trait]
pub trait WatchJournal: Send + Sync + 'static {
    /// Writes down (or overwrites) a watched invoice under its key.
    async fn save(&self, key: &str, watched: &Watched) -> Result<(), StoreError>;
    /// Crosses it out (settled, or given up at its deadline); `true` if it was written down, so
    /// that of several replicas crossing one invoice out, exactly one learns it did.
    async fn forget(&self, key: &str) -> Result<bool, StoreError>;
    /// Everything written down, by every replica.
    async fn load(&self) -> Result<Vec<Watched>, StoreError>;
    /// The invoice written down under `key`, if any. The default reads the whole list.
    async fn find(&self, key: &str) -> Result<Option<Watched>, StoreError> {
        Ok(self.load().await?.into_iter().find(|watched| crate::pipeline::invoice_key(&watched.invoice_id) == key))
    }
    /// Whether this replica may poll `key` now: it takes the invoice's polling for `lease` if no
    /// other replica holds it, or keeps it if it holds it already. One replica polls each
    /// invoice; when it goes away, another takes over after the lease.
    async fn try_poll(&self, key: &str, lease: Duration) -> Result<bool, StoreError>;
    /// Crosses out an invoice the reconciler gives up on and writes it down as unresolved, for
    /// operators (`pocket payments unresolved`); `true` if it was written down as watched, as
    /// for [`forget`](Self::forget). The default only crosses it out.
    /// `watched` is the watch as it was, to watch it again with.
    async fn give_up(&self, key: &str, unresolved: &Unresolved, watched: &Watched) -> Result<bool, StoreError> {
        let _ = (unresolved, watched);
        self.forget(key).await
    }
}

/// Whether a watch is written down in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Not yet: the journal is being written (and retried while it cannot be reached).
    Saving,
    /// The journal has it (or there is no journal: the watch lives in this process, as promised).
    Saved,
    /// Not watched at all.
    Refused(WatchError),
}

/// Why an invoice is not watched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The reconciler's list holds as many invoices as it may (see
    /// [`PaymentsBuilder::reconciler_limits`](crate::PaymentsBuilder::reconciler_limits)).
    #[error("the reconciler's list is full ({capacity} invoices); this invoice is not watched")]
    Full {
        /// The list's capacity.
        capacity: usize,
    },
    /// The invoice left the list (settled, or the reconciler was stopped) before the journal
    /// had it.
    #[error("the invoice left the reconciler's list before the watch journal had it")]
    Ended,
    /// There is no tokio runtime to poll on.
    #[error("no tokio runtime: the reconciler cannot run")]
    NoRuntime,
}

/// What [`Reconciler::watch`](crate::Reconciler::watch) returns: the invoice is watched from
/// the moment of the call (in this process); [`durable`](Self::durable) resolves once the
/// watch journal has it too, so a shop can wait for that — with a timeout — before it hands
/// the invoice to the customer, and answer "try again" when the journal cannot be reached.
/// Dropping it changes nothing: the journal is written (and retried) all the same.
#[derive(Debug, Clone)]
pub struct Watch {
    state: watch::Receiver<Durability>,
}

impl Watch {
    pub(crate) fn refused(error: WatchError) -> Watch {
        Watch { state: watch::channel(Durability::Refused(error)).1 }
    }

    /// Whether the watch is durable now (written down in the journal, or there is no journal).
    pub fn is_durable(&self) -> bool {
        *self.state.borrow() == Durability::Saved
    }

    /// Resolves when the watch is durable, or with why the invoice is not watched. Waits as
    /// long as the journal cannot be reached: bound it, e.g. with `tokio::time::timeout`.
    pub async fn durable(mut self) -> Result<(), WatchError> {
        let state = self.state.wait_for(|state| *state != Durability::Saving).await;
        match state.as_deref() {
            Ok(Durability::Saved) => Ok(()),
            Ok(Durability::Refused(error)) => Err(error.clone()),
            Ok(Durability::Saving) | Err(_) => Err(WatchError::Ended),
        }
    }
}

pub(crate) struct Slot {
    pub watched: Watched,
    pub next_poll: Instant,
    pub polling: bool,
    /// Bumped by every change that the journal should hold.
    pub generation: u64,
    /// Whether a task is writing this slot to the journal now.
    pub saving: bool,
    pub durability: watch::Sender<Durability>,
}

impl Slot {
    pub fn new(watched: Watched, next_poll: Instant, durable: bool) -> Slot {
        let state = if durable { Durability::Saved } else { Durability::Saving };
        Slot { watched, next_poll, polling: false, generation: 0, saving: false, durability: watch::channel(state).0 }
    }

    pub fn watch(&self) -> Watch {
        Watch { state: self.durability.subscribe() }
    }
}

/// The watch list; the worker that polls it runs only while it is not empty.
pub(crate) struct WatchList {
    slots: Mutex<HashMap<String, Slot>>,
    pub wake: Notify,
    pub running: AtomicBool,
    /// Whether the periodic takeover of other replicas' invoices runs.
    pub taking_over: AtomicBool,
    /// Polls under way, at most the configured number at once.
    pub polls: Arc<Semaphore>,
}

impl WatchList {
    pub fn new(concurrency: usize) -> WatchList {
        WatchList {
            slots: Mutex::default(),
            wake: Notify::new(),
            running: AtomicBool::new(false),
            taking_over: AtomicBool::new(false),
            polls: Arc::new(Semaphore::new(concurrency)),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // Updates leave the map consistent; a panic elsewhere does not spoil it.
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.lock().contains_key(key)
    }

    /// How many invoices are watched, and how long the oldest has been (when known).
    pub fn census(&self) -> (usize, Option<Duration>) {
        let slots = self.lock();
        let oldest = slots.values().filter_map(|slot| slot.watched.since).min();
        (slots.len(), oldest.map(|since| SystemTime::now().duration_since(since).unwrap_or_default()))
    }

    /// Whether the worker runs now.
    pub fn is_running(&self) -> bool {
        self.running.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The app's order for a watched invoice, if it gave one.
    pub fn expected(&self, key: &str) -> Option<Expected> {
        self.lock().get(key).and_then(|slot| slot.watched.expected.clone())
    }
}
