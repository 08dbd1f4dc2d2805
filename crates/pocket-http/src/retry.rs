//! When and how long to wait before trying a call again.

use std::time::{Duration, Instant};

use crate::transport::{Outcome, exchange};

/// How calls that can be repeated without harm are retried: exponential backoff with full
/// jitter, capped in attempts and in total time, honouring `Retry-After`.
///
/// Retried: connection failures, timeouts, broken responses, and HTTP 429, 502, 503 and 504 —
/// for the token endpoint, checking an invoice, reading the webhook address and setting it.
/// Creating an invoice is retried only when the connection could not be made at all, because
/// Pocket has no idempotency key.
///
/// ```
/// use std::time::Duration;
/// use pocket_http::RetryPolicy;
///
/// let patient = RetryPolicy::default().max_attempts(5).max_elapsed(Duration::from_secs(60));
/// let never = RetryPolicy::none();
/// # let _ = (patient, never);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, backoff from 200 ms up to 5 s, at most 20 s in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> RetryPolicy {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// At most this many attempts in all (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff ceiling of the first retry; it doubles with each further retry.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// No single wait is longer than this (unless Pocket's `Retry-After` asks for longer).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// No retry starts after this much time has passed since the first attempt, and no wait
    /// runs past it.
    pub fn max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// How long to wait after failed attempt number `attempt` (1-based), or `None` to give up.
    /// `elapsed` is the time since the first attempt; `retry_after` is Pocket's request.
    pub(crate) fn wait_before_retry(
        &self,
        attempt: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let ceiling = self.initial_backoff.saturating_mul(1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX));
        let ceiling = ceiling.min(self.max_backoff);
        let jittered = Duration::from_nanos(fastrand::u64(0..=u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX)));
        let wait = retry_after.map_or(jittered, |asked| asked.max(jittered));
        (elapsed + wait < self.max_elapsed).then_some(wait)
    }
}

/// Sends what `request` builds, again after a wait while `repeatable` says the outcome may be
/// repeated and the policy allows another attempt. Returns the last outcome.
/// `operation` is the metric label of what is sent.
pub(crate) async fn send_with_retries(
    policy: &RetryPolicy,
    operation: &'static str,
    repeatable: fn(&Outcome) -> bool,
    mut request: impl FnMut() -> reqwest::RequestBuilder,
) -> Outcome {
    let started = Instant::now();
    let mut attempt = 1;
    loop {
        let sent = Instant::now();
        let outcome = exchange(request()).await;
        crate::telemetry::exchanged(operation, &outcome, sent);
        let span = tracing::Span::current();
        span.record("attempt", attempt);
        if let Outcome::Answered { status, .. } = &outcome {
            span.record("status", status);
        }
        if !repeatable(&outcome) {
            return outcome;
        }
        let retry_after = match &outcome {
            Outcome::Answered { retry_after, .. } => *retry_after,
            _ => None,
        };
        let Some(wait) = policy.wait_before_retry(attempt, started.elapsed(), retry_after) else {
            return outcome;
        };
        tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying after a transient failure");
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_capped() {
        let policy = RetryPolicy::default().max_attempts(3);
        assert!(policy.wait_before_retry(1, Duration::ZERO, None).is_some());
        assert!(policy.wait_before_retry(2, Duration::ZERO, None).is_some());
        assert_eq!(policy.wait_before_retry(3, Duration::ZERO, None), None);
        assert_eq!(RetryPolicy::none().wait_before_retry(1, Duration::ZERO, None), None);
    }

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_ceiling() {
        let policy = RetryPolicy::default()
            .max_attempts(10)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(350))
            .max_elapsed(Duration::from_secs(60));
        for attempt in 1..=6 {
            let ceiling = Duration::from_millis((100u64 << (attempt - 1)).min(350));
            let waits: Vec<Duration> =
                (0..200).filter_map(|_| policy.wait_before_retry(attempt, Duration::ZERO, None)).collect();
            assert_eq!(waits.len(), 200);
            assert!(waits.iter().all(|w| *w <= ceiling), "attempt {attempt}: a wait above {ceiling:?}");
            assert!(waits.iter().any(|w| *w < ceiling / 2), "attempt {attempt}: no jitter");
        }
    }

    #[test]
    fn retry_after_is_a_floor_and_the_total_time_a_cap() {
        let policy = RetryPolicy::default().max_elapsed(Duration::from_secs(10));
        let wait = policy.wait_before_retry(1, Duration::ZERO, Some(Duration::from_secs(3))).unwrap();
        assert!(wait >= Duration::from_secs(3));
        assert_eq!(policy.wait_before_retry(1, Duration::ZERO, Some(Duration::from_secs(30))), None);
        assert_eq!(policy.wait_before_retry(1, Duration::from_secs(10), None), None);
    }
}
