//! PgStore and the transactional handler against a real PostgreSQL on a random loopback port
//! (one server for the tests that share it, one database per test; the tests that stop or kill
//! the server have their own): claims, exactly-once across processes and SIGKILLs, the lost
//! COMMIT reply, restarts, the shared watch list, migrations. Without PostgreSQL the tests say
//! they were skipped; with `CI=true` they fail.

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::*;
use pocket_payments::{
    Claim, ClaimToken, FailedPayment, HandlerError, Outcome, PaymentStore, Payments, PgFailure, PgStore, PgStoreError,
    TransactionalHandler, VerifiedPayment, WatchJournal,
};
use pocket_test_support::PostgresServer;
use sqlx::PgConnection;

/// The server the tests share. It outlives the test binary only until its watchdog notices.
fn shared_server() -> Option<&'static PostgresServer> {
    static SERVER: OnceLock<Option<PostgresServer>> = OnceLock::new();
    SERVER.get_or_init(|| PostgresServer::start().map(PostgresServer::shut_down_with_this_process)).as_ref()
}

/// A database of the test's own, with the store's tables and an `orders` table.
async fn database(server: &PostgresServer, name: &str) -> String {
    let url = server.create_database(name);
    server.psql(name, "CREATE TABLE orders (invoice_id text NOT NULL, pid bigint, at timestamptz DEFAULT now())");
    server.psql(name, "CREATE TABLE test_pocket (id text PRIMARY KEY, state text NOT NULL)");
    store(&url).await.migrate().await.unwrap();
    url
}

async fn store(url: &str) -> PgStore {
    PgStore::builder(url).timeouts(Duration::from_secs(2), Duration::from_secs(5)).connect().await.unwrap()
}

fn count(server: &PostgresServer, database: &str, sql: &str) -> i64 {
    server.psql(database, sql).parse().unwrap_or_else(|_| panic!("a count from {sql}"))
}

fn token(claim: Claim) -> ClaimToken {
    match claim {
        Claim::Acquired(token) => token,
        other => panic!("expected a claim, got {other:?}"),
    }
}

/// Inserts an order row in the payment's transaction; can fail, panic or hang on its first
/// calls, as told.
#[derive(Clone, Default)]
struct WriteOrder {
    calls: Arc<AtomicUsize>,
    misbehave: Arc<std::sync::Mutex<Vec<Misbehaviour>>>,
}

#[derive(Clone, Copy, Debug)]
enum Misbehaviour {
    FailAfterWriting,
    PanicAfterWriting,
    HangAfterWriting,
    HangInTheDatabase,
}

impl WriteOrder {
    fn then(&self, misbehave: &[Misbehaviour]) {
        self.misbehave.lock().unwrap().extend_from_slice(misbehave);
    }
}

#[async_trait]
impl TransactionalHandler for WriteOrder {
    async fn paid(&self, payment: VerifiedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        sqlx::query("INSERT INTO orders (invoice_id) VALUES ($1)")
            .bind(payment.invoice_id().as_str())
            .execute(&mut *connection)
            .await?;
        let next = {
            let mut misbehave = self.misbehave.lock().unwrap();
            (!misbehave.is_empty()).then(|| misbehave.remove(0))
        };
        match next {
            None => Ok(()),
            Some(Misbehaviour::FailAfterWriting) => Err("the warehouse said no".into()),
            Some(Misbehaviour::PanicAfterWriting) => panic!("the handler has a bug"),
            Some(Misbehaviour::HangAfterWriting) => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            }
            Some(Misbehaviour::HangInTheDatabase) => {
                sqlx::query("SELECT pg_sleep(3600)").execute(&mut *connection).await?;
                Ok(())
            }
        }
    }

    async fn failed(&self, payment: FailedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
        sqlx::query("INSERT INTO orders (invoice_id) VALUES ($1)")
            .bind(format!("released:{}", payment.invoice_id()))
            .execute(&mut *connection)
            .await?;
        Ok(())
    }
}

fn transactional(pocket: &FakePocket, store: &PgStore, handler: &WriteOrder) -> Payments {
    Payments::transactional(pocket.clone(), store.clone(), handler.clone())
        .checks_per_second(None, 0)
        .max_concurrent_checks(64, Duration::from_secs(5))
        .handler_timeout(Duration::from_millis(800))
        .build()
}

#[tokio::test]
async fn plain_claims_are_owned_fenced_and_expire() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "plain_claims").await;
    let (first, second) = (store(&url).await, store(&url).await);
    let slow = token(first.claim("paid:1", Duration::from_millis(200)).await.unwrap());
    assert_eq!(second.claim("paid:1", Duration::from_secs(60)).await.unwrap(), Claim::InProgress);
    assert!(!second.release("paid:1", &ClaimToken::new("c-someone-else")).await.unwrap());
    assert!(!second.complete("paid:1", &ClaimToken::new("c-someone-else")).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!first.complete("paid:1", &slow).await.unwrap(), "a lapsed claim cannot complete");
    let next = token(second.claim("paid:1", Duration::from_secs(60)).await.unwrap());
    assert_ne!(slow, next);
    assert!(!first.complete("paid:1", &slow).await.unwrap(), "a lapsed owner's late completion is refused");
    assert!(!first.release("paid:1", &slow).await.unwrap(), "and its late release");
    assert!(!first.is_done("paid:1").await.unwrap());
    assert!(second.complete("paid:1", &next).await.unwrap());
    assert!(first.is_done("paid:1").await.unwrap());
    assert_eq!(first.claim("paid:1", Duration::from_secs(60)).await.unwrap(), Claim::Done);
    assert!(!second.release("paid:1", &next).await.unwrap(), "a release never undoes completion");
    let released = token(first.claim("paid:2", Duration::from_secs(60)).await.unwrap());
    assert!(first.release("paid:2", &released).await.unwrap());
    assert!(matches!(second.claim("paid:2", Duration::from_secs(60)).await.unwrap(), Claim::Acquired(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_with_the_plain_handler_run_each_payment_once() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "plain_replicas").await;
    let (pocket, recorder) = (FakePocket::default(), Recorder::slow(Duration::from_millis(5)));
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(
            Payments::builder(pocket.clone(), recorder.clone())
                .store(store(&url).await)
                .checks_per_second(None, 0)
                .build(),
        );
    }
    for invoice in 0..50_i64 {
        pocket.paid(invoice, 560);
    }
    let mut deliveries = Vec::new();
    for invoice in 0..50_i64 {
        for copy in 0..12 {
            let replica = replicas[copy % 3].clone();
            deliveries.push(tokio::spawn(async move { replica.receive(notice(&invoice.to_string())).await }));
        }
    }
    for delivery in deliveries {
        let outcome = delivery.await.unwrap();
        assert!(matches!(outcome, Outcome::Handled | Outcome::AlreadyHandled | Outcome::InProgress), "{outcome:?}");
    }
    assert_eq!(recorder.calls(), 50, "600 deliveries of 50 payments");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_in_transactions_write_one_order_each() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "tx_concurrent").await;
    let (pocket, handler) = (FakePocket::default(), WriteOrder::default());
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(transactional(&pocket, &store(&url).await, &handler));
    }
    for invoice in 0..100_i64 {
        pocket.paid(invoice, 560);
    }
    let mut deliveries = Vec::new();
    for invoice in 0..100_i64 {
        for copy in 0..30 {
            let replica = replicas[copy % 3].clone();
            deliveries.push(tokio::spawn(async move { replica.receive(notice(&invoice.to_string())).await }));
        }
    }
    let mut handled = 0;
    for delivery in deliveries {
        let outcome = delivery.await.unwrap();
        assert!(matches!(outcome, Outcome::Handled | Outcome::AlreadyHandled | Outcome::InProgress), "{outcome:?}");
        handled += usize::from(outcome == Outcome::Handled);
    }
    assert_eq!(handled, 100, "3 000 deliveries, 100 answered handled");
    assert_eq!(count(server, "tx_concurrent", "SELECT count(*) FROM orders"), 100);
    assert_eq!(count(server, "tx_concurrent", "SELECT count(DISTINCT invoice_id) FROM orders"), 100);
    assert_eq!(count(server, "tx_concurrent", "SELECT count(*) FROM pocket_payments WHERE state = 'done'"), 100);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 100, "no handler ran only to be rolled back");
}

#[tokio::test]
async fn a_rejected_invoice_runs_failed_once_in_its_transaction() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "tx_failed").await;
    let (pocket, handler) = (FakePocket::default(), WriteOrder::default());
    pocket.state(9, serde_json::json!("REJECTED"), 560);
    let payments = transactional(&pocket, &store(&url).await, &handler);
    for _ in 0..3 {
        let outcome = payments.receive(notice("9")).await;
        assert!(matches!(outcome, Outcome::NotPaid(_)), "{outcome:?}");
    }
    assert_eq!(server.psql("tx_failed", "SELECT string_agg(invoice_id, ',') FROM orders"), "released:9");
    assert_eq!(count(server, "tx_failed", "SELECT count(*) FROM pocket_payments WHERE key = 'failed:9'"), 1);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0, "`paid` never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_while_another_holds_the_payment_does_not_wait_for_it() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "tx_busy").await;
    let (pocket, handler) = (FakePocket::default(), WriteOrder::default());
    pocket.paid(7, 560);
    let payments = Payments::transactional(pocket.clone(), store(&url).await, handler.clone())
        .handler_timeout(Duration::from_secs(3))
        .build();
    handler.then(&[Misbehaviour::HangAfterWriting]);
    let first = tokio::spawn({
        let payments = payments.clone();
        async move { payments.receive(notice("7")).await }
    });
    while handler.calls.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let asked = Instant::now();
    assert_eq!(payments.receive(notice("7")).await, Outcome::InProgress);
    assert!(asked.elapsed() < Duration::from_secs(1), "answered at once, not after the first: {:?}", asked.elapsed());
    assert_eq!(first.await.unwrap(), Outcome::HandlerFailed, "the first ran out of time");
    assert_eq!(payments.receive(notice("7")).await, Outcome::Handled);
    assert_eq!(count(server, "tx_busy", "SELECT count(*) FROM orders"), 1, "the timed-out run's row was rolled back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_panicking_or_hanging_handler_leaves_nothing_and_the_redelivery_runs_it() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "tx_misbehave").await;
    let (pocket, handler) = (FakePocket::default(), WriteOrder::default());
    let payments = transactional(&pocket, &store(&url).await, &handler);
    let cases = [
        Misbehaviour::FailAfterWriting,
        Misbehaviour::PanicAfterWriting,
        Misbehaviour::HangAfterWriting,
        Misbehaviour::HangInTheDatabase,
    ];
    for (invoice, misbehaviour) in (1..).zip(cases) {
        pocket.paid(invoice, 560);
        handler.then(&[misbehaviour]);
        let id = invoice.to_string();
        let started = Instant::now();
        assert_eq!(payments.receive(notice(&id)).await, Outcome::HandlerFailed, "{misbehaviour:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "{misbehaviour:?} bounded: {:?}", started.elapsed());
        let orders = format!("SELECT count(*) FROM orders WHERE invoice_id = '{id}'");
        let done = format!("SELECT count(*) FROM pocket_payments WHERE key = 'paid:{id}'");
        assert_eq!((count(server, "tx_misbehave", &orders), count(server, "tx_misbehave", &done)), (0, 0));
        assert_eq!(payments.receive(notice(&id)).await, Outcome::Handled, "{misbehaviour:?}: the redelivery runs it");
        assert_eq!(payments.receive(notice(&id)).await, Outcome::AlreadyHandled);
        assert_eq!((count(server, "tx_misbehave", &orders), count(server, "tx_misbehave", &done)), (1, 1));
    }
    // The hung statement was ended with its connection: nothing of it is left on the server.
    let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'";
    let deadline = Instant::now() + Duration::from_secs(5);
    while count(server, "tx_misbehave", sleeping) > 0 {
        assert!(Instant::now() < deadline, "the hung statement still runs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP proxy to PostgreSQL that, once armed, forwards the next client message holding
/// `COMMIT` and then cuts the connection before the server's reply can come back.
struct CommitCutter {
    port: u16,
    armed: Arc<AtomicBool>,
    cut: Arc<AtomicUsize>,
}

impl CommitCutter {
    async fn start(server_port: u16) -> CommitCutter {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (armed, cut) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let (armed_in, cut_in) = (armed.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = tokio::net::TcpStream::connect(("127.0.0.1", server_port)).await else { continue };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = upstream.into_split();
                let (armed, cut) = (armed_in.clone(), cut_in.clone());
                let stop = Arc::new(tokio::sync::Notify::new());
                let stop_reply = stop.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    while let Ok(read) = client_read.read(&mut buffer).await {
                        if read == 0 {
                            break;
                        }
                        let chunk = &buffer[..read];
                        let commit = chunk.windows(6).any(|window| window == b"COMMIT");
                        if server_write.write_all(chunk).await.is_err() {
                            break;
                        }
                        if commit && armed.swap(false, Ordering::SeqCst) {
                            cut.fetch_add(1, Ordering::SeqCst);
                            stop.notify_one();
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    loop {
                        tokio::select! {
                            _ = stop_reply.notified() => break,
                            read = server_read.read(&mut buffer) => {
                                let Ok(read) = read else { break };
                                if read == 0 || client_write.write_all(&buffer[..read]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
        });
        CommitCutter { port, armed, cut }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_reply_is_lost_is_answered_503_and_the_redelivery_finds_it_done() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "tx_lost_commit").await;
    let cutter = CommitCutter::start(server.port()).await;
    let through = url.replace(&format!(":{}/", server.port()), &format!(":{}/", cutter.port));
    let (pocket, handler) = (FakePocket::default(), WriteOrder::default());
    pocket.paid(42, 560);
    let payments = transactional(&pocket, &store(&through).await, &handler);
    cutter.armed.store(true, Ordering::SeqCst);
    let outcome = payments.receive(notice("42")).await;
    assert_eq!(cutter.cut.load(Ordering::SeqCst), 1, "the COMMIT went through and its reply was cut");
    assert_eq!((outcome.clone(), outcome.http_status()), (Outcome::StoreUnavailable, 503), "never `handled`");
    assert_eq!(count(server, "tx_lost_commit", "SELECT count(*) FROM orders"), 1, "the server did commit");
    assert_eq!(payments.receive(notice("42")).await, Outcome::AlreadyHandled);
    assert_eq!(count(server, "tx_lost_commit", "SELECT count(*) FROM orders"), 1);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1);
    assert!(
        payments.reconciler().watched().iter().any(|watched| watched.invoice_id.as_str() == "42"),
        "the unknown outcome handed the invoice to the reconciler"
    );
}

#[test]
fn replicas_killed_inside_the_transactional_handler_leave_exactly_one_order_per_paid_invoice() {
    let Some(server) = shared_server() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(database(server, "tx_kills"));
    const ROUNDS: usize = 50;
    const PER_ROUND: usize = 4;
    for round in 0..ROUNDS {
        let mut replica = Replica::start("pg_replica", &url);
        let first = round * PER_ROUND;
        // The first invoice of the round is still inside its handler when the kill comes (it
        // wrote its order row and sleeps); the others end at random moments around it.
        replica.deliver(&format!("{first} 60000"));
        for invoice in first + 1..first + PER_ROUND {
            replica.deliver(&format!("{invoice} {}", fastrand::u64(0..30)));
        }
        replica.wait_for(&format!("wrote {first}"));
        std::thread::sleep(Duration::from_millis(fastrand::u64(0..30)));
        replica.kill();
    }
    let total = ROUNDS * PER_ROUND;
    let mut heir = Replica::start("pg_replica", &url);
    for invoice in 0..total {
        heir.deliver(&invoice.to_string());
    }
    heir.wait_until(|seen| seen.iter().filter(|line| line.starts_with("outcome ")).count() == total);
    for invoice in 0..total {
        let answered = format!("outcome {invoice} ");
        let line = heir.seen.iter().find(|line| line.starts_with(&answered)).unwrap();
        assert!(line.ends_with(" handled") || line.ends_with(" already_handled"), "{line}");
    }
    let orders = count(server, "tx_kills", "SELECT count(*) FROM orders");
    let distinct = count(server, "tx_kills", "SELECT count(DISTINCT invoice_id) FROM orders");
    let done = count(server, "tx_kills", "SELECT count(*) FROM pocket_payments WHERE state = 'done'");
    assert_eq!((orders, distinct, done), (total as i64, total as i64, total as i64), "zero duplicates, zero lost");
    assert!(heir.count("ran ") < total, "some payments were done before their replica was killed");
}

#[test]
fn two_processes_sharing_postgres_write_one_order_per_invoice() {
    let Some(server) = shared_server() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(database(server, "tx_two_processes"));
    let mut replicas = [Replica::start("pg_replica", &url), Replica::start("pg_replica", &url)];
    for invoice in 0..100 {
        for replica in &mut replicas {
            replica.deliver(&format!("{invoice} 0 15"));
        }
    }
    for replica in &mut replicas {
        replica.wait_until(|seen| seen.iter().filter(|line| line.starts_with("outcome ")).count() == 1_500);
    }
    let answered: usize = replicas.iter().map(|replica| replica.count("outcome ")).sum();
    assert_eq!(answered, 3_000);
    let answered_handled = replicas.iter().flat_map(|r| r.seen.iter()).filter(|l| l.ends_with(" handled")).count();
    assert_eq!(answered_handled, 100, "each invoice answered `handled` once, by one process");
    assert_eq!(count(server, "tx_two_processes", "SELECT count(*) FROM orders"), 100);
    assert_eq!(count(server, "tx_two_processes", "SELECT count(DISTINCT invoice_id) FROM orders"), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_run_answers_503_meanwhile_and_nothing_runs_twice() {
    let Some(mut server) = PostgresServer::start() else { return };
    let url = database(&server, "restarts").await;
    let (pocket, handler) = (FakePocket::default(), WriteOrder::default());
    // While the server is away, each delivery waits at most the acquire bound for a connection.
    let quick = PgStore::builder(url.as_str()).timeouts(Duration::from_millis(300), Duration::from_secs(2));
    let payments = transactional(&pocket, &quick.connect().await.unwrap(), &handler);
    for invoice in 0..30 {
        pocket.paid(invoice, 560);
    }
    for invoice in 0..10 {
        assert_eq!(payments.receive(notice(&invoice.to_string())).await, Outcome::Handled);
    }
    let deliver_all = |payments: Payments| async move {
        let mut outcomes = Vec::new();
        for invoice in 0..30 {
            outcomes.push(payments.receive(notice(&invoice.to_string())).await);
        }
        outcomes
    };
    for crash in [false, true] {
        if crash {
            server.kill()
        } else {
            server.stop_fast()
        }
        for outcome in deliver_all(payments.clone()).await {
            assert_eq!((outcome.clone(), outcome.http_status()), (Outcome::StoreUnavailable, 503), "crash: {crash}");
        }
        server.run();
    }
    // Back: the pool reconnects by itself; every payment ends processed once.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let outcomes = deliver_all(payments.clone()).await;
        if outcomes.iter().all(|outcome| matches!(outcome, Outcome::Handled | Outcome::AlreadyHandled)) {
            break;
        }
        assert!(Instant::now() < deadline, "not back within 20 s: {outcomes:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(count(&server, "restarts", "SELECT count(*) FROM orders"), 30);
    assert_eq!(count(&server, "restarts", "SELECT count(DISTINCT invoice_id) FROM orders"), 30);
    let error = store(&url).await;
    server.stop_fast();
    let error = error.is_done("paid:1").await.unwrap_err();
    let pg = error.downcast_ref::<PgStoreError>().expect("a typed PostgreSQL error");
    assert!(pg.is_unreachable(), "{pg}");
    assert_eq!(pg.operation(), "read a payment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_is_answered_503_within_the_bound_not_a_hang() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "pool_exhausted").await;
    let store = PgStore::builder(url.as_str())
        .max_connections(1)
        .timeouts(Duration::from_millis(300), Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    let (pocket, handler) = (FakePocket::default(), WriteOrder::default());
    pocket.paid(1, 560);
    pocket.paid(2, 560);
    let payments =
        Payments::transactional(pocket.clone(), store, handler.clone()).handler_timeout(Duration::from_secs(2)).build();
    handler.then(&[Misbehaviour::HangAfterWriting]);
    let holder = tokio::spawn({
        let payments = payments.clone();
        async move { payments.receive(notice("1")).await }
    });
    while handler.calls.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let asked = Instant::now();
    let outcome = payments.receive(notice("2")).await;
    assert_eq!((outcome.clone(), outcome.http_status()), (Outcome::StoreUnavailable, 503));
    assert!(asked.elapsed() < Duration::from_millis(1_500), "{:?}", asked.elapsed());
    assert_eq!(holder.await.unwrap(), Outcome::HandlerFailed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_watch_list_in_postgres_and_take_over_a_vanished_ones() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "journal").await;
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    for invoice in 100..105 {
        pocket.state(invoice, serde_json::json!("PROCESSING"), 560);
    }
    let replica = |url: String, pocket: FakePocket, recorder: Recorder| async move {
        let store = store(&url).await;
        Payments::builder(pocket, recorder)
            .store(store.clone())
            .watch_journal(store)
            .poll_schedule(Duration::from_millis(20), Duration::from_millis(50))
            .build()
    };
    let gone = replica(url.clone(), pocket.clone(), recorder.clone()).await;
    for invoice in 100..105_u64 {
        gone.reconciler().watch(pocket_core::InvoiceId::from(invoice), None).durable().await.unwrap();
    }
    let journal = store(&url).await;
    assert_eq!(journal.load().await.unwrap().len(), 5, "written down");
    assert!(journal.find("100").await.unwrap().is_some());
    // It stops polling without a word (as a crash would); its rows stay.
    let _ = gone.reconciler().stop();
    let heir = replica(url.clone(), pocket.clone(), recorder.clone()).await;
    assert_eq!(heir.reconciler().recover().await.unwrap(), 5);
    for invoice in 100..105 {
        pocket.paid(invoice, 560);
    }
    eventually(Duration::from_secs(15), "the heir confirms all five", || recorder.successes() == 5).await;
    eventually(Duration::from_secs(15), "crossed out", || heir.reconciler().watched().is_empty()).await;
    assert_eq!(recorder.calls(), 5);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !journal.load().await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the journal still holds settled invoices");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn two_processes_share_the_watch_list_and_a_killed_ones_invoices_are_taken_over() {
    let Some(server) = shared_server() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(database(server, "journal_processes"));
    for invoice in 200..210 {
        server.psql("journal_processes", &format!("INSERT INTO test_pocket VALUES ('{invoice}', 'pending')"));
    }
    let mut first = Replica::start("pg_replica", &url);
    for invoice in 200..210 {
        first.deliver(&format!("watch {invoice}"));
    }
    first.wait_until(|seen| seen.iter().filter(|line| line.starts_with("checked ")).count() >= 10);
    let mut second = Replica::start("pg_replica", &url);
    second.deliver("recover");
    second.wait_for("recovered 10");
    std::thread::sleep(Duration::from_millis(300));
    first.drain();
    second.drain();
    for invoice in 200..210 {
        let checked = format!("checked {invoice}");
        let (by_first, by_second) = (first.count(&checked), second.count(&checked));
        assert!(by_first > 1 && by_second == 0, "invoice {invoice}: {by_first} polls by one, {by_second} by the other");
    }
    first.kill();
    server.psql("journal_processes", "UPDATE test_pocket SET state = 'paid'");
    // The killed replica's polling marks lapse (the polling lease: twice the poll cap), then
    // the survivor's takeover polls them.
    second.wait_until(|seen| seen.iter().filter(|line| line.starts_with("ran ")).count() == 10);
    assert_eq!(count(server, "journal_processes", "SELECT count(*) FROM orders"), 10);
    assert_eq!(count(server, "journal_processes", "SELECT count(DISTINCT invoice_id) FROM orders"), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_made_while_postgres_is_down_is_kept_and_saved_when_it_returns() {
    let Some(mut server) = PostgresServer::start() else { return };
    let url = database(&server, "journal_down").await;
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.state(300, serde_json::json!("PENDING"), 560);
    let store = store(&url).await;
    let payments = Payments::builder(pocket.clone(), recorder.clone())
        .store(store.clone())
        .watch_journal(store.clone())
        .poll_schedule(Duration::from_millis(50), Duration::from_millis(100))
        .build();
    server.stop_fast();
    let watch = payments.reconciler().watch(pocket_core::InvoiceId::from(300_u64), None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!watch.is_durable(), "not written down while PostgreSQL is away");
    assert_eq!(payments.reconciler().watched().len(), 1, "but watched");
    server.run();
    tokio::time::timeout(Duration::from_secs(20), watch.durable()).await.expect("saved once back").unwrap();
    assert_eq!(store.load().await.unwrap().len(), 1);
    pocket.paid(300, 560);
    eventually(Duration::from_secs(15), "confirmed by a poll", || recorder.successes() == 1).await;
}

#[tokio::test]
async fn migrations_are_idempotent_refuse_a_newer_schema_and_prefixes_isolate_apps() {
    let Some(server) = shared_server() else { return };
    let url = server.create_database("migrations");
    let shop = store(&url).await;
    assert_eq!(shop.schema_version().await.unwrap(), None, "nothing before the first migration");
    assert!(shop.is_done("paid:1").await.is_err(), "no tables until the app migrates");
    shop.migrate().await.unwrap();
    shop.migrate().await.unwrap();
    assert_eq!(shop.schema_version().await.unwrap(), Some(2));
    let other = PgStore::builder(url.as_str()).schema("other_app").table_prefix("pay_").connect().await.unwrap();
    other.migrate().await.unwrap();
    let owner = token(shop.claim("paid:9", Duration::from_secs(60)).await.unwrap());
    assert!(shop.complete("paid:9", &owner).await.unwrap());
    assert!(!other.is_done("paid:9").await.unwrap(), "another schema and prefix is another app");
    assert!(matches!(other.claim("paid:9", Duration::from_secs(60)).await.unwrap(), Claim::Acquired(_)));
    assert_eq!(count(server, "migrations", "SELECT count(*) FROM other_app.pay_payments"), 1);

    server.psql(
        "migrations",
        "INSERT INTO pocket_migrations (version, description, success, checksum, execution_time) \
         VALUES (3, 'from a newer release', true, '\\x00', 1)",
    );
    let refused = shop.migrate().await.unwrap_err();
    assert_eq!(refused.failure(), PgFailure::Schema);
    let said = refused.to_string();
    assert!(said.contains("version 3") && said.contains("upgrade pocket-payments"), "{said}");
    other.migrate().await.unwrap();
}

#[tokio::test]
async fn the_password_is_never_shown() {
    let Some(server) = shared_server() else { return };
    server.create_database("secrets");
    server.psql("secrets", "CREATE ROLE shop LOGIN PASSWORD 'p4ss-w0rd-s3cr3t'");
    let url = format!("postgres://shop:p4ss-w0rd-s3cr3t@127.0.0.1:{}/secrets", server.port());
    let store = PgStore::builder(url.as_str()).connect().await.unwrap();
    let shown = format!("{store:?}");
    assert!(!shown.contains("p4ss-w0rd-s3cr3t") && shown.contains("127.0.0.1"), "{shown}");
    let wrong = url.replace("p4ss-w0rd-s3cr3t", "wr0ng-s3cr3t");
    let refused = PgStore::builder(wrong.as_str()).connect().await.unwrap();
    let error = refused.is_done("paid:1").await.unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("wr0ng-s3cr3t"), "{text}");
    // No tables in this database: the right password gets as far as the database's own error.
    let error = store.is_done("paid:1").await.unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("p4ss-w0rd-s3cr3t"), "{text}");
    let pg = error.downcast_ref::<PgStoreError>().unwrap();
    assert_eq!(pg.failure(), PgFailure::Database, "{pg}");
    let malformed = PgStore::builder("postgres://shop:p4ss-w0rd-s3cr3t@127.0.0.1:notaport/x").connect().await;
    let text = format!("{:?}", malformed.unwrap_err());
    assert!(!text.contains("p4ss-w0rd-s3cr3t"), "{text}");
}

#[tokio::test]
async fn retention_prunes_old_done_payments_in_batches() {
    let Some(server) = shared_server() else { return };
    let url = database(server, "retention").await;
    let store = PgStore::builder(url.as_str()).retention(Duration::from_secs(3600)).connect().await.unwrap();
    for n in 0..1_500 {
        let key = format!("paid:{n}");
        let owner = token(store.claim(&key, Duration::from_secs(60)).await.unwrap());
        assert!(store.complete(&key, &owner).await.unwrap());
    }
    server.psql(
        "retention",
        "UPDATE pocket_payments SET done_at = now() - interval '2 hours' WHERE substr(key, 6)::int < 1200",
    );
    let old =
        count(server, "retention", "SELECT count(*) FROM pocket_payments WHERE done_at < now() - interval '1 hour'");
    assert_eq!(old, 1_200);
    assert_eq!(store.prune().await.unwrap(), 1_000, "one bounded batch");
    assert_eq!(store.prune().await.unwrap(), (old - 1_000) as u64);
    assert_eq!(store.prune().await.unwrap(), 0);
    assert_eq!(count(server, "retention", "SELECT count(*) FROM pocket_payments"), 1_500 - old);
    assert!(store.is_done("paid:1400").await.unwrap(), "recent ones are kept");
    assert!(!store.is_done("paid:9").await.unwrap(), "old ones are gone");
}
