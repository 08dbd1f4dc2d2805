//! The chaos soak: two replica *processes* of a shop (pocket-axum's router, `RedisStore` as
//! store and watch journal, `recover()` at start) on one redis-server with AOF, the sandbox,
//! and a round-robin forwarder in front of the replicas. For `POCKET_SOAK_SECONDS` (default 60)
//! it creates and pays invoices (some left unpaid, some rejected), cycles the sandbox's faults,
//! SIGKILLs and restarts replicas (some while handlers run), restarts Redis once, and posts
//! forged notices. At the end it compares the sandbox's own record with the replicas'
//! append-only effects log: no payment lost, none confirmed that Pocket did not take, and a
//! payment run twice only where the process that ran it first was killed before it finished.
//!
//! A test binary of its own (`harness = false`): it runs itself again as each replica
//! (`POCKET_SOAK_ROLE=replica`), so that a kill is a real SIGKILL of a real process.
//!
//! With the `postgres` feature it runs a second time on PostgreSQL: `PgStore` as store and
//! journal, a transactional handler whose effect is a row written in the payment's transaction,
//! and PostgreSQL restarted once. There a payment run twice is a failure, kills included.
//! `POCKET_SOAK_STORE=redis` or `=postgres` runs one of the two.
//!
//! `POCKET_SOAK_SECONDS=600 POCKET_SOAK_SEED=2026 cargo test -p pocket-axum --all-features --test
//! soak` is the long run recorded in docs/benchmarks.md.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pocket_core::{InvoiceId, InvoiceState};
use pocket_sandbox::{
    Endpoint, Fault, FieldStyle, Forgery, Redelivery, Sandbox, SandboxConfig, TestUser, WebhookBehaviour,
};

const ROLE: &str = "POCKET_SOAK_ROLE";

fn main() {
    if std::env::var(ROLE).as_deref() == Ok("replica") {
        replica::run();
        return;
    }
    // `cargo test -- --list` and filters: this binary has one test, the soak.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--list") {
        println!("soak: test");
        return;
    }
    if args.iter().any(|arg| !arg.starts_with('-') && !"soak".contains(arg.as_str())) {
        println!("soak: 0 passed, 0 failed, 1 skipped");
        return;
    }
    let only = std::env::var("POCKET_SOAK_STORE").ok();
    let wanted = |store: &str| only.as_deref().is_none_or(|only| only == store);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut stores = Vec::new();
    if wanted("redis") {
        match pocket_test_support::RedisServer::start(true) {
            Some(redis) => stores.push(Store::Redis(redis)),
            None => skipped += 1,
        }
    }
    #[cfg(feature = "postgres")]
    if wanted("postgres") {
        match pocket_test_support::PostgresServer::start() {
            Some(postgres) => {
                let url = postgres.create_database("soak");
                stores.push(Store::Postgres(postgres, url));
            }
            None => skipped += 1,
        }
    }
    for store in stores {
        let name = store.name();
        let report = runtime.block_on(soak(store));
        println!("{name}:\n{report}");
        let failures = report.failures();
        if failures.is_empty() {
            passed += 1;
        } else {
            println!("soak on {name} failed:\n{}", failures.join("\n"));
            failed += 1;
        }
    }
    println!(
        "soak: {passed} passed, {failed} failed{}",
        if skipped > 0 { format!(", {skipped} skipped") } else { String::new() }
    );
    if failed > 0 {
        std::process::exit(101);
    }
}

/// Where the replicas keep their payments, and where their effects are written.
enum Store {
    /// Redis (AOF); effects appended to a file before the handler returns.
    Redis(pocket_test_support::RedisServer),
    /// PostgreSQL and its database's URL; effects are rows written in the payment's transaction.
    #[cfg(feature = "postgres")]
    Postgres(pocket_test_support::PostgresServer, String),
}

impl Store {
    fn name(&self) -> &'static str {
        match self {
            Store::Redis(_) => "Redis",
            #[cfg(feature = "postgres")]
            Store::Postgres(..) => "PostgreSQL",
        }
    }

    /// What a replica is told about it.
    fn env(&self) -> (String, String) {
        match self {
            Store::Redis(redis) => ("POCKET_SOAK_REDIS".into(), redis.url()),
            #[cfg(feature = "postgres")]
            Store::Postgres(_, url) => ("POCKET_SOAK_POSTGRES".into(), url.clone()),
        }
    }

    /// Stops it, and starts it again a second later.
    async fn restart(&mut self) {
        match self {
            Store::Redis(redis) => {
                redis.stop();
                tokio::time::sleep(Duration::from_millis(1_000)).await;
                redis.run();
            }
            #[cfg(feature = "postgres")]
            Store::Postgres(postgres, _) => {
                postgres.stop_fast();
                tokio::time::sleep(Duration::from_millis(1_000)).await;
                postgres.run();
            }
        }
    }

    /// The effects the replicas' handlers made durable.
    fn effects(&self, log: &Path) -> Vec<Effect> {
        let text = match self {
            Store::Redis(_) => std::fs::read_to_string(log).unwrap_or_default(),
            #[cfg(feature = "postgres")]
            Store::Postgres(postgres, _) => postgres
                .psql("soak", "SELECT 'paid ' || invoice || ' ' || pid || ' ' || at_ms FROM effects ORDER BY at_ms"),
        };
        read_effects(&text)
    }

    /// Whether a second run of a payment is a failure even after a kill: with the
    /// transactional handler, a killed run leaves no effect.
    fn exactly_once(&self) -> bool {
        !matches!(self, Store::Redis(_))
    }
}

/// A replica process of the shop.
mod replica {
    use std::io::Write;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use axum::Json;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::post;
    use pocket_axum::{Payments, PocketWebhook, handler_fn};
    use pocket_core::{Amount, ConsumerToken, Credentials, Environment, InvoiceNote, NewInvoice};
    use pocket_http::PocketClient;
    use pocket_payments::RedisStore;

    fn var(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the soak"))
    }

    /// Appends one line to the effects log, durably, before the handler returns.
    fn effect(path: &str, line: &str) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        let at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
        file.write_all(format!("{line} {} {at}\n", std::process::id()).as_bytes())?;
        file.sync_data()
    }

    #[derive(Clone)]
    struct Shop {
        pocket: PocketClient,
        payments: Payments,
    }

    #[derive(serde::Deserialize)]
    struct Order {
        token: String,
        tugrik: u64,
    }

    async fn create(State(shop): State<Shop>, Json(order): Json<Order>) -> Result<String, (StatusCode, String)> {
        let unavailable = |e: String| (StatusCode::SERVICE_UNAVAILABLE, e);
        let token = ConsumerToken::new(&order.token).map_err(|e| unavailable(e.to_string()))?;
        let amount = Amount::from_tugrik(order.tugrik).map_err(|e| unavailable(e.to_string()))?;
        let invoice = NewInvoice::new(amount, InvoiceNote::new("Бууз").unwrap(), token)
            .map_err(|e| unavailable(e.to_string()))?;
        let created = shop.pocket.create_invoice(&invoice).await.map_err(|e| unavailable(e.to_string()))?;
        let watch = shop.payments.reconciler().watch(created.id.clone(), Some(pocket_axum::Expected::amount(amount)));
        // The customer gets the invoice only once a replica that dies cannot forget it.
        match tokio::time::timeout(Duration::from_secs(3), watch.durable()).await {
            Ok(Ok(())) => Ok(created.id.to_string()),
            _ => Err(unavailable("the watch is not durable yet".to_owned())),
        }
    }

    pub fn run() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let base = var("POCKET_SOAK_SANDBOX");
            let environment =
                Environment::custom().sso_base(base.as_str()).api_base(format!("{base}/merchant")).build().unwrap();
            let credentials = Credentials::new(var("POCKET_SOAK_CLIENT_ID"), var("POCKET_SOAK_CLIENT_SECRET"));
            let pocket =
                PocketClient::builder(environment, credentials).timeout(Duration::from_secs(2)).build().unwrap();
            #[cfg(feature = "postgres")]
            if let Ok(url) = std::env::var("POCKET_SOAK_POSTGRES") {
                return serve(pocket.clone(), in_postgres(pocket, &url).await).await;
            }
            let store = RedisStore::builder(var("POCKET_SOAK_REDIS"))
                .prefix("soak:")
                .timeouts(Duration::from_millis(500), Duration::from_millis(500))
                .connect()
                .await
                .unwrap();
            let effects = var("POCKET_SOAK_EFFECTS");
            let paid_log = effects;
            let handler = handler_fn(move |payment| {
                let log = paid_log.clone();
                async move {
                    effect(&log, &format!("paid {}", payment.invoice_id()))?;
                    // The shop's own work after its effect: a kill now runs it again.
                    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..150))).await;
                    Ok(())
                }
            });
            let journal = store.clone();
            let (webhook, payments) = PocketWebhook::new(pocket.clone(), handler)
                .store(store)
                .configure(move |pipeline| tuned(pipeline.watch_journal(journal)))
                .into_router_with_payments();
            serve(pocket, (webhook, payments)).await
        });
    }

    /// The pipeline's settings, the same for both stores.
    fn tuned(pipeline: pocket_axum::pocket_payments::PaymentsBuilder) -> pocket_axum::pocket_payments::PaymentsBuilder {
        pipeline
            .poll_schedule(Duration::from_millis(300), Duration::from_secs(2))
            .handler_timeout(Duration::from_secs(5))
            .lease(Duration::from_secs(8))
            .retry_after(Duration::from_secs(1))
    }

    async fn serve(pocket: PocketClient, (webhook, payments): (axum::Router, Payments)) {
        while payments.reconciler().recover().await.is_err() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let shop = Shop { pocket, payments };
        let app = axum::Router::new().route("/shop/invoice", post(create)).with_state(shop).merge(webhook);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", var("POCKET_SOAK_PORT").parse::<u16>().unwrap()))
            .await
            .unwrap();
        println!("ready");
        let _ = std::io::stdout().flush();
        axum::serve(listener, app).await.unwrap();
    }

    /// The shop on PostgreSQL: its effect is a row written in the payment's transaction.
    #[cfg(feature = "postgres")]
    async fn in_postgres(pocket: PocketClient, url: &str) -> (axum::Router, Payments) {
        use pocket_axum::pocket_payments::sqlx::{self, PgConnection};
        use pocket_axum::{HandlerError, PgStore, TransactionalHandler, VerifiedPayment};

        struct WriteEffect;

        #[async_trait::async_trait]
        impl TransactionalHandler for WriteEffect {
            async fn paid(&self, payment: VerifiedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
                let at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
                sqlx::query("INSERT INTO effects (invoice, pid, at_ms) VALUES ($1, $2, $3)")
                    .bind(payment.invoice_id().as_str())
                    .bind(i64::from(std::process::id()))
                    .bind(at)
                    .execute(&mut *connection)
                    .await?;
                // The shop's own work after its effect: a kill now rolls both back.
                tokio::time::sleep(Duration::from_millis(fastrand::u64(0..150))).await;
                Ok(())
            }
        }

        let store = loop {
            let store = PgStore::builder(url)
                .timeouts(Duration::from_millis(500), Duration::from_secs(2))
                .connect()
                .await
                .unwrap();
            let ready = async {
                store.migrate().await.map_err(|e| e.to_string())?;
                sqlx::query("CREATE TABLE IF NOT EXISTS effects (invoice text NOT NULL, pid bigint, at_ms bigint)")
                    .execute(store.pool())
                    .await
                    .map_err(|e| e.to_string())
            };
            if ready.await.is_ok() {
                break store;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        PocketWebhook::transactional(pocket, store, WriteEffect).configure(tuned).into_router_with_payments()
    }
}

/// The replicas: child processes on fixed ports, killed and restarted at will.
struct Replicas {
    children: Vec<Option<Child>>,
    ports: Vec<u16>,
    env: Vec<(String, String)>,
    /// Every pid that was SIGKILLed.
    killed: HashSet<u32>,
    kills: usize,
}

impl Replicas {
    fn start(&mut self, index: usize) {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.env(ROLE, "replica").env("POCKET_SOAK_PORT", self.ports[index].to_string());
        command.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = command.spawn().expect("a replica starts");
        let mut ready = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let _ = std::io::BufRead::read_line(&mut out, &mut ready);
        self.children[index] = Some(child);
    }

    fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.children[index].take() {
            self.killed.insert(child.id());
            self.kills += 1;
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn alive(&self, index: usize) -> bool {
        self.children[index].is_some()
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Accepts connections and hands each to the next replica that accepts it, round robin.
async fn forwarder(ports: Vec<u16>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let next = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { continue };
            let (ports, next) = (ports.clone(), next.clone());
            tokio::spawn(async move {
                for _ in 0..ports.len() {
                    let port = ports[next.fetch_add(1, Ordering::Relaxed) % ports.len()];
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        return;
                    }
                }
            });
        }
    });
    port
}

/// What became of the run.
struct Report {
    seconds: u64,
    created: usize,
    create_failures: usize,
    paid: usize,
    rejected: usize,
    unpaid: usize,
    forged: usize,
    kills: usize,
    lost: Vec<String>,
    false_confirmations: Vec<String>,
    explained_duplicates: usize,
    unexplained_duplicates: Vec<String>,
    latencies_ms: Vec<u64>,
    checks: u64,
}

impl Report {
    fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if !self.lost.is_empty() {
            failures.push(format!("lost: {:?}", self.lost));
        }
        if !self.false_confirmations.is_empty() {
            failures.push(format!("confirmed but not paid: {:?}", self.false_confirmations));
        }
        if !self.unexplained_duplicates.is_empty() {
            failures.push(format!("run twice with no kill of the first runner: {:?}", self.unexplained_duplicates));
        }
        if self.paid == 0 {
            failures.push("no invoice was paid: the soak did not run".to_owned());
        }
        failures
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut latencies = self.latencies_ms.clone();
        latencies.sort_unstable();
        let at = |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0);
        writeln!(f, "| soak ({} s) | |\n|---|---|", self.seconds)?;
        writeln!(f, "| invoices created (failed creates) | {} ({}) |", self.created, self.create_failures)?;
        writeln!(f, "| paid / rejected / left unpaid | {} / {} / {} |", self.paid, self.rejected, self.unpaid)?;
        writeln!(f, "| forged notices | {} |", self.forged)?;
        writeln!(f, "| replica kills | {} |", self.kills)?;
        writeln!(f, "| lost | {} |", self.lost.len())?;
        writeln!(f, "| false confirmations | {} |", self.false_confirmations.len())?;
        writeln!(f, "| duplicates after a kill of the first runner | {} |", self.explained_duplicates)?;
        writeln!(f, "| other duplicates | {} |", self.unexplained_duplicates.len())?;
        writeln!(f, "| confirmation latency p50 / p99 / max | {} / {} / {} ms |", at(0.5), at(0.99), at(1.0))?;
        let per_paid = self.checks as f64 / self.paid.max(1) as f64;
        write!(f, "| Pocket check calls per paid invoice | {per_paid:.1} |")
    }
}

/// One line of the effects log: `paid <invoice> <pid> <unix ms>`.
struct Effect {
    invoice: String,
    pid: u32,
    at_ms: u64,
}

fn read_effects(text: &str) -> Vec<Effect> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["paid", invoice, pid, at] => {
                    Some(Effect { invoice: (*invoice).to_owned(), pid: pid.parse().ok()?, at_ms: at.parse().ok()? })
                }
                _ => None,
            }
        })
        .collect()
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

/// The faults cycled through, one at a time.
fn chaos(sandbox: &Sandbox, round: usize) {
    sandbox.clear_faults();
    sandbox.set_webhook_behaviour(WebhookBehaviour::default());
    match round % 12 {
        0 => sandbox.set_fault(Endpoint::CheckInvoice, Fault::error_rate(0.4, 503)),
        1 => sandbox.set_fault(Endpoint::CheckInvoice, Fault::fail_next(5, 404)),
        2 => sandbox.set_fault(Endpoint::CheckInvoice, Fault::latency(Duration::from_millis(700))),
        3 => sandbox.set_fault(Endpoint::CheckInvoice, Fault::drop_rate(0.3)),
        4 => sandbox.set_webhook_behaviour(WebhookBehaviour::dropped()),
        5 => sandbox.set_webhook_behaviour(WebhookBehaviour::duplicates(3)),
        6 => sandbox.set_webhook_behaviour(WebhookBehaviour::out_of_order(Duration::from_secs(2))),
        7 => sandbox.set_webhook_behaviour(WebhookBehaviour::redelivery(Redelivery::ServerErrors)),
        8 => sandbox.set_webhook_behaviour(
            WebhookBehaviour::redelivery(Redelivery::Never).with_check_lag(Duration::from_millis(800)),
        ),
        9 => sandbox.set_fault(Endpoint::Token, Fault::outage()),
        10 => sandbox.set_fault(Endpoint::CreateInvoice, Fault::latency(Duration::from_millis(2_500))),
        _ => sandbox.set_webhook_behaviour(WebhookBehaviour::field_style(FieldStyle::Codes)),
    }
}

/// Forged notices straight at the shop: unknown and future ids, other spellings, unpaid
/// invoices, wrong amounts.
async fn forge(http: &reqwest::Client, url: &str, sandbox: &Sandbox, known: &[String], n: usize) -> usize {
    let last: u64 = known.last().and_then(|id| id.parse().ok()).unwrap_or(1);
    let mut bodies = vec![
        serde_json::json!({"invoiceId": last + 1, "invoiceState": "PAID", "amount": 560}),
        serde_json::json!({"invoiceId": last + 2, "invoiceState": "paid"}),
        serde_json::json!({"invoiceId": format!("{last}\u{a0}"), "invoiceState": "PAID"}),
        serde_json::json!({"invoiceId": format!("+0x{last:x}"), "invoiceState": "PAID"}),
        serde_json::json!({"invoiceId": format!(" 0{last}"), "invoiceState": 20, "amount": "5,6"}),
    ];
    if let Some(id) = known.get(n % known.len().max(1)) {
        bodies.push(serde_json::json!({"invoiceId": id, "invoiceState": "PAID", "amount": 99_999}));
    }
    let mut sent = 0;
    for body in &bodies {
        if http.post(url).json(body).send().await.is_ok() {
            sent += 1;
        }
    }
    if let Some(id) = known.get((n * 7) % known.len().max(1)) {
        let id = InvoiceId::new(id.as_str()).unwrap();
        let forgery = if n.is_multiple_of(2) { Forgery::UnpaidInvoice(id) } else { Forgery::WrongAmount(id) };
        if sandbox.send_forged_webhook(forgery).await.is_ok() {
            sent += 1;
        }
    }
    sent
}

async fn soak(mut store: Store) -> Report {
    let seconds: u64 = std::env::var("POCKET_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = std::env::var("POCKET_SOAK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(21);
    fastrand::seed(seed);
    let schedule = [200, 500, 1_000, 2_000, 3_000, 5_000].map(Duration::from_millis).to_vec();
    let sandbox = SandboxConfig::default().seed(seed).webhook_retry_schedule(schedule).start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("pocket-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let effects: PathBuf = dir.join("effects.log");
    let credentials = sandbox.clients()[0].clone();
    let ports = vec![pocket_test_support::free_port(), pocket_test_support::free_port()];
    let mut replicas = Replicas {
        children: vec![None, None],
        ports: ports.clone(),
        env: vec![
            ("POCKET_SOAK_SANDBOX".into(), sandbox.base_url().to_owned()),
            store.env(),
            ("POCKET_SOAK_EFFECTS".into(), effects.display().to_string()),
            ("POCKET_SOAK_CLIENT_ID".into(), credentials.client_id.clone()),
            ("POCKET_SOAK_CLIENT_SECRET".into(), credentials.client_secret.clone()),
        ],
        killed: HashSet::new(),
        kills: 0,
    };
    replicas.start(0);
    replicas.start(1);
    let front = forwarder(ports).await;
    let shop = format!("http://127.0.0.1:{front}");
    sandbox.set_webhook_url(&format!("{shop}/pocket/webhook"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();

    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let (mut created, mut create_failures, mut forged) = (Vec::<String>::new(), 0, 0);
    let (mut to_pay, mut to_reject) = (Vec::new(), Vec::new());
    let mut next_chaos = started + Duration::from_secs(3);
    let mut next_kill = started + Duration::from_millis(2_000 + fastrand::u64(0..3_000));
    let mut revive: Vec<(Instant, usize)> = Vec::new();
    let mut store_restarted = false;
    let mut round = 0;
    let mut n: usize = 0;
    while Instant::now() < end {
        n += 1;
        let now = Instant::now();
        if now >= next_chaos {
            chaos(&sandbox, round);
            round += 1;
            next_chaos = now + Duration::from_millis(2_000 + fastrand::u64(0..2_000));
        }
        if now >= next_kill {
            let index = fastrand::usize(0..2);
            if replicas.alive(index) && replicas.alive(1 - index) {
                replicas.kill(index);
                revive.push((now + Duration::from_millis(300 + fastrand::u64(0..1_500)), index));
            }
            next_kill = now + Duration::from_millis(2_000 + fastrand::u64(0..4_000));
        }
        revive.retain(|(at, index)| {
            if Instant::now() >= *at {
                replicas.start(*index);
                false
            } else {
                true
            }
        });
        if !store_restarted && now >= started + Duration::from_secs(seconds * 2 / 5) {
            store.restart().await;
            store_restarted = true;
        }
        // A customer orders.
        let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token;
        let order = serde_json::json!({"token": token.expose_secret(), "tugrik": 500 + fastrand::u64(0..10) * 100});
        match http.post(format!("{shop}/shop/invoice")).json(&order).send().await {
            Ok(answer) if answer.status().is_success() => {
                let id = answer.text().await.unwrap_or_default();
                match fastrand::u8(0..20) {
                    0..=13 => to_pay.push((Instant::now() + Duration::from_millis(fastrand::u64(0..800)), id.clone())),
                    14..=16 => to_reject.push(id.clone()),
                    _ => {}
                }
                created.push(id);
            }
            _ => create_failures += 1,
        }
        // Customers pay in the wallet.
        let due: Vec<String> =
            to_pay.iter().filter(|(at, _)| Instant::now() >= *at).map(|(_, id)| id.clone()).collect();
        to_pay.retain(|(at, _)| Instant::now() < *at);
        for id in due {
            let _ = sandbox.pay(&InvoiceId::new(id).unwrap());
        }
        for id in to_reject.drain(..) {
            let _ = sandbox.reject(&InvoiceId::new(id).unwrap());
        }
        if n.is_multiple_of(5) {
            forged += forge(&http, &format!("{shop}/pocket/webhook"), &sandbox, &created, n).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (_, id) in to_pay.drain(..) {
        let _ = sandbox.pay(&InvoiceId::new(id).unwrap());
    }
    // The storm ends: every replica back, Pocket well; the reconcilers and redeliveries settle.
    sandbox.clear_faults();
    sandbox.set_webhook_behaviour(WebhookBehaviour::default());
    for index in 0..2 {
        if !replicas.alive(index) {
            replicas.start(index);
        }
    }
    let settle_by = Instant::now() + Duration::from_secs(60);
    loop {
        let confirmed: HashSet<String> = store.effects(&effects).into_iter().map(|effect| effect.invoice).collect();
        if paid_ids(&sandbox).keys().all(|id| confirmed.contains(id)) || Instant::now() > settle_by {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // stragglers that would run twice

    let counts = Counts { seconds, created: created.len(), create_failures, forged, kills: replicas.kills };
    let runs = store.effects(&effects);
    let killed = if store.exactly_once() { HashSet::new() } else { replicas.killed.clone() };
    let report = analyse(&sandbox, runs, &killed, counts);
    let _ = std::fs::remove_dir_all(&dir);
    report
}

/// What the storm itself counted.
struct Counts {
    seconds: u64,
    created: usize,
    create_failures: usize,
    forged: usize,
    kills: usize,
}

/// Every invoice Pocket (the sandbox) says was paid, and when.
fn paid_ids(sandbox: &Sandbox) -> HashMap<String, SystemTime> {
    sandbox
        .invoices()
        .into_iter()
        .filter(|invoice| invoice.state == InvoiceState::Paid)
        .map(|invoice| (invoice.id.to_string(), invoice.paid_at.unwrap_or(SystemTime::now())))
        .collect()
}

/// Compares the sandbox's record with the effects log.
/// A second run is explained (not a failure) only by a kill of every earlier runner among
/// `killed`: empty where a killed run leaves no effect.
fn analyse(sandbox: &Sandbox, runs: Vec<Effect>, killed: &HashSet<u32>, counts: Counts) -> Report {
    let paid = paid_ids(sandbox);
    let rejected = sandbox.invoices().iter().filter(|invoice| invoice.state == InvoiceState::Rejected).count();
    let mut by_invoice: BTreeMap<String, Vec<&Effect>> = BTreeMap::new();
    for effect in &runs {
        by_invoice.entry(effect.invoice.clone()).or_default().push(effect);
    }
    let lost: Vec<String> = paid.keys().filter(|id| !by_invoice.contains_key(*id)).cloned().collect();
    let false_confirmations: Vec<String> = by_invoice.keys().filter(|id| !paid.contains_key(*id)).cloned().collect();
    let (mut explained, mut unexplained) = (0, Vec::new());
    for (id, effects) in &by_invoice {
        for (index, _) in effects.iter().enumerate().skip(1) {
            // A second run is the price of a kill only if every earlier runner was killed.
            if effects[..index].iter().all(|e| killed.contains(&e.pid)) {
                explained += 1;
            } else {
                unexplained.push(id.clone());
            }
        }
    }
    let latencies_ms = by_invoice
        .iter()
        .filter_map(|(id, effects)| Some(effects[0].at_ms.saturating_sub(millis(*paid.get(id)?))))
        .collect();
    Report {
        seconds: counts.seconds,
        created: counts.created,
        create_failures: counts.create_failures,
        paid: paid.len(),
        rejected,
        unpaid: counts.created.saturating_sub(paid.len() + rejected),
        forged: counts.forged,
        kills: counts.kills,
        lost,
        false_confirmations,
        explained_duplicates: explained,
        unexplained_duplicates: unexplained,
        latencies_ms,
        checks: sandbox.requests(Endpoint::CheckInvoice),
    }
}
