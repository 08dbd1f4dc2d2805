//! The payment store and the watch journal as the pipeline holds them: each operation handed
//! on unchanged, then counted by its result (feature `metrics`; without it, only handed on).
//! Inherent methods, not another trait object around the app's: the count adds no boxed
//! future to the path of every delivery.

use std::sync::Arc;
use std::time::Duration;

use crate::store::{Claim, ClaimToken, InMemoryStore, PaymentStore, StoreError};
use crate::telemetry::{Meters, StoreOp};
use crate::{Unresolved, WatchJournal, Watched};

/// The pipeline's payment store.
#[derive(Clone)]
pub(crate) struct Store {
    inner: Backend,
    meters: Arc<Meters>,
}

/// The store behind the pipeline: its own in-memory one, called directly, or the app's.
#[derive(Clone)]
pub(crate) enum Backend {
    Memory(Arc<InMemoryStore>),
    Shared(Arc<dyn PaymentStore>),
}

impl Backend {
    /// `store` as the pipeline holds it: an `InMemoryStore` is recognised and called directly.
    pub(crate) fn of<S: PaymentStore>(store: S) -> Backend {
        let mut store = Some(store);
        let any: &mut dyn std::any::Any = &mut store;
        if let Some(memory) = any.downcast_mut::<Option<InMemoryStore>>().and_then(Option::take) {
            return Backend::Memory(Arc::new(memory));
        }
        match store {
            Some(store) => Backend::Shared(Arc::new(store)),
            None => Backend::Memory(Arc::new(InMemoryStore::default())),
        }
    }
}

/// The pipeline's watch journal.
#[derive(Clone)]
pub(crate) struct Journal {
    inner: Arc<dyn WatchJournal>,
    meters: Arc<Meters>,
}

fn counted<T>(meters: &Meters, operation: StoreOp, result: Result<T, StoreError>) -> Result<T, StoreError> {
    meters.stored(operation, &result);
    result
}

impl Store {
    pub(crate) fn new(inner: Backend, meters: &Arc<Meters>) -> Store {
        Store { inner, meters: meters.clone() }
    }

    pub(crate) async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let result = match &self.inner {
            Backend::Memory(store) => Ok(store.claim_now(key, lease)),
            Backend::Shared(store) => store.claim(key, lease).await,
        };
        counted(&self.meters, StoreOp::Claim, result)
    }

    pub(crate) async fn complete(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        let result = match &self.inner {
            Backend::Memory(store) => Ok(store.complete_now(key, token)),
            Backend::Shared(store) => store.complete(key, token).await,
        };
        counted(&self.meters, StoreOp::Complete, result)
    }

    /// Completes in the in-memory store, which answers at once and never fails (counted);
    /// `None` for a shared store, whose answer must be awaited.
    pub(crate) fn complete_at_once(&self, key: &str, token: &ClaimToken) -> Option<bool> {
        let Backend::Memory(store) = &self.inner else { return None };
        counted(&self.meters, StoreOp::Complete, Ok(store.complete_now(key, token))).ok()
    }

    pub(crate) async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        let result = match &self.inner {
            Backend::Memory(store) => Ok(store.release_now(key, token)),
            Backend::Shared(store) => store.release(key, token).await,
        };
        counted(&self.meters, StoreOp::Release, result)
    }

    pub(crate) async fn is_done(&self, key: &str) -> Result<bool, StoreError> {
        let result = match &self.inner {
            Backend::Memory(store) => Ok(store.is_done_now(key)),
            Backend::Shared(store) => store.is_done(key).await,
        };
        counted(&self.meters, StoreOp::IsDone, result)
    }
}

impl Journal {
    pub(crate) fn new(inner: Arc<dyn WatchJournal>, meters: &Arc<Meters>) -> Journal {
        Journal { inner, meters: meters.clone() }
    }

    pub(crate) async fn save(&self, key: &str, watched: &Watched) -> Result<(), StoreError> {
        counted(&self.meters, StoreOp::Save, self.inner.save(key, watched).await)
    }

    pub(crate) async fn forget(&self, key: &str) -> Result<bool, StoreError> {
        counted(&self.meters, StoreOp::Forget, self.inner.forget(key).await)
    }

    pub(crate) async fn load(&self) -> Result<Vec<Watched>, StoreError> {
        counted(&self.meters, StoreOp::Load, self.inner.load().await)
    }

    pub(crate) async fn find(&self, key: &str) -> Result<Option<Watched>, StoreError> {
        counted(&self.meters, StoreOp::Find, self.inner.find(key).await)
    }

    pub(crate) async fn try_poll(&self, key: &str, lease: Duration) -> Result<bool, StoreError> {
        counted(&self.meters, StoreOp::TryPoll, self.inner.try_poll(key, lease).await)
    }

    pub(crate) async fn give_up(
        &self,
        key: &str,
        unresolved: &Unresolved,
        watched: &Watched,
    ) -> Result<bool, StoreError> {
        counted(&self.meters, StoreOp::GiveUp, self.inner.give_up(key, unresolved, watched).await)
    }
}
