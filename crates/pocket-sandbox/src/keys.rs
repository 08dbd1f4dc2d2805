//! The realm's RSA keys: signing, the JWKS document, and rotation with a grace period.

use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use std::time::{Duration, SystemTime};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaEncoding};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::SandboxError;

/// One RSA key of the realm.
pub(crate) struct RealmKey {
    kid: String,
    pair: Arc<KeyPair>,
}

/// RSA key generation takes a fifth of a second or more; every sandbox in a process starts with
/// the same key material (under its own random kid) so that starting one stays fast. Rotation
/// always generates new material.
fn shared_initial_key() -> Result<Arc<KeyPair>, SandboxError> {
    static SHARED: OnceLock<Mutex<Option<Arc<KeyPair>>>> = OnceLock::new();
    let mut slot = SHARED.get_or_init(|| Mutex::new(None)).lock();
    if let Some(pair) = slot.as_ref() {
        return Ok(pair.clone());
    }
    let pair = Arc::new(generate_pair()?);
    *slot = Some(pair.clone());
    Ok(pair)
}

fn generate_pair() -> Result<KeyPair, SandboxError> {
    KeyPair::generate(KeySize::Rsa2048).map_err(|_| SandboxError::KeyGeneration)
}

impl RealmKey {
    fn generate() -> Result<RealmKey, SandboxError> {
        Ok(RealmKey { kid: random_kid(), pair: Arc::new(generate_pair()?) })
    }

    fn initial() -> Result<RealmKey, SandboxError> {
        Ok(RealmKey { kid: random_kid(), pair: shared_initial_key()? })
    }

    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK of the public half with `use` and `alg` as Keycloak publishes them.
    fn jwk(&self, kid: &str, usage: &str, alg: &str) -> Value {
        let public = self.pair.public_key();
        json!({
            "kid": kid,
            "kty": "RSA",
            "alg": alg,
            "use": usage,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// The public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), the form the seed calls PUBLIC_KEY.
    pub(crate) fn public_pem(&self) -> Result<String, SandboxError> {
        let der = self.pair.public_key().as_der().map_err(|_| SandboxError::KeyGeneration)?;
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
        Ok(format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n")))
    }

    /// Signs `header.payload` (both JSON) with RS256 and returns the compact JWT.
    pub(crate) fn sign(&self, header: &Value, payload: &Value) -> Result<String, SandboxError> {
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
        self.sign_input(signing_input)
    }

    /// Signs a token whose header is written exactly as Keycloak writes it (with its odd spaces).
    pub(crate) fn sign_keycloak_style(&self, payload: &Value) -> Result<String, SandboxError> {
        let header = format!(r#"{{"alg":"RS256","typ" : "JWT","kid" : "{}"}}"#, self.kid);
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload.to_string()));
        self.sign_input(signing_input)
    }

    fn sign_input(&self, signing_input: String) -> Result<String, SandboxError> {
        let signature = self.signature(&RSA_PKCS1_SHA256, signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// An RSA signature of `message` with `padding` (PKCS#1 v1.5 or PSS, any SHA-2).
    pub(crate) fn signature(&self, padding: &'static dyn RsaEncoding, message: &[u8]) -> Result<Vec<u8>, SandboxError> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(padding, &SystemRandom::new(), message, &mut signature)
            .map_err(|_| SandboxError::KeyGeneration)?;
        Ok(signature)
    }

    /// A key of its own, not the realm's: for tokens signed by someone else.
    pub(crate) fn foreign() -> Result<RealmKey, SandboxError> {
        RealmKey::generate()
    }
}

fn random_kid() -> String {
    let bytes: Vec<u8> = (0..32).map(|_| fastrand::u8(..)).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The realm's current signing key, the keys retired by rotation that still verify until their
/// grace period ends, and an encryption key entry as Keycloak publishes one.
pub(crate) struct KeyRing {
    current: Arc<RealmKey>,
    retired: Vec<(Arc<RealmKey>, SystemTime)>,
    enc_kid: String,
}

impl KeyRing {
    pub(crate) fn new() -> Result<KeyRing, SandboxError> {
        Ok(KeyRing { current: Arc::new(RealmKey::initial()?), retired: Vec::new(), enc_kid: random_kid() })
    }

    pub(crate) fn current(&self) -> Arc<RealmKey> {
        self.current.clone()
    }

    /// Makes a new key current; the old one stays in the JWKS for `grace`.
    pub(crate) fn rotate(&mut self, now: SystemTime, grace: Duration) -> Result<(), SandboxError> {
        let next = Arc::new(RealmKey::generate()?);
        let old = std::mem::replace(&mut self.current, next);
        self.retired.push((old, now + grace));
        // The encryption entry carries the current key's material, so it is a new key too: a
        // kid always names the same key material, as JWKS consumers that cache by kid assume.
        self.enc_kid = random_kid();
        Ok(())
    }

    /// The JWKS document: signing keys (current first, then retired ones still in their grace
    /// period) and the encryption key entry. Keycloak's entry for the encryption key carries the
    /// material of an RSA-OAEP key; here it reuses the current key's public half under its own
    /// kid (a new one at every rotation), so a verifier that forgets to skip `use: enc` keys is
    /// caught by the tests.
    pub(crate) fn jwks(&mut self, now: SystemTime) -> Value {
        self.retired.retain(|(_, until)| *until > now);
        let mut keys = vec![self.current.jwk(&self.current.kid, "sig", "RS256")];
        keys.extend(self.retired.iter().map(|(key, _)| key.jwk(&key.kid, "sig", "RS256")));
        keys.push(self.current.jwk(&self.enc_kid, "enc", "RSA-OAEP"));
        json!({ "keys": keys })
    }

    pub(crate) fn enc_kid(&self) -> &str {
        &self.enc_kid
    }
}
