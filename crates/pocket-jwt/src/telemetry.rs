//! The verifier's metrics, through the `metrics` facade (feature `metrics`): verifications by
//! result (the rejection's kind, never the token or its user), JWKS fetches by result, and the
//! keys held. Without the feature every function is empty.

// Without the feature only the call sites remain: the names and labels are unused.
#![cfg_attr(not(feature = "metrics"), allow(dead_code))]

use pocket_core::{Error, ErrorKind, TokenRejection};

/// Every metric this crate records: its name, its Prometheus type (`counter`, `gauge` or
/// `histogram`) and what it counts. docs/operations.md lists the same, with their labels.
pub const METRICS: &[(&str, &str, &str)] = &[
    (VERIFICATIONS, "counter", "ID-token verifications, by result (valid, or why the token was refused)."),
    (JWKS_FETCHES, "counter", "Fetches of the realm's signing keys (JWKS), by result."),
    (JWKS_KEYS, "gauge", "Signing keys the verifier holds."),
];

const VERIFICATIONS: &str = "pocket_jwt_verifications_total";
const JWKS_FETCHES: &str = "pocket_jwt_jwks_fetches_total";
const JWKS_KEYS: &str = "pocket_jwt_jwks_keys";

fn describe() {
    #[cfg(feature = "metrics")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            metrics::describe_counter!(VERIFICATIONS, METRICS[0].2);
            metrics::describe_counter!(JWKS_FETCHES, METRICS[1].2);
            metrics::describe_gauge!(JWKS_KEYS, METRICS[2].2);
        });
    }
}

/// A verification's result as a label: `valid`, the rejection (`expired`, `bad_signature`, …),
/// `keys_unavailable`, or `error`.
pub(crate) fn result_label<T>(result: &Result<T, Error>) -> &'static str {
    let error = match result {
        Ok(_) => return "valid",
        Err(error) => error,
    };
    match error.token_rejection() {
        Some(TokenRejection::Expired) => "expired",
        Some(TokenRejection::NotYetValid) => "not_yet_valid",
        Some(TokenRejection::BadSignature) => "bad_signature",
        Some(TokenRejection::WrongIssuer) => "wrong_issuer",
        Some(TokenRejection::WrongAudience) => "wrong_audience",
        Some(TokenRejection::WrongAuthorizedParty) => "wrong_authorized_party",
        Some(TokenRejection::WrongType) => "wrong_type",
        Some(TokenRejection::UnsupportedAlgorithm) => "unsupported_algorithm",
        Some(TokenRejection::UnknownKey) => "unknown_key",
        Some(TokenRejection::Malformed) => "malformed",
        Some(TokenRejection::TooLarge) => "too_large",
        Some(TokenRejection::MissingScope) => "missing_scope",
        Some(TokenRejection::Inactive) => "inactive",
        Some(TokenRejection::ServiceAccount) => "service_account",
        Some(_) => "invalid",
        None if error.kind() == ErrorKind::Unavailable => "keys_unavailable",
        None => "error",
    }
}

/// A verification ended.
pub(crate) fn verified<T>(result: &Result<T, Error>) {
    #[cfg(feature = "metrics")]
    {
        describe();
        metrics::counter!(VERIFICATIONS, "result" => result_label(result)).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = result;
}

/// A JWKS fetch ended; `keys` is how many signing keys are held after it.
pub(crate) fn jwks_fetched(ok: bool, keys: usize) {
    #[cfg(feature = "metrics")]
    {
        describe();
        metrics::counter!(JWKS_FETCHES, "result" => if ok { "ok" } else { "error" }).increment(1);
        metrics::gauge!(JWKS_KEYS).set(keys as f64);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (ok, keys);
}
