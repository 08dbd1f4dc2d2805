//! The compact JWT form, checked before any crypto: size, three base64url parts, and a header
//! this verifier is willing to act on.

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::engine::Simd;
use base64::engine::general_purpose::NO_PAD;
use base64::{DecodeError, DecodeSliceError, Engine};
use pocket_core::{ConsumerToken, Error, TokenRejection};

use serde::Deserialize;
use serde::de::IgnoredAny;

fn malformed(why: impl Into<String>) -> Error {
    Error::invalid_token(TokenRejection::Malformed, why)
}

/// The base64url engine for a token's parts: SIMD where the CPU has it (AVX2, NEON), the scalar
/// engine otherwise; no padding, no stray trailing bits — the same rules either way.
static BASE64URL: LazyLock<Simd> = LazyLock::new(|| Simd::url_safe(NO_PAD));

/// The longest RS256 signature any accepted key makes: 8192 bits.
pub(crate) const MAX_SIGNATURE: usize = 1024;

/// Headers up to this size (a Keycloak header is under 100 bytes) are decoded on the stack.
pub(crate) const HEADER_ON_STACK: usize = 256;

/// Payloads up to this size (most tokens') are decoded on the stack; larger ones on the heap.
pub(crate) const PAYLOAD_ON_STACK: usize = 2048;

/// A token split into its parts, the header read.
pub(crate) struct Compact<'a> {
    /// `header.payload`, the signed bytes.
    pub signed: &'a str,
    pub payload: &'a str,
    pub signature: &'a str,
    /// The key id; keys from a JWKS need one, a static PEM key ignores it.
    pub kid: Option<Cow<'a, str>>,
    /// The whole token, shape-checked once here, for the user it may become.
    pub token: ConsumerToken,
}

/// The header fields this verifier reads. Unknown fields are ignored; a repeated field is an error.
/// The refused fields are only noticed, never parsed.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    crit: Option<IgnoredAny>,
    jku: Option<IgnoredAny>,
    x5u: Option<IgnoredAny>,
    jwk: Option<IgnoredAny>,
    x5c: Option<IgnoredAny>,
    cty: Option<IgnoredAny>,
}

/// Splits and checks a token. Refused here, before base64 decoding of anything but the header:
/// a token over `max_size` bytes, anything but three non-empty base64url parts (so `=` padding,
/// `+` `/` and whitespace are refused), a header that is not a JSON object, an algorithm other
/// than RS256, and the headers `crit` (unsupported extensions), `jku`, `x5u`,
/// `jwk`, `x5c` (a token naming its own key — never fetched, never trusted) and `cty` (nested
/// tokens). The header is decoded into `scratch` when it fits.
pub(crate) fn split<'a>(
    token: &'a str,
    max_size: usize,
    scratch: &'a mut [u8; HEADER_ON_STACK],
) -> Result<Compact<'a>, Error> {
    if token.len() > max_size {
        return Err(Error::invalid_token(
            TokenRejection::TooLarge,
            format!("the token is {} bytes; at most {max_size} are accepted", token.len()),
        ));
    }
    let checked = ConsumerToken::new(token).map_err(|e| malformed(e.to_string()))?;
    // The shape check found exactly two dots; the signature, at the end, is the short part.
    let (Some(first_dot), Some(last_dot)) = (token.find('.'), token.rfind('.')) else {
        return Err(malformed("the token does not have three parts"));
    };
    let (header, signed) = (&token[..first_dot], &token[..last_dot]);
    let (payload, signature) = (&token[first_dot + 1..last_dot], &token[last_dot + 1..]);
    let not_base64 = || malformed("the header is not base64url");
    let kid = match decode_into(header, scratch) {
        Ok(length) => read_header(&scratch[..length])?,
        Err(DecodeSliceError::OutputSliceTooSmall) => {
            let bytes = decode(header).map_err(|_| not_base64())?;
            read_header(&bytes)?.map(|kid| Cow::Owned(kid.into_owned()))
        }
        Err(DecodeSliceError::DecodeError(_)) => return Err(not_base64()),
    };
    Ok(Compact { signed, payload, signature, kid, token: checked })
}

/// Reads a decoded header: checks it as `split` says and returns its kid.
fn read_header(bytes: &[u8]) -> Result<Option<Cow<'_, str>>, Error> {
    let header: Header =
        serde_json::from_slice(bytes).map_err(|e| malformed(format!("the header is not a JSON object: {e}")))?;
    match header.alg.as_deref() {
        Some("RS256") => {}
        Some(other) => {
            return Err(Error::invalid_token(
                TokenRejection::UnsupportedAlgorithm,
                format!(
                    "the algorithm {:?} is not accepted; only RS256 is",
                    other.chars().take(16).collect::<String>()
                ),
            ));
        }
        None => {
            return Err(Error::invalid_token(TokenRejection::UnsupportedAlgorithm, "the header names no algorithm"));
        }
    }
    let refused = [
        ("crit", header.crit.is_some()),
        ("jku", header.jku.is_some()),
        ("x5u", header.x5u.is_some()),
        ("jwk", header.jwk.is_some()),
        ("x5c", header.x5c.is_some()),
        ("cty", header.cty.is_some()),
    ];
    if let Some((name, _)) = refused.iter().find(|(_, present)| *present) {
        return Err(malformed(format!("the header field `{name}` is not accepted")));
    }
    Ok(header.kid.filter(|kid| !kid.is_empty()))
}

/// Decodes one part of a token.
pub(crate) fn decode(part: &str) -> Result<Vec<u8>, DecodeError> {
    BASE64URL.decode(part)
}

/// Decodes one part of a token into `out` (a buffer on the caller's stack), returning its
/// length; a part that does not fit is `OutputSliceTooSmall` — for the signature, one longer than
/// any accepted key makes.
pub(crate) fn decode_into<const N: usize>(part: &str, out: &mut [u8; N]) -> Result<usize, DecodeSliceError> {
    BASE64URL.decode_slice(part, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        BASE64URL.encode(json)
    }

    fn token(header: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(r#"{"sub":"x"}"#))
    }

    fn reason(token: &str) -> Option<TokenRejection> {
        split(token, 8192, &mut [0; HEADER_ON_STACK]).err().and_then(|e| e.token_rejection())
    }

    #[test]
    fn a_good_header_passes_and_keeps_the_signed_part() {
        let t = token(r#"{"alg":"RS256","typ" : "JWT","kid" : "k1"}"#);
        let mut scratch = [0; HEADER_ON_STACK];
        let compact = split(&t, 8192, &mut scratch).unwrap();
        assert_eq!(compact.kid.as_deref(), Some("k1"));
        assert_eq!(compact.signature, "c2ln");
        assert_eq!(format!("{}.c2ln", compact.signed), t);
    }

    #[test]
    fn shape_errors_are_malformed() {
        let good = token(r#"{"alg":"RS256","kid":"k"}"#);
        use TokenRejection::Malformed;
        assert_eq!(reason("a.b"), Some(Malformed));
        assert_eq!(reason(&format!("{good}.d")), Some(Malformed));
        assert_eq!(reason(&format!(" {good}")), Some(Malformed));
        assert_eq!(reason(&format!("{good}=")), Some(Malformed));
        assert_eq!(reason(&good.replacen('c', "+", 1)), Some(Malformed));
        assert_eq!(reason(&format!("{}..c2ln", b64(r#"{"alg":"RS256","kid":"k"}"#))), Some(Malformed));
        assert_eq!(reason(&token(r#"[1]"#)), Some(Malformed));
        assert_eq!(reason(&token(r#"{"alg":"RS256","kid":"k","kid":"j"}"#)), Some(Malformed));
        // No kid is the key store's business: a static key needs none, a JWKS does.
        let mut scratch = [0; HEADER_ON_STACK];
        assert_eq!(split(&token(r#"{"alg":"RS256"}"#), 8192, &mut scratch).unwrap().kid, None);
        assert_eq!(split(&token(r#"{"alg":"RS256","kid":""}"#), 8192, &mut scratch).unwrap().kid, None);
        // A header too large for the stack is read from the heap, with the same result.
        let padded = format!(r#"{{"alg":"RS256","kid":"k\u0032","x-pad":"{}"}}"#, "p".repeat(400));
        assert_eq!(split(&token(&padded), 8192, &mut scratch).unwrap().kid.as_deref(), Some("k2"));
        let escaped = r#"{"alg":"RS256","kid":"k\u0032"}"#;
        assert_eq!(split(&token(escaped), 8192, &mut scratch).unwrap().kid.as_deref(), Some("k2"));
    }

    #[test]
    fn only_rs256_is_accepted() {
        for alg in ["none", "None", "HS256", "RS384", "PS256", "ES256", "rs256"] {
            let header = format!(r#"{{"alg":"{alg}","kid":"k"}}"#);
            assert_eq!(reason(&token(&header)), Some(TokenRejection::UnsupportedAlgorithm), "{alg}");
        }
        assert_eq!(reason(&token(r#"{"kid":"k"}"#)), Some(TokenRejection::UnsupportedAlgorithm));
    }

    #[test]
    fn key_urls_and_extensions_in_the_header_are_refused() {
        for field in [
            r#""crit":["exp"]"#,
            r#""jku":"https://evil""#,
            r#""x5u":"https://evil""#,
            r#""jwk":{"kty":"RSA"}"#,
            r#""x5c":["MII"]"#,
            r#""cty":"JWT""#,
        ] {
            let header = format!(r#"{{"alg":"RS256","kid":"k",{field}}}"#);
            assert_eq!(reason(&token(&header)), Some(TokenRejection::Malformed), "{header}");
        }
    }

    #[test]
    fn size_is_checked_first() {
        let huge = "a".repeat(1024 * 1024);
        assert_eq!(reason(&huge), Some(TokenRejection::TooLarge));
        let error = split(&huge, 8192, &mut [0; HEADER_ON_STACK]).err().unwrap();
        assert!(!error.to_string().contains("aaaa"), "never echoes the token");
    }
}
