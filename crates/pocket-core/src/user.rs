//! The verified wallet user.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::{ConsumerToken, Error, ExtraClaims, TokenRejection};

/// The wallet user, from the claims of an ID token that a
/// [`ConsumerTokenVerifier`](crate::ConsumerTokenVerifier) has verified.
///
/// Which personal claims are present depends on what the user consented to share, so all of
/// them are optional. The token itself is kept (redacted in `Debug`) because creating an
/// invoice for this user needs it. `Debug` shows which personal claims are present, never their
/// values (names, phone, email, username — Pocket's usernames are phone numbers — and the other
/// claims, of which only the names are shown).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct PocketUser {
    /// The user's stable id in the realm (`sub`).
    pub subject: String,
    /// `preferred_username`.
    pub username: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `given_name`.
    pub given_name: Option<String>,
    /// `family_name`.
    pub family_name: Option<String>,
    /// `phone_number`.
    pub phone_number: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// The scopes the user consented to (`scope`, split on spaces).
    pub scopes: Vec<String>,
    /// The client the token was issued to (`azp`).
    pub authorized_party: Option<String>,
    /// The wallet session (`sid`, or Keycloak's older `session_state`).
    pub session_id: Option<String>,
    /// When the token stops being valid (`exp`).
    pub expires_at: SystemTime,
    /// Every other claim (`iss`, `iat`, `jti`, `typ`, `aud`, …), decoded when asked for.
    pub extra: ExtraClaims,
    token: ConsumerToken,
}

/// `Some` personal data, shown only as being there.
pub(crate) fn presence(value: &Option<String>) -> Option<&'static str> {
    value.as_ref().map(|_| "[PERSONAL]")
}

impl std::fmt::Debug for PocketUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PocketUser")
            .field("subject", &self.subject)
            .field("username", &presence(&self.username))
            .field("name", &presence(&self.name))
            .field("given_name", &presence(&self.given_name))
            .field("family_name", &presence(&self.family_name))
            .field("phone_number", &presence(&self.phone_number))
            .field("email", &presence(&self.email))
            .field("scopes", &self.scopes)
            .field("authorized_party", &self.authorized_party)
            .field("session_id", &self.session_id)
            .field("expires_at", &self.expires_at)
            .field("extra", &self.extra)
            .field("token", &self.token)
            .finish()
    }
}

impl PocketUser {
    /// A user with only the two required claims; a verifier fills in the other fields from the
    /// token it checked. (To read every claim from a JSON map instead, use
    /// [`from_claims`](Self::from_claims).)
    pub fn new(token: ConsumerToken, subject: impl Into<String>, expires_at: SystemTime) -> PocketUser {
        PocketUser {
            subject: subject.into(),
            username: None,
            name: None,
            given_name: None,
            family_name: None,
            phone_number: None,
            email: None,
            scopes: Vec::new(),
            authorized_party: None,
            session_id: None,
            expires_at,
            extra: ExtraClaims::default(),
            token,
        }
    }

    /// Builds the user from a verified token's claims. `sub` (a string) and `exp` (seconds since
    /// the epoch) are required; every other claim is optional, and unknown ones go to `extra`.
    ///
    /// This only reads claims: it is for verifiers, after they checked the token.
    ///
    /// ```
    /// use pocket_core::{ConsumerToken, PocketUser};
    ///
    /// let token = ConsumerToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")?;
    /// let claims = serde_json::json!({"sub": "u-1", "exp": 1_900_000_000, "given_name": "Бат", "scope": "openid phone"});
    /// let serde_json::Value::Object(claims) = claims else { unreachable!() };
    /// let user = PocketUser::from_claims(token, claims)?;
    /// assert_eq!(user.given_name.as_deref(), Some("Бат"));
    /// assert!(user.has_scope("phone"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_claims(token: ConsumerToken, mut claims: Map<String, Value>) -> Result<PocketUser, Error> {
        let malformed = |what: &str| Error::invalid_token(TokenRejection::Malformed, what.to_owned());
        let subject = match claims.remove("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub,
            _ => return Err(malformed("the token has no `sub` claim (a non-empty string)")),
        };
        let expires_at = match claims.remove("exp") {
            Some(Value::Number(exp)) => exp.as_u64().map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            _ => None,
        }
        .ok_or_else(|| malformed("the token has no `exp` claim (whole seconds since 1970)"))?;
        let mut text = |key: &str| match claims.remove(key) {
            Some(Value::String(value)) => Some(value),
            Some(other) => {
                claims.insert(key.to_owned(), other);
                None
            }
            None => None,
        };
        let username = text("preferred_username");
        let name = text("name");
        let given_name = text("given_name");
        let family_name = text("family_name");
        let phone_number = text("phone_number");
        let email = text("email");
        let authorized_party = text("azp");
        let session_id = text("sid").or_else(|| text("session_state"));
        let scopes =
            text("scope").map(|scope| scope.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
        Ok(PocketUser {
            subject,
            username,
            name,
            given_name,
            family_name,
            phone_number,
            email,
            scopes,
            authorized_party,
            session_id,
            expires_at,
            extra: claims.into(),
            token,
        })
    }

    /// The mark that shows these claims belong to a client's own token — a service account,
    /// such as the merchant's client-credentials token — rather than to a wallet user, if any:
    /// a `preferred_username` starting `service-account-` (Keycloak), a `clientId` or
    /// `client_id` claim (Keycloak, older and newer), or a subject equal to the authorized party
    /// (as other providers issue them). Marks are looked for in that order.
    ///
    /// An introspection answer has `client_id` for every token (RFC 7662 §2.2), so a verifier
    /// of introspected claims must not count that one mark; pocket-http's does not.
    ///
    /// `azp` alone is never a mark: the wallet issues a user's token to the mini-app's own
    /// client, so `azp` equal to the merchant's client id is expected of genuine users.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use pocket_core::{ConsumerToken, PocketUser};
    ///
    /// let token = ConsumerToken::new("aGVhZGVy.cGF5bG9hZA.c2ln")?;
    /// let mut user = PocketUser::new(token, "5f0c2a8e", SystemTime::now());
    /// user.authorized_party = Some("my-shop".to_owned());
    /// assert_eq!(user.service_account_mark(), None);
    /// user.username = Some("service-account-my-shop".to_owned());
    /// assert_eq!(user.service_account_mark(), Some("preferred_username"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn service_account_mark(&self) -> Option<&'static str> {
        self.mark_other_than(&[])
    }

    /// The first service-account mark that is not one of `uncounted`.
    fn mark_other_than(&self, uncounted: &[&str]) -> Option<&'static str> {
        let username = self.username.as_deref().is_some_and(|name| name.starts_with("service-account-"));
        let own_client = self.authorized_party.as_deref() == Some(self.subject.as_str());
        let marks = [
            ("preferred_username", username),
            ("sub", own_client),
            ("clientId", self.extra.contains_key("clientId")),
            ("client_id", self.extra.contains_key("client_id")),
        ];
        marks.into_iter().find(|(mark, present)| *present && !uncounted.contains(mark)).map(|(mark, _)| mark)
    }

    /// The user, or — for a client's own token (see
    /// [`service_account_mark`](Self::service_account_mark)) — an
    /// [`InvalidToken(ServiceAccount)`](crate::TokenRejection::ServiceAccount) error naming the
    /// mark. Marks in `uncounted` are not looked for: a verifier of introspected claims passes
    /// `&["client_id"]`, which RFC 7662 answers carry for every token.
    pub fn refuse_service_account(self, uncounted: &[&str]) -> Result<PocketUser, crate::Error> {
        match self.mark_other_than(uncounted) {
            Some(mark) => Err(crate::Error::invalid_token(
                crate::TokenRejection::ServiceAccount,
                format!("the token is a client's own (service account, by `{mark}`), not a wallet user's"),
            )),
            None => Ok(self),
        }
    }

    /// The ID token this user was verified from; pass it on when creating an invoice.
    pub fn token(&self) -> &ConsumerToken {
        &self.token
    }

    /// Whether the user consented to `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// A name to greet the user with: the full name, else given and family names, else the
    /// username.
    pub fn display_name(&self) -> Option<String> {
        if let Some(name) = self.name.as_ref().filter(|n| !n.trim().is_empty()) {
            return Some(name.clone());
        }
        let parts: Vec<&str> = [&self.given_name, &self.family_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|p| !p.trim().is_empty())
            .collect();
        if parts.is_empty() { self.username.clone() } else { Some(parts.join(" ")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    fn token() -> ConsumerToken {
        ConsumerToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln").unwrap()
    }

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn reads_keycloak_access_token_claims() {
        let user = PocketUser::from_claims(
            token(),
            claims(json!({
                "exp": 1_900_000_000u64, "iat": 1_899_999_400u64, "jti": "j-1",
                "iss": "http://127.0.0.1/auth/realms/invescore", "sub": "0b7c", "typ": "Bearer",
                "azp": "shop", "session_state": "s-1", "scope": "openid profile phone",
                "preferred_username": "99112233", "given_name": "Бат", "family_name": "Дорж",
                "phone_number": "99112233", "email_verified": false
            })),
        )
        .unwrap();
        assert_eq!(user.subject, "0b7c");
        assert_eq!(user.session_id.as_deref(), Some("s-1"));
        assert_eq!(user.authorized_party.as_deref(), Some("shop"));
        assert_eq!(user.scopes, ["openid", "profile", "phone"]);
        assert_eq!(user.expires_at, UNIX_EPOCH + Duration::from_secs(1_900_000_000));
        assert_eq!(user.display_name().as_deref(), Some("Бат Дорж"));
        assert_eq!(user.extra.get("typ").unwrap(), "Bearer");
        assert_eq!(user.extra.get("email_verified").unwrap(), false);
        assert!(!user.extra.contains_key("sub"));
        assert!(!format!("{user:?}").contains("eyJ"), "the token is redacted in Debug");
    }

    #[test]
    fn personal_claims_are_optional_and_odd_types_are_kept() {
        let user = PocketUser::from_claims(token(), claims(json!({"sub": "u", "exp": 5, "email": 7}))).unwrap();
        assert_eq!(user.email, None);
        assert_eq!(user.extra.get("email").unwrap(), 7);
        assert_eq!(user.display_name(), None);
        assert!(user.scopes.is_empty());
    }

    #[test]
    fn sub_and_exp_are_required() {
        for bad in [json!({"exp": 5}), json!({"sub": "", "exp": 5}), json!({"sub": 5, "exp": 5})] {
            let error = PocketUser::from_claims(token(), claims(bad)).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidToken(TokenRejection::Malformed));
            assert!(error.to_string().contains("`sub`"), "{error}");
        }
        for bad in [
            json!({"sub": "u"}),
            json!({"sub": "u", "exp": "5"}),
            json!({"sub": "u", "exp": -5}),
            json!({"sub": "u", "exp": 1e300}),
        ] {
            let error = PocketUser::from_claims(token(), claims(bad)).unwrap_err();
            assert!(error.to_string().contains("`exp`"), "{error}");
        }
    }
}
