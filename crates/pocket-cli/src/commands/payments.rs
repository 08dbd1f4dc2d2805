//! `pocket payments watched | show ID | unresolved | rewatch ID`: what the app's shared store and
//! watch journal hold, for the person on call. Nothing here talks to Pocket; only `rewatch`
//! writes, and it asks first.

use std::time::{Duration, SystemTime};

use pocket_core::InvoiceId;
use pocket_payments::{JournalEntry, Ledger, PaymentRecord, StoreEntry, Unresolved};
use serde_json::{Value, json};

use crate::cli::{PaymentsArgs, PaymentsCommand, StoreArgs};
use crate::failure::Failure;
use crate::output::{Output, Record, Table, Tone};

pub async fn run(args: PaymentsArgs, out: Output) -> Result<(), Failure> {
    let ledger = open(&args.store).await?;
    let ledger = ledger.as_ref();
    match args.command {
        PaymentsCommand::Watched => watched(ledger, out).await,
        PaymentsCommand::Show { id } => show(ledger, &invoice(&id)?, out).await,
        PaymentsCommand::Unresolved => unresolved(ledger, out).await,
        PaymentsCommand::Rewatch { id, for_seconds, yes } => {
            let id = invoice(&id)?;
            let watch_for = super::values::seconds(for_seconds, "--for")?;
            rewatch(ledger, &id, watch_for, yes, out).await
        }
    }
}

fn invoice(id: &str) -> Result<InvoiceId, Failure> {
    InvoiceId::new(id).map_err(|error| Failure::usage(format!("invoice id {id:?}: {error}")))
}

/// A store failure: its message names the store's address without its password.
fn unreachable(error: impl std::fmt::Display) -> Failure {
    Failure::pocket(format!("the payment store failed: {error}"))
}

async fn open(store: &StoreArgs) -> Result<Box<dyn Ledger>, Failure> {
    match (&store.redis, &store.postgres) {
        (Some(_), Some(_)) => Err(Failure::usage(
            "both a Redis and a PostgreSQL store are given (--redis/POCKET_REDIS_URL, --postgres/POCKET_DATABASE_URL): give one",
        )),
        (Some(url), None) => open_redis(url, &store.prefix).await,
        (None, Some(url)) => open_postgres(url, store).await,
        (None, None) => Err(Failure::usage(
            "which store? give --redis URL or --postgres URL (or POCKET_REDIS_URL / POCKET_DATABASE_URL): the one the app's replicas share",
        )),
    }
}

#[cfg(feature = "redis")]
async fn open_redis(url: &str, prefix: &str) -> Result<Box<dyn Ledger>, Failure> {
    let store = pocket_payments::RedisStore::builder(url).prefix(prefix).connect().await.map_err(unreachable)?;
    Ok(Box::new(store))
}

#[cfg(not(feature = "redis"))]
async fn open_redis(_: &str, _: &str) -> Result<Box<dyn Ledger>, Failure> {
    Err(Failure::usage("this pocket was built without Redis: cargo install pocket-cli --features redis"))
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str, store: &StoreArgs) -> Result<Box<dyn Ledger>, Failure> {
    let mut builder = pocket_payments::PgStore::builder(url);
    if let Some(schema) = &store.schema {
        builder = builder.schema(schema.clone());
    }
    if let Some(prefix) = &store.table_prefix {
        builder = builder.table_prefix(prefix.clone());
    }
    Ok(Box::new(builder.connect().await.map_err(unreachable)?))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_: &str, _: &StoreArgs) -> Result<Box<dyn Ledger>, Failure> {
    Err(Failure::usage("this pocket was built without PostgreSQL: cargo install pocket-cli --features postgres"))
}

/// A stretch of time as people say it: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
fn span(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86_400 => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

/// How long ago `at` was (`12 min ago`), or how far ahead (`in 30 s`).
fn relative(at: SystemTime) -> String {
    match SystemTime::now().duration_since(at) {
        Ok(ago) => format!("{} ago", span(ago)),
        Err(ahead) => format!("in {}", span(ahead.duration())),
    }
}

fn unix(at: Option<SystemTime>) -> Value {
    at.map_or(Value::Null, |at| Value::from(super::moment(at).1))
}

fn or_dash(text: Option<String>) -> String {
    text.unwrap_or_else(|| "—".to_owned())
}

async fn watched(ledger: &dyn Ledger, out: Output) -> Result<(), Failure> {
    let entries = ledger.watched().await.map_err(unreachable)?;
    let json: Vec<Value> = entries.iter().map(entry_json).collect();
    let mut table = Table::new(
        vec!["invoice", "watched", "polled by", "last state", "polls", "next poll", "deadline"],
        json.into(),
    );
    for entry in &entries {
        let watched = &entry.watched;
        table.row(vec![
            watched.invoice_id.to_string(),
            or_dash(watched.since.map(relative)),
            or_dash(entry.polled_by.clone()),
            or_dash(watched.last_state.as_ref().map(ToString::to_string)),
            watched.polls.to_string(),
            or_dash(watched.next_poll.map(relative)),
            relative(watched.deadline),
        ]);
    }
    out.table(&table);
    Ok(())
}

fn entry_json(entry: &JournalEntry) -> Value {
    let watched = &entry.watched;
    json!({
        "invoiceId": watched.invoice_id.as_str(),
        "since": unix(watched.since),
        "ageSeconds": watched.since.and_then(|since| SystemTime::now().duration_since(since).ok()).map(|age| age.as_secs()),
        "polledBy": entry.polled_by,
        "lastState": watched.last_state.as_ref().map(ToString::to_string),
        "polls": watched.polls,
        "nextPoll": unix(watched.next_poll),
        "deadline": unix(Some(watched.deadline)),
        "expectedAmount": watched.expected.as_ref().map(|expected| expected.amount.to_string()),
        "terminal": watched.terminal.map(|terminal| terminal.to_string()),
    })
}

/// A held record as people read it, its tone, and as JSON.
fn held(entry: &StoreEntry) -> (String, Tone, Value) {
    match entry {
        StoreEntry::Absent => (
            "nothing (never acted on, or past the store's retention)".to_owned(),
            Tone::Quiet,
            json!({"state": "absent"}),
        ),
        StoreEntry::Claimed { by, until } => {
            let text = format!(
                "claimed by {}{}",
                by.as_deref().unwrap_or("an unnamed replica"),
                until.map(|until| format!(", lease ends {}", relative(until))).unwrap_or_default()
            );
            (text, Tone::Warn, json!({"state": "claimed", "by": by, "until": unix(*until)}))
        }
        StoreEntry::Done { at } => {
            let text = match at {
                Some(at) => format!("done {} ({})", relative(*at), super::moment(*at).0),
                None => "done".to_owned(),
            };
            (text, Tone::Good, json!({"state": "done", "at": unix(*at)}))
        }
        // A record this pocket does not know yet (a newer pocket-payments).
        _ => ("unknown to this pocket".to_owned(), Tone::Warn, json!({"state": "unknown"})),
    }
}

async fn show(ledger: &dyn Ledger, id: &InvoiceId, out: Output) -> Result<(), Failure> {
    let PaymentRecord { key, paid, failed, .. } = ledger.payment(id).await.map_err(unreachable)?;
    let watched = ledger.watched().await.map_err(unreachable)?;
    let watched = watched.iter().find(|entry| entry.watched.invoice_id.key() == key);
    let unresolved = ledger.unresolved().await.map_err(unreachable)?;
    let unresolved = unresolved.iter().find(|gone| gone.invoice_id.key() == key);
    let (paid_text, paid_tone, paid_json) = held(&paid);
    let (failed_text, failed_tone, failed_json) = held(&failed);
    let watched_text = match watched {
        Some(entry) => format!(
            "yes, since {}, polled by {}, next poll {}",
            or_dash(entry.watched.since.map(relative)),
            or_dash(entry.polled_by.clone()),
            or_dash(entry.watched.next_poll.map(relative))
        ),
        None => "no".to_owned(),
    };
    let unresolved_text = match unresolved {
        Some(gone) => format!("yes, {} — {}", relative(gone.at), gone.reason),
        None => "no".to_owned(),
    };
    let record = Record::new()
        .toned("key", "invoice", key.as_str(), Tone::Strong)
        .toned("paid", "payment", paid_text, paid_tone)
        .toned("failed", "not paid", failed_text, failed_tone)
        .field("watched", "watched", watched_text)
        .toned("unresolved", "unresolved", unresolved_text, if unresolved.is_some() { Tone::Bad } else { Tone::Quiet })
        .json_as(json!({
            "key": key,
            "paid": paid_json,
            "failed": failed_json,
            "watched": watched.map(entry_json),
            "unresolved": unresolved.map(unresolved_json),
        }));
    out.record(&record);
    Ok(())
}

fn unresolved_json(gone: &Unresolved) -> Value {
    json!({
        "invoiceId": gone.invoice_id.as_str(),
        "at": unix(Some(gone.at)),
        "lastState": gone.last_state.as_ref().map(ToString::to_string),
        "reason": gone.reason,
    })
}

async fn unresolved(ledger: &dyn Ledger, out: Output) -> Result<(), Failure> {
    let list = ledger.unresolved().await.map_err(unreachable)?;
    let json: Vec<Value> = list.iter().map(unresolved_json).collect();
    let mut table = Table::new(vec!["invoice", "given up", "last state", "why"], json.into());
    for gone in &list {
        table.row(vec![
            gone.invoice_id.to_string(),
            relative(gone.at),
            or_dash(gone.last_state.as_ref().map(ToString::to_string)),
            gone.reason.clone(),
        ]);
    }
    out.table(&table);
    Ok(())
}

async fn rewatch(
    ledger: &dyn Ledger,
    id: &InvoiceId,
    watch_for: Duration,
    yes: bool,
    out: Output,
) -> Result<(), Failure> {
    if !yes {
        let question = format!("Watch invoice {id} again for {}", span(watch_for));
        super::ask(&question, format!("{question} — this changes the shared journal: add --yes to confirm"))?;
    }
    let deadline = SystemTime::now() + watch_for;
    let was_unresolved = ledger.rewatch(id, deadline).await.map_err(unreachable)?;
    let record = Record::new()
        .toned("invoiceId", "invoice", id.as_str(), Tone::Strong)
        .toned("watched", "watched", true, Tone::Good)
        .field("deadline", "until", if out.is_json() { unix(Some(deadline)) } else { relative(deadline).into() })
        .field("wasUnresolved", "was unresolved", was_unresolved);
    out.record(&record);
    out.say("The replicas poll it from their next reading of the journal (at most one polling lease).");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(Duration::from_secs(45)), "45 s");
        assert_eq!(span(Duration::from_secs(12 * 60 + 5)), "12 min");
        assert_eq!(span(Duration::from_secs(3 * 3600 + 5 * 60)), "3 h 5 min");
        assert_eq!(span(Duration::from_secs(2 * 86_400 + 4 * 3600)), "2 d 4 h");
    }
}
