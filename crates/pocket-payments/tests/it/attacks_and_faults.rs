//! The pipeline tried as an attacker and as an unlucky operator would: forged spellings and
//! future ids that must never cost a genuine payment, quota amplification, cancelled
//! deliveries, a store that is slow or away when a success is recorded, and callbacks, polls
//! and replicas that panic, hang or die.

use crate::common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use common::*;
use pocket_core::{Error, InvoiceId, TerminalId};
use pocket_payments::{
    Claim, ClaimToken, Expected, HandlerError, InMemoryStore, OrderCheck, Outcome, PaymentStore, Payments,
    PaymentsBuilder, Refusal, StoreError, WatchError,
};
use serde_json::json;

fn pipeline(pocket: &FakePocket, recorder: &Recorder) -> PaymentsBuilder {
    Payments::builder(pocket.clone(), recorder.clone())
        .poll_schedule(Duration::from_millis(20), Duration::from_millis(50))
        .watch_deadline(Duration::from_secs(5))
}

/// Delivers `notice` as a sender that retries 5xx would, until it is answered 2xx or 4xx.
async fn deliver_until_answered(payments: &Payments, id: &str) -> Outcome {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let outcome = payments.receive(notice_for(id, 560)).await;
        if !outcome.is_retryable() || tokio::time::Instant::now() > deadline {
            return outcome;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A replica sharing `journal`, polling every `first` and at most every `max`.
fn journaled(pocket: &FakePocket, recorder: &Recorder, journal: &MemJournal, name: &str, max: u64) -> Payments {
    journaled_with(pocket, recorder, journal.replica(name), max)
}

fn journaled_with(pocket: &FakePocket, recorder: &Recorder, journal: MemJournal, max: u64) -> Payments {
    Payments::builder(pocket.clone(), recorder.clone())
        .poll_schedule(Duration::from_millis(10), Duration::from_millis(max))
        .watch_journal(journal)
        .build()
}

// ---- A forged notice must never cost a genuine payment ----

#[tokio::test]
async fn a_forged_spelling_that_pocket_refuses_never_poisons_the_genuine_invoice() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    let payments = pipeline(&pocket, &recorder).build();
    for forged in ["4242\u{A0}", "4242\u{202F}", "4242\u{2007}", "+0x1092"] {
        let outcome = payments.receive(notice(forged)).await;
        assert_eq!(outcome, Outcome::Refused(Refusal::UnknownInvoice), "{forged:?}: Spring answers 400 for it");
    }
    pocket.paid(4242, 560);
    assert_eq!(payments.receive(notice_for("4242", 560)).await, Outcome::Handled, "the genuine notice");
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn notices_for_future_ids_never_make_their_genuine_webhooks_fail() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    let payments = pipeline(&pocket, &recorder).unknown_invoice_memory(Duration::from_millis(300), 1_000).build();
    // An attacker who saw invoice 500 posts "paid" for the next three before they exist.
    for future in ["501", "502", "503"] {
        assert_eq!(payments.receive(notice_for(future, 560)).await, Outcome::Refused(Refusal::UnknownInvoice));
    }
    // 501 is created and watched by the app; 502 and 503 are created by other means.
    let _ = payments.reconciler().watch(InvoiceId::from(501), None);
    for invoice in [501, 502, 503] {
        pocket.paid(invoice, 560);
    }
    for genuine in ["501", "502", "503"] {
        let first = payments.receive(notice_for(genuine, 560)).await;
        assert_ne!(first.http_status() / 100, 4, "{genuine}: a genuine notice is never refused: {first:?}");
        assert_eq!(deliver_until_answered(&payments, genuine).await.http_status(), 200, "{genuine}");
    }
    assert_eq!(recorder.successes(), 3);
}

#[tokio::test]
async fn pocket_not_knowing_a_watched_invoice_is_lag_answered_503_and_the_watch_goes_on() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    let payments = pipeline(&pocket, &recorder).build();
    let _ = payments.reconciler().watch(InvoiceId::from(610), Some(Expected::amount(tugrik(560))));
    let early = payments.receive(notice_for("610", 560)).await;
    assert_eq!((early.http_status(), &early), (503, &Outcome::NotYetKnown));
    assert!(payments.reconciler().is_watching(&InvoiceId::from(610)));
    assert_eq!(payments.remembered_unknown_invoices(), 0, "nothing remembered against an invoice the app made");
    pocket.paid(610, 560);
    eventually(WAIT, "the poll confirms it", || recorder.successes() == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spelling_pocket_reads_as_one_number_is_one_payment_even_without_an_id_in_the_answer() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::slow(Duration::from_millis(20)));
    // Pocket's answer names no invoice: the key is the number the asked id reads as.
    pocket.answer(4242, json!({"state": "PAID", "amount": 560}));
    let payments = pipeline(&pocket, &recorder).build();
    let spellings = ["4242", "٤٢٤٢", "４２４２", "᠔᠒᠔᠒", "0x1092", "#1092", "+4242", " 4242", "۴۲۴۲"];
    let deliveries: Vec<_> = spellings
        .iter()
        .map(|spelling| {
            let (payments, spelling) = (payments.clone(), (*spelling).to_owned());
            tokio::spawn(async move { deliver_until_answered(&payments, &spelling).await })
        })
        .collect();
    for delivery in deliveries {
        assert_eq!(delivery.await.unwrap().http_status(), 200);
    }
    assert_eq!(recorder.calls(), 1, "one invoice, one run");
}

#[tokio::test]
async fn the_order_the_app_gave_the_reconciler_holds_for_the_webhook_too() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(700, 500);
    let payments = pipeline(&pocket, &recorder).build();
    let _ = payments.reconciler().watch(InvoiceId::from(700), Some(Expected::amount(tugrik(6_000))));
    assert_eq!(payments.receive(notice("700")).await, Outcome::Refused(Refusal::OrderMismatch));
    assert_eq!(payments.receive(notice_for("0700", 500)).await, Outcome::Refused(Refusal::OrderMismatch));
    assert_eq!(recorder.calls(), 0);
}

#[tokio::test]
async fn the_order_given_on_another_replica_holds_through_the_shared_journal() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(701, 500);
    let journal = MemJournal::default();
    let a = pipeline(&pocket, &recorder).watch_journal(journal.replica("a")).build();
    let b = pipeline(&pocket, &recorder).watch_journal(journal.replica("b")).build();
    let watch = a.reconciler().watch(InvoiceId::from(701), Some(Expected::amount(tugrik(6_000))));
    watch.durable().await.unwrap();
    assert_eq!(b.receive(notice("701")).await, Outcome::Refused(Refusal::OrderMismatch), "replica B knows A's order");
    journal.set_down(true);
    pocket.paid(702, 500);
    assert_eq!(b.receive(notice("702")).await, Outcome::StoreUnavailable, "no verdict while the order cannot be read");
    assert_eq!(recorder.calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_bounds_calls_to_pocket_whatever_the_number_of_terminals() {
    let (pocket, recorder, gateway) = (FakePocket::default(), Recorder::default(), FakeGateway::default());
    let terminals = (1..=6).map(TerminalId::new);
    let payments = pipeline(&pocket, &recorder)
        .gateway(gateway.clone(), terminals)
        .checks_per_second(Some(50.0), 100)
        .max_concurrent_checks(64, Duration::from_millis(100))
        .build();
    let started = std::time::Instant::now();
    let mut n = 10_000u64;
    while started.elapsed() < Duration::from_millis(1_500) {
        let batch: Vec<_> = (0..32)
            .map(|_| {
                n += 1;
                let mut forged = notice(&n.to_string());
                forged.order_number = Some(format!("ORD-{n}"));
                let payments = payments.clone();
                tokio::spawn(async move { payments.receive(forged).await })
            })
            .collect();
        for outcome in batch {
            let outcome = outcome.await.unwrap();
            assert!(matches!(outcome, Outcome::Refused(Refusal::UnknownInvoice) | Outcome::Overloaded), "{outcome:?}");
        }
    }
    let calls = pocket.checks() + gateway.lookups.load(Ordering::SeqCst);
    let allowed = 100.0 + 50.0 * started.elapsed().as_secs_f64() + 1.0;
    assert!((calls as f64) <= allowed, "{calls} calls to Pocket in {:?}, at most {allowed:.0}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_deliveries_leave_no_check_behind() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.slow(Duration::from_millis(200));
    let payments = pipeline(&pocket, &recorder)
        .checks_per_second(None, 1)
        .max_concurrent_checks(1_000, Duration::from_secs(1))
        .build();
    for round in 0..3u64 {
        let deliveries: Vec<_> = (0..300u64)
            .map(|n| {
                let payments = payments.clone();
                // Some ids are asked about twice at once, so shared checks are cancelled too.
                let id = (round * 1_000 + n / 2).to_string();
                tokio::spawn(async move { payments.receive(notice(&id)).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(30)).await;
        for (n, delivery) in deliveries.iter().enumerate() {
            if n % 3 != 0 {
                delivery.abort();
            }
        }
        for delivery in deliveries {
            let _ = delivery.await;
        }
    }
    eventually(WAIT, "no check is left in flight", || payments.checks_in_flight() == 0).await;
}

// ---- Nothing runs twice ----

/// A store in front of another that can fail `complete` for a while, and delay `claim`'s reply
/// after the claim was granted (a slow network back from the store).
#[derive(Clone)]
struct FaultyStore {
    inner: Arc<InMemoryStore>,
    completes_fail_until: Arc<Mutex<Option<tokio::time::Instant>>>,
    claim_reply_delay: Arc<Mutex<Duration>>,
    complete_attempts: Arc<AtomicUsize>,
}

impl FaultyStore {
    fn new() -> FaultyStore {
        FaultyStore {
            inner: Arc::new(InMemoryStore::default()),
            completes_fail_until: Arc::default(),
            claim_reply_delay: Arc::default(),
            complete_attempts: Arc::default(),
        }
    }

    fn fail_completes_for(&self, outage: Duration) {
        *self.completes_fail_until.lock().unwrap() = Some(tokio::time::Instant::now() + outage);
    }
}

#[async_trait]
impl PaymentStore for FaultyStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let granted = self.inner.claim(key, lease).await;
        let delay = *self.claim_reply_delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        granted
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        self.complete_attempts.fetch_add(1, Ordering::SeqCst);
        let failing =
            self.completes_fail_until.lock().unwrap().is_some_and(|until| tokio::time::Instant::now() < until);
        if failing {
            return Err("broken pipe".into());
        }
        self.inner.complete(key, token).await
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        self.inner.release(key, token).await
    }

    async fn is_done(&self, key: &str) -> Result<bool, StoreError> {
        self.inner.is_done(key).await
    }
}

/// A handler that marks the store away while it runs — Redis restarting under it.
fn handler_during_outage(
    store: &FaultyStore,
    recorder: &Recorder,
    outage: Duration,
) -> impl pocket_payments::PaymentHandler {
    let (store, recorder) = (store.clone(), recorder.clone());
    pocket_payments::handler_fn(move |payment| {
        let (store, recorder) = (store.clone(), recorder.clone());
        async move {
            store.fail_completes_for(outage);
            pocket_payments::PaymentHandler::paid(&recorder, payment).await
        }
    })
}

#[tokio::test]
async fn a_store_away_when_the_success_is_recorded_is_retried_within_the_lease() {
    let (pocket, recorder, store) = (FakePocket::default(), Recorder::default(), FaultyStore::new());
    pocket.paid(800, 560);
    let payments =
        Payments::builder(pocket.clone(), handler_during_outage(&store, &recorder, Duration::from_millis(300)))
            .store(store.clone())
            .handler_timeout(Duration::from_millis(400))
            .build();
    assert_eq!(payments.receive(notice("800")).await, Outcome::Handled, "answered once it is recorded");
    assert!(store.complete_attempts.load(Ordering::SeqCst) > 2, "kept trying through the outage");
    tokio::time::sleep(Duration::from_millis(700)).await; // past the lease
    assert_eq!(payments.receive(notice("800")).await, Outcome::AlreadyHandled);
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn a_success_that_could_not_be_recorded_is_never_answered_handled() {
    let (pocket, recorder, store) = (FakePocket::default(), Recorder::default(), FaultyStore::new());
    pocket.paid(801, 560);
    let payments = Payments::builder(pocket.clone(), handler_during_outage(&store, &recorder, Duration::from_secs(30)))
        .store(store.clone())
        .handler_timeout(Duration::from_millis(200))
        .build();
    let outcome = payments.receive(notice("801")).await;
    assert_eq!((outcome.http_status(), &outcome), (503, &Outcome::StoreUnavailable));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_claim_reply_never_lets_a_second_replica_run_the_payment() {
    let (pocket, recorder, store) =
        (FakePocket::default(), Recorder::slow(Duration::from_millis(900)), FaultyStore::new());
    pocket.paid(802, 560);
    // The lease at its floor: the handler's timeout (1 s) and half of it.
    let replica = || {
        Payments::builder(pocket.clone(), recorder.clone())
            .store(store.clone())
            .handler_timeout(Duration::from_secs(1))
            .lease(Duration::from_millis(1))
            .build()
    };
    let (a, b) = (replica(), replica());
    *store.claim_reply_delay.lock().unwrap() = Duration::from_millis(800);
    let first = tokio::spawn(async move { a.receive(notice("802")).await });
    tokio::time::sleep(Duration::from_millis(900)).await;
    *store.claim_reply_delay.lock().unwrap() = Duration::ZERO;
    tokio::time::sleep(Duration::from_millis(700)).await; // past the lease, counted from A's claim
    let second = b.receive(notice("802")).await;
    let first = first.await.unwrap();
    assert_eq!(first, Outcome::HandlerFailed, "A's handler only had what was left of the lease");
    assert_eq!(second, Outcome::Handled);
    assert_eq!(recorder.successes(), 1, "never two runs at once");
}

// ---- Nothing stalls, nothing is dropped ----

/// An order check that panics on its first calls.
struct PanickyOrders(AtomicUsize);

#[async_trait]
impl OrderCheck for PanickyOrders {
    async fn expected(&self, _: &InvoiceId) -> Result<Option<Expected>, HandlerError> {
        if self.0.fetch_add(1, Ordering::SeqCst) < 2 {
            panic!("the order table has a bug");
        }
        Ok(Some(Expected::amount(tugrik(560))))
    }
}

#[tokio::test]
async fn a_panicking_order_check_during_a_poll_is_polled_again() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(900, 560);
    let payments = pipeline(&pocket, &recorder).order_check(PanickyOrders(AtomicUsize::new(0))).build();
    let _ = payments.reconciler().watch(InvoiceId::from(900), None);
    eventually(WAIT, "confirmed once the order check works", || recorder.successes() == 1).await;
    eventually(WAIT, "and no longer watched", || payments.reconciler().watched().is_empty()).await;
}

/// A handler whose `unresolved` and `failed` callbacks panic or hang.
#[derive(Clone, Default)]
struct BadCallbacks {
    recorder: Recorder,
    panics: Arc<AtomicBool>,
}

#[async_trait]
impl pocket_payments::PaymentHandler for BadCallbacks {
    async fn paid(&self, payment: pocket_payments::VerifiedPayment) -> Result<(), HandlerError> {
        pocket_payments::PaymentHandler::paid(&self.recorder, payment).await
    }

    async fn failed(&self, _: pocket_payments::FailedPayment) -> Result<(), HandlerError> {
        tokio::time::sleep(Duration::from_secs(3_600)).await;
        Ok(())
    }

    async fn unresolved(&self, _: pocket_payments::Unresolved) {
        if !self.panics.swap(false, Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
        }
        panic!("the alerting code has a bug");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_or_hanging_callbacks_harm_only_their_own_invoice() {
    let pocket = FakePocket::default();
    let handler = BadCallbacks { panics: Arc::new(AtomicBool::new(true)), ..BadCallbacks::default() };
    let payments = Payments::builder(pocket.clone(), handler.clone())
        .poll_schedule(Duration::from_millis(10), Duration::from_millis(20))
        .reconciler_limits(2, 100)
        .handler_timeout(Duration::from_secs(30))
        .build();
    let reconciler = payments.reconciler();
    // Two invoices whose deadline passes (one `unresolved` panics, one hangs) and one whose
    // `failed` callback hangs.
    pocket.state(910, json!("PENDING"), 560);
    pocket.state(911, json!("PENDING"), 560);
    pocket.state(912, json!("REJECTED"), 560);
    let soon = SystemTime::now() + Duration::from_millis(50);
    let _ = reconciler.watch_until(InvoiceId::from(910), None, soon);
    let _ = reconciler.watch_until(InvoiceId::from(911), None, soon);
    let _ = reconciler.watch(InvoiceId::from(912), None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A paid invoice watched afterwards is still polled and confirmed.
    pocket.paid(913, 560);
    let _ = reconciler.watch(InvoiceId::from(913), None);
    eventually(WAIT, "the new invoice is confirmed", || handler.recorder.successes() == 1).await;
    assert!(!reconciler.is_watching(&InvoiceId::from(910)) && !reconciler.is_watching(&InvoiceId::from(911)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_deadline_an_invoice_is_reported_once_across_replicas_even_when_its_poller_dies() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(920, json!("PENDING"), 560);
    let journal = MemJournal::default();
    let replica = |name: &str| journaled(&pocket, &recorder, &journal, name, 150);
    let (a, b) = (replica("a"), replica("b"));
    let deadline = SystemTime::now() + Duration::from_millis(200);
    a.reconciler().watch_until(InvoiceId::from(920), None, deadline).durable().await.unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await; // A polls it and holds its polling
    let _ = a.reconciler().stop(); // … and dies, its polling marker still live past the deadline.
    drop(a);
    assert_eq!(b.reconciler().recover().await.unwrap(), 1);
    eventually(WAIT, "B reports it once A's marker lapses", || recorder.unresolved().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(recorder.unresolved().len(), 1, "exactly once");
    assert!(journal.keys().is_empty() && b.reconciler().watched().is_empty());

    // Both alive at the deadline: still one report.
    pocket.state(921, json!("PENDING"), 560);
    let (c, d) = (replica("c"), replica("d"));
    let deadline = SystemTime::now() + Duration::from_millis(150);
    c.reconciler().watch_until(InvoiceId::from(921), None, deadline).durable().await.unwrap();
    d.reconciler().recover().await.unwrap();
    eventually(WAIT, "reported", || recorder.unresolved().len() == 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(recorder.unresolved().len(), 2, "once, not once per replica");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_made_while_the_journal_is_away_is_kept_until_it_is_saved() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(930, json!("PENDING"), 560);
    let journal = MemJournal::default();
    let payments = pipeline(&pocket, &recorder).watch_journal(journal.replica("a")).build();
    journal.set_down(true);
    let watch = payments.reconciler().watch(InvoiceId::from(930), None);
    let waited = tokio::time::timeout(Duration::from_millis(300), watch.clone().durable()).await;
    assert!(waited.is_err() && !watch.is_durable(), "not durable while the journal is away");
    journal.set_down(false);
    tokio::time::timeout(Duration::from_secs(5), watch.durable()).await.expect("durable once it is back").unwrap();
    assert_eq!(journal.keys(), ["930"]);
    // A replica started after this one died finds it.
    let heir = pipeline(&pocket, &recorder).watch_journal(journal.replica("b")).build();
    let _ = payments.reconciler().stop();
    assert_eq!(heir.reconciler().recover().await.unwrap(), 1);
}

#[tokio::test]
async fn a_watch_on_a_full_list_says_so() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    let payments = pipeline(&pocket, &recorder).reconciler_limits(1, 1).build();
    payments.reconciler().watch(InvoiceId::from(940), None).durable().await.unwrap();
    let refused = payments.reconciler().watch(InvoiceId::from(941), None).durable().await;
    assert_eq!(refused, Err(WatchError::Full { capacity: 1 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_never_comes_back_has_its_invoices_taken_over() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    let journal = MemJournal::default();
    let replica = |name: &str| journaled(&pocket, &recorder, &journal, name, 100);
    let survivor = replica("survivor");
    assert_eq!(survivor.reconciler().recover().await.unwrap(), 0, "started while the journal was empty");
    let doomed = replica("doomed");
    let mut polls_before_death = HashMap::new();
    for invoice in 950..955 {
        pocket.state(invoice, json!("PENDING"), 560);
        doomed.reconciler().watch(InvoiceId::from(invoice as u64), None).durable().await.unwrap();
        polls_before_death.insert(invoice, 0);
    }
    tokio::time::sleep(Duration::from_millis(60)).await;
    let _ = doomed.reconciler().stop();
    drop(doomed); // killed for good, never restarted
    for invoice in 950..955 {
        pocket.paid(invoice, 560);
    }
    // Within two polling leases (2 × 200 ms) and a poll.
    tokio::time::timeout(Duration::from_secs(3), async {
        while recorder.successes() < 5 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the survivor took the five invoices over by itself");
    assert_eq!(recorder.calls(), 5);
}

/// A merchant API whose first checks panic (an app's own implementation with a bug).
#[derive(Clone)]
struct PanickyPocket {
    pocket: FakePocket,
    panics_left: Arc<AtomicUsize>,
}

#[async_trait]
impl pocket_core::MerchantApi for PanickyPocket {
    async fn create_invoice(&self, invoice: &pocket_core::NewInvoice) -> Result<pocket_core::Invoice, Error> {
        self.pocket.create_invoice(invoice).await
    }
    async fn create_merchant_invoice(
        &self,
        invoice: &pocket_core::NewMerchantInvoice,
    ) -> Result<pocket_core::MerchantInvoice, Error> {
        self.pocket.create_merchant_invoice(invoice).await
    }
    async fn check_invoice(&self, id: &InvoiceId) -> Result<pocket_core::InvoiceStatus, Error> {
        let left = self.panics_left.load(Ordering::SeqCst);
        if left > 0 {
            self.panics_left.store(left - 1, Ordering::SeqCst);
            panic!("the merchant API has a bug");
        }
        self.pocket.check_invoice(id).await
    }
    async fn payment_config(&self) -> Result<pocket_core::PaymentConfig, Error> {
        self.pocket.payment_config().await
    }
    async fn set_webhook_url(&self, url: &str) -> Result<(), Error> {
        self.pocket.set_webhook_url(url).await
    }
}

#[tokio::test]
async fn a_poll_that_panics_is_scheduled_again() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(960, 560);
    let panicky = PanickyPocket { pocket: pocket.clone(), panics_left: Arc::new(AtomicUsize::new(2)) };
    let payments = Payments::builder(panicky, recorder.clone())
        .poll_schedule(Duration::from_millis(10), Duration::from_millis(20))
        .build();
    let _ = payments.reconciler().watch(InvoiceId::from(960), None);
    eventually(WAIT, "confirmed by the poll after the panics", || recorder.successes() == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_polls_after_another_reported_the_invoice_does_not_report_it_again() {
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(970, json!("PENDING"), 560);
    let journal = MemJournal::default();
    let a = journaled(&pocket, &recorder, &journal, "a", 100);
    let b_journal = journal.replica("b");
    b_journal.finds_fail.store(true, Ordering::SeqCst);
    let b = journaled_with(&pocket, &recorder, b_journal, 100);
    let deadline = SystemTime::now() + Duration::from_millis(150);
    a.reconciler().watch_until(InvoiceId::from(970), None, deadline).durable().await.unwrap();
    tokio::time::sleep(Duration::from_millis(40)).await; // A polls first and holds the polling
    b.reconciler().recover().await.unwrap();
    eventually(WAIT, "A reports it", || recorder.unresolved().len() == 1).await;
    // B cannot learn that A crossed it out (its look-ups fail), so once A's polling marker
    // has lapsed it polls the invoice itself, past its deadline: still not a second report.
    eventually(WAIT, "B lets it go", || b.reconciler().watched().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(recorder.unresolved().len(), 1);
}
