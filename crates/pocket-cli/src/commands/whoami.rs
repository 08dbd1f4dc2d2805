//! `pocket whoami`: proves the credentials work and shows what Pocket knows of the merchant.

use std::time::SystemTime;

use serde_json::Value;

use crate::failure::Failure;
use crate::output::{Output, Record, Tone};
use crate::place::Place;

pub async fn run(place: &Place, out: Output) -> Result<(), Failure> {
    let merchant = place.merchant()?;
    merchant.client.warm_up().await?;
    let config = merchant.client.payment_config().await?;
    let expires = merchant.client.token_expires_at();
    let (expiry_text, expiry_unix) = match expires {
        Some(at) => {
            let (text, unix) = super::moment(at);
            let left = at.duration_since(SystemTime::now()).map_or(0, |d| d.as_secs());
            (format!("in {} min {} s ({text})", left / 60, left % 60), Some(unix))
        }
        None => ("unknown".to_owned(), None),
    };
    let environment = &place.environment;
    let webhook = config.fall_back_url.clone();
    let record = Record::new()
        .toned("clientId", "client id", merchant.client_id.as_str(), Tone::Strong)
        .field("environment", "environment", environment.name())
        .field("realm", "realm", environment.realm_url())
        .field("api", "merchant API", environment.api_base())
        .field(
            "tokenExpiresAt",
            "token expires",
            if out.is_json() { Value::from(expiry_unix) } else { Value::from(expiry_text) },
        )
        .toned(
            "webhookUrl",
            "webhook",
            webhook.clone().unwrap_or_else(|| "(not set)".to_owned()),
            match webhook {
                Some(_) => Tone::Good,
                None => Tone::Warn,
            },
        );
    out.record(&record);
    Ok(())
}
