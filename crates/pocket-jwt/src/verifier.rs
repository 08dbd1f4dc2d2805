//! `JwtVerifier`: local verification of the wallet user's ID token.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::DecodeSliceError;
use pocket_core::{ConsumerTokenVerifier, Environment, Error, PocketUser, TokenRejection, ValidationError};

use crate::claims::{Claims, Rules};
use crate::compact::{HEADER_ON_STACK, MAX_SIGNATURE, PAYLOAD_ON_STACK, decode, decode_into, split};
use crate::keys::{KeySet, VerifyingKey, parse_jwks};
use crate::store::{KeyStore, Remote};

/// Verifies the wallet user's ID token (an RS256 JWT of the realm) locally, with the realm's
/// keys, and reads the user from it.
///
/// ```no_run
/// # async fn run(token_from_the_page: &str) -> Result<(), pocket_core::Error> {
/// use pocket_core::Environment;
/// use pocket_jwt::JwtVerifier;
///
/// let verifier = JwtVerifier::builder(&Environment::Staging).authorized_party("my-shop").build()?;
/// let user = verifier.verify(token_from_the_page).await?;
/// println!("hello, {}", user.display_name().unwrap_or_default());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<KeyStore>,
    rules: Rules,
    max_size: usize,
}

/// Where the verifier gets the realm's keys.
enum KeySource {
    Jwks(String),
    Pem(String),
    Document(String),
}

/// Builds a [`JwtVerifier`].
#[must_use]
pub struct JwtVerifierBuilder {
    rules: Rules,
    source: Option<KeySource>,
    max_size: usize,
    cooldown: Duration,
    refresh_interval: Duration,
    fetch_timeout: Duration,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for JwtVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifierBuilder").field("rules", &self.rules).finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for tokens of `environment`'s realm: the issuer is the realm URL and the keys
    /// come from the realm's JWKS. The environment is taken by value or by reference.
    pub fn builder(environment: impl Into<Environment>) -> JwtVerifierBuilder {
        let environment = environment.into();
        JwtVerifier::builder_for_issuer(environment.issuer()).jwks_url(environment.certs_url())
    }

    /// A verifier for tokens whose `iss` is exactly `issuer`. Choose the key source with
    /// [`jwks_url`](JwtVerifierBuilder::jwks_url), [`public_key_pem`](JwtVerifierBuilder::public_key_pem)
    /// or [`jwks_document`](JwtVerifierBuilder::jwks_document).
    pub fn builder_for_issuer(issuer: impl Into<String>) -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            rules: Rules {
                issuer: issuer.into(),
                leeway: Duration::from_secs(30),
                audiences: Vec::new(),
                authorized_parties: Vec::new(),
                accepted_types: vec!["Bearer".to_owned()],
                required_scopes: Vec::new(),
                accept_service_accounts: false,
            },
            source: None,
            max_size: 8 * 1024,
            cooldown: Duration::from_secs(30),
            refresh_interval: Duration::from_secs(600),
            fetch_timeout: Duration::from_secs(10),
            http: None,
        }
    }

    /// Verifies `token` and returns its user.
    ///
    /// A token that is not acceptable is an [`ErrorKind::InvalidToken`](pocket_core::ErrorKind::InvalidToken)
    /// error with the reason; having no keys to check it with is
    /// [`ErrorKind::Unavailable`](pocket_core::ErrorKind::Unavailable). Messages never contain the token.
    pub async fn verify(&self, token: &str) -> Result<PocketUser, Error> {
        let result = self.check(token).await;
        crate::telemetry::verified(&result);
        result
    }

    async fn check(&self, token: &str) -> Result<PocketUser, Error> {
        let inner = &self.inner;
        let mut header = [0; HEADER_ON_STACK];
        let compact = split(token, inner.max_size, &mut header)?;
        let key = inner.store.key(compact.kid.as_deref()).await?;
        let malformed =
            |what: &str| Error::invalid_token(TokenRejection::Malformed, format!("the {what} is not base64url"));
        let mut signature = [0; MAX_SIGNATURE];
        let length = decode_into(compact.signature, &mut signature).map_err(|e| match e {
            DecodeSliceError::OutputSliceTooSmall => Error::invalid_token(
                TokenRejection::BadSignature,
                "the signature is longer than any accepted key makes (8192 bits)",
            ),
            DecodeSliceError::DecodeError(_) => malformed("signature"),
        })?;
        if !key.verifies(compact.signed.as_bytes(), &signature[..length]) {
            return Err(Error::invalid_token(TokenRejection::BadSignature, "the token's signature does not match"));
        }
        let mut on_stack = [0; PAYLOAD_ON_STACK];
        let on_heap;
        let payload = match decode_into(compact.payload, &mut on_stack) {
            Ok(length) => &on_stack[..length],
            Err(DecodeSliceError::OutputSliceTooSmall) => {
                on_heap = decode(compact.payload).map_err(|_| malformed("payload"))?;
                &on_heap[..]
            }
            Err(DecodeSliceError::DecodeError(_)) => return Err(malformed("payload")),
        };
        let not_claims = |e: &dyn fmt::Display| {
            Error::invalid_token(TokenRejection::Malformed, format!("the claims are not a JSON object: {e}"))
        };
        let payload = std::str::from_utf8(payload).map_err(|e| not_claims(&e))?;
        let claims: Claims = serde_json::from_str(payload).map_err(|e| not_claims(&e))?;
        let expires = claims.check(&inner.rules, SystemTime::now())?;
        claims.into_user(&inner.rules, compact.token, expires)
    }

    /// Fetches the realm's keys now (they are otherwise fetched on first use and refreshed in
    /// the background); returns how many signing keys are held. Useful at start-up.
    pub async fn refresh_keys(&self) -> Result<usize, Error> {
        self.inner.store.refresh().await
    }

    /// Whether a signing key with this kid is held (a lock-free lookup; nothing is fetched).
    pub fn knows_kid(&self, kid: &str) -> bool {
        self.inner.store.get(kid).is_some()
    }

    /// How many signing keys are held.
    pub fn key_count(&self) -> usize {
        self.inner.store.len()
    }
}

#[async_trait]
impl ConsumerTokenVerifier for JwtVerifier {
    async fn verify(&self, token: &str) -> Result<PocketUser, Error> {
        JwtVerifier::verify(self, token).await
    }
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.inner.rules.issuer)
            .field("keys", &self.key_count())
            .finish_non_exhaustive()
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::from(ValidationError::Invalid { field, reason: reason.into() })
}

impl JwtVerifierBuilder {
    /// Keys from this JWKS URL (the default for [`JwtVerifier::builder`]).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.source = Some(KeySource::Jwks(url.into()));
        self
    }

    /// One static public key in PEM (the seed document's `PUBLIC_KEY`); it answers to any kid.
    pub fn public_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.source = Some(KeySource::Pem(pem.into()));
        self
    }

    /// Keys from a JWKS document held in memory; never refetched.
    pub fn jwks_document(mut self, json: impl Into<String>) -> Self {
        self.source = Some(KeySource::Document(json.into()));
        self
    }

    /// Clock tolerance for `exp`, `nbf` and `iat` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.rules.leeway = leeway;
        self
    }

    /// Accept only tokens whose `azp` is this client (call again to allow several).
    pub fn authorized_party(mut self, client_id: impl Into<String>) -> Self {
        self.rules.authorized_parties.push(client_id.into());
        self
    }

    /// Accept only tokens with this audience in `aud` (call again to allow several).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.rules.audiences.push(audience.into());
        self
    }

    /// Accept only tokens granting this scope (call again to require several).
    pub fn required_scope(mut self, scope: impl Into<String>) -> Self {
        self.rules.required_scopes.push(scope.into());
        self
    }

    /// The accepted `typ` values (default: only `Bearer`, so an ID or refresh token is refused).
    pub fn accepted_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.rules.accepted_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// Accept tokens of service accounts — a client's own client-credentials token — as users
    /// (default: refused as [`TokenRejection::ServiceAccount`](pocket_core::TokenRejection::ServiceAccount);
    /// see [`PocketUser::service_account_mark`](pocket_core::PocketUser::service_account_mark)).
    pub fn accept_service_accounts(mut self, accept: bool) -> Self {
        self.rules.accept_service_accounts = accept;
        self
    }

    /// Tokens larger than this are refused before any decoding (default 8 KiB).
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }

    /// After a successful JWKS fetch, an unknown kid triggers no new fetch for this long
    /// (default 30 s). A failed fetch is retried sooner: after 0.5 s, doubling to at most 4 s.
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// How often the keys are refreshed in the background (default 10 min, ±10 % jitter).
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval.max(Duration::from_secs(1));
        self
    }

    /// How long one JWKS fetch may take (default 10 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Use this reqwest client to fetch the JWKS.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the verifier. A PEM key or JWKS document is parsed now; a JWKS URL is fetched on
    /// first use (or by [`JwtVerifier::refresh_keys`]).
    pub fn build(self) -> Result<JwtVerifier, Error> {
        if self.rules.issuer.is_empty() {
            return Err(invalid("issuer", "the issuer must not be empty"));
        }
        if self.rules.accepted_types.is_empty() {
            return Err(invalid("accepted_types", "at least one token type must be accepted"));
        }
        let store = match self.source {
            None => return Err(invalid("key source", "choose a JWKS URL, a PEM public key or a JWKS document")),
            Some(KeySource::Pem(pem)) => {
                KeyStore::fixed(KeySet::single(VerifyingKey::from_pem(&pem).map_err(|e| invalid("public key", e))?))
            }
            Some(KeySource::Document(json)) => {
                let (keys, _) = parse_jwks(json.as_bytes()).map_err(|e| invalid("JWKS", e))?;
                if keys.is_empty() {
                    return Err(invalid("JWKS", "the document has no usable RS256 signing key"));
                }
                KeyStore::fixed(keys)
            }
            Some(KeySource::Jwks(url)) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(invalid("jwks_url", format!("{url:?} is not an http(s) URL")));
                }
                let http = match self.http {
                    Some(http) => http,
                    None => crate::fetch::default_client()?,
                };
                KeyStore::remote(Remote {
                    url,
                    http,
                    timeout: self.fetch_timeout,
                    cooldown: self.cooldown,
                    refresh_interval: self.refresh_interval,
                })
            }
        };
        Ok(JwtVerifier {
            inner: Arc::new(Inner { store: Arc::new(store), rules: self.rules, max_size: self.max_size }),
        })
    }
}
