//! The client's metrics, through the `metrics` facade (feature `metrics`): every HTTP exchange
//! with Pocket by operation and status, token fetches by grant and result, and when the
//! merchant token expires. Labels take fixed words only — never a URL, an id or a token.
//! Without the feature every function is empty; without a recorder the facade does nothing.

// Without the feature only the call sites remain: the names and labels are unused.
#![cfg_attr(not(feature = "metrics"), allow(dead_code))]

use std::time::{Instant, SystemTime};

use crate::transport::Outcome;

/// Every metric this crate records: its name, its Prometheus type (`counter`, `gauge` or
/// `histogram`) and what it counts. docs/operations.md lists the same, with their labels.
pub const METRICS: &[(&str, &str, &str)] = &[
    (REQUESTS, "counter", "HTTP exchanges with Pocket (each attempt), by operation and status."),
    (REQUEST_DURATION, "histogram", "How long an HTTP exchange with Pocket took, by operation."),
    (TOKEN_FETCHES, "counter", "Merchant token fetches from Pocket's SSO, by grant and result."),
    (TOKEN_EXPIRY, "gauge", "When the cached merchant token expires (Unix time, seconds)."),
];

const REQUESTS: &str = "pocket_http_requests_total";
const REQUEST_DURATION: &str = "pocket_http_request_duration_seconds";
const TOKEN_FETCHES: &str = "pocket_http_token_fetches_total";
const TOKEN_EXPIRY: &str = "pocket_http_merchant_token_expiry_timestamp_seconds";

/// An operation's metric label: the sentence errors use, as one fixed word.
pub(crate) fn operation_label(operation: &str) -> &'static str {
    match operation {
        "check an invoice" => "check_invoice",
        "create an invoice" => "create_invoice",
        "create a QR invoice" => "create_qr_invoice",
        "generate an invoice" => "create_gateway_invoice",
        "read the payment configuration" => "payment_config",
        "set the webhook address" => "set_webhook",
        "get the merchant token" => "token",
        "introspect a token" => "introspect",
        "list the branches" => "list_branches",
        "list a branch's terminals" => "list_terminals",
        "look up an invoice by its id" => "invoice_by_id",
        "look up an invoice by its order number" => "invoice_by_order",
        "ask whether an order is paid" => "order_paid",
        "cancel a held payment" => "cancel_hold",
        _ => "other",
    }
}

fn describe() {
    #[cfg(feature = "metrics")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            metrics::describe_counter!(REQUESTS, METRICS[0].2);
            metrics::describe_histogram!(REQUEST_DURATION, metrics::Unit::Seconds, METRICS[1].2);
            metrics::describe_counter!(TOKEN_FETCHES, METRICS[2].2);
            metrics::describe_gauge!(TOKEN_EXPIRY, METRICS[3].2);
        });
    }
}

/// One exchange of `operation` began at `started` and ended in `outcome`.
pub(crate) fn exchanged(operation: &'static str, outcome: &Outcome, started: Instant) {
    #[cfg(feature = "metrics")]
    {
        describe();
        let status: metrics::SharedString = match outcome {
            Outcome::Answered { status, .. } => status_label(*status).into(),
            Outcome::NotSent(_) => "not_sent".into(),
            Outcome::TimedOut => "timed_out".into(),
            Outcome::Broken(_) => "broken".into(),
        };
        metrics::counter!(REQUESTS, "operation" => operation, "status" => status).increment(1);
        metrics::histogram!(REQUEST_DURATION, "operation" => operation).record(started.elapsed().as_secs_f64());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (operation, outcome, started);
}

/// A status code as a label: its three digits (a bounded set), or `invalid`.
#[cfg(feature = "metrics")]
fn status_label(status: u16) -> String {
    if (100..600).contains(&status) { status.to_string() } else { "invalid".to_owned() }
}

/// A token fetch with `grant` ended: `ok`, `refused` (the SSO said no) or `error`.
pub(crate) fn token_fetched(grant: &str, result: &'static str) {
    #[cfg(feature = "metrics")]
    {
        describe();
        let grant = match grant {
            "client_credentials" => "client_credentials",
            "refresh_token" => "refresh_token",
            _ => "other",
        };
        metrics::counter!(TOKEN_FETCHES, "grant" => grant, "result" => result).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (grant, result);
}

/// A new merchant token is cached, valid until `expires_at`.
pub(crate) fn token_cached(expires_at: SystemTime) {
    #[cfg(feature = "metrics")]
    {
        describe();
        let seconds = expires_at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        metrics::gauge!(TOKEN_EXPIRY).set(seconds);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = expires_at;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation the client names gets a label of its own, so no series hides in `other`.
    #[test]
    fn every_operation_has_a_label() {
        let sources = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src")).unwrap();
        let mut named = Vec::new();
        for source in sources {
            let text = std::fs::read_to_string(source.unwrap().path()).unwrap();
            for marker in ["let operation = \"", "self.create(\""] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    named.push(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
        }
        assert!(named.len() >= 12, "found only {named:?}");
        for operation in &named {
            assert_ne!(operation_label(operation), "other", "{operation:?} has no metric label");
        }
    }
}
