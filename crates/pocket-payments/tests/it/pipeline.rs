//! The pipeline against a scripted Pocket, tried as an attacker and an unlucky operator would.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use pocket_core::{InvoiceId, InvoiceState};
use pocket_payments::{
    Expected, HandlerError, InMemoryStore, MissingAmount, OrderCheck, Outcome, Payments, PaymentsBuilder,
    ProcessedState, Refusal, Source,
};
use serde_json::json;

fn pipeline(pocket: &FakePocket, recorder: &Recorder) -> PaymentsBuilder {
    Payments::builder(pocket.clone(), recorder.clone())
        .poll_schedule(Duration::from_millis(20), Duration::from_millis(50))
        .watch_deadline(Duration::from_secs(5))
}

#[tokio::test]
async fn a_paid_invoice_runs_the_handler_once_with_pockets_word() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(4242, 560);
    let payments = pipeline(&pocket, &recorder).build();
    let mut notice = notice_for("4242", 560);
    notice.phone_number = Some("99112233".into());
    assert_eq!(payments.receive(notice.clone()).await, Outcome::Handled);
    assert_eq!(payments.receive(notice).await, Outcome::AlreadyHandled);
    let paid = recorder.paid.lock()[0].clone();
    assert_eq!(paid.invoice_id().as_str(), "4242");
    assert_eq!(paid.amount(), Some(tugrik(560)));
    assert_eq!(paid.state(), &InvoiceState::Paid);
    assert_eq!(paid.source(), Source::Webhook);
    assert_eq!(paid.unverified_notice().unwrap().phone_number.as_deref(), Some("99112233"));
    assert_eq!(pocket.checks(), 1, "the repeat was answered from the store, without asking Pocket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_invoice_under_many_spellings_concurrently_runs_once() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::slow(Duration::from_millis(50)));
    pocket.paid(4242, 560);
    let payments = pipeline(&pocket, &recorder).build();
    let spellings = ["4242", "04242", "+4242", " 4242", "0004242", "4242 "];
    let deliveries = (0..30).map(|n| {
        let payments = payments.clone();
        let spelling = spellings[n % spellings.len()];
        tokio::spawn(async move { payments.receive(notice(spelling)).await })
    });
    let mut outcomes = Vec::new();
    for delivery in deliveries.collect::<Vec<_>>() {
        outcomes.push(delivery.await.unwrap());
    }
    assert_eq!(recorder.calls(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Handled).count(), 1);
    assert!(
        outcomes.iter().all(|o| matches!(o, Outcome::Handled | Outcome::AlreadyHandled | Outcome::InProgress)),
        "{outcomes:?}"
    );
    for spelling in spellings {
        assert_eq!(payments.receive(notice(spelling)).await, Outcome::AlreadyHandled, "{spelling}");
    }
}

#[tokio::test]
async fn pockets_answer_about_another_invoice_is_refused() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.answer(77, json!({"id": 78, "state": "PAID", "amount": 560}));
    pocket.answer(79, json!({"id": "0079", "state": "PAID", "amount": 560}));
    let payments = pipeline(&pocket, &recorder).build();
    assert_eq!(payments.receive(notice("77")).await, Outcome::Refused(Refusal::OtherInvoice));
    assert_eq!(payments.receive(notice("79")).await, Outcome::Handled, "the same number, spelled otherwise");
    assert_eq!(recorder.successes(), 1);
}

#[tokio::test]
async fn a_check_that_lags_the_webhook_loses_nothing() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(5, json!("PROCESSING"), 560);
    let payments = pipeline(&pocket, &recorder).build();
    let outcome = payments.receive(notice_for("5", 560)).await;
    assert_eq!(outcome, Outcome::NotFinal(InvoiceState::Processing));
    assert_eq!(outcome.http_status(), 503, "a retryable answer: the sender must not give up");
    assert_eq!(payments.retry_after(&outcome), Some(Duration::from_secs(5)));
    assert!(payments.reconciler().is_watching(&InvoiceId::from(5)));
    assert_eq!(recorder.calls(), 0);
    pocket.paid(5, 560);
    eventually(WAIT, "the reconciler confirms the payment", || recorder.successes() == 1).await;
    let paid = recorder.paid.lock()[0].clone();
    assert_eq!(paid.source(), Source::Poll);
    assert!(paid.unverified_notice().is_none());
    eventually(WAIT, "the reconciler forgets it", || !payments.reconciler().is_watching(&InvoiceId::from(5))).await;
    assert_eq!(payments.receive(notice_for("5", 560)).await, Outcome::AlreadyHandled);
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn final_unpaid_states_tell_the_failed_callback_once_and_are_acknowledged() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.answer(6, json!({"id": 6, "state": "UNSUCCESS", "description": "Үлдэгдэл хүрэлцэхгүй", "amount": 560}));
    pocket.state(7, json!(30), 560);
    pocket.state(8, json!("rejected"), 560);
    let payments = pipeline(&pocket, &recorder).build();
    let mut forged = notice_for("6", 560);
    forged.invoice_state = Some(InvoiceState::Paid);
    let outcome = payments.receive(forged.clone()).await;
    assert_eq!(outcome, Outcome::NotPaid(InvoiceState::Failed));
    assert_eq!(outcome.http_status(), 200);
    assert_eq!(payments.receive(forged).await, Outcome::NotPaid(InvoiceState::Failed));
    assert_eq!(payments.receive(notice("7")).await, Outcome::NotPaid(InvoiceState::Cancelled));
    assert_eq!(payments.receive(notice("8")).await, Outcome::NotPaid(InvoiceState::Rejected));
    let failed = recorder.failed.lock().clone();
    assert_eq!(failed.len(), 3, "once per invoice");
    assert_eq!(failed[0].description(), Some("Үлдэгдэл хүрэлцэхгүй"));
    assert_eq!(recorder.calls(), 0, "never the paid handler");
}

#[tokio::test]
async fn integer_null_and_unknown_states_from_pocket() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(20, json!(20), 560);
    pocket.state(21, json!("20"), 560);
    pocket.state(22, json!(null), 560);
    pocket.answer(23, json!({"id": 23, "amount": 560}));
    pocket.state(24, json!("ON_HOLD"), 560);
    pocket.state(25, json!(10), 560);
    let payments = pipeline(&pocket, &recorder).watch_deadline(Duration::from_millis(1)).build();
    assert_eq!(payments.receive(notice("20")).await, Outcome::Handled);
    assert_eq!(payments.receive(notice("21")).await, Outcome::Handled);
    assert_eq!(payments.receive(notice("22")).await, Outcome::NotFinal(InvoiceState::default()));
    assert_eq!(payments.receive(notice("23")).await, Outcome::NotFinal(InvoiceState::default()));
    assert_eq!(payments.receive(notice("24")).await, Outcome::NotFinal(InvoiceState::Unknown("ON_HOLD".into())));
    assert_eq!(payments.receive(notice("25")).await, Outcome::NotFinal(InvoiceState::Pending));
    assert_eq!(recorder.successes(), 2);
}

#[tokio::test]
async fn processed_is_not_final_unless_the_app_says_it_means_paid() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(70, json!(70), 560);
    pocket.state(71, json!("PROCESSED"), 560);
    let cautious = pipeline(&pocket, &recorder).watch_deadline(Duration::from_millis(1)).build();
    assert_eq!(cautious.receive(notice("70")).await, Outcome::NotFinal(InvoiceState::Processed));
    let trusting = pipeline(&pocket, &recorder).processed(ProcessedState::Paid).build();
    assert_eq!(trusting.receive(notice("71")).await, Outcome::Handled);
    assert_eq!(recorder.paid.lock()[0].state(), &InvoiceState::Processed);
}

struct Orders(Option<Expected>);

#[async_trait::async_trait]
impl OrderCheck for Orders {
    async fn expected(&self, _: &InvoiceId) -> Result<Option<Expected>, HandlerError> {
        Ok(self.0.clone())
    }
}

#[tokio::test]
async fn a_missing_amount_is_confirmed_only_against_the_apps_order() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    for id in [30, 31, 32] {
        pocket.answer(id, json!({"id": id, "state": "PAID"}));
    }
    let refusing = pipeline(&pocket, &recorder).build();
    let outcome = refusing.receive(notice_for("30", 560)).await;
    assert_eq!(outcome, Outcome::AmountUnconfirmed, "the notice's amount is only a claim");
    assert_eq!(outcome.http_status(), 503);
    assert!(refusing.reconciler().is_watching(&InvoiceId::from(30)), "watched, not dropped");

    let no_order = pipeline(&pocket, &recorder).missing_amount(MissingAmount::AgainstOrder).build();
    assert_eq!(no_order.receive(notice("31")).await, Outcome::AmountUnconfirmed);

    let with_order = pipeline(&pocket, &recorder)
        .missing_amount(MissingAmount::AgainstOrder)
        .order_check(Orders(Some(Expected::amount(tugrik(560)))))
        .build();
    assert_eq!(with_order.receive(notice("32")).await, Outcome::Handled);
    let paid = recorder.paid.lock()[0].clone();
    assert_eq!(paid.amount(), None, "Pocket reported none");
    assert_eq!(paid.expected(), Some(&Expected::amount(tugrik(560))));
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn amounts_must_agree_with_pocket_and_with_the_order() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(40, 700);
    pocket.paid(41, 700);
    let payments = pipeline(&pocket, &recorder).build();
    assert_eq!(payments.receive(notice_for("40", 7000)).await, Outcome::Refused(Refusal::AmountMismatch));
    assert_eq!(payments.receive(notice_for("40", 700)).await, Outcome::Handled);
    let vetoed = pipeline(&pocket, &recorder).order_check(Orders(Some(Expected::amount(tugrik(999))))).build();
    assert_eq!(vetoed.receive(notice("41")).await, Outcome::Refused(Refusal::OrderMismatch));
    let wrong_note =
        pipeline(&pocket, &recorder).order_check(Orders(Some(Expected::amount(tugrik(700)).with_info("Бууз")))).build();
    assert_eq!(wrong_note.receive(notice("41")).await, Outcome::Refused(Refusal::OrderMismatch));
    assert_eq!(recorder.successes(), 1);
}

#[tokio::test]
async fn a_failing_or_panicking_handler_releases_its_claim() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(50, 560);
    recorder.then(&[Misbehave::Panic, Misbehave::Fail]);
    let payments = pipeline(&pocket, &recorder).build();
    assert_eq!(payments.receive(notice("50")).await, Outcome::HandlerFailed);
    // The panic's claim is released in the background.
    assert_eq!(settled(&payments, "50").await, Outcome::HandlerFailed, "the second try fails on its own");
    assert_eq!(payments.receive(notice("50")).await, Outcome::Handled);
    assert_eq!(payments.receive(notice("50")).await, Outcome::AlreadyHandled);
    assert_eq!((recorder.calls(), recorder.successes()), (3, 1));
}

#[tokio::test]
async fn a_cancelled_delivery_releases_its_claim_and_the_reconciler_finishes_the_payment() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::slow(Duration::from_millis(200)));
    pocket.paid(60, 560);
    let payments = pipeline(&pocket, &recorder).build();
    // The sender hangs up while the handler runs: the handler is cut at its await point, the
    // claim is released at once, and the reconciler takes the invoice over.
    let cut = tokio::time::timeout(Duration::from_millis(50), payments.receive(notice("60"))).await;
    assert!(cut.is_err(), "the delivery was cancelled mid-handler");
    assert_eq!(recorder.successes(), 0, "cut short");
    assert!(payments.reconciler().is_watching(&InvoiceId::from(60)), "handed to the reconciler");
    eventually(WAIT, "the reconciler's poll finishes it", || recorder.successes() == 1).await;
    assert_eq!(recorder.paid.lock()[0].source(), Source::Poll);
    assert_eq!(settled(&payments, "60").await, Outcome::AlreadyHandled);
    assert_eq!((recorder.calls(), recorder.successes()), (2, 1));
}

#[tokio::test]
async fn a_cancelled_delivery_frees_the_invoice_for_the_next_one_at_once() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::slow(Duration::from_millis(200)));
    pocket.paid(61, 560);
    let payments = pipeline(&pocket, &recorder).poll_schedule(Duration::from_secs(30), Duration::from_secs(30)).build();
    let cut = tokio::time::timeout(Duration::from_millis(50), payments.receive(notice("61"))).await;
    assert!(cut.is_err());
    assert_eq!(settled(&payments, "61").await, Outcome::Handled, "the next delivery is not held off by a lease");
    assert_eq!((recorder.calls(), recorder.successes()), (2, 1));
}

/// Delivers `id` until no other delivery holds it (a released or completed claim settles in
/// the background).
async fn settled(payments: &Payments, id: &str) -> Outcome {
    for _ in 0..200 {
        match payments.receive(notice(id)).await {
            Outcome::InProgress => tokio::time::sleep(Duration::from_millis(5)).await,
            other => return other,
        }
    }
    Outcome::InProgress
}

#[tokio::test]
async fn a_handler_past_its_timeout_is_cut_and_the_payment_tried_again() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::slow(Duration::from_millis(400)));
    pocket.paid(62, 560);
    let payments = pipeline(&pocket, &recorder).handler_timeout(Duration::from_millis(100)).build();
    assert_eq!(payments.receive(notice("62")).await, Outcome::HandlerFailed);
    assert_eq!(recorder.successes(), 0, "cut before it finished");
    recorder.set_delay(Duration::ZERO);
    assert_eq!(payments.receive(notice("62")).await, Outcome::Handled, "its claim was released");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(recorder.successes(), 1, "the cut run never completes later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_sharing_a_store_run_a_payment_once() {
    let pocket = FakePocket::default();
    let recorder = Recorder::slow(Duration::from_millis(30));
    let store = Arc::new(InMemoryStore::default());
    let replicas: Vec<Payments> = (0..3).map(|_| pipeline(&pocket, &recorder).store(store.clone()).build()).collect();
    for invoice in 0..20_i64 {
        pocket.paid(1000 + invoice, 560);
        let deliveries: Vec<_> = (0..30)
            .map(|n| {
                let replica = replicas[n % 3].clone();
                let spelling = if n % 2 == 0 { format!("{}", 1000 + invoice) } else { format!("0{}", 1000 + invoice) };
                tokio::spawn(async move { replica.receive(notice(&spelling)).await })
            })
            .collect();
        for delivery in deliveries {
            delivery.await.unwrap();
        }
    }
    assert_eq!(recorder.calls(), 20, "one run per invoice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_notices_for_one_invoice_share_one_check() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(70, json!("PENDING"), 560);
    pocket.slow(Duration::from_millis(100));
    let payments = pipeline(&pocket, &recorder).watch_deadline(Duration::from_millis(1)).build();
    let deliveries: Vec<_> = (0..20)
        .map(|_| {
            let payments = payments.clone();
            tokio::spawn(async move { payments.receive(notice("70")).await })
        })
        .collect();
    for delivery in deliveries {
        assert_eq!(delivery.await.unwrap(), Outcome::NotFinal(InvoiceState::Pending));
    }
    assert_eq!(pocket.checks(), 1);
}

#[tokio::test]
async fn an_unknown_invoice_is_remembered_briefly() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    let payments = pipeline(&pocket, &recorder).unknown_invoice_memory(Duration::from_millis(100), 1_000).build();
    assert_eq!(payments.receive(notice("404")).await, Outcome::Refused(Refusal::UnknownInvoice));
    for _ in 0..4 {
        let repeat = payments.receive(notice("404")).await;
        assert_eq!((repeat.http_status(), &repeat), (503, &Outcome::NotYetKnown), "asked to come again, never refused");
    }
    assert_eq!(pocket.checks(), 1);
    tokio::time::sleep(Duration::from_millis(150)).await;
    pocket.paid(404, 560);
    assert_eq!(payments.receive(notice("404")).await, Outcome::Handled, "after the memory lapses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_random_ids_is_bounded_in_checks_and_memory() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    let payments = pipeline(&pocket, &recorder)
        .checks_per_second(Some(100.0), 50)
        .unknown_invoice_memory(Duration::from_secs(30), 500)
        .build();
    let started = std::time::Instant::now();
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut overloaded = 0;
    for _ in 0..20_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        match payments.receive(notice(&(rng >> 2).to_string())).await {
            Outcome::Refused(Refusal::UnknownInvoice) => {}
            Outcome::Overloaded => overloaded += 1,
            other => panic!("{other:?}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let allowed = 50.0 + 100.0 * elapsed + 1.0;
    assert!((pocket.checks() as f64) <= allowed, "{} checks in {elapsed:.2} s", pocket.checks());
    assert!(overloaded > 10_000, "{overloaded}");
    assert!(payments.remembered_unknown_invoices() <= 500);
}

#[tokio::test]
async fn an_unavailable_pocket_or_store_asks_for_redelivery_and_runs_nothing() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(80, 560);
    pocket.down_for(1);
    let payments = pipeline(&pocket, &recorder).build();
    let outcome = payments.receive(notice("80")).await;
    assert_eq!((outcome.clone(), outcome.http_status()), (Outcome::PocketUnavailable, 503));
    assert_eq!(recorder.calls(), 0);
    assert_eq!(payments.receive(notice("80")).await, Outcome::Handled);

    let broken = pipeline(&pocket, &recorder).store(BrokenStore).build();
    assert_eq!(broken.receive(notice("80")).await, Outcome::StoreUnavailable);
    assert_eq!(recorder.calls(), 1, "never without a claim");
}
