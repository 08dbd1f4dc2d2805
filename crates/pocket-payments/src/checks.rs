//! Asking Pocket about invoices without letting the public webhook spend the merchant's quota:
//! concurrent questions about one invoice share one check call, unknown invoices are remembered
//! briefly, and checks started by notices are bounded in number at once and per second.
//!
//! An invoice is asked about through the merchant API's check (mini-app invoices) or the
//! payment gateway's detail lookup (QR / deep-link invoices), the likelier one first: when the
//! first does not know the invoice, the other is asked too — so a notice that names the wrong
//! API (or none) is never the reason a real payment is missed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pocket_core::{Error, ErrorKind, GatewayApi, InvoiceId, InvoiceStatus, MerchantApi, TerminalId};
use tokio::sync::{OnceCell, Semaphore};

use crate::settings::Settings;

/// What Pocket said about an invoice, or why it could not be asked.
#[derive(Debug, Clone)]
pub(crate) enum Checked {
    Status(InvoiceStatus),
    /// Pocket does not know the invoice (404), or refuses the id as no invoice id (400).
    Unknown,
    Unavailable(Error),
    /// Too many checks at once or per second: the notice should come again later.
    Overloaded,
}

/// Who wants to know: a notice anyone may have sent, or the app's own reconciler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

pub(crate) struct Checker {
    merchant: Arc<dyn MerchantApi>,
    gateway: Option<Gateway>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    permits: Semaphore,
    queue_wait: Duration,
    unknown: Mutex<Recent>,
    unknown_ttl: Duration,
    rate: Option<Mutex<Bucket>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each critical section below leaves its data consistent, even if a panic interrupted another.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Checker {
    pub(crate) fn new(merchant: Arc<dyn MerchantApi>, gateway: Option<Gateway>, settings: &Settings) -> Checker {
        Checker {
            merchant,
            gateway,
            in_flight: Mutex::default(),
            permits: Semaphore::new(settings.check_concurrency),
            queue_wait: settings.check_queue_wait,
            unknown: Mutex::new(Recent::new(settings.unknown_capacity)),
            unknown_ttl: settings.unknown_ttl,
            rate: settings.checks_per_second.map(|rate| Mutex::new(Bucket::new(rate, settings.check_burst))),
        }
    }

    /// Asks Pocket about `id`, whose canonical key is `key`.
    pub(crate) async fn check(&self, key: &str, id: &InvoiceId, asker: Asker, prefer: Prefer) -> Checked {
        if asker == Asker::Notice && lock(&self.unknown).contains(key, Instant::now()) {
            return Checked::Unknown;
        }
        let cell = lock(&self.in_flight).entry(key.to_owned()).or_default().clone();
        let checked = cell.get_or_init(|| self.ask(id, asker, prefer)).await.clone();
        {
            let mut in_flight = lock(&self.in_flight);
            if in_flight.get(key).is_some_and(|current| Arc::ptr_eq(current, &cell)) {
                in_flight.remove(key);
            }
        }
        // Only notices fill the memory of unknown ids: an invoice the app itself watches may be
        // unknown to a lagging Pocket for a moment, and its webhook must not be refused for it.
        if asker == Asker::Notice && matches!(checked, Checked::Unknown) {
            lock(&self.unknown).insert(key, Instant::now() + self.unknown_ttl);
        }
        checked
    }

    async fn ask(&self, id: &InvoiceId, asker: Asker, prefer: Prefer) -> Checked {
        let permit = match asker {
            Asker::Reconciler => self.permits.acquire().await.ok(),
            Asker::Notice => {
                if let Some(rate) = &self.rate
                    && !lock(rate).take(Instant::now())
                {
                    return Checked::Overloaded;
                }
                tokio::time::timeout(self.queue_wait, self.permits.acquire()).await.ok().and_then(Result::ok)
            }
        };
        let Some(_permit) = permit else { return Checked::Overloaded };
        let gateway_first = matches!(prefer, Prefer::Gateway(_));
        let first = if gateway_first { self.ask_gateway(id, prefer).await } else { self.ask_merchant(id).await };
        match first {
            Checked::Unknown if gateway_first => self.ask_merchant(id).await,
            Checked::Unknown => self.ask_gateway(id, prefer).await,
            known => known,
        }
    }

    async fn ask_merchant(&self, id: &InvoiceId) -> Checked {
        match self.merchant.check_invoice(id).await {
            Ok(status) => Checked::Status(status),
            Err(error) if is_no_such_invoice(&error) => Checked::Unknown,
            Err(error) => Checked::Unavailable(error),
        }
    }

    /// The invoice's detail on the preferred terminal, then on each configured one.
    async fn ask_gateway(&self, id: &InvoiceId, prefer: Prefer) -> Checked {
        let Some(gateway) = &self.gateway else { return Checked::Unknown };
        let preferred = match prefer {
            Prefer::Gateway(terminal) => terminal,
            Prefer::Merchant => None,
        };
        // The preferred terminal first, then every other configured one — each asked once.
        let others = gateway.terminals.iter().copied().filter(|terminal| Some(*terminal) != preferred);
        for terminal in preferred.into_iter().chain(others) {
            match gateway.api.invoice_by_id(terminal, id).await {
                Ok(detail) => return Checked::Status(detail.to_status()),
                Err(error) if is_no_such_invoice(&error) => continue,
                Err(error) => return Checked::Unavailable(error),
            }
        }
        Checked::Unknown
    }

    pub(crate) fn gateway_api(&self) -> Option<&Arc<dyn GatewayApi>> {
        self.gateway.as_ref().map(|gateway| &gateway.api)
    }

    /// How many unknown invoices are remembered now.
    pub(crate) fn remembered_unknown(&self) -> usize {
        lock(&self.unknown).len()
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
