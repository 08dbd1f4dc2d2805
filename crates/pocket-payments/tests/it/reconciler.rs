//! The reconciler: payments whose webhook never comes, outages, deadlines, restarts.

use crate::common;

use std::time::{Duration, SystemTime};

use common::*;
use pocket_core::{InvoiceId, InvoiceState};
use pocket_payments::{Expected, Outcome, Payments, Source, Watched};
use serde_json::json;

fn payments(pocket: &FakePocket, recorder: &Recorder, deadline: Duration) -> Payments {
    Payments::builder(pocket.clone(), recorder.clone())
        .poll_schedule(Duration::from_millis(10), Duration::from_millis(40))
        .watch_deadline(deadline)
        .build()
}

#[tokio::test]
async fn a_payment_without_a_webhook_is_confirmed_once_by_polling() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(1, json!("PENDING"), 560);
    let payments = payments(&pocket, &recorder, Duration::from_secs(5));
    payments.reconciler().watch(InvoiceId::from(1), Some(Expected::amount(tugrik(560))));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(pocket.checks() >= 2, "polled while pending");
    assert_eq!(recorder.calls(), 0);
    pocket.paid(1, 560);
    eventually(WAIT, "the poll confirms it", || recorder.successes() == 1).await;
    let paid = recorder.paid.lock()[0].clone();
    assert_eq!((paid.source(), paid.expected().map(|e| e.amount)), (Source::Poll, Some(tugrik(560))));
    eventually(WAIT, "it leaves the list", || payments.reconciler().watched().is_empty()).await;
    let checks = pocket.checks();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pocket.checks(), checks, "and is not polled any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_and_poll_racing_for_one_payment_run_the_handler_once() {
    for round in 0..20_i64 {
        let (pocket, recorder) = (FakePocket::default(), Recorder::slow(Duration::from_millis(5)));
        pocket.state(round, json!("PENDING"), 560);
        let payments = payments(&pocket, &recorder, Duration::from_secs(5));
        payments.reconciler().watch(InvoiceId::from(round as u64), None);
        tokio::time::sleep(Duration::from_millis(8 + (round as u64 % 5))).await;
        pocket.paid(round, 560);
        let deliveries: Vec<_> = (0..5)
            .map(|_| {
                let payments = payments.clone();
                tokio::spawn(async move { payments.receive(notice_for(&round.to_string(), 560)).await })
            })
            .collect();
        for delivery in deliveries {
            delivery.await.unwrap();
        }
        eventually(WAIT, "the list empties", || payments.reconciler().watched().is_empty()).await;
        assert_eq!(recorder.calls(), 1, "round {round}");
    }
}

#[tokio::test]
async fn polling_survives_a_pocket_outage() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(2, 560);
    pocket.down_for(5);
    let payments = payments(&pocket, &recorder, Duration::from_secs(5));
    payments.reconciler().watch(InvoiceId::from(2), None);
    eventually(WAIT, "confirmed after the outage", || recorder.successes() == 1).await;
    assert!(pocket.checks() >= 6);
}

#[tokio::test]
async fn an_invoice_unsettled_at_its_deadline_is_handed_over_not_forgotten() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(3, json!(60), 560);
    let payments = payments(&pocket, &recorder, Duration::from_millis(150));
    payments.reconciler().watch(InvoiceId::from(3), None);
    eventually(WAIT, "the unresolved callback", || recorder.unresolved().len() == 1).await;
    let unresolved = &recorder.unresolved()[0];
    assert_eq!(unresolved.invoice_id, InvoiceId::from(3));
    assert_eq!(unresolved.last_state, Some(InvoiceState::Processing));
    assert!(unresolved.reason.contains("deadline"), "{}", unresolved.reason);
    assert!(payments.reconciler().watched().is_empty());
    assert_eq!(recorder.calls(), 0);
}

#[tokio::test]
async fn a_polled_payment_that_contradicts_the_order_is_unresolved_at_once() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(4, 560);
    let payments = payments(&pocket, &recorder, Duration::from_secs(60));
    payments.reconciler().watch(InvoiceId::from(4), Some(Expected::amount(tugrik(999))));
    eventually(WAIT, "the unresolved callback", || recorder.unresolved().len() == 1).await;
    assert!(recorder.unresolved()[0].reason.contains("order"), "{:?}", recorder.unresolved());
    assert_eq!(recorder.calls(), 0);
}

#[tokio::test]
async fn failed_invoices_leave_the_list_through_the_failed_callback() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(5, json!("CANCELLED"), 560);
    let payments = payments(&pocket, &recorder, Duration::from_secs(5));
    payments.reconciler().watch(InvoiceId::from(5), None);
    eventually(WAIT, "the failed callback", || recorder.failures() == 1).await;
    eventually(WAIT, "it leaves the list", || payments.reconciler().watched().is_empty()).await;
}

#[tokio::test]
async fn the_list_survives_a_restart_through_pending_and_resume() {
    let (pocket, old, new) = (FakePocket::default(), Recorder::default(), Recorder::default());
    pocket.state(6, json!("PENDING"), 560);
    let before = payments(&pocket, &old, Duration::from_secs(5));
    let deadline = SystemTime::now() + Duration::from_secs(120);
    before.reconciler().watch_until(InvoiceId::from(6), Some(Expected::amount(tugrik(560))), deadline);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(before.reconciler().watched().len(), 1);
    let saved = serde_json::to_string(&before.reconciler().stop()).unwrap();
    assert!(before.reconciler().watched().is_empty());

    pocket.paid(6, 560);
    let after = payments(&pocket, &new, Duration::from_secs(5));
    let restored: Vec<Watched> = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored[0].deadline, deadline);
    assert_eq!(restored[0].last_state, Some(InvoiceState::Pending));
    after.reconciler().resume(restored);
    eventually(WAIT, "confirmed after the restart", || new.successes() == 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(old.calls(), 0, "the stopped reconciler polls no more");
}

#[tokio::test]
async fn repeated_notices_cannot_extend_a_watch_but_the_app_can() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(7, json!("PENDING"), 560);
    let payments = payments(&pocket, &recorder, Duration::from_millis(200));
    assert_eq!(payments.receive(notice("7")).await, Outcome::NotFinal(InvoiceState::Pending));
    let first = payments.reconciler().watched()[0].deadline;
    tokio::time::sleep(Duration::from_millis(20)).await;
    payments.receive(notice("07")).await;
    assert_eq!(payments.reconciler().watched().len(), 1, "one invoice, whatever the spelling");
    assert_eq!(payments.reconciler().watched()[0].deadline, first);
    let later = SystemTime::now() + Duration::from_secs(60);
    payments.reconciler().watch_until(InvoiceId::from(7), None, later);
    assert_eq!(payments.reconciler().watched()[0].deadline, later);
}

#[tokio::test]
async fn an_invoice_pocket_does_not_know_yet_is_polled_on_and_its_webhook_is_not_refused() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    let payments = payments(&pocket, &recorder, Duration::from_secs(5));
    payments.reconciler().watch(InvoiceId::from(8), None);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert!(pocket.checks() >= 2, "polled although Pocket does not know it yet");
    assert!(payments.reconciler().is_watching(&InvoiceId::from(8)));
    pocket.paid(8, 560);
    assert_eq!(
        payments.receive(notice_for("8", 560)).await,
        Outcome::Handled,
        "the polls' 404s are not held against it"
    );
    assert_eq!(recorder.calls(), 1);
}

/// A journal whose writes take a while, as a remote one's do.
struct SlowJournal(MemJournal);

#[async_trait::async_trait]
impl pocket_payments::WatchJournal for SlowJournal {
    async fn save(&self, key: &str, watched: &Watched) -> Result<(), pocket_payments::StoreError> {
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.0.save(key, watched).await
    }
    async fn forget(&self, key: &str) -> Result<bool, pocket_payments::StoreError> {
        tokio::time::sleep(Duration::from_millis(60)).await;
        self.0.forget(key).await
    }
    async fn load(&self) -> Result<Vec<Watched>, pocket_payments::StoreError> {
        self.0.load().await
    }
    async fn find(&self, key: &str) -> Result<Option<Watched>, pocket_payments::StoreError> {
        self.0.find(key).await
    }
    async fn try_poll(&self, key: &str, lease: Duration) -> Result<bool, pocket_payments::StoreError> {
        self.0.try_poll(key, lease).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_given_up_is_not_watched_again_by_a_poll_that_started_while_it_was_crossed_out() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(21, json!("PENDING"), 560);
    pocket.state(22, json!("PENDING"), 560);
    // A second poll that began while the first crossed the invoice out answers after it did.
    pocket.slow(Duration::from_millis(40));
    let payments = Payments::builder(pocket.clone(), recorder.clone())
        .watch_journal(SlowJournal(MemJournal::default()))
        .poll_schedule(Duration::from_millis(5), Duration::from_millis(10))
        .build();
    let deadline = SystemTime::now() + Duration::from_millis(150);
    payments.reconciler().watch_until(InvoiceId::from(21), None, deadline).durable().await.unwrap();
    // Another invoice's polls wake the reconciler while the first is being crossed out.
    payments.reconciler().watch(InvoiceId::from(22), None).durable().await.unwrap();
    eventually(WAIT, "the unresolved callback", || recorder.unresolved().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recorder.unresolved().len(), 1);
    let pending = payments.reconciler().watched();
    assert!(pending.iter().all(|watched| watched.invoice_id != InvoiceId::from(21)), "watched again: {pending:?}");
    let checks = pocket.checks_of(21);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pocket.checks_of(21), checks, "and no longer polled");
}
