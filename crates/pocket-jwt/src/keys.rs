//! The realm's public keys, parsed once into verification-ready form, and the JWKS parser that
//! keeps the usable ones.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{DecodingKey, DecodingKeyKind};
use serde_json::Value;

/// RSA keys shorter than this are not trusted.
const MIN_RSA_BITS: usize = 2048;

/// An RS256 public key, parsed once.
pub(crate) struct VerifyingKey {
    key: ParsedPublicKey,
}

impl VerifyingKey {
    /// Whether `signature` signs `message` under this key (RSASSA-PKCS1-v1_5 with SHA-256).
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }

    /// From a jsonwebtoken key (a JWK's `n`/`e` or a PEM's DER).
    pub(crate) fn from_decoding_key(key: &DecodingKey) -> Result<VerifyingKey, String> {
        let der = match key.kind() {
            DecodingKeyKind::RsaModulusExponent { n, e } => {
                check_size(n)?;
                pkcs1_der(n, e)
            }
            DecodingKeyKind::SecretOrDer(der) => der.clone(),
        };
        let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
            .map_err(|e| format!("not a usable RSA public key ({e}); RSA keys need at least {MIN_RSA_BITS} bits"))?;
        Ok(VerifyingKey { key })
    }

    /// From a PEM `PUBLIC KEY` or `RSA PUBLIC KEY`.
    pub(crate) fn from_pem(pem: &str) -> Result<VerifyingKey, String> {
        let key =
            DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| format!("not an RSA public key in PEM: {e}"))?;
        VerifyingKey::from_decoding_key(&key)
    }
}

fn check_size(modulus: &[u8]) -> Result<(), String> {
    let significant: Vec<u8> = modulus.iter().copied().skip_while(|b| *b == 0).collect();
    let bits = significant.first().map_or(0, |top| significant.len() * 8 - top.leading_zeros() as usize);
    if bits < MIN_RSA_BITS {
        return Err(format!("a {bits}-bit RSA key is too short; at least {MIN_RSA_BITS} bits are required"));
    }
    Ok(())
}

/// DER of a PKCS#1 `RSAPublicKey`: `SEQUENCE { INTEGER n, INTEGER e }`.
fn pkcs1_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn length(len: usize, out: &mut Vec<u8>) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    fn integer(value: &[u8], out: &mut Vec<u8>) {
        let value: Vec<u8> = value.iter().copied().skip_while(|b| *b == 0).collect();
        let pad = value.first().is_none_or(|top| top & 0x80 != 0);
        out.push(0x02);
        length(value.len() + usize::from(pad), out);
        if pad {
            out.push(0);
        }
        out.extend(value);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    integer(n, &mut body);
    integer(e, &mut body);
    let mut der = vec![0x30];
    length(body.len(), &mut der);
    der.extend(body);
    der
}

/// The keys a verifier trusts, by kid. A single static key answers to every kid.
#[derive(Default)]
pub(crate) struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    only: Option<Arc<VerifyingKey>>,
}

impl KeySet {
    pub(crate) fn single(key: VerifyingKey) -> KeySet {
        KeySet { by_kid: HashMap::new(), only: Some(Arc::new(key)) }
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&Arc<VerifyingKey>> {
        self.only.as_ref().or_else(|| self.by_kid.get(kid))
    }

    /// The static key, which answers to every kid (and to none).
    pub(crate) fn only(&self) -> Option<&Arc<VerifyingKey>> {
        self.only.as_ref()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.only.is_none() && self.by_kid.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.by_kid.len() + usize::from(self.only.is_some())
    }
}

/// Parses a JWKS document entry by entry, keeping RSA signing keys of at least 2048 bits with a
/// kid, and skipping everything else — encryption keys, other key types, entries that do not
/// parse — with the reason, so one odd entry never costs the realm its other keys.
pub(crate) fn parse_jwks(document: &[u8]) -> Result<(KeySet, Vec<String>), String> {
    let parsed: Value = serde_json::from_slice(document).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
    let Some(entries) = parsed.get("keys").and_then(Value::as_array) else {
        return Err("the JWKS has no `keys` array".to_owned());
    };
    let mut keys = KeySet::default();
    let mut skipped = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        match signing_key(entry) {
            Ok((kid, key)) => {
                keys.by_kid.insert(kid, Arc::new(key));
            }
            Err(reason) => skipped.push(format!("keys[{index}]: {reason}")),
        }
    }
    Ok((keys, skipped))
}

fn signing_key(entry: &Value) -> Result<(String, VerifyingKey), String> {
    let usage = entry.get("use").and_then(Value::as_str);
    if usage.is_some_and(|u| u != "sig") {
        return Err(format!("a key for {usage:?}, not for signatures"));
    }
    if entry.get("kty").and_then(Value::as_str) != Some("RSA") {
        return Err("not an RSA key".to_owned());
    }
    if let Some(alg) = entry.get("alg").and_then(Value::as_str).filter(|alg| *alg != "RS256") {
        return Err(format!("a key for {alg}, not RS256"));
    }
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|e| format!("not a JWK: {e}"))?;
    if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature) {
        return Err("not a signing key".to_owned());
    }
    if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
        return Err("not an RSA key".to_owned());
    }
    let kid = jwk.common.key_id.clone().filter(|kid| !kid.is_empty()).ok_or("no kid")?;
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable: {e}"))?;
    Ok((kid, VerifyingKey::from_decoding_key(&decoding)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers_are_minimal_and_positive() {
        let der = pkcs1_der(&[0x00, 0x80, 0x01], &[0x01, 0x00, 0x01]);
        assert_eq!(der, [0x30, 0x0a, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x03, 0x01, 0x00, 0x01]);
        let long = pkcs1_der(&[0x7f; 256], &[3]);
        assert_eq!(&long[..4], &[0x30, 0x82, 0x01, 0x07]);
        assert_eq!(&long[4..8], &[0x02, 0x82, 0x01, 0x00]);
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(check_size(&[0xff; 256]).is_ok());
        assert!(check_size(&[0x01; 256]).is_err(), "2041 bits");
        assert!(check_size(&[0xff; 128]).unwrap_err().contains("1024-bit"));
        assert!(check_size(&[]).is_err());
    }

    #[test]
    fn garbage_jwks_documents_are_errors_and_garbage_entries_are_skipped() {
        assert!(parse_jwks(b"not json").is_err());
        assert!(parse_jwks(b"{}").is_err());
        let (keys, skipped) = parse_jwks(br#"{"keys": [5, {"kty": "EC"}, {"kty": "RSA", "use": "enc"}, {"kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB"}]}"#).unwrap();
        assert!(keys.is_empty());
        assert_eq!(skipped.len(), 4, "{skipped:?}");
        assert!(skipped[3].contains("too short"), "{skipped:?}");
    }
}
