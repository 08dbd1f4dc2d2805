//! The token's claims: decoded once (a repeated claim is an error), then checked against the
//! verifier's rules.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pocket_core::{Error, TokenRejection};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// What a token must satisfy beyond its signature.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub issuer: String,
    pub leeway: Duration,
    pub audiences: Vec<String>,
    pub authorized_parties: Vec<String>,
    pub accepted_types: Vec<String>,
    pub required_scopes: Vec<String>,
}

/// The claims, every key at most once.
pub(crate) struct Claims(pub Map<String, Value>);

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(UniqueKeys)
    }
}

struct UniqueKeys;

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = Claims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Claims, A::Error> {
        let mut claims = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if claims.contains_key(&key) {
                return Err(de::Error::custom(format!("the claim `{key}` appears twice")));
            }
            let value: Value = access.next_value()?;
            claims.insert(key, value);
        }
        Ok(Claims(claims))
    }
}

fn rejected(reason: TokenRejection, why: impl Into<String>) -> Error {
    Error::invalid_token(reason, why)
}

/// A NumericDate: seconds since the epoch, a JSON number no larger than 2^53 (fractions allowed).
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, Error> {
    let Some(value) = claims.get(name) else { return Ok(None) };
    let bad = || rejected(TokenRejection::Malformed, format!("the `{name}` claim is not a time in seconds"));
    let Value::Number(number) = value else { return Err(bad()) };
    if let Some(seconds) = number.as_u64() {
        return (seconds <= 1 << 53).then_some(Some(seconds)).ok_or_else(bad);
    }
    match number.as_f64() {
        Some(seconds) if seconds.is_finite() && (0.0..=9_007_199_254_740_992.0).contains(&seconds) => {
            Ok(Some(seconds as u64))
        }
        _ => Err(bad()),
    }
}

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

impl Claims {
    /// Checks the claims against `rules` at time `now`.
    pub(crate) fn check(&self, rules: &Rules, now: SystemTime) -> Result<(), Error> {
        let claims = &self.0;
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let leeway = rules.leeway.as_secs();
        if text(claims, "iss") != Some(rules.issuer.as_str()) {
            return Err(rejected(TokenRejection::WrongIssuer, "the token was not issued by this realm"));
        }
        let expires = numeric_date(claims, "exp")?
            .ok_or_else(|| rejected(TokenRejection::Malformed, "the token has no `exp` claim"))?;
        if expires.saturating_add(leeway) <= now {
            return Err(rejected(TokenRejection::Expired, "the token has expired"));
        }
        for name in ["nbf", "iat"] {
            if numeric_date(claims, name)?.is_some_and(|at| at > now.saturating_add(leeway)) {
                return Err(rejected(TokenRejection::NotYetValid, format!("the token's `{name}` is in the future")));
            }
        }
        let typ = text(claims, "typ").unwrap_or_default();
        if !rules.accepted_types.iter().any(|accepted| accepted.eq_ignore_ascii_case(typ)) {
            return Err(rejected(TokenRejection::WrongType, "the token is not an access token of an accepted type"));
        }
        if !rules.authorized_parties.is_empty()
            && !text(claims, "azp").is_some_and(|azp| rules.authorized_parties.iter().any(|p| p == azp))
        {
            return Err(rejected(TokenRejection::WrongAuthorizedParty, "the token was issued to another client"));
        }
        if !rules.audiences.is_empty() {
            let audiences: Vec<&str> = match claims.get("aud") {
                Some(Value::String(aud)) => vec![aud.as_str()],
                Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !audiences.iter().any(|aud| rules.audiences.iter().any(|wanted| wanted == aud)) {
                return Err(rejected(TokenRejection::WrongAudience, "the token is not meant for this audience"));
            }
        }
        if !rules.required_scopes.is_empty() {
            let granted: Vec<&str> = text(claims, "scope").unwrap_or_default().split_whitespace().collect();
            if let Some(missing) = rules.required_scopes.iter().find(|s| !granted.contains(&s.as_str())) {
                return Err(rejected(TokenRejection::MissingScope, format!("the scope `{missing}` was not granted")));
            }
        }
        Ok(())
    }
}
