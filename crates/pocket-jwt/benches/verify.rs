//! Verifying a Keycloak-shaped RS256 token of about 1.5 KB, three ways, in the same run:
//! (a) the bare RSA-2048 signature check with a pre-parsed key — the floor;
//! (b) `jsonwebtoken::decode` with a prebuilt `DecodingKey` into the same claims (a JSON map);
//! (c) `JwtVerifier::verify` with a warm key store — every check of this crate included.
//! Then (c) and (a) interleaved, block by block, for a ratio that machine drift cannot skew; each
//! phase of (c) on its own; the key lookup on its own.
//!
//! cargo bench -p pocket-jwt --bench verify

use std::hint::black_box;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pocket_jwt::JwtVerifier;
use pocket_sandbox::{Sandbox, TestSignature};
use serde_json::{Map, Value, json};

fn keycloak_claims(issuer: &str) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    json!({
        "exp": now + 3600, "iat": now, "auth_time": now, "jti": "5f1c2b7e-9d43-4c1e-8a6b-2f0d9e8c7b6a",
        "iss": issuer, "aud": "account", "sub": "5f0c2a8e-7b1d-4c39-9a57-3e8d2b6f1c04", "typ": "Bearer",
        "azp": "sandbox-merchant", "session_state": "0c9e7a52-1b3d-4f6e-8a9b-7c5d3e1f2a4b",
        "acr": "1", "allowed-origins": ["https://shop.example.mn"],
        "realm_access": {"roles": ["offline_access", "default-roles-invescore", "uma_authorization"]},
        "resource_access": {"account": {"roles": ["manage-account", "manage-account-links", "view-profile"]}},
        "scope": "openid profile email phone", "sid": "0c9e7a52-1b3d-4f6e-8a9b-7c5d3e1f2a4b",
        "email_verified": true, "phone_number_verified": true,
        "name": "Бат-Эрдэнэ Дорж", "preferred_username": "99112233", "given_name": "Бат-Эрдэнэ",
        "family_name": "Дорж", "email": "bat-erdene@example.mn", "phone_number": "99112233",
        "locale": "mn", "wallet_tier": "gold", "kyc_level": 2
    })
}

/// Calls of (a), then of (c), per block of the interleaved measurement.
const BLOCK: u64 = 20;

fn verification(c: &mut Criterion) {
    // This benchmark's dev-dependencies compile both jsonwebtoken backends; (b) needs one chosen.
    let _ = CryptoProvider::install_default(&jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let sandbox = runtime.block_on(Sandbox::start()).unwrap();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": sandbox.signing_kid()});
    let claims = keycloak_claims(&sandbox.realm_url());
    let token = sandbox
        .sign_token_with(TestSignature::Rs256, header.to_string().as_bytes(), claims.to_string().as_bytes())
        .unwrap();
    eprintln!("token size: {} bytes", token.len());

    let jwks: Value = runtime.block_on(async {
        serde_json::from_str(&reqwest::get(sandbox.environment().certs_url()).await.unwrap().text().await.unwrap())
            .unwrap()
    });
    let key = &jwks["keys"][0];
    let (n, e) = (key["n"].as_str().unwrap(), key["e"].as_str().unwrap());

    // (a) the floor: the RSA check alone, key parsed once.
    let pem = sandbox.public_key_pem().unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
        .unwrap();
    let parsed = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();

    // (b) jsonwebtoken with a prebuilt key and the same rules.
    let decoding_key = DecodingKey::from_rsa_components(n, e).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[sandbox.realm_url()]);
    validation.set_audience(&["account"]);
    validation.leeway = 30;

    // (c) this crate, keys warm.
    let verifier = JwtVerifier::builder(sandbox.environment()).build().unwrap();
    runtime.block_on(verifier.verify(&token)).expect("the token verifies");
    assert!(jsonwebtoken::decode::<Map<String, Value>>(&token, &decoding_key, &validation).is_ok());

    let mut group = c.benchmark_group("verify RS256 ~1.5 KB");
    group.bench_function("(a) bare RSA-2048 check, pre-parsed key", |b| {
        b.iter(|| black_box(parsed.verify_sig(black_box(signed.as_bytes()), black_box(&signature)).is_ok()))
    });
    group.bench_function("(b) jsonwebtoken::decode, prebuilt DecodingKey", |b| {
        b.iter(|| {
            black_box(
                jsonwebtoken::decode::<Map<String, Value>>(black_box(&token), &decoding_key, &validation).unwrap(),
            )
        })
    });
    let local = tokio::runtime::Builder::new_current_thread().build().unwrap();
    group.bench_function("(c) JwtVerifier::verify, warm keys", |b| {
        b.to_async(&local).iter(|| async { black_box(verifier.verify(black_box(&token)).await.unwrap()) })
    });
    group.finish();

    // (c) against (a) in alternating blocks of calls: on a machine whose speed drifts between
    // benchmarks (this one's medians move ±15 % from run to run), only calls measured side by
    // side give a ratio that means something. Criterion reports (c)'s time; the ratio goes to
    // stderr: the median over blocks, with the 10th and 90th percentiles.
    let mut interleaved = c.benchmark_group("verify RS256 ~1.5 KB, interleaved");
    let ratios = std::cell::RefCell::new(Vec::new());
    interleaved.bench_function("(c) JwtVerifier::verify beside (a)", |b| {
        b.iter_custom(|iters| {
            let mut spent = std::time::Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let block = left.min(BLOCK);
                left -= block;
                let started = std::time::Instant::now();
                for _ in 0..block {
                    black_box(parsed.verify_sig(black_box(signed.as_bytes()), black_box(&signature)).is_ok());
                }
                let bare = started.elapsed();
                let started = std::time::Instant::now();
                local.block_on(async {
                    for _ in 0..block {
                        black_box(verifier.verify(black_box(&token)).await.unwrap());
                    }
                });
                let ours = started.elapsed();
                spent += ours;
                if block == BLOCK {
                    ratios.borrow_mut().push((ours.as_secs_f64(), bare.as_secs_f64()));
                }
            }
            spent
        })
    });
    interleaved.finish();
    let blocks = ratios.into_inner();
    if !blocks.is_empty() {
        let mut ratios: Vec<f64> = blocks.iter().map(|(ours, bare)| ours / bare).collect();
        ratios.sort_by(f64::total_cmp);
        let at = |share: f64| ratios[((ratios.len() - 1) as f64 * share) as usize];
        // The fastest blocks of each are the ones no other work on the machine slowed down.
        let fastest = |pick: fn(&(f64, f64)) -> f64| blocks.iter().map(pick).fold(f64::MAX, f64::min);
        eprintln!(
            "(c) / (a), interleaved: median {:.3} (p10 {:.3}, p90 {:.3}) over {} blocks of {BLOCK} calls each; \
             fastest block against fastest block {:.3}",
            at(0.5),
            at(0.1),
            at(0.9),
            ratios.len(),
            fastest(|(ours, _)| *ours) / fastest(|(_, bare)| *bare),
        );
    }

    // Where (c)'s time goes: each phase on its own, with the same primitives on the same token.
    let mut phases = c.benchmark_group("verify phases");
    let (header_b64, rest) = token.split_once('.').unwrap();
    let (payload_b64, signature_b64) = rest.split_once('.').unwrap();
    let payload = URL_SAFE_NO_PAD.decode(payload_b64).unwrap();
    phases.bench_function("1 shape check (alphabet, three parts)", |b| {
        b.iter(|| black_box(pocket_core::ConsumerToken::check_shape(black_box(&token)).is_ok()))
    });
    // The verifier's engine: SIMD where the CPU has it, into buffers on the stack.
    let simd = base64::engine::Simd::url_safe(base64::engine::general_purpose::NO_PAD);
    phases.bench_function("2 header: base64url (SIMD, stack) + JSON", |b| {
        b.iter(|| {
            let mut out = [0; 256];
            let length = simd.decode_slice(black_box(header_b64), &mut out).unwrap();
            black_box(serde_json::from_slice::<Map<String, Value>>(&out[..length]).unwrap())
        })
    });
    phases.bench_function("3 signature: base64url (SIMD, stack)", |b| {
        b.iter(|| {
            let mut out = [0; 1024];
            black_box(simd.decode_slice(black_box(signature_b64), &mut out).unwrap())
        })
    });
    phases.bench_function("4 payload: base64url (SIMD, stack)", |b| {
        b.iter(|| {
            let mut out = [0; 2048];
            black_box(simd.decode_slice(black_box(payload_b64), &mut out).unwrap())
        })
    });
    phases.bench_function("4b payload: base64url (scalar engine, heap — before)", |b| {
        b.iter(|| black_box(URL_SAFE_NO_PAD.decode(black_box(payload_b64)).unwrap()))
    });
    phases.bench_function("5 claims: JSON scanned, nothing built (a floor for reading the claims)", |b| {
        b.iter(|| black_box(serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&payload)).unwrap()))
    });
    phases.bench_function("5b claims: every claim built as a JSON Value (what `extra` used to cost)", |b| {
        b.iter(|| black_box(serde_json::from_slice::<Map<String, Value>>(black_box(&payload)).unwrap()))
    });
    phases.finish();

    let kid = sandbox.signing_kid();
    c.bench_function("key lookup by kid", |b| b.iter(|| black_box(verifier.knows_kid(black_box(&kid)))));
}

criterion_group!(benches, verification);
criterion_main!(benches);
