//! `pocket invoice check | watch | create [--qr]`: mini-app and merchant QR invoices.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use pocket_core::{ConsumerToken, InvoiceId, InvoiceState, InvoiceStatus, NewInvoice, NewMerchantInvoice};
use pocket_http::PocketClient;

use crate::cli::{CreateInvoiceArgs, InvoiceCommand};
use crate::failure::{Exit, Failure};
use crate::output::{Output, Record, Tone, emit, to_json};
use crate::place::Place;

use super::values::{amount, invoice_id, note};

pub async fn run(command: InvoiceCommand, place: &Place, out: Output) -> Result<(), Failure> {
    match command {
        InvoiceCommand::Check { id } => {
            let id = invoice_id(&id)?;
            let status = place.merchant()?.client.check_invoice(&id).await?;
            out.record(&status_record(&id, &status));
            Ok(())
        }
        InvoiceCommand::Watch { id, every, timeout } => {
            let every = super::values::seconds(every, "--every")?.max(Duration::from_millis(200));
            let timeout = timeout.map(|t| super::values::seconds(t, "--timeout")).transpose()?;
            let id = invoice_id(&id)?;
            let client = place.merchant()?.client;
            let watched = tokio::select! {
                watched = watch(&client, &id, every, timeout, out) => watched,
                _ = tokio::signal::ctrl_c() => {
                    Err(Failure { message: format!("stopped watching invoice {id}"), code: Exit::Interrupted })
                }
            };
            let status = watched?;
            out.record(&status_record(&id, &status));
            if status.state.is_paid() {
                Ok(())
            } else {
                Err(Failure::pocket(format!("invoice {id} ended {}, not paid", status.state)))
            }
        }
        InvoiceCommand::Create(args) => create(args, place, out).await,
    }
}

fn status_record(id: &InvoiceId, status: &InvoiceStatus) -> Record {
    Record::new()
        .field("id", "invoice", status.id.as_ref().unwrap_or(id).as_str())
        .toned("state", "state", status.state.as_str(), Tone::of_state(&status.state))
        .field("amount", "amount", status.amount.map(|a| a.to_string()))
        .field("info", "note", status.info.clone())
        .field("createdAt", "created", status.created_at.clone())
        .json_as(to_json(status))
}

/// Asks until the invoice is final or the time is up. Progress goes to standard error: a
/// line that rewrites itself on a terminal, a line per change of state otherwise.
async fn watch(
    client: &PocketClient,
    id: &InvoiceId,
    every: Duration,
    timeout: Option<Duration>,
    out: Output,
) -> Result<InvoiceStatus, Failure> {
    const SPINNER: [char; 4] = ['|', '/', '-', '\\'];
    let started = Instant::now();
    let live = !out.is_json() && std::io::stderr().is_terminal();
    let mut last: Option<InvoiceState> = None;
    let mut turn = 0usize;
    loop {
        turn += 1;
        let state_text = match client.check_invoice(id).await {
            Ok(status) if status.state.is_final() => {
                if live {
                    eprint!("\r\x1b[2K");
                }
                return Ok(status);
            }
            Ok(status) => {
                let changed = last.as_ref() != Some(&status.state);
                let text = status.state.as_str().to_owned();
                if changed && !live && !out.is_json() {
                    eprintln!("invoice {id}: {text}");
                }
                last = Some(status.state);
                text
            }
            // A blip while watching is shown and waited out; anything else ends the watch.
            Err(error) if error.is_retryable() => {
                let text = format!("Pocket unavailable ({error}); still asking");
                if !live && !out.is_json() {
                    eprintln!("invoice {id}: {text}");
                }
                // The next answer is shown as a change, whatever it is.
                last = None;
                text
            }
            Err(error) => return Err(error.into()),
        };
        if live {
            let spinner = SPINNER[turn % SPINNER.len()];
            eprint!("\r\x1b[2K{spinner} invoice {id}: {state_text} · {} s", started.elapsed().as_secs());
            let _ = std::io::stderr().flush();
        }
        if timeout.is_some_and(|limit| started.elapsed() + every > limit) {
            if live {
                eprintln!();
            }
            return Err(Failure::pocket(format!(
                "invoice {id} is still {} after {} s",
                last.as_ref().map_or("unknown", |s| s.as_str()),
                started.elapsed().as_secs()
            )));
        }
        tokio::time::sleep(every).await;
    }
}

async fn create(args: CreateInvoiceArgs, place: &Place, out: Output) -> Result<(), Failure> {
    if args.qr {
        return create_qr(args, place, out).await;
    }
    let amount = amount(&args.amount)?;
    let note = note(&args.note)?;
    let token = match &args.consumer_token {
        Some(value) => super::values::secret_argument(value, "consumer token")?,
        None => super::control::mint_consumer_token(place).await.map_err(|failure| {
            Failure::usage(format!("give the wallet user's token with --consumer-token ({})", failure.message))
        })?,
    };
    let token = ConsumerToken::new(token).map_err(|e| Failure::usage(format!("--consumer-token: {e}")))?;
    let invoice = NewInvoice::new(amount, note, token)?;
    super::confirm_production(place, args.yes, &format!("Create an invoice of {amount}"))?;
    let created = place.merchant()?.client.create_invoice(&invoice).await?;
    let record = Record::new()
        .toned("id", "invoice", created.id.as_str(), Tone::Strong)
        .field("amount", "amount", created.amount.unwrap_or(amount).to_string())
        .field("info", "note", created.info.clone().unwrap_or_else(|| args.note.clone()))
        .json_as(to_json(&created));
    out.record(&record);
    Ok(())
}

/// `invoice create --qr`: a merchant QR invoice, for whoever scans it.
async fn create_qr(args: CreateInvoiceArgs, place: &Place, out: Output) -> Result<(), Failure> {
    let amount = amount(&args.amount)?;
    let invoice = NewMerchantInvoice::new(amount, note(&args.note)?)?;
    super::confirm_production(place, args.yes, &format!("Create a QR invoice of {amount}"))?;
    let created = place.merchant()?.client.create_merchant_invoice(&invoice).await?;
    let record = Record::new()
        .toned("id", "invoice", created.id.as_str(), Tone::Strong)
        .field("amount", "amount", amount.to_string())
        .field("info", "note", args.note.clone())
        .field("qr", "QR text", created.qr.clone())
        .json_as(to_json(&created));
    out.record(&record);
    if !out.is_json() {
        match &created.qr {
            Some(text) => emit(&pocket_core::qr_text(text)?),
            None => out.say("(Pocket sent no QR text to draw)"),
        }
    }
    Ok(())
}
