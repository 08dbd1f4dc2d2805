//! Shared helpers: a sandbox with fast settings, a client with a fast retry policy, and a tiny
//! fake Pocket for answers the sandbox never gives (malformed bodies).
#![allow(dead_code)]

use std::time::Duration;

use axum::Router;
use pocket_core::{Amount, ConsumerToken, Environment, InvoiceNote, NewInvoice};
use pocket_http::{PocketClient, PocketClientBuilder, RetryPolicy};
use pocket_sandbox::{Sandbox, SandboxConfig, TestUser};

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(40))
        .max_elapsed(Duration::from_secs(5))
}

pub async fn sandbox() -> Sandbox {
    sandbox_with(SandboxConfig::default()).await
}

pub async fn sandbox_with(config: SandboxConfig) -> Sandbox {
    config.webhook_retry_schedule(vec![Duration::from_millis(10)]).start().await.expect("the sandbox starts")
}

pub fn builder(sandbox: &Sandbox) -> PocketClientBuilder {
    PocketClient::builder(sandbox.environment(), sandbox.credentials())
        .retry(fast_retries())
        .timeout(Duration::from_secs(3))
}

pub fn client(sandbox: &Sandbox) -> PocketClient {
    builder(sandbox).build().expect("the client builds")
}

pub fn user_token(sandbox: &Sandbox) -> ConsumerToken {
    sandbox.mint_consumer_token(&TestUser::default()).expect("a consumer token").access_token
}

pub fn invoice(sandbox: &Sandbox, tugrik: u64) -> NewInvoice {
    NewInvoice::new(Amount::from_tugrik(tugrik).unwrap(), InvoiceNote::new("Нэхэмжлэх").unwrap(), user_token(sandbox))
        .expect("a valid invoice")
}

/// A Pocket-shaped server on 127.0.0.1 with whatever routes a test needs.
pub async fn fake_pocket(routes: Router) -> Environment {
    let base = pocket_test_support::serve(routes).await;
    Environment::custom().sso_base(&base).api_base(format!("{base}/merchant")).build().unwrap()
}

/// The token endpoint path of a fake Pocket.
pub const TOKEN_PATH: &str = "/auth/realms/invescore/protocol/openid-connect/token";

/// A well-formed token answer.
pub fn token_answer() -> serde_json::Value {
    serde_json::json!({"access_token": "a.b.c", "expires_in": 600, "token_type": "Bearer"})
}
