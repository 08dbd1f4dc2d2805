//! The Redis store against a real `redis-server` on a random loopback port: replicas in one
//! process and in separate processes, a replica killed mid-handler, Redis going away and coming
//! back. Without `redis-server` the tests say they were skipped; with `CI=true` they fail.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use pocket_payments::{Claim, Outcome, PaymentStore, Payments, RedisStore};

use pocket_test_support::RedisServer;

async fn store(server: &RedisServer) -> RedisStore {
    // Generous for a busy 2-core machine; an unreachable Redis fails faster (connection refused).
    RedisStore::builder(server.url()).timeouts(Duration::from_secs(1), Duration::from_secs(1)).connect().await.unwrap()
}

fn token(claim: Claim) -> pocket_payments::ClaimToken {
    match claim {
        Claim::Acquired(token) => token,
        other => panic!("expected a claim, got {other:?}"),
    }
}

#[tokio::test]
async fn claims_are_owned_fenced_and_expire() {
    let Some(server) = RedisServer::start(false) else { return };
    let (first, second) = (store(&server).await, store(&server).await);
    let slow = token(first.claim("paid:1", Duration::from_millis(200)).await.unwrap());
    assert_eq!(second.claim("paid:1", Duration::from_secs(60)).await.unwrap(), Claim::InProgress);
    assert!(!second.release("paid:1", &pocket_payments::ClaimToken::new("c-someone-else")).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let next = token(second.claim("paid:1", Duration::from_secs(60)).await.unwrap());
    assert!(!first.complete("paid:1", &slow).await.unwrap(), "a lapsed owner's late completion is refused");
    assert!(!first.release("paid:1", &slow).await.unwrap(), "and its late release");
    assert!(!first.is_done("paid:1").await.unwrap());
    assert!(second.complete("paid:1", &next).await.unwrap());
    assert!(first.is_done("paid:1").await.unwrap());
    assert_eq!(first.claim("paid:1", Duration::from_secs(60)).await.unwrap(), Claim::Done);
    assert!(!second.release("paid:1", &next).await.unwrap(), "a release never undoes completion");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_with_their_own_connections_run_each_payment_once() {
    let Some(server) = RedisServer::start(false) else { return };
    let (pocket, recorder) = (FakePocket::default(), Recorder::slow(Duration::from_millis(5)));
    let mut replicas = Vec::new();
    for _ in 0..3 {
        let store = store(&server).await;
        replicas
            .push(Payments::builder(pocket.clone(), recorder.clone()).store(store).checks_per_second(None, 0).build());
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
    for delivery in deliveries {
        let outcome = delivery.await.unwrap();
        assert!(matches!(outcome, Outcome::Handled | Outcome::AlreadyHandled | Outcome::InProgress), "{outcome:?}");
    }
    assert_eq!(recorder.calls(), 100, "3 000 deliveries of 100 payments");
    let mut ids: Vec<String> = recorder.paid.lock().iter().map(|p| p.invoice_id().to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 100);
}

#[tokio::test]
async fn while_redis_is_down_deliveries_get_503_and_nothing_runs_twice_after_it_is_back() {
    let Some(mut server) = RedisServer::start(true) else { return };
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(1, 560);
    pocket.paid(2, 560);
    let payments = Payments::builder(pocket.clone(), recorder.clone()).store(store(&server).await).build();
    assert_eq!(payments.receive(notice("1")).await, Outcome::Handled);

    server.stop();
    for id in ["1", "2"] {
        let outcome = payments.receive(notice(id)).await;
        assert_eq!((outcome.clone(), outcome.http_status()), (Outcome::StoreUnavailable, 503), "{id}");
    }
    let error = store(&server).await.is_done("paid:1").await.unwrap_err();
    let redis = error.downcast_ref::<pocket_payments::RedisStoreError>().expect("a typed Redis error");
    assert!(redis.is_unreachable(), "{redis}");
    assert_eq!(redis.operation(), "read a payment");
    assert_eq!(recorder.calls(), 1, "no handler runs without a claim");

    server.run();
    // Reconnecting (and reloading the scripts Redis forgot) may take a few tries on a busy machine.
    let once_reachable = |id: &'static str| {
        let payments = payments.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let outcome = payments.receive(notice(id)).await;
                if outcome != Outcome::StoreUnavailable || Instant::now() > deadline {
                    return outcome;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let outcome = once_reachable("1").await;
    assert_eq!(outcome, Outcome::AlreadyHandled, "reconnected by itself; the done payment survived (AOF)");
    let outcome = once_reachable("2").await;
    assert_eq!(outcome, Outcome::Handled, "{outcome:?}");
    assert_eq!(recorder.calls(), 2);
}

#[test]
fn two_processes_sharing_redis_run_each_payment_once() {
    let Some(server) = RedisServer::start(false) else { return };
    let mut replicas = [Replica::start("redis_replica", &server.url()), Replica::start("redis_replica", &server.url())];
    for invoice in 0..50 {
        for copy in 0..10 {
            replicas[copy % 2].deliver(&format!("{invoice} 5"));
        }
    }
    for replica in &mut replicas {
        replica.wait_until(|seen| seen.iter().filter(|line| line.starts_with("outcome ")).count() == 250);
    }
    // Every payment is done now, whichever process ran it: both processes know it.
    for invoice in 0..50 {
        for replica in &mut replicas {
            replica.deliver(&invoice.to_string());
            replica.wait_for(&format!("outcome {invoice} already_handled"));
        }
    }
    let runs = replicas[0].count("ran ") + replicas[1].count("ran ");
    assert_eq!(runs, 50, "each of 50 payments once, across both processes");
    let mut ran: Vec<&String> = replicas.iter().flat_map(|r| r.seen.iter().filter(|l| l.starts_with("ran "))).collect();
    ran.sort();
    ran.dedup();
    assert_eq!(ran.len(), 50, "no payment ran in both");
}

#[test]
fn a_replica_killed_mid_handler_lets_its_lease_lapse_and_the_payment_runs_once_more() {
    let Some(server) = RedisServer::start(false) else { return };
    let mut doomed = Replica::start("redis_replica", &server.url());
    let mut survivor = Replica::start("redis_replica", &server.url());
    doomed.deliver("777 60000");
    doomed.wait_for("started 777");
    let _ = doomed.child.kill();
    let _ = doomed.child.wait();
    // Its claim is still held until the lease lapses (the handler timeout, 1 s, plus half).
    survivor.deliver("777");
    survivor.wait_for("outcome 777 in_progress");
    std::thread::sleep(Duration::from_millis(1_700));
    survivor.deliver("777");
    survivor.wait_for("outcome 777 handled");
    survivor.deliver("777");
    survivor.wait_for("outcome 777 already_handled");
    assert_eq!((doomed.count("ran 777"), survivor.count("ran 777")), (0, 1));
}

#[tokio::test]
async fn a_rediss_url_speaks_tls() {
    // A listener that is no Redis: it records the first byte a client sends. A TLS client's first
    // record is a handshake (0x16); a plain Redis client would send a RESP command instead.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let first_byte = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut byte = [0u8; 1];
        socket.read_exact(&mut byte).await.unwrap();
        byte[0]
    });
    let store = RedisStore::builder(format!("rediss://:s3cr3t@localhost:{port}/0"))
        .timeouts(Duration::from_millis(500), Duration::from_millis(500))
        .connect()
        .await
        .unwrap();
    let error = store.claim("paid:1", Duration::from_secs(1)).await.unwrap_err().to_string();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), first_byte).await.unwrap().unwrap(),
        0x16,
        "a TLS handshake"
    );
    assert!(!error.contains("s3cr3t"), "{error}");
    let shown = format!("{store:?}");
    assert!(shown.contains(":REDACTED@") && !shown.contains("s3cr3t"), "{shown}");
}

fn replica(server_url: &str, pocket: &FakePocket, recorder: &Recorder) -> impl std::future::Future<Output = Payments> {
    let (url, pocket, recorder) = (server_url.to_owned(), pocket.clone(), recorder.clone());
    async move {
        let store = RedisStore::builder(url).connect().await.unwrap();
        Payments::builder(pocket, recorder)
            .store(store.clone())
            .watch_journal(store)
            .poll_schedule(Duration::from_millis(20), Duration::from_millis(50))
            .build()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_watch_list_and_each_invoice_is_polled_by_one_of_them() {
    let Some(server) = RedisServer::start(false) else { return };
    let (pocket_a, recorder) = (FakePocket::default(), Recorder::default());
    let pocket_b = pocket_a.sibling();
    for invoice in 0..10 {
        pocket_a.state(invoice, serde_json::json!("PENDING"), 560);
    }
    let a = replica(&server.url(), &pocket_a, &recorder).await;
    for invoice in 0..10_u64 {
        a.reconciler().watch(pocket_core::InvoiceId::from(invoice), None);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let b = replica(&server.url(), &pocket_b, &recorder).await;
    assert_eq!(b.reconciler().recover().await.unwrap(), 10, "B sees what A watches");
    tokio::time::sleep(Duration::from_millis(400)).await;
    for invoice in 0..10 {
        let (by_a, by_b) = (pocket_a.checks_of(invoice), pocket_b.checks_of(invoice));
        assert!(by_a > 0 && by_b == 0, "invoice {invoice}: polled {by_a} times by A and {by_b} by B");
    }
    for invoice in 0..10 {
        pocket_a.paid(invoice, 560);
    }
    eventually(Duration::from_secs(10), "ten payments", || recorder.successes() == 10).await;
    eventually(Duration::from_secs(10), "both lists empty", || {
        a.reconciler().watched().is_empty() && b.reconciler().watched().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let journal = RedisStore::builder(server.url()).connect().await.unwrap();
    assert!(pocket_payments::WatchJournal::load(&journal).await.unwrap().is_empty(), "crossed out of the journal");
    assert_eq!(recorder.calls(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_replicas_watches_are_taken_over() {
    let Some(server) = RedisServer::start(false) else { return };
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    for invoice in 100..105 {
        pocket.state(invoice, serde_json::json!("PROCESSING"), 560);
    }
    let gone = replica(&server.url(), &pocket, &recorder).await;
    for invoice in 100..105_u64 {
        gone.reconciler().watch(pocket_core::InvoiceId::from(invoice), None);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // It stops polling without a word (as a crash would); its journal entries stay.
    let _ = gone.reconciler().stop();
    let heir = replica(&server.url(), &pocket, &recorder).await;
    assert_eq!(heir.reconciler().recover().await.unwrap(), 5);
    for invoice in 100..105 {
        pocket.paid(invoice, 560);
    }
    eventually(Duration::from_secs(10), "the heir confirms all five", || recorder.successes() == 5).await;
    assert_eq!(recorder.calls(), 5);
}

#[test]
fn two_processes_share_the_watch_list_and_poll_each_invoice_from_one_of_them() {
    let Some(server) = RedisServer::start(false) else { return };
    let client = redis::Client::open(server.url()).unwrap();
    let mut connection = client.get_connection().unwrap();
    for invoice in 200..210 {
        let _: () =
            redis::cmd("SET").arg(format!("test:pocket:{invoice}")).arg("pending").query(&mut connection).unwrap();
    }
    let mut first = Replica::start("redis_replica", &server.url());
    for invoice in 200..210 {
        first.deliver(&format!("watch {invoice}"));
    }
    first.wait_until(|seen| seen.iter().filter(|line| line.starts_with("checked ")).count() >= 10);
    let mut second = Replica::start("redis_replica", &server.url());
    second.deliver("recover");
    second.wait_for("recovered 10");
    std::thread::sleep(Duration::from_millis(500));
    for replica in [&mut first, &mut second] {
        while let Ok(line) = replica.lines.try_recv() {
            replica.seen.push(line);
        }
    }
    for invoice in 200..210 {
        let checked = format!("checked {invoice}");
        let (by_first, by_second) = (first.count(&checked), second.count(&checked));
        assert!(by_first > 1 && by_second == 0, "invoice {invoice}: {by_first} polls by one, {by_second} by the other");
    }
    for invoice in 200..210 {
        let _: () = redis::cmd("SET").arg(format!("test:pocket:{invoice}")).arg("paid").query(&mut connection).unwrap();
    }
    first.wait_until(|seen| seen.iter().filter(|line| line.starts_with("ran ")).count() == 10);
    std::thread::sleep(Duration::from_millis(300));
    while let Ok(line) = second.lines.try_recv() {
        second.seen.push(line);
    }
    assert_eq!((first.count("ran "), second.count("ran ")), (10, 0), "each payment once, by its poller");
}

#[tokio::test]
async fn a_password_and_a_database_index_in_the_url_are_used() {
    let Some(mut server) = RedisServer::start(false) else { return };
    server.require_password("p4ss-w0rd");
    let url = format!("redis://:p4ss-w0rd@127.0.0.1:{}/3", server.port());
    let right = RedisStore::builder(url.as_str()).connect().await.unwrap();
    let owner = token(right.claim("paid:9", Duration::from_secs(60)).await.unwrap());
    assert!(right.complete("paid:9", &owner).await.unwrap());
    let other_db =
        RedisStore::builder(format!("redis://:p4ss-w0rd@127.0.0.1:{}/4", server.port())).connect().await.unwrap();
    assert!(!other_db.is_done("paid:9").await.unwrap(), "database 3 is not database 4");
    let wrong = RedisStore::builder(format!("redis://:nope@127.0.0.1:{}/3", server.port()))
        .timeouts(Duration::from_millis(300), Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    let refused = wrong.is_done("paid:9").await.unwrap_err().to_string();
    assert!(!refused.contains("nope") && !refused.contains("p4ss-w0rd"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_away_while_the_handler_runs_and_back_after_it_returned_runs_it_once() {
    let Some(server) = RedisServer::start(true) else { return };
    let server = std::sync::Arc::new(std::sync::Mutex::new(server));
    let (pocket, recorder) = (FakePocket::default(), Recorder::default());
    pocket.paid(5_000, 560);
    let url = server.lock().unwrap().url();
    let store = RedisStore::builder(url)
        .timeouts(Duration::from_millis(300), Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    // The handler's effect is made, then Redis (with AOF) goes away; it is back 300 ms after the
    // handler returned.
    let (outage, effects) = (server.clone(), recorder.clone());
    let handler = pocket_payments::handler_fn(move |payment| {
        let (outage, effects) = (outage.clone(), effects.clone());
        async move {
            pocket_payments::PaymentHandler::paid(&effects, payment).await?;
            outage.lock().unwrap().stop();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                outage.lock().unwrap().run();
            });
            Ok(())
        }
    });
    let payments =
        Payments::builder(pocket.clone(), handler).store(store.clone()).handler_timeout(Duration::from_secs(1)).build();
    let outcome = payments.receive(notice("5000")).await;
    assert_eq!(outcome, Outcome::Handled, "recorded once Redis was back, within the lease");
    tokio::time::sleep(Duration::from_millis(1_800)).await; // past the lease (1.5 s)
    assert_eq!(payments.receive(notice("5000")).await, Outcome::AlreadyHandled);
    assert!(store.is_done("paid:5000").await.unwrap());
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn the_journal_says_whether_it_crossed_an_invoice_out_and_finds_one_by_key() {
    let Some(server) = RedisServer::start(false) else { return };
    let journal = store(&server).await;
    let watched = pocket_payments::Watched::new(
        pocket_core::InvoiceId::from(77),
        None,
        std::time::SystemTime::now() + Duration::from_secs(60),
    );
    use pocket_payments::WatchJournal;
    journal.save("77", &watched).await.unwrap();
    assert_eq!(journal.find("77").await.unwrap(), Some(watched));
    assert_eq!(journal.find("78").await.unwrap(), None);
    assert!(journal.forget("77").await.unwrap(), "the first replica to cross it out learns it did");
    assert!(!journal.forget("77").await.unwrap(), "the second learns it did not");
}
