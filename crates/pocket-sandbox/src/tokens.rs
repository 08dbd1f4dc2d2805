//! Every token the realm has issued: what it is, whose it is, until when, and whether revoked.
//! The sandbox recognises its own tokens by looking them up here — exactly as strict as checking
//! the signature, session and revocation the way Keycloak does, with none of the crypto.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::TestUser;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A merchant's access token (client credentials).
    Merchant,
    /// A refresh token, of a merchant or of the wallet.
    Refresh,
    /// A wallet user's access ("ID") token.
    Consumer,
}

#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub kind: TokenKind,
    pub client_id: String,
    pub expires_at: SystemTime,
    pub revoked: bool,
    pub claims: Value,
}

/// Why a presented token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Unknown,
    Expired,
    Revoked,
    WrongKind,
}

impl Refusal {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Refusal::Unknown => "the token was not issued by this realm",
            Refusal::Expired => "the token has expired",
            Refusal::Revoked => "the token has been revoked",
            Refusal::WrongKind => "the token is not meant for this use",
        }
    }
}

/// Issued tokens, keyed by the exact token text.
#[derive(Default)]
pub(crate) struct TokenRegistry {
    issued: HashMap<String, Issued>,
}

/// Tokens are kept this long after they expire, so an expired token is reported as expired
/// rather than unknown; after that they are forgotten, which bounds memory.
const REMEMBER_EXPIRED: Duration = Duration::from_secs(3600);

impl TokenRegistry {
    pub(crate) fn insert(&mut self, token: String, issued: Issued) {
        if self.issued.len() > 10_000 {
            let horizon = SystemTime::now() - REMEMBER_EXPIRED;
            self.issued.retain(|_, t| t.expires_at > horizon);
        }
        self.issued.insert(token, issued);
    }

    /// The token's record if it is of `kind`, unexpired and not revoked.
    pub(crate) fn check(&self, token: &str, kind: TokenKind, now: SystemTime) -> Result<&Issued, Refusal> {
        let issued = self.issued.get(token).ok_or(Refusal::Unknown)?;
        if issued.kind != kind {
            return Err(Refusal::WrongKind);
        }
        if issued.revoked {
            return Err(Refusal::Revoked);
        }
        if issued.expires_at <= now {
            return Err(Refusal::Expired);
        }
        Ok(issued)
    }

    /// The record of any active token, whatever its kind (for introspection).
    pub(crate) fn active(&self, token: &str, now: SystemTime) -> Option<&Issued> {
        self.issued.get(token).filter(|t| !t.revoked && t.expires_at > now)
    }

    /// Revokes one token; returns whether it was known.
    pub(crate) fn revoke(&mut self, token: &str) -> bool {
        self.issued.get_mut(token).map(|t| t.revoked = true).is_some()
    }

    /// Revokes every merchant access and refresh token (for `client_id`, or all when `None`).
    pub(crate) fn revoke_merchant_tokens(&mut self, client_id: Option<&str>) -> usize {
        let mut count = 0;
        for issued in self.issued.values_mut() {
            let merchant = matches!(issued.kind, TokenKind::Merchant)
                || (issued.kind == TokenKind::Refresh
                    && issued.claims["sub"].as_str().is_some_and(|sub| sub.starts_with("service-account-")));
            if merchant && client_id.is_none_or(|c| c == issued.client_id) && !issued.revoked {
                issued.revoked = true;
                count += 1;
            }
        }
        count
    }
}

pub(crate) fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub(crate) fn random_id() -> String {
    let hex = |n: usize| (0..n).map(|_| format!("{:x}", fastrand::u8(..16))).collect::<String>();
    format!("{}-{}-4{}-a{}-{}", hex(8), hex(4), hex(3), hex(3), hex(12))
}

/// The claims of a merchant's access token, as Keycloak writes them for a service account.
pub(crate) fn merchant_claims(issuer: &str, client_id: &str, session: &str, now: SystemTime, life: Duration) -> Value {
    json!({
        "exp": unix(now + life),
        "iat": unix(now),
        "jti": random_id(),
        "iss": issuer,
        "aud": "account",
        "sub": format!("service-account-{client_id}"),
        "typ": "Bearer",
        "azp": client_id,
        "session_state": session,
        "sid": session,
        "acr": "1",
        "scope": "profile email",
        "clientId": client_id,
        "preferred_username": format!("service-account-{client_id}"),
    })
}

/// The claims of a refresh token.
pub(crate) fn refresh_claims(issuer: &str, client_id: &str, session: &str, now: SystemTime, life: Duration) -> Value {
    json!({
        "exp": unix(now + life),
        "iat": unix(now),
        "jti": random_id(),
        "iss": issuer,
        "aud": issuer,
        "sub": format!("service-account-{client_id}"),
        "typ": "Refresh",
        "azp": client_id,
        "session_state": session,
        "sid": session,
        "scope": "profile email",
    })
}

/// The claims of the access token the wallet receives for a mini-app after the user consents:
/// Keycloak's access-token claims, with personal claims only for the consented scopes.
pub(crate) fn consumer_claims(
    issuer: &str,
    client_id: &str,
    user: &TestUser,
    now: SystemTime,
    life: Duration,
) -> Map<String, Value> {
    let session = random_id();
    let mut claims = json!({
        "exp": unix(now + life),
        "iat": unix(now),
        "auth_time": unix(now),
        "jti": random_id(),
        "iss": issuer,
        "aud": "account",
        "sub": user.subject,
        "typ": "Bearer",
        "azp": client_id,
        "session_state": session,
        "sid": session,
        "acr": "1",
        "scope": user.scopes.join(" "),
        "preferred_username": user.username,
    });
    let has = |scope: &str| user.scopes.iter().any(|s| s == scope);
    if has("profile") {
        claims["name"] = json!(format!("{} {}", user.given_name, user.family_name));
        claims["given_name"] = json!(user.given_name);
        claims["family_name"] = json!(user.family_name);
    }
    if has("phone") {
        claims["phone_number"] = json!(user.phone_number);
        claims["phone_number_verified"] = json!(true);
    }
    if has("email") {
        claims["email"] = json!(user.email);
        claims["email_verified"] = json!(true);
    }
    match claims {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
