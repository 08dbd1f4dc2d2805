//! The sandbox's control API, for the commands that drive the sandbox (`pocket trigger`, and
//! `invoice create` minting a wallet user's token).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::failure::Failure;
use crate::place::Place;

/// The sandbox's control API (`/_sandbox`).
pub struct Control {
    base: String,
    http: reqwest::Client,
}

impl Control {
    pub fn new(base: String) -> Result<Control, Failure> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| Failure::pocket(format!("cannot make an HTTP client: {e}")))?;
        Ok(Control { base, http })
    }

    /// Sends a request and returns the JSON answer (`null` for an empty one).
    pub async fn send(&self, method: Method, path: &str, body: Value) -> Result<Value, Failure> {
        let url = format!("{}/{path}", self.base);
        let mut request = self.http.request(method, &url);
        if !body.is_null() {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let unreachable = |e: reqwest::Error| {
            Failure::pocket(format!("the sandbox's control API at {url} could not be reached: {e}"))
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(unreachable)?;
        let answer: Value =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        if !status.is_success() {
            let message = answer["message"].as_str().map_or_else(|| format!("HTTP {status}"), str::to_owned);
            return Err(Failure::pocket(format!("the sandbox refused {path}: {message}")));
        }
        Ok(answer)
    }

    pub async fn consumer_token(&self) -> Result<String, Failure> {
        let answer = self.send(Method::POST, "consumer-tokens", Value::Null).await?;
        answer["accessToken"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Failure::pocket("the sandbox answered no accessToken"))
    }

    /// The first attempt of each of `count` notices of invoice `id`, waiting up to `wait`.
    pub async fn deliveries_of(&self, id: &str, count: usize, wait: Duration) -> Result<Vec<Value>, Failure> {
        let started = Instant::now();
        loop {
            let all = self.send(Method::GET, "deliveries", Value::Null).await?;
            let found: Vec<Value> = all
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["invoiceId"].as_str() == Some(id) && d["attempt"].as_u64() == Some(1))
                .cloned()
                .collect();
            if found.len() >= count {
                return Ok(found);
            }
            if started.elapsed() >= wait {
                if found.is_empty() {
                    return Err(Failure::pocket(format!(
                        "no notice of invoice {id} was delivered within {} s",
                        wait.as_secs()
                    )));
                }
                eprintln!("only {} of {count} notices were delivered in time", found.len());
                return Ok(found);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A wallet user's token from the sandbox (for `invoice create` without `--consumer-token`).
pub async fn mint_consumer_token(place: &Place) -> Result<String, Failure> {
    Control::new(place.sandbox_control("an invoice without --consumer-token")?)?.consumer_token().await
}
