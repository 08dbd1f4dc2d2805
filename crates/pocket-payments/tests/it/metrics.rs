//! The pipeline's metrics (feature `metrics`), asserted exactly after scripted flows: a paid
//! webhook, its duplicate, forgeries, an outage, a handler that fails, a watch resolved by a
//! poll and one given up at its deadline, and the health report.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_core::InvoiceId;
use pocket_payments::{InMemoryStore, Outcome, Payments, Refusal};
use pocket_test_support::metrics::{Recorded, recorded};
use serde_json::json;

const DELIVERIES: &str = "pocket_payments_deliveries_total";
const CHECKS: &str = "pocket_payments_checks_total";
const RUNS: &str = "pocket_payments_handler_runs_total";
const STORE: &str = "pocket_payments_store_operations_total";

fn payments(pocket: &FakePocket, recorder: &Recorder) -> Payments {
    Payments::builder(pocket.clone(), recorder.clone())
        .poll_schedule(Duration::from_millis(10), Duration::from_millis(40))
        .watch_deadline(Duration::from_millis(300))
        .build()
}

fn delivered(metrics: &Recorded, source: &str, outcome: &str) -> u64 {
    metrics.counter(DELIVERIES, &[("source", source), ("outcome", outcome)])
}

#[test]
fn a_paid_webhook_and_its_duplicate_count_one_check_and_one_handler_run() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(7, 560);
    let ((first, second), metrics) = recorded(async {
        let payments = payments(&pocket, &recorder);
        (payments.receive(notice_for("7", 560)).await, payments.receive(notice("07")).await)
    });
    assert_eq!((first, second), (Outcome::Handled, Outcome::AlreadyHandled));
    assert_eq!(delivered(&metrics, "webhook", "handled"), 1);
    assert_eq!(delivered(&metrics, "webhook", "already_handled"), 1);
    assert_eq!(metrics.counter_total(DELIVERIES), 2);
    assert_eq!(metrics.counter(CHECKS, &[("api", "merchant"), ("result", "found")]), 1, "the duplicate asks nobody");
    assert_eq!(metrics.counter_total(CHECKS), 1);
    assert_eq!(metrics.counter(RUNS, &[("callback", "paid"), ("result", "ok")]), 1);
    assert_eq!(metrics.counter_total(RUNS), 1);
    assert_eq!(metrics.histogram("pocket_payments_handler_duration_seconds", &[("callback", "paid")]).len(), 1);
    assert_eq!(metrics.histogram("pocket_payments_check_duration_seconds", &[("api", "merchant")]).len(), 1);
    for (operation, count) in [("is_done", 2), ("claim", 1), ("complete", 1)] {
        assert_eq!(metrics.counter(STORE, &[("operation", operation), ("result", "ok")]), count, "{operation}");
    }
    assert_eq!(metrics.counter_total(STORE), 4);
}

#[test]
fn forgeries_count_as_refusals_by_reason_and_run_nothing() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(8, 560);
    let (outcomes, metrics) = recorded(async {
        let payments = payments(&pocket, &recorder);
        let mut outcomes = Vec::new();
        for forged in [notice("99"), notice_for("8", 1), notice("not-a-number")] {
            outcomes.push(payments.receive(forged).await);
        }
        outcomes
    });
    assert_eq!(
        outcomes,
        [Refusal::UnknownInvoice, Refusal::AmountMismatch, Refusal::UnknownInvoice].map(Outcome::Refused)
    );
    assert_eq!(delivered(&metrics, "webhook", "refused"), 3);
    let refused = |reason| metrics.counter("pocket_payments_refusals_total", &[("reason", reason)]);
    assert_eq!((refused("unknown_invoice"), refused("amount_mismatch")), (2, 1));
    assert_eq!(metrics.counter(CHECKS, &[("api", "merchant"), ("result", "unknown")]), 2);
    assert_eq!(metrics.counter(CHECKS, &[("api", "merchant"), ("result", "found")]), 1);
    assert_eq!(metrics.counter_total(RUNS), 0);
    assert_eq!(recorder.calls(), 0);
    // No label carries what the sender wrote.
    for name in metrics.names() {
        for labels in metrics.label_sets(&name) {
            assert!(!labels.iter().any(|label| label.contains("99") || label.contains("not-a-number")), "{labels:?}");
        }
    }
}

#[test]
fn an_outage_and_a_failing_handler_are_counted_apart() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(9, 560);
    pocket.down_for(1);
    recorder.then(&[Misbehave::Fail, Misbehave::Panic]);
    let (outcomes, metrics) = recorded(async {
        let payments = payments(&pocket, &recorder);
        let mut outcomes = Vec::new();
        for _ in 0..4 {
            outcomes.push(payments.receive(notice("9")).await);
        }
        outcomes
    });
    use Outcome::*;
    assert_eq!(outcomes, [PocketUnavailable, HandlerFailed, HandlerFailed, Handled]);
    assert_eq!(delivered(&metrics, "webhook", "pocket_unavailable"), 1);
    assert_eq!(delivered(&metrics, "webhook", "handler_failed"), 2);
    assert_eq!(metrics.counter(CHECKS, &[("api", "merchant"), ("result", "error")]), 1);
    let ran = |result| metrics.counter(RUNS, &[("callback", "paid"), ("result", result)]);
    assert_eq!((ran("error"), ran("panicked"), ran("ok")), (1, 1, 1));
    assert_eq!(metrics.counter(STORE, &[("operation", "release"), ("result", "ok")]), 2, "both failures released");
}

#[test]
fn a_store_outage_is_counted_by_operation() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(10, 560);
    let (outcome, metrics) = recorded(async {
        let payments = Payments::builder(pocket.clone(), recorder.clone()).store(BrokenStore).build();
        payments.receive(notice("10")).await
    });
    assert_eq!(outcome, Outcome::StoreUnavailable);
    assert_eq!(metrics.counter(STORE, &[("operation", "is_done"), ("result", "error")]), 1);
    assert_eq!(delivered(&metrics, "webhook", "store_unavailable"), 1);
}

#[test]
fn a_watch_resolved_by_a_poll_and_one_given_up_are_counted() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(11, json!("PENDING"), 560);
    pocket.state(12, json!("PENDING"), 560);
    let (health, metrics) = recorded(async {
        let payments = payments(&pocket, &recorder);
        let reconciler = payments.reconciler();
        reconciler.watch(InvoiceId::from(11), None);
        reconciler.watch(InvoiceId::from(12), None);
        eventually(WAIT, "both are polled", || pocket.checks_of(11) >= 2 && pocket.checks_of(12) >= 2).await;
        let watching = payments.health().await;
        pocket.paid(11, 560);
        eventually(WAIT, "11 is paid by a poll", || recorder.successes() == 1).await;
        eventually(WAIT, "12 is given up", || recorder.unresolved().len() == 1).await;
        eventually(WAIT, "nothing is watched", || reconciler.watched().is_empty()).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        (watching, payments.health().await)
    });
    let (watching, after) = health;
    assert_eq!(watching.reconciler.watched, 2);
    assert!(watching.ready && watching.reconciler.alive);
    assert_eq!(after.reconciler.watched, 0);
    assert_eq!(delivered(&metrics, "poll", "handled"), 1);
    assert!(delivered(&metrics, "poll", "not_final") >= 4);
    let polls = |result| metrics.counter("pocket_payments_reconciler_polls_total", &[("result", result)]);
    assert_eq!((polls("settled"), polls("gave_up")), (1, 1));
    assert_eq!(
        polls("again"),
        delivered(&metrics, "poll", "not_final") - 1,
        "every not-final poll but the last is again"
    );
    assert_eq!(metrics.counter("pocket_payments_unresolved_total", &[("reason", "deadline")]), 1);
    assert_eq!(metrics.counter(RUNS, &[("callback", "unresolved"), ("result", "ok")]), 1);
    assert_eq!(metrics.gauge("pocket_payments_watched_invoices", &[]), Some(0.0));
    assert_eq!(metrics.counter_total(DELIVERIES), metrics.counter_total("pocket_payments_reconciler_polls_total"));
}

#[test]
fn the_oldest_watched_invoice_ages_in_the_gauge() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(13, json!("PENDING"), 560);
    let (health, metrics) = recorded(async {
        let payments = Payments::builder(pocket.clone(), recorder.clone())
            .poll_schedule(Duration::from_millis(10), Duration::from_millis(20))
            .build();
        payments.reconciler().watch(InvoiceId::from(13), None);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        payments.health().await
    });
    assert!(health.reconciler.oldest_watched_seconds.is_some_and(|age| (1..=3).contains(&age)), "{health:?}");
    assert_eq!(metrics.gauge("pocket_payments_watched_invoices", &[]), Some(1.0));
    let oldest = metrics.gauge("pocket_payments_oldest_watched_seconds", &[]).unwrap();
    assert!((1.0..4.0).contains(&oldest), "{oldest}");
    assert!(health.last_pocket_answer_seconds.is_some_and(|seconds| seconds <= 1));
}

#[test]
fn health_reports_a_store_that_cannot_be_read_and_is_not_ready() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    let (health, _) = recorded(async {
        let down = Payments::builder(pocket.clone(), recorder.clone()).store(BrokenStore).build();
        let up = Payments::builder(pocket.clone(), recorder.clone()).store(InMemoryStore::default()).build();
        (down.health().await, up.health().await)
    });
    let (down, up) = health;
    assert!(!down.ready && !down.store.ok && down.store.status == "failed");
    assert!(up.ready && up.store.ok && up.journal.is_none());
    assert_eq!(up.last_pocket_answer_seconds, None, "Pocket was never asked");
    let json = serde_json::to_value(&down).unwrap();
    assert_eq!(json["store"]["status"], "failed");
    assert!(!json.to_string().contains("connection"), "the store's own error text is not shown: {json}");
}
