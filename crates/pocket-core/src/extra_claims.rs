//! The claims of a user's token that are not fields of [`PocketUser`](crate::PocketUser): kept as
//! the token carried them and decoded only when asked for — most apps never read them, and
//! decoding Keycloak's nested `realm_access` / `resource_access` on every login was most of a
//! verification's cost beyond the signature check.

use std::fmt;

use serde::Deserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

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
    Payload { json: String, names: Vec<Box<str>> },
}

impl ExtraClaims {
    /// The extra claims `names` of `payload`, a token's verified JSON object of claims, decoded
    /// only when asked for. For verifiers: `names` are the claims of `payload` not taken into
    /// the user's fields; other claims of `payload` are not extra.
    pub fn from_json<I, S>(payload: impl Into<String>, names: I) -> ExtraClaims
    where
        I: IntoIterator<Item = S>,
        S: Into<Box<str>>,
    {
        ExtraClaims(Repr::Payload { json: payload.into(), names: names.into_iter().map(Into::into).collect() })
    }

    /// Whether the token has the claim `name` (among the extra ones).
    pub fn contains_key(&self, name: &str) -> bool {
        match &self.0 {
            Repr::Decoded(map) => map.contains_key(name),
            Repr::Payload { names, .. } => names.iter().any(|known| &**known == name),
        }
    }

    /// The claim `name`, decoded. `None` when the token has no such extra claim.
    pub fn get(&self, name: &str) -> Option<Value> {
        match &self.0 {
            Repr::Decoded(map) => map.get(name).cloned(),
            Repr::Payload { json, .. } if self.contains_key(name) => {
                let mut reader = serde_json::Deserializer::from_str(json);
                reader.deserialize_map(OneClaim(name)).ok().flatten()
            }
            Repr::Payload { .. } => None,
        }
    }

    /// The names of the extra claims.
    pub fn keys(&self) -> Vec<&str> {
        match &self.0 {
            Repr::Decoded(map) => map.keys().map(String::as_str).collect(),
            Repr::Payload { names, .. } => names.iter().map(|name| &**name).collect(),
        }
    }

    /// How many extra claims there are.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Decoded(map) => map.len(),
            Repr::Payload { names, .. } => names.len(),
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
            Repr::Payload { json, names } => {
                let all: Map<String, Value> = serde_json::from_str(json).unwrap_or_default();
                all.into_iter().filter(|(key, _)| names.iter().any(|name| **name == **key)).collect()
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
    fn decoded_claims_behave_the_same() {
        let Value::Object(map) = json!({"iss": "x", "clientId": "shop"}) else { unreachable!() };
        let extra = ExtraClaims::from(map);
        assert_eq!(extra.get("iss"), Some(json!("x")));
        assert!(extra.contains_key("clientId"));
        assert_eq!(extra.keys(), ["clientId", "iss"]);
        assert!(ExtraClaims::default().is_empty());
    }
}
