//! The list of watched invoices: what is watched, when each is due, which are being polled, and
//! whether each is written down in the journal yet.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use parking_lot::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;

use crate::Expected;
use crate::journal::Watched;

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
        self.slots.lock()
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
