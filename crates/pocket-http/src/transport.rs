//! One HTTP exchange with Pocket, and what its outcome means: an answer to decode, a failure
//! that can be retried, or an error for the caller. Response bodies are never logged.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pocket_core::{Error, ErrorKind};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Pocket's answers are small; anything larger than this is refused rather than buffered.
const MAX_BODY: usize = 1024 * 1024;

/// What one exchange produced.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Pocket answered.
    Answered { status: u16, retry_after: Option<Duration>, body: Vec<u8> },
    /// The connection could not be made: the request never left.
    NotSent(Cause),
    /// The request was sent, but no complete answer came in time.
    TimedOut,
    /// The request was sent, but the connection broke before a complete answer.
    Broken(Cause),
}

/// Why an exchange failed: in words (the error and its causes in one line), and the error
/// itself when there is one, kept as the `source()` of the error the caller gets.
#[derive(Debug, Clone)]
pub(crate) struct Cause {
    text: String,
    error: Option<Arc<reqwest::Error>>,
}

impl Cause {
    fn of(error: reqwest::Error) -> Cause {
        Cause { text: describe(&error), error: Some(Arc::new(error)) }
    }

    fn said(text: String) -> Cause {
        Cause { text, error: None }
    }

    /// `error` with this cause as its source, when there is one.
    fn attached_to(&self, error: Error) -> Error {
        match &self.error {
            Some(cause) => error.with_source(cause.clone()),
            None => error,
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Sends a request and reads the whole answer.
pub(crate) async fn exchange(request: reqwest::RequestBuilder) -> Outcome {
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => return failure(error),
    };
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    // A declared length within the limit is read in one go; anything else chunk by chunk.
    if response.content_length().is_some_and(|length| length <= MAX_BODY as u64) {
        return match response.bytes().await {
            Ok(body) => Outcome::Answered { status, retry_after, body: body.to_vec() },
            Err(error) => failure(error),
        };
    }
    let mut response = response;
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > MAX_BODY => {
                return Outcome::Broken(Cause::said(format!("the answer is larger than {MAX_BODY} bytes")));
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Outcome::Answered { status, retry_after, body },
            Err(error) => return failure(error),
        }
    }
}

fn failure(error: reqwest::Error) -> Outcome {
    if error.is_connect() {
        Outcome::NotSent(Cause::of(error))
    } else if error.is_timeout() {
        Outcome::TimedOut
    } else {
        Outcome::Broken(Cause::of(error))
    }
}

/// The error and its causes in one line. reqwest's messages name the URL, which holds no secret.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or as an HTTP date.
/// Pocket's `Retry-After` (seconds or an HTTP date), believed up to an hour: the retry policy's
/// own time cap decides whether waiting that long is worth it.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    const LONGEST: Duration = Duration::from_secs(3600);
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(LONGEST));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO).min(LONGEST))
}

/// Whether a failed exchange of an idempotent call is worth repeating, and after how long Pocket
/// asked us to wait.
pub(crate) fn is_transient(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Answered { status, .. } => matches!(status, 429 | 502 | 503 | 504),
        Outcome::NotSent(_) | Outcome::TimedOut | Outcome::Broken(_) => true,
    }
}

/// `operation` and where it went, for error messages: the URL without its query string or
/// fragment (nothing secret travels in our paths; a query might).
pub(crate) fn operation_at(operation: &str, url: &str) -> String {
    let bare = url.split(['?', '#']).next().unwrap_or(url);
    format!("{operation} ({bare})")
}

/// The error for a failed exchange of `operation`.
pub(crate) fn error_for(operation: &str, outcome: &Outcome) -> Error {
    match outcome {
        Outcome::NotSent(cause) => cause.attached_to(Error::new(
            ErrorKind::Unavailable,
            format!("{operation}: could not connect to Pocket ({cause})"),
        )),
        Outcome::TimedOut => Error::new(ErrorKind::Timeout, format!("{operation}: Pocket did not answer in time")),
        Outcome::Broken(cause) => cause.attached_to(Error::new(
            ErrorKind::Unavailable,
            format!("{operation}: the connection to Pocket broke before a complete answer ({cause})"),
        )),
        Outcome::Answered { status, retry_after, body } => status_error(operation, *status, *retry_after, body),
    }
}

/// An error for an HTTP error status, with Pocket's own code and message when its body has them:
/// Keycloak's `{error, error_description}` or the merchant API's `{code | error, message}`.
fn status_error(operation: &str, status: u16, retry_after: Option<Duration>, body: &[u8]) -> Error {
    let kind = match status {
        401 | 403 => ErrorKind::Unauthorized,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Rejected,
    };
    let (code, said) = error_body(body);
    let mut message = match kind {
        ErrorKind::Unauthorized => format!("{operation}: Pocket refused the merchant's credentials or token"),
        ErrorKind::NotFound => format!("{operation}: Pocket does not know it"),
        ErrorKind::RateLimited => format!("{operation}: Pocket asks to slow down"),
        ErrorKind::Unavailable => format!("{operation}: Pocket could not answer"),
        _ => format!("{operation}: Pocket refused the request"),
    };
    if let Some(said) = said {
        message.push_str(": ");
        message.push_str(&said);
    }
    let mut error = Error::new(kind, message).with_status(status);
    if let Some(code) = code {
        error = error.with_code(code);
    }
    if let Some(wait) = retry_after {
        error = error.with_retry_after(wait);
    }
    error
}

/// The error code and message of an error body, if it is JSON with either.
fn error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return (None, None);
    };
    let text = |key: &str| fields.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    // Spring's `{timestamp, status, error, message, path}`: `error` is the status's reason
    // phrase ("Bad Request"), not a code; the message is what Pocket said.
    if fields.contains_key("timestamp") && fields.contains_key("path") && fields.contains_key("status") {
        let message = text("message").or_else(|| text("error"));
        return (text("code"), message.map(|m| m.chars().take(300).collect()));
    }
    let code = text("error").or_else(|| text("code"));
    let message = text("error_description").or_else(|| text("message"));
    (code, message.map(|m| m.chars().take(300).collect()))
}

/// Decodes a successful answer, naming the JSON path of anything that does not fit. The path is
/// tracked only when the plain decoding fails, so the common case costs nothing extra.
pub(crate) fn decode<T: DeserializeOwned>(operation: &str, body: &[u8]) -> Result<T, Error> {
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|error| {
        let path = error.path().to_string();
        let path = if path == "." { "$".to_owned() } else { path };
        Error::decode(path, format!("{operation}: Pocket's answer could not be read: {}", error.inner()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, body: &str) -> Outcome {
        Outcome::Answered { status, retry_after: None, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn statuses_map_to_kinds() {
        let kind = |status| error_for("op", &answered(status, "")).kind();
        assert_eq!(kind(400), ErrorKind::Rejected);
        assert_eq!(kind(401), ErrorKind::Unauthorized);
        assert_eq!(kind(403), ErrorKind::Unauthorized);
        assert_eq!(kind(404), ErrorKind::NotFound);
        assert_eq!(kind(409), ErrorKind::Rejected);
        assert_eq!(kind(429), ErrorKind::RateLimited);
        assert_eq!(kind(503), ErrorKind::Unavailable);
        assert_eq!(error_for("op", &Outcome::TimedOut).kind(), ErrorKind::Timeout);
    }

    #[test]
    fn keycloak_and_api_error_bodies_are_read() {
        let error = error_for(
            "get token",
            &answered(401, r#"{"error":"invalid_client","error_description":"Invalid client"}"#),
        );
        assert_eq!(error.code(), Some("invalid_client"));
        assert_eq!(error.status(), Some(401));
        assert!(error.to_string().contains("Invalid client"), "{error}");
        let error = error_for("create invoice", &answered(400, r#"{"code":"INVALID_AMOUNT","message":"too small"}"#));
        assert_eq!(error.code(), Some("INVALID_AMOUNT"));
        assert!(error.to_string().ends_with("too small (HTTP 400, INVALID_AMOUNT)"), "{error}");
        let error = error_for("x", &answered(502, "<html>Bad gateway</html>"));
        assert_eq!((error.code(), error.status()), (None, Some(502)));
    }

    #[test]
    fn transient_outcomes_are_the_documented_ones() {
        for status in [429, 502, 503, 504] {
            assert!(is_transient(&answered(status, "")), "{status}");
        }
        for status in [200, 400, 401, 404, 500] {
            assert!(!is_transient(&answered(status, "")), "{status}");
        }
        assert!(is_transient(&Outcome::TimedOut));
        assert!(is_transient(&Outcome::NotSent(Cause::said("refused".into()))));
        assert!(is_transient(&Outcome::Broken(Cause::said("reset".into()))));
    }

    #[tokio::test]
    async fn a_failed_connection_keeps_reqwests_error_as_the_source() {
        // A port just released on loopback: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let outcome = exchange(reqwest::Client::new().get(format!("http://127.0.0.1:{port}/"))).await;
        assert!(matches!(outcome, Outcome::NotSent(_)), "{outcome:?}");
        let error = error_for("check an invoice", &outcome);
        let source = std::error::Error::source(&error).expect("the cause is kept");
        assert!(source.to_string().contains("127.0.0.1"), "reqwest's own message: {source}");
        assert!(source.source().is_some(), "and its own causes: {source:?}");
    }

    #[test]
    fn spring_error_bodies_are_read() {
        let spring = r#"{"timestamp": "2026-11-27T10:00:00.000+00:00", "status": 400, "error": "Bad Request", "message": "Invoice is pending or cancelled", "path": "/v2/invoicing/invoices/is-paid"}"#;
        let error = error_for("ask whether it is paid", &answered(400, spring));
        assert_eq!(error.code(), None, "a reason phrase is no code");
        assert!(error.to_string().contains("Invoice is pending or cancelled"), "{error}");
        let bare = r#"{"timestamp": "x", "status": 500, "error": "Internal Server Error", "path": "/p"}"#;
        assert!(error_for("x", &answered(500, bare)).to_string().contains("Internal Server Error"));
        assert_eq!(
            operation_at("check an invoice", "https://p.mn/merchant/invoice/check/7?debug=1#x"),
            "check an invoice (https://p.mn/merchant/invoice/check/7)"
        );
    }

    #[test]
    fn decode_errors_name_the_path() {
        #[derive(serde::Deserialize, Debug)]
        struct Shape {
            #[allow(dead_code)]
            items: Vec<Item>,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Item {
            #[allow(dead_code)]
            amount: pocket_core::Amount,
        }
        let error = decode::<Shape>("op", br#"{"items":[{"amount":1},{"amount":"x"}]}"#).unwrap_err();
        assert_eq!(error.json_path(), Some("items[1].amount"));
        assert_eq!(error.kind(), ErrorKind::Protocol);
        let error = decode::<Shape>("op", b"not json").unwrap_err();
        assert_eq!(error.json_path(), Some("$"));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        headers.insert(RETRY_AFTER, later.parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120), "{wait:?}");
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, u64::MAX.to_string().parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3600)), "clamped to an hour");
        headers.insert(RETRY_AFTER, "Fri, 31 Dec 9999 23:59:59 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3600)));
    }

    mod properties {
        //! Whatever Pocket sends as `Retry-After` or as an error body: a bounded wait, a typed
        //! error of a bounded size, never a panic (2,000 cases; `POCKET_FUZZ_CASES=N` for more).

        use std::time::Duration;

        use pocket_test_support::fuzz::{bytes_like, cases, json_like};
        use proptest::prelude::*;
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

        use super::super::{error_for, retry_after};

        const ERROR_KEYS: &[&str] = &["timestamp", "status", "error", "message", "path", "code", "errors", "detail"];

        proptest! {
            #![proptest_config(cases())]

            #[test]
            fn any_retry_after(value in prop_oneof![
                any::<u64>().prop_map(|n| n.to_string()),
                "[ -~]{0,40}",
                "(Mon|Sun|Fri), [0-9]{2} (Jan|Feb|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
                "-?[0-9]{1,25}(\\.[0-9]{1,5})?",
            ]) {
                let mut headers = HeaderMap::new();
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(RETRY_AFTER, value);
                }
                if let Some(wait) = retry_after(&headers) {
                    prop_assert!(wait <= Duration::from_secs(3600), "{value:?} → {wait:?}");
                }
            }

            #[test]
            fn any_error_body(status in 100u16..600, body in bytes_like(json_like(ERROR_KEYS))) {
                let outcome = crate::transport::Outcome::Answered { status, retry_after: None, body };
                let error = error_for("check an invoice", &outcome);
                prop_assert!(error.to_string().len() < 2_000, "{} bytes", error.to_string().len());
            }
        }
    }
}
