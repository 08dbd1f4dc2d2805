//! The payment store and watch journal as the pipeline holds them with the `metrics` feature:
//! every operation counted by its result, then handed on unchanged.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::store::{Claim, ClaimToken, PaymentStore, StoreError};
use crate::telemetry::stored;
use crate::{Unresolved, WatchJournal, Watched};

/// Counts what passes through to `T`.
pub(crate) struct Metered<T: ?Sized>(pub Arc<T>);

async fn counted<T>(
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let result = call.await;
    stored(operation, &result);
    result
}

#[async_trait]
impl PaymentStore for Metered<dyn PaymentStore> {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        counted("claim", self.0.claim(key, lease)).await
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        counted("complete", self.0.complete(key, token)).await
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        counted("release", self.0.release(key, token)).await
    }

    async fn is_done(&self, key: &str) -> Result<bool, StoreError> {
        counted("is_done", self.0.is_done(key)).await
    }
}

#[async_trait]
impl WatchJournal for Metered<dyn WatchJournal> {
    async fn save(&self, key: &str, watched: &Watched) -> Result<(), StoreError> {
        counted("save", self.0.save(key, watched)).await
    }

    async fn forget(&self, key: &str) -> Result<bool, StoreError> {
        counted("forget", self.0.forget(key)).await
    }

    async fn load(&self) -> Result<Vec<Watched>, StoreError> {
        counted("load", self.0.load()).await
    }

    async fn find(&self, key: &str) -> Result<Option<Watched>, StoreError> {
        counted("find", self.0.find(key)).await
    }

    async fn try_poll(&self, key: &str, lease: Duration) -> Result<bool, StoreError> {
        counted("try_poll", self.0.try_poll(key, lease)).await
    }

    async fn give_up(&self, key: &str, unresolved: &Unresolved, watched: &Watched) -> Result<bool, StoreError> {
        counted("give_up", self.0.give_up(key, unresolved, watched)).await
    }
}
