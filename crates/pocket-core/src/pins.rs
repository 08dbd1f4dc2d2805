//! Pinning a wallet token to the app: which clients (`azp`) and audiences (`aud`) it must name.
//! One rule for every verifier (pocket-jwt's, and pocket-axum's over introspection).

use serde_json::Value;

use crate::{Error, TokenRejection};

/// Checks a token's `azp` and `aud` claims against the app's pins: with `parties` given, `azp`
/// must be one of them; with `audiences` given, `aud` (a string or an array of strings) must
/// name one of them. Empty pins accept anything.
///
/// ```
/// use pocket_core::{ErrorKind, TokenRejection, check_pins};
/// use serde_json::json;
///
/// let shop = ["my-shop".to_owned()];
/// assert!(check_pins(Some("my-shop"), Some(&json!(["account", "my-shop"])), &shop, &shop).is_ok());
/// let error = check_pins(Some("other"), None, &shop, &[]).unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::InvalidToken(TokenRejection::WrongAuthorizedParty));
/// ```
pub fn check_pins(
    azp: Option<&str>,
    aud: Option<&Value>,
    parties: &[String],
    audiences: &[String],
) -> Result<(), Error> {
    if !parties.is_empty() && !azp.is_some_and(|azp| parties.iter().any(|party| party == azp)) {
        return Err(Error::invalid_token(
            TokenRejection::WrongAuthorizedParty,
            "the token was issued to another client",
        ));
    }
    if !audiences.is_empty() {
        let named: Vec<&str> = match aud {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !named.iter().any(|aud| audiences.iter().any(|wanted| wanted == aud)) {
            return Err(Error::invalid_token(
                TokenRejection::WrongAudience,
                "the token is not meant for this audience",
            ));
        }
    }
    Ok(())
}
