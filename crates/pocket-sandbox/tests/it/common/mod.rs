//! Shared helpers: a fast sandbox, plain-HTTP calls (never the SDK's clients), and a small
//! webhook receiver on 127.0.0.1.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pocket_sandbox::{Sandbox, SandboxConfig, TestUser};
use serde_json::{Value, json};

pub const FAST_RETRIES: [Duration; 3] =
    [Duration::from_millis(10), Duration::from_millis(20), Duration::from_millis(30)];

pub fn fast_config() -> SandboxConfig {
    SandboxConfig::default().webhook_retry_schedule(FAST_RETRIES.to_vec()).webhook_timeout(Duration::from_secs(2))
}

pub async fn start() -> Sandbox {
    fast_config().start().await.expect("the sandbox starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

pub fn token_url(sandbox: &Sandbox) -> String {
    sandbox.environment().token_url()
}

/// A merchant token for the first client, by form-field client authentication.
pub async fn merchant_token(sandbox: &Sandbox) -> String {
    let client = &sandbox.clients()[0];
    token_of(sandbox, &client.client_id, &client.client_secret).await
}

/// A merchant token for any client, by form-field client authentication.
pub async fn token_of(sandbox: &Sandbox, client_id: &str, client_secret: &str) -> String {
    let answer: Value = http()
        .post(token_url(sandbox))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().expect("an access token").to_owned()
}

pub fn consumer_token(sandbox: &Sandbox) -> String {
    sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token.expose_secret().to_owned()
}

pub async fn create_invoice(sandbox: &Sandbox, merchant: &str, body: Value) -> reqwest::Response {
    http().post(sandbox.environment().create_invoice_url()).bearer_auth(merchant).json(&body).send().await.unwrap()
}

/// Creates a 560 ₮ invoice and returns its id.
pub async fn new_invoice(sandbox: &Sandbox, merchant: &str) -> String {
    let body = json!({"amount": 560, "info": "Нэхэмжлэх", "consumerToken": consumer_token(sandbox)});
    let created: Value = create_invoice(sandbox, merchant, body).await.json().await.unwrap();
    created["id"].to_string()
}

pub async fn set_webhook(sandbox: &Sandbox, merchant: &str, url: &str) {
    let answer = http()
        .post(sandbox.environment().payment_config_url())
        .bearer_auth(merchant)
        .json(&json!({"fallBackUrl": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

/// The decoded payload (claims) of a compact JWT.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The decoded header of a compact JWT.
pub fn header(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// A merchant's webhook endpoint: records every body and answers with the scripted statuses
/// (200 once the script runs out).
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    pub async fn start(script: &[u16]) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<u16>>()));
        let app = Router::new().route("/webhook", post(record)).with_state((received.clone(), script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url: format!("http://{address}/webhook"), received }
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }
}

type ReceiverState = (Arc<Mutex<Vec<Value>>>, Arc<Mutex<VecDeque<u16>>>);

async fn record(State((received, script)): State<ReceiverState>, body: Bytes) -> StatusCode {
    received.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    let status = script.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}
