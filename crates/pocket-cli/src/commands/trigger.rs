//! `pocket trigger paid | forged | duplicate --to URL`: the sandbox posts a notice to the
//! developer's webhook — from a real (sandbox) payment, as a forgery, or more than once — and
//! the command shows how the webhook answered. The sandbox then answers the webhook's check.

use pocket_core::{ConsumerToken, NewInvoice};
use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{ForgeryKind, TriggerArgs, TriggerKind};
use crate::failure::Failure;
use crate::output::{Output, Table, Tone};
use crate::place::{Merchant, Place};

use super::control::Control;
use super::values::{amount, invoice_id, note};

pub async fn run(args: TriggerArgs, place: &Place, out: Output) -> Result<(), Failure> {
    let control = Control::new(place.sandbox_control("pocket trigger")?)?;
    let wait = super::values::seconds(args.wait, "--wait")?;
    let merchant = place.merchant()?;
    merchant.client.set_webhook_url(&args.to).await?;
    let copies = if args.kind == TriggerKind::Duplicate { args.copies } else { 0 };
    control
        .send(
            Method::PUT,
            "webhook-behaviour",
            json!({ "field_style": args.style.sandbox_name(), "duplicates": copies }),
        )
        .await?;

    let deliveries = match args.kind {
        TriggerKind::Paid | TriggerKind::Duplicate => {
            let id = match &args.invoice {
                Some(id) => invoice_id(id)?.as_str().to_owned(),
                None => create_invoice(&merchant, &control, &args).await?,
            };
            control.send(Method::POST, &format!("invoices/{id}/pay"), Value::Null).await?;
            control.deliveries_of(&id, 1 + copies as usize, wait).await?
        }
        TriggerKind::Forged => {
            let id = match (args.forgery, &args.invoice) {
                (ForgeryKind::UnknownInvoice, _) => None,
                (_, Some(id)) => Some(invoice_id(id)?.as_str().to_owned()),
                (ForgeryKind::UnpaidInvoice, None) => Some(create_invoice(&merchant, &control, &args).await?),
                (ForgeryKind::WrongAmount, None) => {
                    return Err(Failure::usage("--forgery wrong-amount needs --invoice ID of a paid sandbox invoice"));
                }
            };
            let request = json!({ "kind": args.forgery.sandbox_name(), "invoiceId": id });
            vec![control.send(Method::POST, "forgeries", request).await?]
        }
    };
    report(&args, &deliveries, out)
}

/// A pending invoice of `--amount` for the sandbox's wallet user.
async fn create_invoice(merchant: &Merchant, control: &Control, args: &TriggerArgs) -> Result<String, Failure> {
    let token = ConsumerToken::new(control.consumer_token().await?)
        .map_err(|e| Failure::pocket(format!("the sandbox minted an unusable token: {e}")))?;
    let invoice = NewInvoice::new(amount(&args.amount)?, note("pocket trigger")?, token)?;
    Ok(merchant.client.create_invoice(&invoice).await?.id.as_str().to_owned())
}

fn report(args: &TriggerArgs, deliveries: &[Value], out: Output) -> Result<(), Failure> {
    let answered = |delivery: &Value| delivery["status"].as_u64();
    let mut table = Table::new(vec!["INVOICE", "KIND", "ATTEMPT", "ANSWER"], Value::from(deliveries.to_vec()));
    for delivery in deliveries {
        let answer = match (answered(delivery), delivery["error"].as_str()) {
            (Some(status), _) => format!("HTTP {status}"),
            (None, Some(error)) => error.to_owned(),
            (None, None) => "none".to_owned(),
        };
        let kind = match delivery["forgery"].as_str() {
            Some(forgery) => format!("forged ({forgery})"),
            None => delivery["kind"].as_str().unwrap_or("?").to_owned(),
        };
        let invoice = delivery["invoiceId"].as_str().map_or_else(|| delivery["invoiceId"].to_string(), str::to_owned);
        table.row(vec![invoice, kind, delivery["attempt"].to_string(), answer]);
    }
    out.table(&table);
    if let Some(first) = deliveries.first() {
        out.say(&format!("{} {}", out.paint("notice", Tone::Quiet), first["body"]));
    }
    match args.kind {
        TriggerKind::Forged => {
            let accepted_unknown = args.forgery == ForgeryKind::UnknownInvoice
                && deliveries.iter().any(|d| answered(d).is_some_and(|s| (200..300).contains(&s)));
            if accepted_unknown {
                out.say(&out.paint(
                    "Your webhook accepted a notice of an invoice Pocket never issued: make sure it shipped nothing.",
                    Tone::Warn,
                ));
            }
            out.say(&out.paint(
                "A forged notice proves nothing: your webhook must ship nothing for it (Pocket's check says so).",
                Tone::Quiet,
            ));
            Ok(())
        }
        TriggerKind::Paid | TriggerKind::Duplicate => {
            let raced = payment_accepted(deliveries).map_err(|answers| {
                Failure::pocket(format!(
                    "your webhook did not accept a paid notice (answer: {answers}); Pocket would deliver it again"
                ))
            })?;
            if raced {
                out.say(&out.paint(
                    "A copy answered 503 while another was being processed; Pocket delivers such a copy again.",
                    Tone::Quiet,
                ));
            }
            if args.kind == TriggerKind::Duplicate {
                out.say(&out.paint("Every copy was answered; check that the order shipped once.", Tone::Good));
            }
            Ok(())
        }
    }
}

/// Whether the webhook accepted the notices of one payment: `Ok(raced)` when a copy was
/// accepted and every other copy was accepted too or answered 503 (`raced` says whether any
/// did), else `Err` with the answers that refused it.
///
/// Copies of one payment arrive together, and a webhook rightly answers 503 ("being processed,
/// deliver again") to those that lose the race for it: an answer Pocket redelivers on, not a
/// refusal. Any other non-2xx answer — or 503 with no copy accepted — is one.
fn payment_accepted(deliveries: &[Value]) -> Result<bool, String> {
    let status = |d: &Value| d["status"].as_u64();
    let accepted = deliveries.iter().any(|d| status(d).is_some_and(|s| (200..300).contains(&s)));
    let raced = |d: &Value| accepted && status(d) == Some(503);
    let refused: Vec<String> = deliveries
        .iter()
        .filter(|d| !status(d).is_some_and(|s| (200..300).contains(&s)) && !raced(d))
        .map(|d| status(d).map_or_else(|| d["error"].as_str().unwrap_or("no answer").to_owned(), |s| s.to_string()))
        .collect();
    match (accepted, refused.is_empty()) {
        (true, true) => Ok(deliveries.iter().any(raced)),
        (false, true) => Err("none".to_owned()),
        (_, false) => Err(refused.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(statuses: &[u16]) -> Vec<Value> {
        statuses.iter().map(|s| json!({ "status": s, "error": null })).collect()
    }

    #[test]
    fn a_copy_that_lost_the_race_is_not_a_refusal() {
        assert_eq!(payment_accepted(&answered(&[200, 200])), Ok(false));
        assert_eq!(payment_accepted(&answered(&[200, 503, 200])), Ok(true));
        assert_eq!(payment_accepted(&answered(&[503, 200])), Ok(true), "the duplicate won the race");
    }

    #[test]
    fn a_payment_no_copy_accepted_or_a_copy_refused_otherwise_fails() {
        assert_eq!(payment_accepted(&answered(&[503])), Err("503".to_owned()));
        assert_eq!(payment_accepted(&answered(&[503, 503])), Err("503, 503".to_owned()));
        assert_eq!(payment_accepted(&answered(&[200, 422])), Err("422".to_owned()));
        assert_eq!(payment_accepted(&answered(&[200, 500])), Err("500".to_owned()));
        let unreachable = vec![json!({ "status": null, "error": "could not connect" })];
        assert_eq!(payment_accepted(&unreachable), Err("could not connect".to_owned()));
    }
}
