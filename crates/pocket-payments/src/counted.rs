//! The payment store and the watch journal as the pipeline holds them: each operation handed
//! on unchanged, then counted by its result (feature `metrics`; without it, only handed on).
//! Inherent methods, not another trait object around the app's: the count adds no boxed
//! future to the path of every delivery.

use std::sync::Arc;
use std::time::Duration;

use crate::store::{Claim, ClaimToken, PaymentStore, StoreError};
use crate::telemetry::{Meters, StoreOp};
use crate::{Unresolved, WatchJournal, Watched};

/// The pipeline's payment store.
#[derive(Clone)]
pub(crate) struct Store {
    inner: Arc<dyn PaymentStore>,
    meters: Arc<Meters>,
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
    pub(crate) fn new(inner: Arc<dyn PaymentStore>, meters: &Arc<Meters>) -> Store {
        Store { inner, meters: meters.clone() }
    }

    pub(crate) async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        counted(&self.meters, StoreOp::Claim, self.inner.claim(key, lease).await)
    }

    pub(crate) async fn complete(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        counted(&self.meters, StoreOp::Complete, self.inner.complete(key, token).await)
    }

    pub(crate) async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        counted(&self.meters, StoreOp::Release, self.inner.release(key, token).await)
    }

    pub(crate) async fn is_done(&self, key: &str) -> Result<bool, StoreError> {
        counted(&self.meters, StoreOp::IsDone, self.inner.is_done(key).await)
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
