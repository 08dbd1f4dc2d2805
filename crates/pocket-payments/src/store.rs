//! Who may act on a payment, and whether it was acted on: owned, fenced, expiring claims.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;

/// Proof of owning a claim: only its holder can complete or release it, and once its lease has
/// lapsed and someone else claimed the key, it proves nothing any more (fencing).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(String);

impl ClaimToken {
    /// A token with this text. Stores make tokens that no other claim, in any process, shares.
    pub fn new(token: impl Into<String>) -> ClaimToken {
        ClaimToken(token.into())
    }

    /// The token as text (for a store that writes it down).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimToken({})", self.0)
    }
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The caller owns the key until the lease lapses; it must complete or release it.
    Acquired(ClaimToken),
    /// Someone else owns it right now.
    InProgress,
    /// It was completed within the store's retention.
    Done,
}

/// A store failure (a shared store that cannot be reached, say).
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// Remembers which payments are being acted on and which were, so that however many times and
/// wherever a payment is seen — webhook deliveries, spellings, replicas sharing the store, the
/// reconciler — its handler runs to success once within the store's retention.
///
/// Keys are made by the pipeline (`paid:<invoice>` or `failed:<invoice>`, the invoice as Pocket
/// identifies it). An implementation must make each operation atomic across every process that
/// shares it:
/// - `claim`: if the key is done → [`Claim::Done`]; if it is held by a live claim →
///   [`Claim::InProgress`]; otherwise hold it for `lease` under a new, unique token.
/// - `complete`: only if the key is still held under `token` → mark it done for the store's
///   retention and return `true`; otherwise change nothing and return `false`.
/// - `release`: only if the key is still held under `token` → forget it and return `true`.
///
/// With Redis, for example: `SET key <token> NX PX <lease>` (reading `done` when it fails), and
/// two small Lua scripts comparing the token before `SET key done PX <retention>` or `DEL key`.
#[async_trait]
pub trait PaymentStore: Send + Sync + 'static {
    /// Tries to take `key` for `lease`.
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError>;
    /// Marks `key` done if `token` still owns it; `false` if it does not.
    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError>;
    /// Gives `key` up if `token` still owns it; `false` if it does not.
    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError>;
    /// Whether `key` is done (a cheap read, to answer repeats without asking Pocket).
    async fn is_done(&self, key: &str) -> Result<bool, StoreError>;
}

/// One store shared by several pipelines (replicas in one process, or tests).
#[async_trait]
impl<T: PaymentStore + ?Sized> PaymentStore for std::sync::Arc<T> {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        (**self).claim(key, lease).await
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        (**self).complete(key, token).await
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        (**self).release(key, token).await
    }

    async fn is_done(&self, key: &str) -> Result<bool, StoreError> {
        (**self).is_done(key).await
    }
}

enum Entry {
    Held { token: ClaimToken, until: Instant },
    Done { until: Instant },
}

/// An entry and the stamp of its place in the eviction queue.
struct Stamped {
    entry: Entry,
    stamp: u64,
}

#[derive(Default)]
struct Entries {
    by_key: HashMap<String, Stamped>,
    /// Keys with the stamp they had when queued, oldest first. A key whose stamp changed since
    /// (claimed again, completed) has a newer place further back: its old place is skipped.
    order: VecDeque<(u64, String)>,
    next_stamp: u64,
}

/// A [`PaymentStore`] in this process's memory.
///
/// Its limits, which are the limits of "once" with it: it serves **one process** (replicas need
/// a shared store); it forgets everything on **restart**; a done payment is remembered for
/// `retention` (default 24 h) and at most `capacity` of them (default 100 000), the oldest
/// *completion* forgotten first. Only payments Pocket confirmed are ever stored, so a flood of
/// forged notices cannot push real ones out. A claim that is still held is never forgotten.
pub struct InMemoryStore {
    entries: Mutex<Entries>,
    capacity: usize,
    retention: Duration,
    next_token: AtomicU64,
}

impl Default for InMemoryStore {
    fn default() -> Self {
        InMemoryStore::new(100_000, Duration::from_secs(24 * 3600))
    }
}

impl fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryStore")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .field("retention", &self.retention)
            .finish()
    }
}

impl InMemoryStore {
    /// A store of at most `capacity` done payments that remembers them for `retention`.
    pub fn new(capacity: usize, retention: Duration) -> InMemoryStore {
        InMemoryStore { entries: Mutex::default(), capacity: capacity.max(1), retention, next_token: AtomicU64::new(1) }
    }

    /// How many keys are remembered now.
    pub fn len(&self) -> usize {
        self.lock().by_key.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, Entries> {
        self.entries.lock()
    }

    fn held_by(entries: &Entries, key: &str, token: &ClaimToken, now: Instant) -> bool {
        matches!(
            entries.by_key.get(key),
            Some(Stamped { entry: Entry::Held { token: held, until }, .. }) if held == token && now < *until
        )
    }
}

impl Entries {
    /// Puts `entry` under `key` at the back of the eviction queue, first making room.
    fn put(&mut self, key: &str, entry: Entry, capacity: usize, now: Instant) {
        if !self.by_key.contains_key(key) {
            self.make_room(capacity, now);
        }
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        self.order.push_back((stamp, key.to_owned()));
        // A claim being completed is replaced in place: no second copy of its key.
        match self.by_key.get_mut(key) {
            Some(current) => *current = Stamped { entry, stamp },
            None => {
                self.by_key.insert(key.to_owned(), Stamped { entry, stamp });
            }
        }
        self.compact();
    }

    /// Forgets the entries queued longest ago until one more fits: done payments (the oldest
    /// completion first) and lapsed claims. Live claims keep their place and are never
    /// forgotten; each place is looked at once per eviction, so the cost is constant on average.
    fn make_room(&mut self, capacity: usize, now: Instant) {
        let mut kept = Vec::new();
        while self.by_key.len() >= capacity {
            let Some((stamp, oldest)) = self.order.pop_front() else { break };
            match self.by_key.get(&oldest) {
                Some(current) if current.stamp != stamp => {}
                Some(Stamped { entry: entry @ Entry::Held { .. }, .. }) if entry.is_live(now) => {
                    kept.push((stamp, oldest))
                }
                Some(_) => {
                    self.by_key.remove(&oldest);
                }
                None => {}
            }
        }
        for place in kept.into_iter().rev() {
            self.order.push_front(place);
        }
    }

    /// Drops the places of keys that moved or left, once they outnumber the live ones.
    fn compact(&mut self) {
        if self.order.len() > self.by_key.len().saturating_mul(2).max(64) {
            let by_key = &self.by_key;
            self.order.retain(|(stamp, key)| by_key.get(key).is_some_and(|current| current.stamp == *stamp));
        }
    }
}

impl Entry {
    fn is_live(&self, now: Instant) -> bool {
        match self {
            Entry::Held { until, .. } | Entry::Done { until } => now < *until,
        }
    }
}

/// The operations themselves, synchronous: the pipeline calls them directly on its in-memory
/// store (no boxed future on the path of every delivery); the trait hands on to them.
impl InMemoryStore {
    pub(crate) fn claim_now(&self, key: &str, lease: Duration) -> Claim {
        let now = Instant::now();
        let mut entries = self.lock();
        match entries.by_key.get(key).map(|stamped| &stamped.entry) {
            Some(Entry::Done { until }) if now < *until => return Claim::Done,
            Some(Entry::Held { until, .. }) if now < *until => return Claim::InProgress,
            _ => {}
        }
        let token = ClaimToken(format!("mem-{}", self.next_token.fetch_add(1, Ordering::Relaxed)));
        entries.put(key, Entry::Held { token: token.clone(), until: now + lease }, self.capacity, now);
        Claim::Acquired(token)
    }

    pub(crate) fn complete_now(&self, key: &str, token: &ClaimToken) -> bool {
        let now = Instant::now();
        let mut entries = self.lock();
        if !Self::held_by(&entries, key, token, now) {
            return false;
        }
        // Completed now: the newest completion, the last to be forgotten.
        entries.put(key, Entry::Done { until: now + self.retention }, self.capacity, now);
        true
    }

    pub(crate) fn release_now(&self, key: &str, token: &ClaimToken) -> bool {
        let now = Instant::now();
        let mut entries = self.lock();
        if !Self::held_by(&entries, key, token, now) {
            return false;
        }
        entries.by_key.remove(key);
        true
    }

    pub(crate) fn is_done_now(&self, key: &str) -> bool {
        let now = Instant::now();
        matches!(self.lock().by_key.get(key), Some(Stamped { entry: Entry::Done { until }, .. }) if now < *until)
    }
}

#[async_trait]
impl PaymentStore for InMemoryStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        Ok(self.claim_now(key, lease))
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        Ok(self.complete_now(key, token))
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        Ok(self.release_now(key, token))
    }

    async fn is_done(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.is_done_now(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(60);

    fn token(claim: Claim) -> ClaimToken {
        match claim {
            Claim::Acquired(token) => token,
            other => panic!("expected a claim, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_claim_then_completion_then_duplicates() {
        let store = InMemoryStore::default();
        let owner = token(store.claim("paid:1", LEASE).await.unwrap());
        assert_eq!(store.claim("paid:1", LEASE).await.unwrap(), Claim::InProgress);
        assert!(!store.is_done("paid:1").await.unwrap());
        assert!(store.complete("paid:1", &owner).await.unwrap());
        assert_eq!(store.claim("paid:1", LEASE).await.unwrap(), Claim::Done);
        assert!(store.is_done("paid:1").await.unwrap());
        assert!(!store.release("paid:1", &owner).await.unwrap(), "release never undoes completion");
        assert_eq!(store.claim("paid:1", LEASE).await.unwrap(), Claim::Done);
    }

    #[tokio::test]
    async fn only_the_owner_completes_or_releases() {
        let store = InMemoryStore::default();
        let owner = token(store.claim("paid:2", LEASE).await.unwrap());
        let stranger = ClaimToken::new("mem-999");
        assert!(!store.release("paid:2", &stranger).await.unwrap());
        assert!(!store.complete("paid:2", &stranger).await.unwrap());
        assert_eq!(store.claim("paid:2", LEASE).await.unwrap(), Claim::InProgress);
        assert!(store.release("paid:2", &owner).await.unwrap());
        assert!(matches!(store.claim("paid:2", LEASE).await.unwrap(), Claim::Acquired(_)));
    }

    #[tokio::test]
    async fn a_lapsed_owner_cannot_touch_the_next_owners_claim() {
        let store = InMemoryStore::default();
        let slow = token(store.claim("paid:3", Duration::from_millis(20)).await.unwrap());
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!store.complete("paid:3", &slow).await.unwrap(), "a lapsed claim cannot complete");
        let second = token(store.claim("paid:3", LEASE).await.unwrap());
        assert_ne!(slow, second);
        assert!(!store.release("paid:3", &slow).await.unwrap(), "the first owner's late release is fenced");
        assert!(!store.complete("paid:3", &slow).await.unwrap(), "and so is its late completion");
        assert_eq!(store.claim("paid:3", LEASE).await.unwrap(), Claim::InProgress, "the second still holds it");
        assert!(store.complete("paid:3", &second).await.unwrap());
    }

    #[tokio::test]
    async fn memory_is_bounded_and_held_claims_are_never_evicted() {
        let store = InMemoryStore::new(100, Duration::from_secs(60));
        let held = token(store.claim("held", LEASE).await.unwrap());
        for n in 0..10_000 {
            let key = format!("paid:{n}");
            let owner = token(store.claim(&key, LEASE).await.unwrap());
            store.complete(&key, &owner).await.unwrap();
        }
        assert!(store.len() <= 100, "{}", store.len());
        assert_eq!(store.claim("paid:9999", LEASE).await.unwrap(), Claim::Done, "the newest are remembered");
        assert!(matches!(store.claim("paid:0", LEASE).await.unwrap(), Claim::Acquired(_)), "the oldest are not");
        assert_eq!(store.claim("held", LEASE).await.unwrap(), Claim::InProgress, "a live claim survives");
        assert!(store.complete("held", &held).await.unwrap());
    }

    #[tokio::test]
    async fn eviction_forgets_the_oldest_completion_not_a_retried_payment() {
        let store = InMemoryStore::new(3, Duration::from_secs(60));
        let first = token(store.claim("paid:1", LEASE).await.unwrap());
        assert!(store.release("paid:1", &first).await.unwrap(), "its handler failed once");
        for key in ["paid:2", "paid:3"] {
            let owner = token(store.claim(key, LEASE).await.unwrap());
            assert!(store.complete(key, &owner).await.unwrap());
        }
        let retried = token(store.claim("paid:1", LEASE).await.unwrap());
        assert!(store.complete("paid:1", &retried).await.unwrap(), "then it succeeded");
        let fourth = token(store.claim("paid:4", LEASE).await.unwrap());
        assert!(store.complete("paid:4", &fourth).await.unwrap());
        assert_eq!(store.claim("paid:1", LEASE).await.unwrap(), Claim::Done, "the newest completion is kept");
        assert!(matches!(store.claim("paid:2", LEASE).await.unwrap(), Claim::Acquired(_)), "the oldest is forgotten");
    }

    #[tokio::test]
    async fn places_of_moved_keys_do_not_pile_up() {
        let store = InMemoryStore::new(10, Duration::from_secs(60));
        for _ in 0..10_000 {
            let owner = token(store.claim("paid:same", LEASE).await.unwrap());
            store.release("paid:same", &owner).await.unwrap();
        }
        assert!(store.lock().order.len() <= 128, "{}", store.lock().order.len());
    }

    #[tokio::test]
    async fn done_payments_are_forgotten_after_the_retention() {
        let store = InMemoryStore::new(10, Duration::from_millis(20));
        let owner = token(store.claim("paid:4", LEASE).await.unwrap());
        store.complete("paid:4", &owner).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!store.is_done("paid:4").await.unwrap());
        assert!(matches!(store.claim("paid:4", LEASE).await.unwrap(), Claim::Acquired(_)));
    }
}
