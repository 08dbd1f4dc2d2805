//! Where the realm's keys live between verifications.
//!
//! - Reads are lock-free (`ArcSwap`): the hot path is one atomic load and a hash lookup.
//! - An unknown kid (the realm may have rotated its key) triggers at most one JWKS fetch per
//!   cooldown after a successful fetch, however many tokens carry unknown kids; concurrent callers
//!   share the one fetch. Kids that stayed unknown are remembered (a bounded negative cache).
//! - A failed fetch is retried after a short backoff (0.5 s doubling, at most `RETRY_CAP` and the
//!   cooldown), not after the cooldown: logins work again within about a second of a blip's end.
//! - Once keys are loaded (by a verification or `refresh_keys`), a background task refreshes them
//!   with jitter for as long as the verifier lives — retrying failures with the same backoff —
//!   so a key the realm removed is dropped within one refresh interval.
//! - When the JWKS endpoint fails, the last good keys keep serving. Only when no key was ever
//!   obtained is the answer "keys unavailable" instead of "invalid token".

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use pocket_core::{Error, ErrorKind, TokenRejection};

use crate::fetch::{FetchError, fetch_json};
use crate::keys::{KeySet, VerifyingKey, parse_jwks};

/// The JWKS is small; anything larger is refused rather than buffered.
const MAX_JWKS: usize = 1024 * 1024;
/// How many unknown kids are remembered at once.
const NEGATIVE_CACHE_SIZE: usize = 1024;
/// The first wait after a failed fetch; it doubles with each failure in a row.
const FIRST_RETRY: Duration = Duration::from_millis(500);
/// The longest wait between attempts while fetches fail (also capped by the cooldown): an outage
/// of any length ends for logins at most this long after the realm is back.
const RETRY_CAP: Duration = Duration::from_secs(4);

/// When the JWKS was last fetched, and how the latest failures went.
#[derive(Default)]
struct Fetches {
    last_success: Option<Instant>,
    /// The last failed attempt and the wait before the next one; `None` after a success.
    failing: Option<(Instant, Duration)>,
}

impl Fetches {
    /// Whether a verification may fetch now: after a failure, once its backoff has passed;
    /// otherwise once the cooldown since the last success has passed.
    fn may_fetch(&self, cooldown: Duration) -> bool {
        match self.failing {
            Some((at, wait)) => at.elapsed() >= wait,
            None => self.last_success.is_none_or(|at| at.elapsed() >= cooldown),
        }
    }

    fn record(&mut self, succeeded: bool, cooldown: Duration) {
        if succeeded {
            self.last_success = Some(Instant::now());
            self.failing = None;
        } else {
            let wait = self.failing.map_or(FIRST_RETRY, |(_, wait)| (wait * 2).min(RETRY_CAP).min(cooldown));
            self.failing = Some((Instant::now(), wait));
        }
    }

    /// How long the background task waits before its next attempt.
    fn next_background_wait(&self, interval: Duration) -> Duration {
        match self.failing {
            Some((_, wait)) => wait,
            None => interval.mul_f64(0.9 + fastrand::f64() * 0.2),
        }
    }
}

pub(crate) struct Remote {
    pub url: String,
    pub http: reqwest::Client,
    pub timeout: Duration,
    pub cooldown: Duration,
    pub refresh_interval: Duration,
}

pub(crate) struct KeyStore {
    keys: ArcSwap<KeySet>,
    remote: Option<Remote>,
    fetches: tokio::sync::Mutex<Fetches>,
    unknown: Mutex<HashMap<String, Instant>>,
    background: OnceLock<()>,
}

impl KeyStore {
    pub(crate) fn fixed(keys: KeySet) -> KeyStore {
        KeyStore::new(keys, None)
    }

    pub(crate) fn remote(remote: Remote) -> KeyStore {
        KeyStore::new(KeySet::default(), Some(remote))
    }

    fn new(keys: KeySet, remote: Option<Remote>) -> KeyStore {
        KeyStore {
            keys: ArcSwap::from_pointee(keys),
            remote,
            fetches: tokio::sync::Mutex::default(),
            unknown: Mutex::default(),
            background: OnceLock::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.load().len()
    }

    /// The key for `kid` if it is held, without fetching.
    pub(crate) fn get(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.keys.load().get(kid).cloned()
    }

    /// The key for `kid`, fetching the JWKS if the kid is new and the cooldown (or, after a
    /// failure, the backoff) allows. A static key answers to any kid, or none; keys from a JWKS
    /// need the token to name one.
    pub(crate) async fn key(self: &Arc<Self>, kid: Option<&str>) -> Result<Arc<VerifyingKey>, Error> {
        {
            // One load for the hot path: a static key, or a kid already held.
            let keys = self.keys.load();
            if let Some(only) = keys.only() {
                return Ok(only.clone());
            }
            if let Some(key) = kid.and_then(|kid| keys.get(kid)) {
                return Ok(key.clone());
            }
        }
        let Some(kid) = kid else {
            return Err(Error::invalid_token(TokenRejection::Malformed, "the header has no kid"));
        };
        let Some(remote) = &self.remote else {
            return Err(unknown_key());
        };
        if self.recently_unknown(kid, remote.cooldown) {
            return Err(unknown_key());
        }
        let mut fetches = self.fetches.lock().await;
        if let Some(key) = self.keys.load().get(kid) {
            return Ok(key.clone());
        }
        let fetched =
            if fetches.may_fetch(remote.cooldown) { Some(self.fetch(remote, &mut fetches).await) } else { None };
        drop(fetches);
        if let Some(key) = self.keys.load().get(kid) {
            return Ok(key.clone());
        }
        if self.keys.load().is_empty() {
            let cause = match fetched {
                Some(Err(cause)) => cause,
                _ => "the last attempt to fetch them failed".to_owned(),
            };
            return Err(Error::new(ErrorKind::Unavailable, format!("no signing keys are available: {cause}")));
        }
        self.remember_unknown(kid);
        Err(unknown_key())
    }

    /// Fetches the JWKS now (respecting nothing but the single flight).
    pub(crate) async fn refresh(self: &Arc<Self>) -> Result<usize, Error> {
        let Some(remote) = &self.remote else { return Ok(self.len()) };
        let mut fetches = self.fetches.lock().await;
        self.fetch(remote, &mut fetches).await.map(|()| self.len()).map_err(|cause| {
            Error::new(ErrorKind::Unavailable, format!("the signing keys could not be fetched: {cause}"))
        })
    }

    /// Fetches and installs the JWKS (the caller holds the single-flight lock); on failure the
    /// current keys stay. Loaded keys start the background refresh.
    async fn fetch(self: &Arc<Self>, remote: &Remote, fetches: &mut Fetches) -> Result<(), String> {
        let result = fetch_jwks(remote).await;
        fetches.record(result.is_ok(), remote.cooldown);
        match &result {
            Ok((keys, skipped)) => {
                tracing::debug!(keys = keys.len(), skipped = skipped.len(), "fetched the realm's signing keys");
                for reason in skipped {
                    tracing::debug!(%reason, "skipped a JWKS entry");
                }
            }
            Err(cause) => tracing::warn!(%cause, "fetching the realm's signing keys failed; the last good keys stay"),
        }
        let held = result.as_ref().map_or_else(|_| self.len(), |(keys, _)| keys.len());
        crate::telemetry::jwks_fetched(result.is_ok(), held);
        let (keys, _) = result?;
        self.keys.store(Arc::new(keys));
        self.unknown.lock().clear();
        self.start_background_refresh(remote);
        Ok(())
    }

    fn recently_unknown(&self, kid: &str, cooldown: Duration) -> bool {
        self.unknown.lock().get(kid).is_some_and(|at| at.elapsed() < cooldown)
    }

    fn remember_unknown(&self, kid: &str) {
        let mut unknown = self.unknown.lock();
        if unknown.len() >= NEGATIVE_CACHE_SIZE {
            unknown.clear();
        }
        unknown.insert(kid.to_owned(), Instant::now());
    }

    /// Starts refreshing in the background, once, if running inside a tokio runtime. The task
    /// holds only a weak reference: it ends when the verifier is dropped.
    fn start_background_refresh(self: &Arc<Self>, remote: &Remote) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let interval = remote.refresh_interval;
        self.background.get_or_init(|| {
            let store: Weak<KeyStore> = Arc::downgrade(self);
            runtime.spawn(async move {
                let mut wait = interval.mul_f64(0.9 + fastrand::f64() * 0.2);
                loop {
                    tokio::time::sleep(wait).await;
                    let Some(store) = store.upgrade() else { return };
                    let _ = store.refresh().await;
                    wait = store.fetches.lock().await.next_background_wait(interval);
                }
            });
        });
    }
}

fn unknown_key() -> Error {
    Error::invalid_token(TokenRejection::UnknownKey, "the token's signing key (kid) is not one of the realm's keys")
}

async fn fetch_jwks(remote: &Remote) -> Result<(KeySet, Vec<String>), String> {
    let body = match fetch_json(&remote.http, &remote.url, remote.timeout, MAX_JWKS).await {
        Ok(body) => body,
        Err(FetchError::TooLarge(max)) => return Err(format!("the JWKS is larger than {max} bytes")),
        Err(error) => return Err(error.to_string()),
    };
    let (keys, skipped) = parse_jwks(&body)?;
    if keys.is_empty() {
        return Err(format!("the JWKS has no usable RS256 signing key ({})", skipped.join("; ")));
    }
    Ok((keys, skipped))
}
