//! A wallet user's tokens, minted and registered as the wallet would get them from Pocket's SSO.

use std::time::{Duration, SystemTime};

use pocket_core::{ConsumerToken, RefreshToken};
use serde_json::{Map, Value};

use crate::state::Shared;
use crate::tokens::{Issued, TokenKind, consumer_claims, random_id, refresh_claims};
use crate::{SandboxError, TestUser};

/// A wallet user's tokens, as `Pocket.getToken` hands them to a mini-app.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConsumerTokens {
    /// The access ("ID") token the mini-app sends to its backend.
    pub access_token: ConsumerToken,
    /// The wallet's refresh token.
    pub refresh_token: RefreshToken,
}

/// Mints and registers a wallet user's tokens for the first merchant client's mini-app.
pub(crate) fn mint(
    shared: &Shared,
    user: &TestUser,
    lifetime: Duration,
    overrides: Map<String, Value>,
) -> Result<ConsumerTokens, SandboxError> {
    let client_id = shared.config().clients[0].client_id.clone();
    let now = SystemTime::now();
    let mut claims = consumer_claims(&shared.issuer(), &client_id, user, now, lifetime);
    for (key, value) in overrides {
        if value.is_null() {
            claims.remove(&key);
        } else {
            claims.insert(key, value);
        }
    }
    let expires_at =
        claims.get("exp").and_then(Value::as_u64).map_or(now, |exp| SystemTime::UNIX_EPOCH + Duration::from_secs(exp));
    let session = claims.get("sid").and_then(Value::as_str).map_or_else(random_id, str::to_owned);
    let claims = Value::Object(claims);
    let mut refresh = refresh_claims(&shared.issuer(), &client_id, &session, now, shared.config().refresh_lifetime);
    refresh["sub"] = Value::String(user.subject.clone());
    let key = shared.keys().current();
    let access = key.sign_keycloak_style(&claims)?;
    let refresh_token = key.sign_keycloak_style(&refresh)?;
    let mut tokens = shared.tokens();
    tokens.insert(
        access.clone(),
        Issued { kind: TokenKind::Consumer, client_id: client_id.clone(), expires_at, revoked: false, claims },
    );
    let refresh_expiry = now + shared.config().refresh_lifetime;
    tokens.insert(
        refresh_token.clone(),
        Issued { kind: TokenKind::Refresh, client_id, expires_at: refresh_expiry, revoked: false, claims: refresh },
    );
    let access_token = ConsumerToken::new(access).map_err(|e| SandboxError::Token(e.to_string()))?;
    Ok(ConsumerTokens { access_token, refresh_token: RefreshToken::new(refresh_token) })
}
