//! Exactly-once effect for webhook deliveries: who may process an invoice's payment, and whether
//! it was already processed.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pocket_core::InvoiceId;

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// This delivery may process the payment; it must `complete` or `release` the claim.
    Acquired,
    /// Another delivery is processing it right now.
    InProgress,
    /// It was processed already.
    Done,
}

/// A store failure (a shared store that cannot be reached, say).
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// Remembers which invoices' payments are being processed and which were processed, so that
/// however many times Pocket delivers a notice — concurrently, in any order — the handler runs
/// to success once.
///
/// The default, [`InMemoryStore`], serves one process. For several replicas, implement this on a
/// shared store; with Redis, for example: `claim` is `SET pocket:{id} processing NX PX <lease>`
/// (or reading `done`), `complete` is `SET pocket:{id} done PX <retention>`, `release` is `DEL`.
/// A claim must expire by itself (a lease), so a crashed process cannot block an invoice forever.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Tries to take the invoice for processing.
    async fn claim(&self, invoice: &InvoiceId) -> Result<Claim, StoreError>;
    /// Marks the payment processed.
    async fn complete(&self, invoice: &InvoiceId) -> Result<(), StoreError>;
    /// Gives the claim up, so a later delivery can try again.
    async fn release(&self, invoice: &InvoiceId) -> Result<(), StoreError>;
}

/// One store shared by several routers (replicas in one process, or tests).
#[async_trait]
impl<T: WebhookStore> WebhookStore for std::sync::Arc<T> {
    async fn claim(&self, invoice: &InvoiceId) -> Result<Claim, StoreError> {
        (**self).claim(invoice).await
    }

    async fn complete(&self, invoice: &InvoiceId) -> Result<(), StoreError> {
        (**self).complete(invoice).await
    }

    async fn release(&self, invoice: &InvoiceId) -> Result<(), StoreError> {
        (**self).release(invoice).await
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Processing,
    Done,
}

struct Entry {
    state: State,
    since: Instant,
}

struct Entries {
    by_id: HashMap<InvoiceId, Entry>,
    order: VecDeque<InvoiceId>,
}

/// A [`WebhookStore`] in this process's memory, bounded in size and time: processed invoices
/// are remembered for `retention` (default 24 h) and at most `capacity` of them (default
/// 100 000), the oldest forgotten first; a claim lapses after `lease` (default 5 min).
pub struct InMemoryStore {
    entries: Mutex<Entries>,
    capacity: usize,
    retention: Duration,
    lease: Duration,
}

impl Default for InMemoryStore {
    fn default() -> Self {
        InMemoryStore::new(100_000, Duration::from_secs(24 * 3600), Duration::from_secs(300))
    }
}

impl InMemoryStore {
    /// A store of at most `capacity` invoices, remembering processed ones for `retention` and
    /// letting claims lapse after `lease`.
    pub fn new(capacity: usize, retention: Duration, lease: Duration) -> InMemoryStore {
        InMemoryStore {
            entries: Mutex::new(Entries { by_id: HashMap::new(), order: VecDeque::new() }),
            capacity: capacity.max(1),
            retention,
            lease,
        }
    }

    /// How many invoices are remembered now.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn live(&self, entry: &Entry) -> bool {
        let limit = if entry.state == State::Done { self.retention } else { self.lease };
        entry.since.elapsed() < limit
    }
}

impl Entries {
    /// Forgets the oldest invoices until there is room for one more.
    fn make_room(&mut self, capacity: usize) {
        while self.by_id.len() >= capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.by_id.remove(&oldest);
                }
                None => break,
            }
        }
        // The order queue may hold ids already removed; keep it from growing without bound.
        if self.order.len() > capacity.saturating_mul(2) {
            let by_id = &self.by_id;
            self.order.retain(|id| by_id.contains_key(id));
        }
    }
}

#[async_trait]
impl WebhookStore for InMemoryStore {
    async fn claim(&self, invoice: &InvoiceId) -> Result<Claim, StoreError> {
        let mut entries = self.lock();
        if let Some(entry) = entries.by_id.get(invoice).filter(|entry| self.live(entry)) {
            return Ok(match entry.state {
                State::Done => Claim::Done,
                State::Processing => Claim::InProgress,
            });
        }
        if !entries.by_id.contains_key(invoice) {
            entries.make_room(self.capacity);
            entries.order.push_back(invoice.clone());
        }
        entries.by_id.insert(invoice.clone(), Entry { state: State::Processing, since: Instant::now() });
        Ok(Claim::Acquired)
    }

    async fn complete(&self, invoice: &InvoiceId) -> Result<(), StoreError> {
        let mut entries = self.lock();
        let done = Entry { state: State::Done, since: Instant::now() };
        if let Some(entry) = entries.by_id.get_mut(invoice) {
            *entry = done;
        } else {
            entries.make_room(self.capacity);
            entries.order.push_back(invoice.clone());
            entries.by_id.insert(invoice.clone(), done);
        }
        Ok(())
    }

    async fn release(&self, invoice: &InvoiceId) -> Result<(), StoreError> {
        let mut entries = self.lock();
        if entries.by_id.get(invoice).is_some_and(|entry| entry.state == State::Processing) {
            entries.by_id.remove(invoice);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> InvoiceId {
        InvoiceId::from(n)
    }

    #[tokio::test]
    async fn a_claim_then_completion_then_duplicates() {
        let store = InMemoryStore::default();
        assert_eq!(store.claim(&id(1)).await.unwrap(), Claim::Acquired);
        assert_eq!(store.claim(&id(1)).await.unwrap(), Claim::InProgress);
        store.complete(&id(1)).await.unwrap();
        assert_eq!(store.claim(&id(1)).await.unwrap(), Claim::Done);
    }

    #[tokio::test]
    async fn a_released_claim_can_be_taken_again() {
        let store = InMemoryStore::default();
        store.claim(&id(2)).await.unwrap();
        store.release(&id(2)).await.unwrap();
        assert_eq!(store.claim(&id(2)).await.unwrap(), Claim::Acquired);
        store.complete(&id(2)).await.unwrap();
        store.release(&id(2)).await.unwrap();
        assert_eq!(store.claim(&id(2)).await.unwrap(), Claim::Done, "release never undoes completion");
    }

    #[tokio::test]
    async fn claims_lapse_and_memory_is_bounded() {
        let store = InMemoryStore::new(100, Duration::from_secs(60), Duration::from_millis(30));
        store.claim(&id(3)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(store.claim(&id(3)).await.unwrap(), Claim::Acquired, "a crashed claim lapses");
        for n in 0..10_000 {
            store.claim(&id(n)).await.unwrap();
            store.complete(&id(n)).await.unwrap();
        }
        assert!(store.len() <= 100, "{}", store.len());
        assert_eq!(store.claim(&id(9_999)).await.unwrap(), Claim::Done, "the newest are remembered");
        assert_eq!(store.claim(&id(0)).await.unwrap(), Claim::Acquired, "the oldest were forgotten");
    }
}
