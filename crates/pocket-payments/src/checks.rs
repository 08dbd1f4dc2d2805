//! Asking Pocket about invoices without letting the public webhook spend the merchant's quota:
//! concurrent questions about one invoice share one check call, a spelling Pocket did not know
//! is remembered briefly (that spelling only), and the calls to Pocket that notices cause are
//! bounded in number at once and per second — every call, however many terminals one question
//! asks.
//!
//! An invoice is asked about through the merchant API's check (mini-app invoices) or the
//! payment gateway's detail lookup (QR / deep-link invoices), the likelier one first: when the
//! first does not know the invoice, the other is asked too — so a notice that names the wrong
//! API (or none) is never the reason a real payment is missed.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;
use pocket_core::{Error, ErrorKind, GatewayApi, InvoiceId, InvoiceStatus, MerchantApi, TerminalId};
use tokio::sync::{OnceCell, Semaphore};

use crate::settings::Settings;
use crate::telemetry::{Answer, Api, Meters, Started};

/// What Pocket said about an invoice, or why it could not be asked.
#[derive(Debug, Clone)]
pub(crate) enum Checked {
    Status(InvoiceStatus),
    /// Pocket does not know the invoice (404), or refuses the id as no invoice id (400).
    Unknown,
    /// Pocket did not know this very spelling moments ago; it was not asked again.
    RecentlyUnknown,
    Unavailable(Error),
    /// Too many checks at once or per second: the notice should come again later.
    Overloaded,
}

/// Who wants to know: a notice anyone may have sent, or the app's own reconciler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Asker {
    Notice,
    Reconciler,
}

/// Which API to ask first about an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prefer {
    /// The merchant API's check (a mini-app invoice).
    Merchant,
    /// The gateway's detail lookup, on this terminal first if one is known.
    Gateway(Option<TerminalId>),
}

/// The payment gateway and the merchant's terminals to look invoices up on.
pub(crate) struct Gateway {
    pub(crate) api: Arc<dyn GatewayApi>,
    pub(crate) terminals: Vec<TerminalId>,
}

type InFlight = Arc<OnceCell<Checked>>;
type InFlightMap = Mutex<HashMap<(Asker, String), InFlight>>;

/// One asker's share of a check in flight. Whoever holds the last share takes the entry out of
/// the map when it is done *or dropped* — a delivery cancelled mid-check (the sender hung up)
/// leaves nothing behind.
struct SharedCheck<'a> {
    map: &'a InFlightMap,
    key: (Asker, String),
    /// Always `Some` until the share is dropped.
    cell: Option<InFlight>,
}

impl<'a> SharedCheck<'a> {
    fn join(map: &'a InFlightMap, (asker, key): (Asker, &str)) -> SharedCheck<'a> {
        let key = (asker, key.to_owned());
        let cell = map.lock().entry(key.clone()).or_default().clone();
        SharedCheck { map, key, cell: Some(cell) }
    }

    fn cell(&self) -> &OnceCell<Checked> {
        self.cell.as_deref().expect("a live share holds its cell")
    }
}

impl Drop for SharedCheck<'_> {
    fn drop(&mut self) {
        let Some(cell) = self.cell.take() else { return };
        let mut map = self.map.lock();
        // The map holds one reference and this share another: nobody else waits on it. Every
        // share is taken and given back under the lock, so two shares dropped at once on two
        // threads cannot each see the other's reference and both leave the entry behind (it
        // would then answer later checks of the invoice with this stale answer).
        let last =
            map.get(&self.key).is_some_and(|current| Arc::ptr_eq(current, &cell)) && Arc::strong_count(&cell) == 2;
        drop(cell);
        if last {
            map.remove(&self.key);
        }
    }
}

pub(crate) struct Checker {
    merchant: Arc<dyn MerchantApi>,
    gateway: Option<Gateway>,
    in_flight: InFlightMap,
    permits: Semaphore,
    queue_wait: Duration,
    unknown: Mutex<Recent>,
    unknown_ttl: Duration,
    rate: Option<Mutex<Bucket>>,
    /// Milliseconds since the epoch of Pocket's last answer; 0 for never.
    last_answer: AtomicU64,
    meters: Arc<Meters>,
}

impl Checker {
    pub(crate) fn new(
        merchant: Arc<dyn MerchantApi>,
        gateway: Option<Gateway>,
        settings: &Settings,
        meters: Arc<Meters>,
    ) -> Checker {
        Checker {
            merchant,
            gateway,
            in_flight: Mutex::default(),
            permits: Semaphore::new(settings.check_concurrency),
            queue_wait: settings.check_queue_wait,
            unknown: Mutex::new(Recent::new(settings.unknown_capacity)),
            unknown_ttl: settings.unknown_ttl,
            rate: settings.checks_per_second.map(|rate| Mutex::new(Bucket::new(rate, settings.check_burst))),
            last_answer: AtomicU64::new(0),
            meters,
        }
    }

    /// Asks Pocket about `id`, whose canonical key is `key`. `remember` says whether a notice's
    /// unknown spelling may be remembered (never for an invoice the app watches: Pocket may lag
    /// behind it).
    pub(crate) async fn check(
        &self,
        key: &str,
        id: &InvoiceId,
        asker: Asker,
        prefer: Prefer,
        remember: bool,
    ) -> Checked {
        // The memory refuses only the very spelling Pocket did not know: another spelling of
        // the same number, or the same number once it exists, is asked about afresh.
        let (spelling, remember) = (id.as_str(), remember && asker == Asker::Notice);
        if remember && self.unknown.lock().contains(spelling, Instant::now()) {
            return Checked::RecentlyUnknown;
        }
        let shared = SharedCheck::join(&self.in_flight, (asker, key));
        let checked = shared.cell().get_or_init(|| self.ask(id, asker, prefer)).await.clone();
        drop(shared);
        if remember && matches!(checked, Checked::Unknown) {
            self.unknown.lock().insert(spelling, Instant::now() + self.unknown_ttl);
        }
        checked
    }

    async fn ask(&self, id: &InvoiceId, asker: Asker, prefer: Prefer) -> Checked {
        let permit = match asker {
            Asker::Reconciler => self.permits.acquire().await.ok(),
            Asker::Notice => {
                tokio::time::timeout(self.queue_wait, self.permits.acquire()).await.ok().and_then(Result::ok)
            }
        };
        let Some(_permit) = permit else { return Checked::Overloaded };
        let gateway_first = matches!(prefer, Prefer::Gateway(_));
        let first =
            if gateway_first { self.ask_gateway(id, asker, prefer).await } else { self.ask_merchant(id, asker).await };
        match first {
            Checked::Unknown if gateway_first => self.ask_merchant(id, asker).await,
            Checked::Unknown => self.ask_gateway(id, asker, prefer).await,
            known => known,
        }
    }

    /// Whether one more call to Pocket may be made for `asker`: a notice's calls come out of
    /// the rate limit, one token each; the app's own polls do not.
    fn may_call(&self, asker: Asker) -> bool {
        match (&self.rate, asker) {
            (Some(rate), Asker::Notice) => rate.lock().take(Instant::now()),
            _ => true,
        }
    }

    async fn ask_merchant(&self, id: &InvoiceId, asker: Asker) -> Checked {
        if !self.may_call(asker) {
            self.meters.checked(Api::Merchant, Answer::RateLimited, Started::now());
            return Checked::Overloaded;
        }
        let started = Started::now();
        let checked = match self.merchant.check_invoice(id).await {
            Ok(status) => Checked::Status(status),
            Err(error) if is_no_such_invoice(&error) => Checked::Unknown,
            Err(error) => Checked::Unavailable(error),
        };
        self.answered(Api::Merchant, &checked, started);
        checked
    }

    /// Counts a question to Pocket, and remembers when Pocket last answered one.
    fn answered(&self, api: Api, checked: &Checked, started: Started) {
        let answer = match checked {
            Checked::Status(_) => Answer::Found,
            Checked::Unknown => Answer::Unknown,
            _ => Answer::Error,
        };
        self.meters.checked(api, answer, started);
        if answer != Answer::Error {
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
            self.last_answer.store(u64::try_from(now.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }

    /// When Pocket last answered a question about an invoice (found or not), if ever.
    pub(crate) fn last_answer(&self) -> Option<SystemTime> {
        match self.last_answer.load(Ordering::Relaxed) {
            0 => None,
            millis => Some(SystemTime::UNIX_EPOCH + Duration::from_millis(millis)),
        }
    }

    /// The invoice's detail on the preferred terminal, then on each configured one.
    async fn ask_gateway(&self, id: &InvoiceId, asker: Asker, prefer: Prefer) -> Checked {
        let Some(gateway) = &self.gateway else { return Checked::Unknown };
        let preferred = match prefer {
            Prefer::Gateway(terminal) => terminal,
            Prefer::Merchant => None,
        };
        // The preferred terminal first, then every other configured one — each asked once.
        let others = gateway.terminals.iter().copied().filter(|terminal| Some(*terminal) != preferred);
        for terminal in preferred.into_iter().chain(others) {
            if !self.may_call(asker) {
                self.meters.checked(Api::Gateway, Answer::RateLimited, Started::now());
                return Checked::Overloaded;
            }
            let started = Started::now();
            let checked = match gateway.api.invoice_by_id(terminal, id).await {
                Ok(detail) => Checked::Status(detail.to_status()),
                Err(error) if is_no_such_invoice(&error) => Checked::Unknown,
                Err(error) => Checked::Unavailable(error),
            };
            self.answered(Api::Gateway, &checked, started);
            match checked {
                Checked::Unknown => continue,
                other => return other,
            }
        }
        Checked::Unknown
    }

    pub(crate) fn gateway_api(&self) -> Option<&Arc<dyn GatewayApi>> {
        self.gateway.as_ref().map(|gateway| &gateway.api)
    }

    /// How many unknown spellings are remembered now.
    pub(crate) fn remembered_unknown(&self) -> usize {
        self.unknown.lock().len()
    }

    /// How many checks are in flight now (for tests of memory under cancellation).
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.lock().len()
    }
}

/// Pocket does not know the invoice (404), or refuses the id as no invoice id at all (400, or
/// refused before it was sent). Anything else may pass: it is asked again later.
fn is_no_such_invoice(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::NotFound | ErrorKind::Validation => true,
        ErrorKind::Rejected => error.status() == Some(400),
        _ => false,
    }
}

/// Keys remembered until a moment, at most `capacity` of them, the oldest forgotten first.
struct Recent {
    until: HashMap<String, Instant>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Recent {
    fn new(capacity: usize) -> Recent {
        Recent { until: HashMap::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    fn contains(&self, key: &str, now: Instant) -> bool {
        self.until.get(key).is_some_and(|until| now < *until)
    }

    fn insert(&mut self, key: &str, until: Instant) {
        if self.until.insert(key.to_owned(), until).is_none() {
            self.order.push_back(key.to_owned());
        }
        while self.until.len() > self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.until.remove(&oldest);
                }
                None => break,
            }
        }
    }

    fn len(&self) -> usize {
        self.until.len()
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` saved up.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Bucket {
        let burst = burst.max(1.0);
        Bucket { rate: rate.max(0.0), burst, tokens: burst, at: Instant::now() }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_dropped_at_once_on_many_threads_leave_no_entry_behind() {
        let map = InFlightMap::default();
        let (threads, rounds) = (4, 2_000);
        let barrier = std::sync::Barrier::new(threads + 1);
        // Each round: every thread joins, all drop at once, the map is looked at while nobody
        // holds a share, then the next round begins. A leftover is counted, not asserted in
        // the middle, so that a failure cannot leave the threads waiting at a barrier.
        let leftovers = std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    for _ in 0..rounds {
                        let share = SharedCheck::join(&map, (Asker::Notice, "7"));
                        barrier.wait();
                        drop(share);
                        barrier.wait();
                        barrier.wait();
                    }
                });
            }
            let mut leftovers = 0;
            for _ in 0..rounds {
                barrier.wait();
                barrier.wait();
                if !map.lock().is_empty() {
                    leftovers += 1;
                    map.lock().clear();
                }
                barrier.wait();
            }
            leftovers
        });
        assert_eq!(leftovers, 0, "an entry outlived every share in {leftovers} of {rounds} rounds");
    }

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(10.0, 3.0);
        bucket.at = start;
        assert!((0..3).all(|_| bucket.take(start)));
        assert!(!bucket.take(start));
        assert!(bucket.take(start + Duration::from_millis(100)), "one token after a tenth of a second");
        assert!(!bucket.take(start + Duration::from_millis(100)));
    }

    #[test]
    fn recent_keys_are_bounded_and_expire() {
        let now = Instant::now();
        let mut recent = Recent::new(3);
        for n in 0..10 {
            recent.insert(&n.to_string(), now + Duration::from_secs(1));
        }
        assert_eq!(recent.len(), 3);
        assert!(recent.contains("9", now) && !recent.contains("0", now));
        assert!(!recent.contains("9", now + Duration::from_secs(2)));
    }
}
