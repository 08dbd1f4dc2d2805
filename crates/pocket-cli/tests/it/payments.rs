//! `pocket payments` against a real Redis and a real PostgreSQL, each holding what a running
//! pipeline wrote: a payment done, one claimed, an invoice watched and polled, one given up on.
//! What the command shows is what the store holds; it changes nothing unless told `--yes`; the
//! store's password is never printed.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::{pocket, run};
use pocket_core::{
    Error, ErrorKind, Invoice, InvoiceId, InvoiceStatus, MerchantApi, MerchantInvoice, NewInvoice, NewMerchantInvoice,
    PaymentConfig,
};
use pocket_payments::{
    Claim, FailedPayment, HandlerError, Outcome, PaymentHandler, PaymentStore, Payments, PgStore, RedisStore,
    VerifiedPayment, WatchJournal,
};
use pocket_test_support::{PostgresServer, RedisServer};
use serde_json::json;

const PASSWORD: &str = "s3cret-store-pw";

/// Pocket's check answers, by invoice number; every other call is refused.
#[derive(Clone, Default)]
struct Checks(Arc<Mutex<HashMap<String, serde_json::Value>>>);

impl Checks {
    fn set(&self, id: &str, state: &str) {
        let answer = json!({"id": id.parse::<i64>().unwrap(), "state": state, "amount": 1500});
        self.0.lock().unwrap().insert(id.to_owned(), answer);
    }
}

fn refused() -> Error {
    Error::new(ErrorKind::Validation, "not part of this test")
}

#[async_trait]
impl MerchantApi for Checks {
    async fn create_invoice(&self, _: &NewInvoice) -> Result<Invoice, Error> {
        Err(refused())
    }
    async fn create_merchant_invoice(&self, _: &NewMerchantInvoice) -> Result<MerchantInvoice, Error> {
        Err(refused())
    }
    async fn check_invoice(&self, id: &InvoiceId) -> Result<InvoiceStatus, Error> {
        let answer = self.0.lock().unwrap().get(&id.key()).cloned();
        match answer {
            Some(answer) => Ok(serde_json::from_value(answer).unwrap()),
            None => Err(Error::new(ErrorKind::NotFound, "no such invoice")),
        }
    }
    async fn payment_config(&self) -> Result<PaymentConfig, Error> {
        Err(refused())
    }
    async fn set_webhook_url(&self, _: &str) -> Result<(), Error> {
        Err(refused())
    }
}

struct Shipped;

#[async_trait]
impl PaymentHandler for Shipped {
    async fn paid(&self, _: VerifiedPayment) -> Result<(), HandlerError> {
        Ok(())
    }
    async fn failed(&self, _: FailedPayment) -> Result<(), HandlerError> {
        Ok(())
    }
}

/// What a pipeline on `store` leaves behind: 1001 paid and done, 1002 claimed right now,
/// 1003 given up at its deadline, 1004 watched and polled.
async fn leave_a_trail<S>(store: S)
where
    S: PaymentStore + WatchJournal + Clone,
{
    let pocket = Checks::default();
    for (id, state) in [("1001", "PAID"), ("1003", "PENDING"), ("1004", "PENDING")] {
        pocket.set(id, state);
    }
    let payments = Payments::builder(pocket, Shipped)
        .store(store.clone())
        .watch_journal(store.clone())
        .poll_schedule(Duration::from_millis(20), Duration::from_millis(50))
        .build();
    assert_eq!(payments.poll(&InvoiceId::from(1001), None).await, Outcome::Handled);
    assert!(matches!(store.claim("paid:1002", Duration::from_secs(300)).await.unwrap(), Claim::Acquired(_)));
    let reconciler = payments.reconciler();
    let short =
        reconciler.watch_until(InvoiceId::from(1003), None, std::time::SystemTime::now() + Duration::from_millis(300));
    let long = reconciler.watch(InvoiceId::from(1004), None);
    short.durable().await.unwrap();
    long.durable().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while reconciler.watched().len() != 1 {
        assert!(std::time::Instant::now() < deadline, "1003 was not given up: {:?}", reconciler.watched());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // 1004 has been polled and its poll written down.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Runs `pocket payments <store args> <args>`.
async fn payments(store: &[&str], args: &[&str]) -> common::Run {
    let mut command = pocket();
    command.arg("payments").args(store);
    run(command, args).await
}

async fn the_command_shows_what_the_store_holds(store: &[&str]) {
    let watched = payments(store, &["watched", "--json"]).await.expect(0).json();
    let watched = watched.as_array().unwrap();
    assert_eq!(watched.len(), 1, "{watched:?}");
    assert_eq!(watched[0]["invoiceId"], "1004");
    assert!(watched[0]["polls"].as_u64().unwrap() >= 1, "{watched:?}");
    assert_eq!(watched[0]["lastState"], "pending");
    assert!(watched[0]["polledBy"].as_str().is_some_and(|by| by.contains(&std::process::id().to_string())));
    assert!(watched[0]["nextPoll"].is_u64() && watched[0]["ageSeconds"].as_u64().unwrap() < 60);
    let table = payments(store, &["watched"]).await.expect(0).stdout;
    assert!(table.contains("invoice") && table.contains("1004") && table.contains("pending"), "{table}");

    let done = payments(store, &["show", "01001", "--json"]).await.expect(0).json();
    assert_eq!(done["key"], "1001", "any spelling of the number");
    assert_eq!(done["paid"]["state"], "done");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(done["paid"]["at"].as_u64().is_some_and(|at| at <= now && at + 60 > now), "{done}");
    assert_eq!(done["failed"]["state"], "absent");
    assert_eq!((done["watched"].clone(), done["unresolved"].clone()), (json!(null), json!(null)));
    let shown = payments(store, &["show", "1001"]).await.expect(0).stdout;
    assert!(shown.contains("done") && shown.contains("ago"), "{shown}");

    let claimed = payments(store, &["show", "1002", "--json"]).await.expect(0).json();
    assert_eq!(claimed["paid"]["state"], "claimed");
    assert!(claimed["paid"]["by"].as_str().is_some_and(|by| by.contains(&std::process::id().to_string())), "{claimed}");
    assert!(claimed["paid"]["until"].as_u64().is_some_and(|until| until > now + 200), "{claimed}");

    let unresolved = payments(store, &["unresolved", "--json"]).await.expect(0).json();
    assert_eq!(unresolved.as_array().unwrap().len(), 1, "{unresolved}");
    assert_eq!(unresolved[0]["invoiceId"], "1003");
    assert!(unresolved[0]["reason"].as_str().unwrap().contains("deadline"), "{unresolved}");
    assert_eq!(payments(store, &["show", "1003", "--json"]).await.expect(0).json()["unresolved"]["invoiceId"], "1003");

    // Changing the journal needs --yes; without a terminal to ask on, it is refused.
    let refused = payments(store, &["rewatch", "1003"]).await.expect(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(payments(store, &["unresolved", "--json"]).await.expect(0).json().as_array().unwrap().len(), 1);
    let rewatched = payments(store, &["rewatch", "1003", "--for", "600", "--yes", "--json"]).await.expect(0).json();
    assert_eq!(rewatched["wasUnresolved"], true);
    assert_eq!(payments(store, &["unresolved", "--json"]).await.expect(0).json(), json!([]));
    let watched = payments(store, &["watched", "--json"]).await.expect(0).json();
    let ids: Vec<&str> = watched.as_array().unwrap().iter().map(|entry| entry["invoiceId"].as_str().unwrap()).collect();
    assert!(ids.contains(&"1003") && ids.contains(&"1004"), "{watched}");

    for args in [&["watched"][..], &["show", "1001"], &["unresolved"], &["show", "not an id"]] {
        let output = payments(store, args).await;
        assert!(!output.all().contains(PASSWORD), "the password was printed by {args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_show_unresolved_and_rewatch_on_redis() {
    let Some(mut server) = RedisServer::start(false) else { return };
    server.require_password(PASSWORD);
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/3", server.port());
    let store = RedisStore::builder(url.as_str()).prefix("shop:").connect().await.unwrap();
    leave_a_trail(store).await;
    the_command_shows_what_the_store_holds(&["--redis", &url, "--prefix", "shop:"]).await;
    // Another prefix is another app: nothing of this one's.
    let other = payments(&["--redis", &url], &["watched", "--json"]).await.expect(0).json();
    assert_eq!(other, json!([]));

    server.stop();
    let down = payments(&["--redis", &url, "--prefix", "shop:"], &["watched"]).await.expect(1);
    assert!(down.stderr.contains("payment store") && !down.all().contains(PASSWORD), "{}", down.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_show_unresolved_and_rewatch_on_postgres() {
    let Some(server) = PostgresServer::start() else { return };
    // Loopback trusts every user, so any password is taken: it is there to be kept secret.
    let url = server.create_database("shop").replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1);
    let store = PgStore::builder(url.as_str()).schema("ops").table_prefix("cafe_").connect().await.unwrap();
    store.migrate().await.unwrap();
    leave_a_trail(store).await;
    let args = ["--postgres", url.as_str(), "--schema", "ops", "--table-prefix", "cafe_"];
    the_command_shows_what_the_store_holds(&args).await;
    // Read from the environment, and a password in the URL is never printed, even when refused.
    let mut command = pocket();
    command.env("POCKET_DATABASE_URL", &url).args(["payments", "--schema", "nowhere"]);
    let missing = run(command, &["watched"]).await;
    assert!(!missing.all().contains(PASSWORD), "{}", missing.all());
    assert!(payments(&[], &["watched"]).await.expect(2).stderr.contains("--redis URL or --postgres URL"));
}
