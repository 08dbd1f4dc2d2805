//! `pocket webhook get | set URL | ensure URL`: the address Pocket posts payment notices to.

use pocket_http::WebhookChange;

use crate::cli::WebhookCommand;
use crate::failure::Failure;
use crate::output::{Output, Record, Tone};
use crate::place::Place;

pub async fn run(command: WebhookCommand, place: &Place, out: Output) -> Result<(), Failure> {
    let merchant = place.merchant()?;
    let client = &merchant.client;
    match command {
        WebhookCommand::Get => {
            let config = client.payment_config().await?;
            let record = Record::new().field("clientId", "client id", merchant.client_id.as_str()).field(
                "webhookUrl",
                "webhook",
                config.fall_back_url,
            );
            out.record(&record);
        }
        WebhookCommand::Set(args) => {
            super::confirm_production(
                place,
                args.yes,
                &format!("Set the webhook of {} to {}", merchant.client_id, args.url),
            )?;
            client.set_webhook_url(&args.url).await?;
            let record = Record::new().field("webhookUrl", "webhook", args.url.as_str()).toned(
                "changed",
                "changed",
                true,
                Tone::Good,
            );
            out.record(&record);
        }
        WebhookCommand::Ensure(args) => {
            // Read first: production is only asked about when something would change.
            let current = client.payment_config().await?;
            if current.fall_back_url.as_deref() != Some(args.url.as_str()) {
                super::confirm_production(
                    place,
                    args.yes,
                    &format!("Change the webhook of {} to {}", merchant.client_id, args.url),
                )?;
            }
            let change = client.ensure_webhook_url(&args.url).await?;
            let (changed, previous) = match change {
                WebhookChange::Unchanged => (false, current.fall_back_url),
                WebhookChange::Updated { previous } => (true, previous),
                _ => (true, None),
            };
            let record = Record::new()
                .field("webhookUrl", "webhook", args.url.as_str())
                .toned("changed", "changed", changed, if changed { Tone::Good } else { Tone::Quiet })
                .field("previous", "previous", previous);
            out.record(&record);
        }
    }
    Ok(())
}
