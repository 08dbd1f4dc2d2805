//! The merchant token: fetched lazily, cached, renewed before it runs out, shared by all callers.
//!
//! - Callers read the cached token without waiting. While it is still valid but due for renewal,
//!   the renewal runs in the background (one at a time) and callers keep using the current token:
//!   a slow SSO never stalls a caller that holds a valid token.
//! - Only callers with no valid token wait, under one async lock, and they share one request:
//!   however many arrive at once — also when that request fails, which they all see.
//! - Renewal tries the refresh grant first, and client credentials when the SSO refuses that.
//! - While the SSO is down, a token that has not yet expired keeps serving; renewal is tried
//!   again after a short pause rather than on every call.
//! - After the merchant API rejects a token, it is renewed once — unless another caller already did.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use pocket_core::{Error, ErrorKind, MerchantToken, RefreshToken};
use serde::Deserialize;
use tracing::Instrument;

use crate::retry::send_with_retries;
use crate::settings::Settings;
use crate::transport::{Outcome, decode, error_for, is_transient, operation_at};

/// How long to assume a token lives when the SSO does not say (`expires_in` absent).
const ASSUMED_LIFETIME: Duration = Duration::from_secs(60);
/// Lifetimes from the wire are believed within these bounds: a token said to live for ever (or
/// for 2^63 seconds, which would overflow the clock) is renewed within a day, and one said to
/// live 0 s is kept for a second rather than fetched again on every call.
const LIFETIME_BOUNDS: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(24 * 3600));
/// A refresh token is believed for at most 30 days.
const MAX_REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// A lifetime the SSO sent, in seconds, within `LIFETIME_BOUNDS`.
fn bounded_lifetime(seconds: u64) -> Duration {
    Duration::from_secs(seconds).clamp(LIFETIME_BOUNDS.0, LIFETIME_BOUNDS.1)
}
/// After a failed renewal while an old token still serves, wait this long before trying again.
const RENEWAL_PAUSE: Duration = Duration::from_secs(5);

struct Cached {
    access: MerchantToken,
    /// From here on the token is renewed before use.
    renew_at: Instant,
    expires_at: Instant,
    expires_at_wall: SystemTime,
    refresh: Option<(RefreshToken, Option<Instant>)>,
}

impl Cached {
    fn is_fresh(&self, now: Instant) -> bool {
        now < self.renew_at
    }

    fn is_valid(&self, now: Instant) -> bool {
        now < self.expires_at
    }
}

pub(crate) struct TokenManager {
    renew_before: Duration,
    cached: RwLock<Option<Arc<Cached>>>,
    renewing: tokio::sync::Mutex<Renewal>,
    in_background: AtomicBool,
}

/// What the last renewals left behind, under the renewal lock.
#[derive(Default)]
struct Renewal {
    /// After a failed renewal while the old token still serves: no new attempt before this.
    paused_until: Option<Instant>,
    /// The last failed fetch and when it ended, for callers that waited for it.
    last_failure: Option<(Instant, Error)>,
}

/// What a caller finds in the cache.
pub(crate) enum Lookup {
    /// A token not yet due for renewal.
    Fresh(MerchantToken),
    /// A valid token due for renewal: use it, and renew in the background.
    Renewable(MerchantToken),
    /// No valid token: the caller must wait for one.
    Missing,
}

/// The token endpoint's answer. Fields may be absent; numbers may come as strings.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default, deserialize_with = "lenient_seconds")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "lenient_seconds")]
    refresh_expires_in: Option<u64>,
    #[serde(default)]
    token_type: Option<String>,
}

fn lenient_seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Text(String),
    }
    match Option::<Seconds>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Seconds::Number(n)) => Ok(Some(n)),
        Some(Seconds::Text(text)) => text.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

impl TokenManager {
    pub(crate) fn new(renew_before: Duration) -> TokenManager {
        TokenManager {
            renew_before,
            cached: RwLock::new(None),
            renewing: tokio::sync::Mutex::new(Renewal::default()),
            in_background: AtomicBool::new(false),
        }
    }

    /// What the cache holds for a caller now, without waiting.
    pub(crate) fn lookup(&self) -> Lookup {
        let now = Instant::now();
        match self.current() {
            Some(cached) if cached.is_fresh(now) => Lookup::Fresh(cached.access.clone()),
            Some(cached) if cached.is_valid(now) => Lookup::Renewable(cached.access.clone()),
            _ => Lookup::Missing,
        }
    }

    /// Claims the one background renewal; `false` if one is running already.
    pub(crate) fn start_background_renewal(&self) -> bool {
        !self.in_background.swap(true, Ordering::AcqRel)
    }

    /// Renews in the background (after [`start_background_renewal`](Self::start_background_renewal)).
    pub(crate) async fn renew_in_background(&self, settings: &Settings) {
        if let Err(error) = self.renew(settings, None).await {
            tracing::warn!(error = %error, "renewing the merchant token in the background failed");
        }
        self.in_background.store(false, Ordering::Release);
    }

    fn current(&self) -> Option<Arc<Cached>> {
        self.cached.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// When the cached token expires, if there is one.
    pub(crate) fn expires_at(&self) -> Option<SystemTime> {
        self.current().map(|cached| cached.expires_at_wall)
    }

    /// A token to call the merchant API with.
    pub(crate) async fn token(&self, settings: &Settings) -> Result<MerchantToken, Error> {
        if let Some(cached) = self.current().filter(|c| c.is_fresh(Instant::now())) {
            return Ok(cached.access.clone());
        }
        self.renew(settings, None).await
    }

    /// A token other than `rejected`, which the merchant API refused.
    pub(crate) async fn replace(&self, settings: &Settings, rejected: &MerchantToken) -> Result<MerchantToken, Error> {
        self.renew(settings, Some(rejected)).await
    }

    async fn renew(&self, settings: &Settings, rejected: Option<&MerchantToken>) -> Result<MerchantToken, Error> {
        let asked_at = Instant::now();
        let mut renewal = self.renewing.lock().await;
        let now = Instant::now();
        let current = self.current();
        // Another caller may have renewed while this one waited for the lock.
        if let Some(cached) = &current {
            let usable = match rejected {
                Some(rejected) => cached.access != *rejected,
                None => cached.is_fresh(now),
            };
            if usable {
                return Ok(cached.access.clone());
            }
        }
        let still_valid = current.as_ref().filter(|c| rejected.is_none() && c.is_valid(now));
        if let (Some(cached), Some(until)) = (still_valid, renewal.paused_until)
            && now < until
        {
            return Ok(cached.access.clone());
        }
        // A fetch ended, failing, while this caller waited: share its answer, do not queue another.
        if still_valid.is_none()
            && let Some((ended, error)) = &renewal.last_failure
            && *ended >= asked_at
        {
            return Err(error.clone());
        }
        let refresh = current.as_ref().and_then(|c| c.refresh.clone());
        match self.fetch(settings, refresh).await {
            Ok(fresh) => {
                let access = fresh.access.clone();
                crate::telemetry::token_cached(fresh.expires_at_wall);
                *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(fresh));
                *renewal = Renewal::default();
                Ok(access)
            }
            Err(error) => {
                renewal.last_failure = Some((Instant::now(), error.clone()));
                match still_valid {
                    Some(cached) if error.kind() != ErrorKind::Unauthorized => {
                        tracing::warn!(error = %error, "renewing the merchant token failed; the current token serves until it expires");
                        renewal.paused_until = Some(now + RENEWAL_PAUSE);
                        Ok(cached.access.clone())
                    }
                    _ => Err(error),
                }
            }
        }
    }

    /// Refresh grant first (if a refresh token is alive), client credentials when the SSO
    /// refuses it. A transport failure of the refresh grant is not followed by a second grant.
    async fn fetch(
        &self,
        settings: &Settings,
        refresh: Option<(RefreshToken, Option<Instant>)>,
    ) -> Result<Cached, Error> {
        let alive = refresh.filter(|(_, until)| until.is_none_or(|u| Instant::now() < u));
        if let Some((refresh, _)) = alive {
            let span = tracing::info_span!(
                "pocket.token",
                grant = "refresh_token",
                attempt = tracing::field::Empty,
                status = tracing::field::Empty
            );
            match self
                .grant(settings, &[("grant_type", "refresh_token"), ("refresh_token", refresh.expose_secret())])
                .instrument(span)
                .await
            {
                Ok(cached) => return Ok(cached),
                Err(error) if matches!(error.kind(), ErrorKind::Rejected | ErrorKind::Unauthorized) => {
                    tracing::debug!(error = %error, "the refresh grant was refused; using client credentials");
                }
                Err(error) => return Err(error),
            }
        }
        let span = tracing::info_span!(
            "pocket.token",
            grant = "client_credentials",
            attempt = tracing::field::Empty,
            status = tracing::field::Empty
        );
        self.grant(settings, &[("grant_type", "client_credentials")]).instrument(span).await
    }

    /// One grant (`fields` name it first), counted by its result.
    async fn grant(&self, settings: &Settings, fields: &[(&str, &str)]) -> Result<Cached, Error> {
        let grant = fields.first().map_or("", |(_, grant)| *grant);
        let result = self.grant_once(settings, fields).await;
        let counted = match &result {
            Ok(_) => "ok",
            Err(error) if matches!(error.kind(), ErrorKind::Rejected | ErrorKind::Unauthorized) => "refused",
            Err(_) => "error",
        };
        crate::telemetry::token_fetched(grant, counted);
        result
    }

    async fn grant_once(&self, settings: &Settings, fields: &[(&str, &str)]) -> Result<Cached, Error> {
        let url = settings.environment.token_url();
        let sent_at = Instant::now();
        let outcome =
            send_with_retries(&settings.retry, "token", is_transient, || settings.realm_form(&url, fields)).await;
        let operation = "get the merchant token";
        let body = match &outcome {
            Outcome::Answered { status: 200..=299, body, .. } => body,
            failed => return Err(error_for(&operation_at(operation, &url), failed)),
        };
        read_token_answer(operation, body, sent_at, self.renew_before)
    }
}

/// The token endpoint's answer to a request sent at `sent_at`, as a cached token: every lifetime
/// clamped, and renewal `renew_before` ahead of expiry (never in the first half of a short life).
fn read_token_answer(operation: &str, body: &[u8], sent_at: Instant, renew_before: Duration) -> Result<Cached, Error> {
    let answer: TokenAnswer = decode(operation, body)?;
    if let Some(kind) = answer.token_type.as_deref().filter(|t| !t.eq_ignore_ascii_case("bearer")) {
        return Err(Error::decode(
            "token_type",
            format!("{operation}: the SSO issued a {kind:?} token, not a bearer token"),
        ));
    }
    if answer.access_token.is_empty() {
        return Err(Error::decode("access_token", format!("{operation}: the SSO's access token is empty")));
    }
    let lifetime = answer.expires_in.map_or(ASSUMED_LIFETIME, bounded_lifetime);
    let margin = renew_before.min(lifetime / 2);
    let refresh = answer.refresh_token.filter(|t| !t.is_empty()).map(|token| {
        let until = answer
            .refresh_expires_in
            .filter(|s| *s > 0)
            .map(|s| sent_at + Duration::from_secs(s).min(MAX_REFRESH_LIFETIME));
        (RefreshToken::new(token), until)
    });
    Ok(Cached {
        access: MerchantToken::new(answer.access_token),
        renew_at: sent_at + lifetime - margin,
        expires_at: sent_at + lifetime,
        expires_at_wall: SystemTime::now() + lifetime.saturating_sub(sent_at.elapsed()),
        refresh,
    })
}

#[cfg(test)]
mod tests {
    //! Property tests of the token answer's decoder: whatever the SSO sends, a cached token with
    //! sane times or a typed error — never a panic (2,000 cases; `POCKET_FUZZ_CASES=N` for more).

    use std::time::{Duration, Instant};

    use pocket_test_support::fuzz::{bytes_like, cases, json_like, laid_over};
    use proptest::prelude::*;

    use super::{LIFETIME_BOUNDS, MAX_REFRESH_LIFETIME, read_token_answer};

    const KEYS: &[&str] = &[
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
        "token_type",
        "scope",
        "not-before-policy",
    ];

    proptest! {
        #![proptest_config(cases())]

        #[test]
        fn any_token_answer(
            bytes in prop_oneof![
                bytes_like(json_like(KEYS)),
                laid_over(serde_json::json!({"access_token": "a.b.c", "expires_in": 300, "token_type": "Bearer"}), KEYS)
                    .prop_map(|answer| serde_json::to_vec(&answer).unwrap()),
            ],
            renew_before in 0u64..100_000,
        ) {
            let sent_at = Instant::now();
            let started = Instant::now();
            let read = read_token_answer("get the merchant token", &bytes, sent_at, Duration::from_secs(renew_before));
            prop_assert!(started.elapsed() < Duration::from_secs(1));
            if let Ok(cached) = read {
                let lifetime = cached.expires_at - sent_at;
                prop_assert!(lifetime >= LIFETIME_BOUNDS.0 && lifetime <= LIFETIME_BOUNDS.1, "{lifetime:?}");
                prop_assert!(cached.renew_at <= cached.expires_at && cached.renew_at >= sent_at + lifetime / 2);
                if let Some((_, Some(until))) = cached.refresh {
                    prop_assert!(until - sent_at <= MAX_REFRESH_LIFETIME);
                }
            }
        }
    }
}
