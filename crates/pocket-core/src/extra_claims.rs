//! The claims of a user's token that are not fields of [`PocketUser`](crate::PocketUser): kept as
//! the token carried them and decoded only when asked for — most apps never read them, and
//! decoding Keycloak's nested `realm_access` / `resource_access` on every login was most of a
//! verification's cost beyond the signature check.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::ConsumerToken;

/// A token's other claims (`iss`, `aud`, `iat`, `jti`, `typ`, roles, …), by name.
///
/// ```
/// use pocket_core::ExtraClaims;
///
/// let payload = r#"{"sub":"u-1","iss":"https://sso.example.mn/realms/x","realm_access":{"roles":["a"]}}"#;
/// let extra = ExtraClaims::from_json(payload, ["iss", "realm_access"]);
/// assert!(extra.contains_key("iss"));
/// assert_eq!(extra.get("realm_access").unwrap()["roles"][0], "a");
/// assert_eq!(extra.get("sub"), None, "a claim made into a field of the user is not extra");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ExtraClaims(Repr);

#[derive(Clone)]
enum Repr {
    /// Claims already decoded (an introspection answer, [`PocketUser::from_claims`](crate::PocketUser::from_claims)).
    Decoded(Map<String, Value>),
    /// A token's payload, a JSON object, of which the claims `names` are the extra ones.
    Payload { json: String, names: ClaimNames },
    /// A verified JWT, whose payload's claims `names` are the extra ones: the payload is decoded
    /// again only when a claim is asked for.
    Token { token: ConsumerToken, names: ClaimNames },
}

impl ExtraClaims {
    /// The extra claims `names` of `payload`, a token's verified JSON object of claims, decoded
    /// only when asked for. For verifiers: `names` are the claims of `payload` not taken into
    /// the user's fields; other claims of `payload` are not extra.
    pub fn from_json(payload: impl Into<String>, names: impl Into<ClaimNames>) -> ExtraClaims {
        ExtraClaims(Repr::Payload { json: payload.into(), names: names.into() })
    }

    /// The extra claims `names` of `token`'s payload: as [`from_json`](Self::from_json), but
    /// nothing is copied — the payload is decoded from the token (base64url, then JSON) only when
    /// a claim is asked for. For verifiers, once they have checked the token; a claim of a token
    /// whose payload is not a JSON object reads as absent.
    ///
    /// ```
    /// use pocket_core::{ConsumerToken, ExtraClaims};
    ///
    /// // {"sub":"u-1","acr":"1"}
    /// let token = ConsumerToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LTEiLCJhY3IiOiIxIn0.c2ln")?;
    /// let extra = ExtraClaims::from_token(&token, ["acr"]);
    /// assert_eq!(extra.get("acr").unwrap(), "1");
    /// # Ok::<(), pocket_core::ConsumerTokenError>(())
    /// ```
    pub fn from_token(token: &ConsumerToken, names: impl Into<ClaimNames>) -> ExtraClaims {
        ExtraClaims(Repr::Token { token: token.clone(), names: names.into() })
    }

    /// The payload's JSON text, decoded from the token if need be.
    fn json(&self) -> Option<Cow<'_, str>> {
        match &self.0 {
            Repr::Decoded(_) => None,
            Repr::Payload { json, .. } => Some(Cow::Borrowed(json)),
            Repr::Token { token, .. } => {
                let bytes = URL_SAFE_NO_PAD.decode(token.payload_part()?).ok()?;
                String::from_utf8(bytes).ok().map(Cow::Owned)
            }
        }
    }

    /// Whether the token has the claim `name` (among the extra ones).
    pub fn contains_key(&self, name: &str) -> bool {
        match &self.0 {
            Repr::Decoded(map) => map.contains_key(name),
            Repr::Payload { names, .. } | Repr::Token { names, .. } => names.contains(name),
        }
    }

    /// The claim `name`, decoded. `None` when the token has no such extra claim.
    pub fn get(&self, name: &str) -> Option<Value> {
        if let Repr::Decoded(map) = &self.0 {
            return map.get(name).cloned();
        }
        if !self.contains_key(name) {
            return None;
        }
        let json = self.json()?;
        let mut reader = serde_json::Deserializer::from_str(&json);
        reader.deserialize_map(OneClaim(name)).ok().flatten()
    }

    /// The names of the extra claims.
    pub fn keys(&self) -> Vec<&str> {
        match &self.0 {
            Repr::Decoded(map) => map.keys().map(String::as_str).collect(),
            Repr::Payload { names, .. } | Repr::Token { names, .. } => names.iter().collect(),
        }
    }

    /// How many extra claims there are.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Decoded(map) => map.len(),
            Repr::Payload { names, .. } | Repr::Token { names, .. } => names.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every extra claim, decoded.
    pub fn to_map(&self) -> Map<String, Value> {
        match &self.0 {
            Repr::Decoded(map) => map.clone(),
            Repr::Payload { names, .. } | Repr::Token { names, .. } => {
                let all: Map<String, Value> =
                    self.json().and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default();
                all.into_iter().filter(|(key, _)| names.contains(key)).collect()
            }
        }
    }
}

impl Default for ExtraClaims {
    fn default() -> Self {
        ExtraClaims(Repr::Decoded(Map::new()))
    }
}

impl From<Map<String, Value>> for ExtraClaims {
    fn from(map: Map<String, Value>) -> Self {
        ExtraClaims(Repr::Decoded(map))
    }
}

impl PartialEq for ExtraClaims {
    fn eq(&self, other: &Self) -> bool {
        self.to_map() == other.to_map()
    }
}

/// Names only: claims can hold personal data.
impl fmt::Debug for ExtraClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

/// Names of claims, kept compactly — their text one after another in one buffer — because a
/// verifier records a few dozen of them for every token it accepts.
///
/// ```
/// use pocket_core::ClaimNames;
///
/// let mut names = ClaimNames::from(["iss", "aud"]);
/// names.push("realm_access");
/// assert!(names.contains("aud") && !names.contains("au"));
/// assert_eq!(names.iter().collect::<Vec<_>>(), ["iss", "aud", "realm_access"]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClaimNames {
    text: String,
    /// Where each name ends in `text`.
    ends: Vec<usize>,
    /// A bit for each name's [`sketch`]: a name whose bit is clear is not here, without a search.
    sketches: u64,
}

/// One of 64 bits, from a name's length and its first and last bytes.
fn sketch(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let (first, last) = (bytes.first().copied().unwrap_or(0), bytes.last().copied().unwrap_or(0));
    let mixed = (bytes.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(first) << 8 ^ u64::from(last);
    1 << (mixed.wrapping_mul(0xFF51_AFD7_ED55_8CCD) >> 58)
}

impl ClaimNames {
    /// Room for `names` names of `bytes` bytes in all, allocated once.
    pub fn with_capacity(names: usize, bytes: usize) -> ClaimNames {
        ClaimNames { text: String::with_capacity(bytes), ends: Vec::with_capacity(names), sketches: 0 }
    }

    /// Adds a name (a name given twice is kept twice; [`contains`](Self::contains) tells).
    pub fn push(&mut self, name: &str) {
        self.text.push_str(name);
        self.ends.push(self.text.len());
        self.sketches |= sketch(name);
    }

    /// Whether `name` is one of them.
    pub fn contains(&self, name: &str) -> bool {
        // The sketch, then lengths: a verifier asks this for every claim of every token.
        if self.sketches & sketch(name) == 0 {
            return false;
        }
        let mut start = 0;
        self.ends.iter().any(|&end| {
            let found = end - start == name.len() && self.text.as_bytes()[start..end] == *name.as_bytes();
            start = end;
            found
        })
    }

    /// The names, in the order they were added.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.ends.iter().enumerate().map(|(index, &end)| {
            let start = index.checked_sub(1).map_or(0, |previous| self.ends[previous]);
            &self.text[start..end]
        })
    }

    /// How many names there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl<S: AsRef<str>> FromIterator<S> for ClaimNames {
    fn from_iter<I: IntoIterator<Item = S>>(names: I) -> Self {
        let mut all = ClaimNames::default();
        names.into_iter().for_each(|name| all.push(name.as_ref()));
        all
    }
}

impl<S: AsRef<str>, const N: usize> From<[S; N]> for ClaimNames {
    fn from(names: [S; N]) -> Self {
        names.into_iter().collect()
    }
}

impl<S: AsRef<str>> From<Vec<S>> for ClaimNames {
    fn from(names: Vec<S>) -> Self {
        names.into_iter().collect()
    }
}

impl fmt::Debug for ClaimNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Finds one claim in a JSON object, skipping the others without building them.
struct OneClaim<'a>(&'a str);

impl<'de> Visitor<'de> for OneClaim<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Option<Value>, A::Error> {
        let mut found = None;
        while let Some(key) = access.next_key_seed(KeyIs(self.0))? {
            if key {
                found = Some(access.next_value()?);
            } else {
                access.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether a key is the wanted one, compared without copying it when it can be borrowed.
struct KeyIs<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_payload_answers_for_its_extra_claims_only() {
        let payload = r#"{"sub": "u", "iss": "https://sso", "aud": ["a", "b"], "e\u0073c": 1,
            "realm_access": {"roles": ["offline_access"]}, "n": null}"#;
        let extra = ExtraClaims::from_json(payload, ["iss", "aud", "esc", "realm_access", "n"]);
        assert_eq!(extra.get("aud"), Some(json!(["a", "b"])));
        assert_eq!(extra.get("esc"), Some(json!(1)), "an escaped key is found");
        assert_eq!(extra.get("n"), Some(Value::Null), "a null claim is there, and null");
        assert_eq!(extra.get("sub"), None);
        assert_eq!(extra.get("missing"), None);
        assert!(extra.contains_key("realm_access") && !extra.contains_key("sub"));
        assert_eq!(extra.len(), 5);
        let map = extra.to_map();
        assert_eq!(map.len(), 5);
        assert!(!map.contains_key("sub"));
        assert_eq!(extra, ExtraClaims::from(map), "equal to the same claims decoded");
        assert_eq!(format!("{extra:?}"), r#"["iss", "aud", "esc", "realm_access", "n"]"#);
    }

    #[test]
    fn a_token_answers_like_its_payload() {
        let payload = r#"{"sub": "u", "aud": ["a", "b"], "e\u0073c": 1, "n": null}"#;
        let token =
            ConsumerToken::new(format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(payload))).unwrap();
        let names = ["aud", "esc", "n"];
        let extra = ExtraClaims::from_token(&token, names);
        assert_eq!(extra, ExtraClaims::from_json(payload, names));
        assert_eq!(extra.get("aud"), Some(json!(["a", "b"])));
        assert_eq!(extra.get("esc"), Some(json!(1)));
        assert_eq!(extra.get("sub"), None, "not among the extra claims");
        assert_eq!(extra.to_map().len(), 3);
        assert_eq!(format!("{extra:?}"), r#"["aud", "esc", "n"]"#, "names only, never the token");
        let not_json = ConsumerToken::new("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln").unwrap();
        let odd = ExtraClaims::from_token(&not_json, ["aud"]);
        assert_eq!((odd.get("aud"), odd.to_map().len(), odd.len()), (None, 0, 1), "absent, never a panic");
    }

    #[test]
    fn claim_names_keep_each_name_whole() {
        let mut names = ClaimNames::with_capacity(2, 4);
        assert!(names.is_empty() && !names.contains(""));
        for name in ["ab", "", "c", "абв", "ab"] {
            names.push(name);
        }
        assert_eq!(names.iter().collect::<Vec<_>>(), ["ab", "", "c", "абв", "ab"]);
        assert_eq!(names.len(), 5);
        assert!(names.contains("") && names.contains("абв") && !names.contains("abc") && !names.contains("b"));
        assert_eq!(format!("{names:?}"), r#"["ab", "", "c", "абв", "ab"]"#);
        assert_eq!(names, ClaimNames::from(vec!["ab", "", "c", "абв", "ab"]));
    }

    #[test]
    fn decoded_claims_behave_the_same() {
        let Value::Object(map) = json!({"iss": "x", "clientId": "shop"}) else { unreachable!() };
        let extra = ExtraClaims::from(map);
        assert_eq!(extra.get("iss"), Some(json!("x")));
        assert!(extra.contains_key("clientId"));
        assert_eq!(extra.keys(), ["clientId", "iss"]);
        assert!(ExtraClaims::default().is_empty());
    }
}
