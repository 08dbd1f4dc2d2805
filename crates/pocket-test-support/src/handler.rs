//! A merchant's payment handler for tests: it records what it was told and can be slow, fail
//! or panic on its next calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use pocket_payments::{FailedPayment, HandlerError, PaymentHandler, Unresolved, VerifiedPayment};

/// What the handler does on one of its next calls instead of succeeding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehave {
    /// Returns an error, as a handler whose order database is down would.
    Fail,
    /// Panics, as a handler with a bug would.
    Panic,
}

/// Records every callback; clones share what they record.
#[derive(Clone, Default)]
pub struct Recorder {
    /// Calls of `paid`, whatever they returned.
    pub calls: Arc<AtomicUsize>,
    /// The payments `paid` accepted.
    pub paid: Arc<Mutex<Vec<VerifiedPayment>>>,
    /// The payments `failed` was told about.
    pub failed: Arc<Mutex<Vec<FailedPayment>>>,
    /// The invoices `unresolved` was told about.
    pub unresolved: Arc<Mutex<Vec<Unresolved>>>,
    delay: Arc<Mutex<Duration>>,
    misbehave: Arc<Mutex<Vec<Misbehave>>>,
}

impl Recorder {
    /// A handler that takes `delay` over each `paid` — long enough, say, for concurrent
    /// duplicates to meet a claim in progress.
    pub fn slow(delay: Duration) -> Recorder {
        let recorder = Recorder::default();
        recorder.set_delay(delay);
        recorder
    }

    /// From now on each `paid` takes `delay`.
    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock() = delay;
    }

    /// The next calls of `paid` misbehave as listed, in order.
    pub fn then(&self, misbehave: &[Misbehave]) {
        self.misbehave.lock().extend_from_slice(misbehave);
    }

    /// Calls of `paid` so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Payments accepted so far.
    pub fn successes(&self) -> usize {
        self.paid.lock().len()
    }

    /// Failed payments told so far.
    pub fn failures(&self) -> usize {
        self.failed.lock().len()
    }

    /// The invoices reported unresolved so far.
    pub fn unresolved(&self) -> Vec<Unresolved> {
        self.unresolved.lock().clone()
    }
}

#[async_trait]
impl PaymentHandler for Recorder {
    async fn paid(&self, payment: VerifiedPayment) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let delay = *self.delay.lock();
        tokio::time::sleep(delay).await;
        let next = {
            let mut misbehave = self.misbehave.lock();
            (!misbehave.is_empty()).then(|| misbehave.remove(0))
        };
        match next {
            Some(Misbehave::Fail) => Err("the order database is down".into()),
            Some(Misbehave::Panic) => panic!("the handler has a bug"),
            None => {
                self.paid.lock().push(payment);
                Ok(())
            }
        }
    }

    async fn failed(&self, payment: FailedPayment) -> Result<(), HandlerError> {
        self.failed.lock().push(payment);
        Ok(())
    }

    async fn unresolved(&self, invoice: Unresolved) {
        self.unresolved.lock().push(invoice);
    }
}
