//! Faults injected at run time, per endpoint, deterministic for a given seed: error statuses,
//! latency and dropped connections. Also counts the requests each endpoint receives.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;

/// A Pocket endpoint the sandbox serves, for faults and request counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST …/protocol/openid-connect/token`
    Token,
    /// `POST …/protocol/openid-connect/token/introspect`
    Introspect,
    /// `GET …/protocol/openid-connect/certs` (the JWKS)
    Certs,
    /// `GET …/.well-known/openid-configuration`
    Discovery,
    /// `POST /merchant/consumer/invoice`
    CreateInvoice,
    /// `GET /merchant/invoice/check/{id}`
    CheckInvoice,
    /// `POST /merchant/invoice` (the merchant QR invoice)
    CreateQrInvoice,
    /// `GET /merchant/pg/config`
    ReadConfig,
    /// `POST /merchant/pg/config`
    WriteConfig,
    /// `POST /merchant/v2/invoicing/generate-invoice`
    GenerateInvoice,
    /// `POST /merchant/v2/invoicing/invoices/order-number`
    InvoiceByOrderNumber,
    /// `POST /merchant/v2/invoicing/invoices/invoice-id`
    InvoiceById,
    /// `POST /merchant/v2/invoicing/invoices/is-paid`
    IsPaid,
    /// `GET /merchant/payment-gateway/branch/list`
    Branches,
    /// `GET /merchant/payment-gateway/terminal/list/{branchId}`
    Terminals,
    /// `PUT /merchant/payment-gateway/transaction/cancel/{heldId}`
    Cancel,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 16] = [
        Endpoint::Token,
        Endpoint::Introspect,
        Endpoint::Certs,
        Endpoint::Discovery,
        Endpoint::CreateInvoice,
        Endpoint::CheckInvoice,
        Endpoint::ReadConfig,
        Endpoint::WriteConfig,
        Endpoint::GenerateInvoice,
        Endpoint::InvoiceByOrderNumber,
        Endpoint::InvoiceById,
        Endpoint::IsPaid,
        Endpoint::Branches,
        Endpoint::Terminals,
        Endpoint::Cancel,
        Endpoint::CreateQrInvoice,
    ];

    /// The endpoint's name in the control API: `token`, `create-invoice`, …
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Introspect => "introspect",
            Endpoint::Certs => "certs",
            Endpoint::Discovery => "discovery",
            Endpoint::CreateInvoice => "create-invoice",
            Endpoint::CheckInvoice => "check-invoice",
            Endpoint::ReadConfig => "read-config",
            Endpoint::WriteConfig => "write-config",
            Endpoint::GenerateInvoice => "generate-invoice",
            Endpoint::InvoiceByOrderNumber => "invoice-by-order-number",
            Endpoint::InvoiceById => "invoice-by-id",
            Endpoint::IsPaid => "is-paid",
            Endpoint::Branches => "branches",
            Endpoint::Terminals => "terminals",
            Endpoint::Cancel => "cancel",
            Endpoint::CreateQrInvoice => "create-qr-invoice",
        }
    }

    fn index(self) -> u64 {
        Endpoint::ALL.iter().position(|e| *e == self).unwrap_or(0) as u64
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Endpoint {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Endpoint::ALL.into_iter().find(|e| e.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Endpoint::ALL.iter().map(|e| e.name()).collect();
            format!("unknown endpoint {name:?}; expected one of {}", names.join(", "))
        })
    }
}

/// What goes wrong at one endpoint. Counted failures (`fail_next`, `drop_next`) come first; then
/// each request draws once from the endpoint's seeded generator against `drop_rate` and
/// `error_rate`. `latency` delays every answer, failed or not.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// The next this-many requests are answered with `status`.
    pub fail_next: u32,
    /// The next this-many requests have their connection dropped.
    pub drop_next: u32,
    /// The share of requests (0.0–1.0) answered with `status`.
    pub error_rate: f64,
    /// The share of requests (0.0–1.0) whose connection is dropped.
    pub drop_rate: f64,
    /// The status of a failed request (default 503).
    pub status: Option<u16>,
    /// A `Retry-After` header, in seconds, on failed requests.
    pub retry_after: Option<u64>,
    /// Added to every request, in milliseconds.
    pub latency_ms: u64,
}

impl Fault {
    /// The next `count` requests fail with `status`.
    pub fn fail_next(count: u32, status: u16) -> Fault {
        Fault { fail_next: count, status: Some(status), ..Fault::default() }
    }

    /// Every request fails with 503: the endpoint is down.
    pub fn outage() -> Fault {
        Fault { error_rate: 1.0, ..Fault::default() }
    }

    /// A share of requests fails with `status`.
    pub fn error_rate(rate: f64, status: u16) -> Fault {
        Fault { error_rate: rate, status: Some(status), ..Fault::default() }
    }

    /// The next `count` requests have their connection dropped.
    pub fn drop_next(count: u32) -> Fault {
        Fault { drop_next: count, ..Fault::default() }
    }

    /// A share of requests has its connection dropped.
    pub fn drop_rate(rate: f64) -> Fault {
        Fault { drop_rate: rate, ..Fault::default() }
    }

    /// Every request is delayed.
    pub fn latency(delay: Duration) -> Fault {
        Fault::default().with_latency(delay)
    }

    /// The same fault, with every request delayed.
    pub fn with_latency(mut self, delay: Duration) -> Fault {
        self.latency_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// The same fault, with `Retry-After: seconds` on failures.
    pub fn with_retry_after(mut self, seconds: u64) -> Fault {
        self.retry_after = Some(seconds);
        self
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Proceed,
    Fail { status: u16, retry_after: Option<u64> },
    Drop,
}

struct Rule {
    fault: Fault,
    rng: fastrand::Rng,
}

pub(crate) struct Faults {
    seed: u64,
    rules: Mutex<HashMap<Endpoint, Rule>>,
    requests: [AtomicU64; Endpoint::ALL.len()],
}

impl Faults {
    pub(crate) fn new(seed: u64) -> Faults {
        Faults { seed, rules: Mutex::default(), requests: Default::default() }
    }

    /// Sets the fault of `endpoint`, restarting its random sequence from the seed.
    pub(crate) fn set(&self, endpoint: Endpoint, fault: Fault) {
        let rng = fastrand::Rng::with_seed(self.seed ^ endpoint.index().wrapping_mul(0x9E37_79B9_7F4A_7C15));
        self.rules.lock().insert(endpoint, Rule { fault, rng });
    }

    pub(crate) fn clear(&self, endpoint: Option<Endpoint>) {
        match endpoint {
            Some(endpoint) => {
                self.rules.lock().remove(&endpoint);
            }
            None => self.rules.lock().clear(),
        }
    }

    pub(crate) fn requests(&self, endpoint: Endpoint) -> u64 {
        self.requests[endpoint.index() as usize].load(Ordering::Relaxed)
    }

    /// Counts the request and decides its fate.
    pub(crate) fn judge(&self, endpoint: Endpoint) -> (Duration, Verdict) {
        self.requests[endpoint.index() as usize].fetch_add(1, Ordering::Relaxed);
        let mut rules = self.rules.lock();
        let Some(rule) = rules.get_mut(&endpoint) else {
            return (Duration::ZERO, Verdict::Proceed);
        };
        let fault = &mut rule.fault;
        let latency = Duration::from_millis(fault.latency_ms);
        let fail = Verdict::Fail { status: fault.status.unwrap_or(503), retry_after: fault.retry_after };
        if fault.drop_next > 0 {
            fault.drop_next -= 1;
            return (latency, Verdict::Drop);
        }
        if fault.fail_next > 0 {
            fault.fail_next -= 1;
            return (latency, fail);
        }
        if fault.drop_rate <= 0.0 && fault.error_rate <= 0.0 {
            return (latency, Verdict::Proceed);
        }
        let roll = rule.rng.f64();
        let verdict = if roll < fault.drop_rate {
            Verdict::Drop
        } else if roll < fault.drop_rate + fault.error_rate {
            fail
        } else {
            Verdict::Proceed
        };
        (latency, verdict)
    }
}

/// Middleware: applies the endpoint's fault. Latency delays the answer after the handler has
/// done its work — as when Pocket is slow to reply — so a client that gives up waiting leaves
/// the work done, which is what makes a timed-out invoice creation ambiguous.
pub(crate) async fn inject(
    State((faults, endpoint)): State<(std::sync::Arc<Faults>, Endpoint)>,
    request: Request,
    next: Next,
) -> Response {
    let (latency, verdict) = faults.judge(endpoint);
    let response = match verdict {
        Verdict::Proceed => next.run(request).await,
        Verdict::Fail { status, retry_after } => failure(status, retry_after),
        Verdict::Drop => dropped_connection(),
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

fn failure(status: u16, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = serde_json::json!({
        "code": "SANDBOX_FAULT",
        "message": format!("fault injected by the sandbox: {status}"),
    });
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A response whose body fails before its first byte: the server closes the connection without
/// a complete answer, as when a proxy or the network drops it.
fn dropped_connection() -> Response {
    Response::new(Body::new(BrokenBody))
}

struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped by a sandbox fault",
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdicts(faults: &Faults, endpoint: Endpoint, n: usize) -> Vec<Verdict> {
        (0..n).map(|_| faults.judge(endpoint).1).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let a = Faults::new(42);
        let b = Faults::new(42);
        let c = Faults::new(43);
        for faults in [&a, &b, &c] {
            faults.set(Endpoint::CheckInvoice, Fault::error_rate(0.3, 503));
        }
        let run_a = verdicts(&a, Endpoint::CheckInvoice, 200);
        assert_eq!(run_a, verdicts(&b, Endpoint::CheckInvoice, 200));
        assert_ne!(run_a, verdicts(&c, Endpoint::CheckInvoice, 200));
        let failures = run_a.iter().filter(|v| **v != Verdict::Proceed).count();
        assert!((30..=90).contains(&failures), "about 30% of 200 should fail, got {failures}");
    }

    #[test]
    fn counted_faults_come_first_then_stop() {
        let faults = Faults::new(1);
        faults.set(Endpoint::Token, Fault { drop_next: 1, fail_next: 2, status: Some(429), ..Fault::default() });
        let fail = Verdict::Fail { status: 429, retry_after: None };
        assert_eq!(verdicts(&faults, Endpoint::Token, 4), [Verdict::Drop, fail, fail, Verdict::Proceed]);
        assert_eq!(faults.requests(Endpoint::Token), 4);
        assert_eq!(faults.requests(Endpoint::Certs), 0);
    }

    #[test]
    fn endpoint_names_parse_back() {
        for endpoint in Endpoint::ALL {
            assert_eq!(endpoint.name().parse(), Ok(endpoint));
        }
        assert!("nope".parse::<Endpoint>().unwrap_err().contains("create-invoice"));
    }
}
