//! `pocket` through whole flows against the sandbox: invoices created, watched until paid;
//! gateway listings, QR invoices and is-paid; wallet tokens verified and decoded; test notices
//! posted to a real pocket-axum webhook; and `pocket sandbox` as a process of its own.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{pocket, pocket_at, run, run_with_input};
use pocket_axum::{PocketWebhook, handler_fn};
use pocket_core::InvoiceId;
use pocket_http::PocketClient;
use pocket_sandbox::{Endpoint, Fault, Sandbox, TestUser};
use serde_json::{Map, json};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test(flavor = "multi_thread")]
async fn an_invoice_is_created_checked_and_watched_until_paid() {
    let sandbox = Sandbox::start().await.unwrap();
    // No consumer token given: the sandbox mints one for its wallet user.
    let created = run(pocket_at(&sandbox), &["invoice", "create", "--amount", "1500.50", "--note", "Кофе", "--json"])
        .await
        .expect(0)
        .json();
    let id = created["id"].as_str().expect("an invoice id").to_owned();
    let invoice = sandbox.invoice(&InvoiceId::new(id.as_str()).unwrap()).expect("the sandbox has it");
    assert_eq!(invoice.amount.to_decimal_string(), "1500.50");
    assert_eq!(invoice.info, "Кофе");

    let out = run(pocket_at(&sandbox), &["invoice", "check", &id]).await.expect(0);
    assert!(out.stdout.contains("pending"), "{}", out.stdout);

    // Paid while it is being watched: the watch ends with exit 0 and the paid state.
    let invoice_id = InvoiceId::new(id.as_str()).unwrap();
    let watch_args = ["invoice", "watch", &id, "--every", "0.2", "--timeout", "20"];
    let (out, ()) = tokio::join!(run(pocket_at(&sandbox), &watch_args), async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        sandbox.pay(&invoice_id).unwrap();
    });
    let out = out.expect(0);
    assert!(out.stdout.contains("paid"), "{}", out.stdout);
    assert!(out.stderr.contains("pending"), "progress on stderr: {}", out.stderr);

    // Pocket unavailable for a while during a watch: waited out, and the payment still seen.
    let created = run(pocket_at(&sandbox), &["invoice", "create", "--amount", "1000", "--json"]).await.expect(0).json();
    let flaky = created["id"].as_str().unwrap().to_owned();
    let before = sandbox.requests(Endpoint::CheckInvoice);
    sandbox.set_fault(Endpoint::CheckInvoice, Fault::fail_next(6, 503));
    let flaky_id = InvoiceId::new(flaky.as_str()).unwrap();
    let watch_args = ["invoice", "watch", &flaky, "--every", "0.2", "--timeout", "30"];
    let (out, ()) = tokio::join!(run(pocket_at(&sandbox), &watch_args), async {
        while sandbox.requests(Endpoint::CheckInvoice) < before + 7 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sandbox.pay(&flaky_id).unwrap();
    });
    let out = out.expect(0);
    assert!(out.stderr.contains("still asking"), "{}", out.stderr);
    assert!(out.stdout.contains("paid"), "{}", out.stdout);

    // A watch that ends otherwise than paid, and one that runs out of time, fail.
    let created = run(pocket_at(&sandbox), &["invoice", "create", "--amount", "1000", "--json"]).await.expect(0).json();
    let other = created["id"].as_str().unwrap().to_owned();
    let out =
        run(pocket_at(&sandbox), &["invoice", "watch", &other, "--every", "0.2", "--timeout", "0.5"]).await.expect(1);
    assert!(out.stderr.contains("still pending"), "{}", out.stderr);
    sandbox.reject(&InvoiceId::new(other.as_str()).unwrap()).unwrap();
    let out = run(pocket_at(&sandbox), &["invoice", "watch", &other]).await.expect(1);
    assert!(out.stderr.contains("not paid"), "{}", out.stderr);
    let out = run(pocket_at(&sandbox), &["invoice", "check", "999999", "--json"]).await.expect(1);
    assert!(out.stderr.contains("999999"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consumer_token_comes_from_standard_input_and_is_never_printed() {
    let sandbox = Sandbox::start().await.unwrap();
    let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token;
    let secret = token.expose_secret().to_owned();
    let out = run_with_input(
        pocket_at(&sandbox),
        &["invoice", "create", "--amount", "2000", "--consumer-token", "-", "--json"],
        &format!("{secret}\n"),
    )
    .await
    .expect(0);
    assert!(out.json()["id"].is_string());
    assert!(!out.all().contains(&secret));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_lists_generates_a_qr_invoice_and_answers_is_paid() {
    let sandbox = Sandbox::start().await.unwrap();
    let branches = run(pocket_at(&sandbox), &["gateway", "branches", "--json"]).await.expect(0).json();
    let branch = branches[0]["id"].as_str().expect("a branch").to_owned();
    let out = run(pocket_at(&sandbox), &["gateway", "branches"]).await.expect(0);
    assert!(out.stdout.starts_with("ID"), "a table: {}", out.stdout);
    let terminals = run(pocket_at(&sandbox), &["gateway", "terminals", &branch, "--json"]).await.expect(0).json();
    let terminal = terminals[0]["id"].to_string();

    let args = ["gateway", "generate", "--terminal", &terminal, "--amount", "2500", "--order", "CLI-1", "--qr"];
    let out = run(pocket_at(&sandbox), &args).await.expect(0);
    assert!(out.stdout.contains("/wallet/pay/"), "a deep link: {}", out.stdout);
    assert!(out.stdout.lines().filter(|line| line.contains('█')).count() > 10, "a QR code: {}", out.stdout);

    let order = ["--terminal", terminal.as_str(), "--order", "CLI-1"];
    let out = run(pocket_at(&sandbox), &[&["gateway", "is-paid"][..], &order].concat()).await.expect(1);
    assert!(out.stdout.contains("false"), "{}", out.stdout);
    let detail =
        run(pocket_at(&sandbox), &[&["gateway", "detail", "--json"][..], &order].concat()).await.expect(0).json();
    assert_eq!(detail["state"], "pending");
    sandbox.pay(&InvoiceId::new(detail["id"].as_str().unwrap()).unwrap()).unwrap();
    run(pocket_at(&sandbox), &[&["gateway", "is-paid"][..], &order].concat()).await.expect(0);
    let out = run(pocket_at(&sandbox), &[&["gateway", "detail"][..], &order].concat()).await.expect(0);
    assert!(out.stdout.contains("paid"), "{}", out.stdout);

    // Generating the same order again: Pocket refuses, and the command says so.
    let out = run(pocket_at(&sandbox), &args).await.expect(1);
    assert!(!out.stderr.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wallet_token_is_verified_or_rejected_with_the_reason() {
    let sandbox = Sandbox::start().await.unwrap();
    let user = TestUser::default();
    let token = sandbox.mint_consumer_token(&user).unwrap().access_token.expose_secret().to_owned();
    let out = run_with_input(pocket_at(&sandbox), &["token", "verify", "-"], &token).await.expect(0);
    assert!(out.stdout.contains(&user.subject), "{}", out.stdout);
    assert!(!out.all().contains(&token), "the token was printed");
    let json = run(pocket_at(&sandbox), &["token", "verify", &token, "--json"]).await.expect(0).json();
    assert_eq!(json["verified"], true);
    // Pinning another authorized party rejects it.
    let out = run(pocket_at(&sandbox), &["token", "verify", &token, "--azp", "another-app"]).await.expect(1);
    assert!(out.stderr.contains("rejected (wrong authorized party)"), "{}", out.stderr);

    let past = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600;
    let mut claims = Map::new();
    claims.insert("exp".into(), json!(past));
    claims.insert("iat".into(), json!(past - 300));
    let expired = sandbox.mint_consumer_token_with(&user, Duration::from_secs(60), claims).unwrap().access_token;
    let out = run(pocket_at(&sandbox), &["token", "verify", expired.expose_secret()]).await.expect(1);
    assert!(out.stderr.contains("rejected (expired)"), "{}", out.stderr);

    // The merchant's own token is no wallet user's.
    let merchant = sandbox.mint_merchant_token().unwrap();
    let out = run(pocket_at(&sandbox), &["token", "verify", &merchant]).await.expect(1);
    assert!(out.stderr.contains("rejected (service account)"), "{}", out.stderr);
    let out = run(pocket_at(&sandbox), &["token", "verify", "not-a-token"]).await.expect(1);
    assert!(out.stderr.contains("rejected (malformed)"), "{}", out.stderr);

    // The realm's keys out of reach: no verdict, and it says why.
    sandbox.set_jwks_outage(true);
    let out = run(pocket_at(&sandbox), &["token", "verify", &token]).await.expect(1);
    assert!(out.stderr.contains("nothing was verified"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn decoding_shows_header_and_claims_labelled_unverified() {
    let sandbox = Sandbox::start().await.unwrap();
    let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token.expose_secret().to_owned();
    // Needs no place: decoding asks no one.
    let out = run_with_input(pocket(), &["token", "decode", "-"], &token).await.expect(0);
    assert!(out.stdout.starts_with("UNVERIFIED"), "{}", out.stdout);
    assert!(out.stdout.contains("\"alg\": \"RS256\""), "{}", out.stdout);
    assert!(out.stdout.contains(&sandbox.realm_url()), "the issuer claim: {}", out.stdout);
    let json = run(pocket(), &["token", "decode", &token, "--json"]).await.expect(0).json();
    assert_eq!(json["verified"], false);
    assert_eq!(json["claims"]["sub"], TestUser::default().subject);
    for garbage in ["a.b", "!!!.e30.x", "e30.bm90IGpzb24.x"] {
        let out = run(pocket(), &["token", "decode", garbage]).await.expect(2);
        assert!(out.stderr.contains("not a JWT"), "{garbage}: {}", out.stderr);
    }
}

/// A real webhook (pocket-axum over pocket-http, checking with the sandbox) that counts how
/// many times it shipped.
async fn shop_webhook(sandbox: &Sandbox) -> (String, Arc<AtomicUsize>) {
    let shipped = Arc::new(AtomicUsize::new(0));
    let counter = shipped.clone();
    let client = PocketClient::builder(sandbox.environment(), sandbox.credentials()).build().unwrap();
    let handler = handler_fn(move |_payment| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    let base = pocket_test_support::serve(PocketWebhook::for_client(client, handler).into_router()).await;
    (format!("{base}/pocket/webhook"), shipped)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_qr_invoice_is_created_for_no_wallet_user_drawn_and_checked() {
    let sandbox = Sandbox::start().await.unwrap();
    let created =
        run(pocket_at(&sandbox), &["invoice", "create", "--qr", "--amount", "4500", "--note", "Кофе", "--json"])
            .await
            .expect(0)
            .json();
    let id = InvoiceId::new(created["id"].as_str().expect("an invoice id")).unwrap();
    let held = sandbox.invoice(&id).expect("the sandbox has it");
    assert_eq!((held.payer.as_str(), held.qr.as_deref()), ("", created["qr"].as_str()), "for no wallet user");
    assert_eq!(sandbox.requests(Endpoint::CreateInvoice), 0, "not a mini-app invoice");

    let out = run(pocket_at(&sandbox), &["invoice", "create", "--qr", "--amount", "600"]).await.expect(0);
    assert!(out.stdout.contains('█') || out.stdout.contains('▀'), "the QR code is drawn: {}", out.stdout);

    sandbox.pay(&id).unwrap();
    let out = run(pocket_at(&sandbox), &["invoice", "check", id.as_str()]).await.expect(0);
    assert!(out.stdout.contains("paid"), "{}", out.stdout);

    let both =
        run(pocket_at(&sandbox), &["invoice", "create", "--qr", "--consumer-token", "x", "--amount", "600"]).await;
    assert!(both.expect(2).stderr.contains("--consumer-token"), "a QR invoice has no wallet user");
}

#[tokio::test(flavor = "multi_thread")]
async fn triggered_notices_reach_a_real_webhook_that_ships_once_and_never_for_a_forgery() {
    let sandbox = Sandbox::start().await.unwrap();
    let (url, shipped) = shop_webhook(&sandbox).await;

    let out = run(pocket_at(&sandbox), &["trigger", "paid", "--to", &url]).await.expect(0);
    assert!(out.stdout.contains("genuine") && out.stdout.contains("HTTP 200"), "{}", out.stdout);
    assert_eq!(shipped.load(Ordering::SeqCst), 1);

    // Three copies of one payment, with integer state codes: shipped once more, not three times.
    let out = run(
        pocket_at(&sandbox),
        &["trigger", "duplicate", "--copies", "2", "--style", "codes", "--to", &url, "--json"],
    )
    .await
    .expect(0);
    let deliveries = out.json();
    assert_eq!(deliveries.as_array().map(Vec::len), Some(3), "{deliveries}");
    assert!(deliveries.as_array().unwrap().iter().all(|d| d["body"]["invoiceState"] == 20), "{deliveries}");
    assert_eq!(shipped.load(Ordering::SeqCst), 2);

    // Forgeries: the webhook asks Pocket and ships nothing.
    let out = run(pocket_at(&sandbox), &["trigger", "forged", "--to", &url]).await.expect(0);
    assert!(out.stdout.contains("forged (unknown-invoice)"), "{}", out.stdout);
    assert!(out.stdout.contains("HTTP 422"), "the shop refused it: {}", out.stdout);
    let out = run(
        pocket_at(&sandbox),
        &["trigger", "forged", "--forgery", "unpaid-invoice", "--style", "strings", "--to", &url],
    )
    .await
    .expect(0);
    assert!(out.stdout.contains("forged (unpaid-invoice)"), "{}", out.stdout);
    assert_eq!(shipped.load(Ordering::SeqCst), 2, "a forgery shipped an order");

    // An endpoint that is not there: the command fails and says so.
    let gone = format!("http://127.0.0.1:{}/pocket/webhook", pocket_test_support::free_port());
    let out = run(pocket_at(&sandbox), &["trigger", "paid", "--to", &gone, "--wait", "5"]).await.expect(1);
    assert!(out.stderr.contains("did not accept"), "{}", out.stderr);
    // The sandbox's merchant now posts to the last address given.
    let json = run(pocket_at(&sandbox), &["webhook", "get", "--json"]).await.expect(0).json();
    assert_eq!(json["webhookUrl"], gone);
}

#[tokio::test(flavor = "multi_thread")]
async fn trigger_needs_the_sandbox() {
    let mut command = pocket();
    command.args(["--env", "staging"]).env("POCKET_CLIENT_ID", "shop").env("POCKET_CLIENT_SECRET", "x");
    let out = run(command, &["trigger", "paid", "--to", "https://shop.example.mn/hook"]).await.expect(2);
    assert!(out.stderr.contains("needs the sandbox"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn pocket_sandbox_runs_until_interrupted_and_other_commands_use_it() {
    let mut command = pocket();
    command
        .args(["sandbox", "--port", "0", "--webview-port", "0", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().expect("pocket sandbox starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
    let started: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(started["clientId"], "sandbox-merchant");

    let sso = started["sso"].as_str().unwrap();
    let api = started["api"].as_str().unwrap();
    let mut whoami = pocket();
    whoami.args(["--env", "sandbox", "--sso", sso, "--api", api]);
    let out = run(whoami, &["whoami", "--json"]).await.expect(0);
    assert_eq!(out.json()["realm"], started["realm"]);

    // Ctrl-C stops it cleanly.
    let pid = child.id().unwrap().to_string();
    // The shell's own `kill`: a fresh machine may have no /bin/kill.
    let signalled = std::process::Command::new("sh").args(["-c", &format!("kill -INT {pid}")]).status().unwrap();
    assert!(signalled.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
}
