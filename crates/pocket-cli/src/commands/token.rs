//! `pocket token verify | decode`: a wallet user's ID token, checked against the realm or shown
//! without any check. The token itself is never printed.

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pocket_core::ErrorKind;
use pocket_jwt::JwtVerifier;
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::output::{Output, Record, Tone, emit};
use crate::place::Place;

/// `pocket token verify`: the user, or why the token is rejected.
pub async fn verify(
    token: &str,
    azp: Option<String>,
    aud: Option<String>,
    place: &Place,
    out: Output,
) -> Result<(), Failure> {
    let token = super::values::secret_argument(token, "token")?;
    let mut builder = JwtVerifier::builder(&place.environment).fetch_timeout(Duration::from_secs(10));
    if let Some(azp) = azp {
        builder = builder.authorized_party(azp);
    }
    if let Some(aud) = aud {
        builder = builder.audience(aud);
    }
    let verifier = builder.build()?;
    match verifier.verify(&token).await {
        Ok(user) => {
            let (expiry, unix) = super::moment(user.expires_at);
            let record = Record::new()
                .toned("verified", "verified", true, Tone::Good)
                .field("subject", "subject", user.subject.as_str())
                .field("username", "username", user.username.clone())
                .field("name", "name", user.display_name())
                .field("phoneNumber", "phone", user.phone_number.clone())
                .field("scopes", "scopes", user.scopes.join(" "))
                .field("authorizedParty", "azp", user.authorized_party.clone())
                .field("expiresAt", "expires", if out.is_json() { unix.into() } else { Value::from(expiry) })
                .field("issuer", "issuer", place.environment.issuer());
            out.record(&record);
            Ok(())
        }
        Err(error) => match error.token_rejection() {
            Some(reason) => {
                if out.is_json() {
                    out.record(
                        &Record::new()
                            .field("verified", "verified", false)
                            .field("reason", "reason", reason.as_str())
                            .field("message", "message", error.message()),
                    );
                }
                Err(Failure::pocket(format!("the token is rejected ({}): {}", reason.as_str(), error.message())))
            }
            None if error.kind() == ErrorKind::Unavailable => Err(Failure::pocket(format!(
                "{error}\nThe realm's keys ({}) could not be fetched; nothing was verified.",
                place.environment.certs_url()
            ))),
            None => Err(error.into()),
        },
    }
}

/// Shows a token's header and claims as they are written — signature, issuer and expiry
/// unchecked — under a label that says so.
pub fn decode(token: &str, out: Output) -> Result<(), Failure> {
    let token = super::values::secret_argument(token, "token")?;
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(Failure::usage(format!(
            "not a JWT: expected three parts separated by dots, found {}",
            parts.len()
        )));
    }
    let part = |index: usize, name: &str| -> Result<Value, Failure> {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts[index].trim_end_matches('='))
            .map_err(|e| Failure::usage(format!("not a JWT: the {name} is not base64url ({e})")))?;
        serde_json::from_slice(&bytes).map_err(|e| Failure::usage(format!("not a JWT: the {name} is not JSON ({e})")))
    };
    let (header, claims) = (part(0, "header")?, part(1, "claims")?);
    if out.is_json() {
        out.record(&Record::new().json_as(json!({ "verified": false, "header": header, "claims": claims })));
        return Ok(());
    }
    out.say(&out.paint("UNVERIFIED — decoded only; nothing here is checked (use `pocket token verify`)", Tone::Warn));
    out.say(&out.paint("header", Tone::Strong));
    emit(&serde_json::to_string_pretty(&header).unwrap_or_default());
    out.say(&out.paint("claims", Tone::Strong));
    emit(&serde_json::to_string_pretty(&claims).unwrap_or_default());
    for (claim, label) in [("iat", "issued"), ("exp", "expires")] {
        if let Some(seconds) = claims.get(claim).and_then(Value::as_u64) {
            let at = UNIX_EPOCH.checked_add(Duration::from_secs(seconds));
            if let Some(at) = at {
                out.say(&format!("{label}: {}", super::moment(at).0));
            }
        }
    }
    Ok(())
}
