//! Hand-made tokens for verifier tests: any header and payload bytes, signed by the realm's key
//! with any RSA scheme, by a foreign key, or by an EC key.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::SandboxError;
use crate::keys::RealmKey;

/// How a hand-made token is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TestSignature {
    /// RS256 with the realm's current key — what the realm itself does.
    Rs256,
    /// RS384 with the realm's current key.
    Rs384,
    /// RS512 with the realm's current key.
    Rs512,
    /// PS256 (RSA-PSS) with the realm's current key.
    Ps256,
    /// ES256 with a fresh P-256 key.
    Es256,
    /// RS256 with a fresh RSA key that is not the realm's.
    ForeignRs256,
}

/// `base64url(header).base64url(payload).base64url(signature)`.
pub(crate) fn sign(key: &RealmKey, how: TestSignature, header: &[u8], payload: &[u8]) -> Result<String, SandboxError> {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    let signature = match how {
        TestSignature::Rs256 => key.signature(&RSA_PKCS1_SHA256, input.as_bytes())?,
        TestSignature::Rs384 => key.signature(&RSA_PKCS1_SHA384, input.as_bytes())?,
        TestSignature::Rs512 => key.signature(&RSA_PKCS1_SHA512, input.as_bytes())?,
        TestSignature::Ps256 => key.signature(&RSA_PSS_SHA256, input.as_bytes())?,
        TestSignature::ForeignRs256 => RealmKey::foreign()?.signature(&RSA_PKCS1_SHA256, input.as_bytes())?,
        TestSignature::Es256 => {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| SandboxError::KeyGeneration)?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .map_err(|_| SandboxError::KeyGeneration)?;
            pair.sign(&rng, input.as_bytes()).map_err(|_| SandboxError::KeyGeneration)?.as_ref().to_vec()
        }
    };
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
