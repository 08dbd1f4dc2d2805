//! Where the realm's keys live between verifications.
//!
//! - Reads are lock-free (`ArcSwap`): the hot path is one atomic load and a hash lookup.
//! - An unknown kid (the realm may have rotated its key) triggers at most one JWKS fetch per
//!   cooldown, however many tokens carry unknown kids; concurrent callers share the one fetch.
//!   Kids that stayed unknown are remembered (a bounded negative cache) for the cooldown.
//! - A background task refreshes the keys with jitter, for as long as the verifier lives.
//! - When the JWKS endpoint fails, the last good keys keep serving. Only when no key was ever
//!   obtained is the answer "keys unavailable" instead of "invalid token".

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use pocket_core::{Error, ErrorKind, TokenRejection};

use crate::keys::{KeySet, VerifyingKey, parse_jwks};

/// The JWKS is small; anything larger is refused rather than buffered.
const MAX_JWKS: usize = 1024 * 1024;
/// How many unknown kids are remembered at once.
const NEGATIVE_CACHE_SIZE: usize = 1024;

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
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
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
            last_fetch: tokio::sync::Mutex::new(None),
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

    /// The key for `kid`, fetching the JWKS if the kid is new and the cooldown allows.
    pub(crate) async fn key(self: &Arc<Self>, kid: &str) -> Result<Arc<VerifyingKey>, Error> {
        if let Some(key) = self.get(kid) {
            return Ok(key);
        }
        let Some(remote) = &self.remote else {
            return Err(unknown_key());
        };
        self.start_background_refresh(remote);
        if self.recently_unknown(kid, remote.cooldown) {
            return Err(unknown_key());
        }
        let mut last_fetch = self.last_fetch.lock().await;
        if let Some(key) = self.keys.load().get(kid) {
            return Ok(key.clone());
        }
        let cooling = last_fetch.is_some_and(|at| at.elapsed() < remote.cooldown);
        let fetched = if cooling {
            None
        } else {
            *last_fetch = Some(Instant::now());
            Some(self.fetch(remote).await)
        };
        drop(last_fetch);
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
    pub(crate) async fn refresh(&self) -> Result<usize, Error> {
        let Some(remote) = &self.remote else { return Ok(self.len()) };
        let mut last_fetch = self.last_fetch.lock().await;
        *last_fetch = Some(Instant::now());
        self.fetch(remote).await.map(|()| self.len()).map_err(|cause| {
            Error::new(ErrorKind::Unavailable, format!("the signing keys could not be fetched: {cause}"))
        })
    }

    /// Fetches and installs the JWKS; on failure the current keys stay.
    async fn fetch(&self, remote: &Remote) -> Result<(), String> {
        let result = fetch_jwks(remote).await;
        match &result {
            Ok((keys, skipped)) => {
                tracing::debug!(keys = keys.len(), skipped = skipped.len(), "fetched the realm's signing keys");
                for reason in skipped {
                    tracing::debug!(%reason, "skipped a JWKS entry");
                }
            }
            Err(cause) => tracing::warn!(%cause, "fetching the realm's signing keys failed; the last good keys stay"),
        }
        let (keys, _) = result?;
        self.keys.store(Arc::new(keys));
        crate::state::lock(&self.unknown).clear();
        Ok(())
    }

    fn recently_unknown(&self, kid: &str, cooldown: Duration) -> bool {
        crate::state::lock(&self.unknown).get(kid).is_some_and(|at| at.elapsed() < cooldown)
    }

    fn remember_unknown(&self, kid: &str) {
        let mut unknown = crate::state::lock(&self.unknown);
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
                loop {
                    let jitter = interval.mul_f64(fastrand::f64() * 0.2);
                    tokio::time::sleep(interval.mul_f64(0.9) + jitter).await;
                    let Some(store) = store.upgrade() else { return };
                    let _ = store.refresh().await;
                }
            });
        });
    }
}

fn unknown_key() -> Error {
    Error::invalid_token(TokenRejection::UnknownKey, "the token's signing key (kid) is not one of the realm's keys")
}

async fn fetch_jwks(remote: &Remote) -> Result<(KeySet, Vec<String>), String> {
    let mut response = remote
        .http
        .get(&remote.url)
        .timeout(remote.timeout)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("{} did not answer: {e}", remote.url))?;
    if !response.status().is_success() {
        return Err(format!("{} answered {}", remote.url, response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("reading the JWKS failed: {e}"))? {
        if body.len() + chunk.len() > MAX_JWKS {
            return Err(format!("the JWKS is larger than {MAX_JWKS} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    let (keys, skipped) = parse_jwks(&body)?;
    if keys.is_empty() {
        return Err(format!("the JWKS has no usable RS256 signing key ({})", skipped.join("; ")));
    }
    Ok((keys, skipped))
}
