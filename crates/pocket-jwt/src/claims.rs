//! The token's claims: decoded once into a typed struct (a repeated claim is an error), checked
//! against the verifier's rules, then turned into the `PocketUser`.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pocket_core::{ClaimNames, ConsumerToken, Error, ExtraClaims, PocketUser, TokenRejection, check_pins};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Number, Value};

/// What a token must satisfy beyond its signature.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub issuer: String,
    pub leeway: Duration,
    pub audiences: Vec<String>,
    pub authorized_parties: Vec<String>,
    pub accepted_types: Vec<String>,
    pub required_scopes: Vec<String>,
    pub accept_service_accounts: bool,
}

/// The claims that become fields of the user, typed, and the few the rules read; every claim
/// that is not a field of the user is "extra": its name is kept here, and its value stays in the
/// payload until someone asks for it ([`ExtraClaims`]). Text is borrowed from the payload where
/// it can be, so that reading a token allocates only for what the user keeps.
#[derive(Default)]
pub(crate) struct Claims<'de> {
    exp: Option<Number>,
    sub: Option<String>,
    azp: Option<String>,
    scope: Option<String>,
    sid: Option<String>,
    session_state: Option<String>,
    preferred_username: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    phone_number: Option<String>,
    email: Option<String>,
    /// Extra claims the rules read; `iss` and `typ` only as text (anything else matches nothing).
    iss: Option<Cow<'de, str>>,
    typ: Option<Cow<'de, str>>,
    aud: Option<Value>,
    nbf: Option<Value>,
    iat: Option<Value>,
    extra: ClaimNames,
}

/// Room for a Keycloak token's claims without growing.
const EXPECTED_CLAIMS: usize = 32;
const EXPECTED_NAME_BYTES: usize = 384;

impl<'de> Deserialize<'de> for Claims<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

struct ClaimsVisitor;

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = Claims<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Claims<'de>, A::Error> {
        let mut claims =
            Claims { extra: ClaimNames::with_capacity(EXPECTED_CLAIMS, EXPECTED_NAME_BYTES), ..Claims::default() };
        while let Some(ClaimName(key)) = access.next_key::<ClaimName<'de>>()? {
            let key: &str = &key;
            let field = match key {
                "sub" => &mut claims.sub,
                "azp" => &mut claims.azp,
                "scope" => &mut claims.scope,
                "sid" => &mut claims.sid,
                "session_state" => &mut claims.session_state,
                "preferred_username" => &mut claims.preferred_username,
                "name" => &mut claims.name,
                "given_name" => &mut claims.given_name,
                "family_name" => &mut claims.family_name,
                "phone_number" => &mut claims.phone_number,
                "email" => &mut claims.email,
                "exp" => {
                    if claims.exp.is_some() {
                        return Err(twice(key));
                    }
                    match access.next_value()? {
                        Value::Number(exp) => claims.exp = Some(exp),
                        _ => return Err(de::Error::custom("the `exp` claim is not a number")),
                    }
                    continue;
                }
                _ => {
                    claims.note_extra(key)?;
                    match key {
                        "iss" => claims.iss = access.next_value::<TextOrOther<'de>>()?.text(),
                        "typ" => claims.typ = access.next_value::<TextOrOther<'de>>()?.text(),
                        "aud" => claims.aud = Some(access.next_value()?),
                        "nbf" => claims.nbf = Some(access.next_value()?),
                        "iat" => claims.iat = Some(access.next_value()?),
                        // Skipped, not built: decoded only if the app asks for it.
                        _ => {
                            access.next_value::<IgnoredAny>()?;
                        }
                    }
                    continue;
                }
            };
            if field.is_some() || claims.extra.contains(key) {
                return Err(twice(key));
            }
            // A text claim of another type is kept as it came, among the extra claims.
            match access.next_value::<TextOrOther<'de>>()?.text() {
                Some(text) => *field = Some(text.into_owned()),
                None => claims.extra.push(key),
            }
        }
        Ok(claims)
    }
}

impl Claims<'_> {
    /// Records an extra claim's name; a name seen before is an error.
    fn note_extra<E: de::Error>(&mut self, key: &str) -> Result<(), E> {
        if self.extra.contains(key) {
            return Err(twice(key));
        }
        self.extra.push(key);
        Ok(())
    }
}

/// A claim's name, borrowed from the payload unless it has escapes.
struct ClaimName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for ClaimName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = ClaimName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<ClaimName<'de>, E> {
                Ok(ClaimName(Cow::Borrowed(name)))
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<ClaimName<'de>, E> {
                Ok(ClaimName(Cow::Owned(name.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// A claim that should be text: the text (borrowed from the payload unless it has escapes), or
/// the fact that it is something else — skipped, never built.
enum TextOrOther<'de> {
    Text(Cow<'de, str>),
    Other,
}

impl<'de> TextOrOther<'de> {
    fn text(self) -> Option<Cow<'de, str>> {
        match self {
            TextOrOther::Text(text) => Some(text),
            TextOrOther::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for TextOrOther<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = TextOrOther<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(TextOrOther::Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(TextOrOther::Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(TextOrOther::Text(Cow::Owned(text)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(TextOrOther::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(TextOrOther::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(TextOrOther::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(TextOrOther::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(TextOrOther::Other)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
        while items.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TextOrOther::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Self::Value, A::Error> {
        while entries.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(TextOrOther::Other)
    }
}

fn twice<E: de::Error>(key: &str) -> E {
    E::custom(format!("the claim `{key}` appears twice"))
}

fn rejected(reason: TokenRejection, why: impl Into<String>) -> Error {
    Error::invalid_token(reason, why)
}

/// A NumericDate: whole or fractional seconds since the epoch, at most 2^53.
fn seconds(number: &Number, name: &str) -> Result<u64, Error> {
    let bad = || rejected(TokenRejection::Malformed, format!("the `{name}` claim is not a time in seconds"));
    if let Some(seconds) = number.as_u64() {
        return if seconds <= 1 << 53 { Ok(seconds) } else { Err(bad()) };
    }
    match number.as_f64() {
        Some(seconds) if seconds.is_finite() && (0.0..=9_007_199_254_740_992.0).contains(&seconds) => {
            Ok(seconds as u64)
        }
        _ => Err(bad()),
    }
}

impl Claims<'_> {
    fn date(claim: &Option<Value>, name: &str) -> Result<Option<u64>, Error> {
        match claim {
            None => Ok(None),
            Some(Value::Number(number)) => seconds(number, name).map(Some),
            Some(_) => Err(rejected(TokenRejection::Malformed, format!("the `{name}` claim is not a time in seconds"))),
        }
    }

    /// Checks the claims against `rules` at time `now`; returns the expiry.
    pub(crate) fn check(&self, rules: &Rules, now: SystemTime) -> Result<u64, Error> {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let leeway = rules.leeway.as_secs();
        if self.iss.as_deref() != Some(rules.issuer.as_str()) {
            return Err(rejected(TokenRejection::WrongIssuer, "the token was not issued by this realm"));
        }
        let expires = match &self.exp {
            Some(exp) => seconds(exp, "exp")?,
            None => return Err(rejected(TokenRejection::Malformed, "the token has no `exp` claim")),
        };
        if expires.saturating_add(leeway) <= now {
            return Err(rejected(TokenRejection::Expired, "the token has expired"));
        }
        for (claim, name) in [(&self.nbf, "nbf"), (&self.iat, "iat")] {
            if Claims::date(claim, name)?.is_some_and(|at| at > now.saturating_add(leeway)) {
                return Err(rejected(TokenRejection::NotYetValid, format!("the token's `{name}` is in the future")));
            }
        }
        let typ = self.typ.as_deref().unwrap_or_default();
        if !rules.accepted_types.iter().any(|accepted| accepted.eq_ignore_ascii_case(typ)) {
            return Err(rejected(TokenRejection::WrongType, "the token is not an access token of an accepted type"));
        }
        check_pins(self.azp.as_deref(), self.aud.as_ref(), &rules.authorized_parties, &rules.audiences)?;
        if let Some(missing) = rules
            .required_scopes
            .iter()
            .find(|wanted| !self.scope.as_deref().unwrap_or_default().split_whitespace().any(|s| s == wanted.as_str()))
        {
            return Err(rejected(TokenRejection::MissingScope, format!("the scope `{missing}` was not granted")));
        }
        Ok(expires)
    }

    /// The user these (checked) claims of `token` describe — unless it is a client's own token
    /// and the rules do not accept those.
    pub(crate) fn into_user(self, rules: &Rules, token: ConsumerToken, expires: u64) -> Result<PocketUser, Error> {
        let subject = self
            .sub
            .filter(|sub| !sub.is_empty())
            .ok_or_else(|| rejected(TokenRejection::Malformed, "the token has no `sub` claim (a non-empty string)"))?;
        let extra = ExtraClaims::from_token(&token, self.extra);
        let mut user = PocketUser::new(token, subject, UNIX_EPOCH + Duration::from_secs(expires));
        user.username = self.preferred_username;
        user.name = self.name;
        user.given_name = self.given_name;
        user.family_name = self.family_name;
        user.phone_number = self.phone_number;
        user.email = self.email;
        user.scopes = self.scope.map(|scope| scope.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
        user.authorized_party = self.azp;
        user.session_id = self.sid.or(self.session_state);
        user.extra = extra;
        // A client's own token is no wallet user, unless the app says otherwise.
        if rules.accept_service_accounts { Ok(user) } else { user.refuse_service_account(&[]) }
    }
}
