//! The wallet simulator in a real headless Chromium: a mini-app page written for the real wallet
//! (it only talks to `window.PocketMobile`) gets a token, has its backend create an invoice, and
//! is paid — through the sandbox's web view, consent screen and pay screen.
//!
//! Chromium is found at `$CHROMIUM` or `/usr/bin/chromium`. Without it the test says it was
//! skipped; with `CI=true` a missing browser is a failure.

use crate::common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::*;
use pocket_core::{InvoiceId, InvoiceState};
use pocket_sandbox::{DeliveryOutcome, Sandbox};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The mini-app's page: it knows nothing of the sandbox. Its `window.Pocket` wraps the wallet's
/// bridge the way the wallet's own pocket.js does.
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Test shop</title></head>
<body>
<p id="status">starting</p>
<script>
  window.Pocket = {
    eventListeners: {},
    call: function (action, listener, data, callback) {
      window.Pocket.eventListeners[listener] = callback;
      window.PocketMobile.postMessage(JSON.stringify({ action: action, data: data }));
    },
    getToken: function (data, cb) { this.call("getToken", "onGetTokenComplete", data, cb); },
    payInvoice: function (data, cb) { this.call("payInvoice", "onPayInvoiceComplete", data, cb); }
  };
  function report(step, detail) {
    document.getElementById("status").textContent = step;
    return fetch("/api/report", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ step: step, detail: detail }) });
  }
  // Has the backend create an invoice, then asks the wallet to pay it with what the page
  // claims (`claimed` replaces the amount: an integrator's bug the pay sheet must show).
  function checkout(token, claimed, then) {
    fetch("/api/checkout", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: token }) })
      .then(function (r) { return r.json(); })
      .then(function (invoice) {
        window.Pocket.payInvoice({ amount: claimed || "560.00", info: invoice.info, terminalId: invoice.terminalId, id: invoice.id },
          function (payResult) { if (payResult.error) report("pay-failed", payResult); else then(payResult); });
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PocketMobile) { report("no-bridge", null); return; }
    window.Pocket.getToken({}, function (tokenResult) {
      if (tokenResult.error) { report("token-failed", tokenResult); return; }
      var token = tokenResult.data.accessToken;
      checkout(token, null, function (first) {
        checkout(token, "1.00", function (second) { report("paid", { first: first, second: second, sheets: sheets }); });
      });
    });
  });
</script>
<script>
  // The user: agrees to share their details, then pays — noting what each pay sheet showed.
  var sheets = [];
  new MutationObserver(function () {
    var pay = document.getElementById("pocket-sandbox-pay");
    if (pay && document.getElementById("pocket-sandbox-confirm")) {
      var warning = document.getElementById("pocket-sandbox-mismatch");
      sheets.push({ title: pay.querySelector("h2").textContent, warning: warning ? warning.textContent : null });
    }
    ["pocket-sandbox-allow", "pocket-sandbox-confirm"].forEach(function (id) {
      var button = document.getElementById(id);
      if (button) button.click();
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
</script>
</body></html>"#;

struct Shop {
    sandbox_merchant: String,
    sandbox: Arc<Sandbox>,
    reports: mpsc::UnboundedSender<Value>,
}

async fn checkout(State(shop): State<Arc<Shop>>, Json(body): Json<Value>) -> Json<Value> {
    let answer = create_invoice(
        &shop.sandbox,
        &shop.sandbox_merchant,
        json!({"amount": 560, "info": "Browser test", "consumerToken": body["token"]}),
    )
    .await;
    Json(answer.json().await.unwrap_or(Value::Null))
}

async fn report(State(shop): State<Arc<Shop>>, Json(body): Json<Value>) {
    let _ = shop.reports.send(body);
}

struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Browser {
    fn open(binary: &PathBuf, url: &str) -> Browser {
        let profile =
            std::env::temp_dir().join(format!("pocket-sandbox-chromium-{}-{}", std::process::id(), fastrand::u64(..)));
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--enable-logging=stderr")
            .arg(url)
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(profile.with_extension("log")).map(Stdio::from).unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .expect("chromium starts");
        Browser { child, profile }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
        let _ = std::fs::remove_file(self.profile.with_extension("log"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mini_app_written_for_the_wallet_is_paid_in_chromium() {
    let Some(binary) = pocket_test_support::required_program("CHROMIUM", "/usr/bin/chromium", "Debian's chromium")
    else {
        return;
    };
    let sandbox = Arc::new(start().await);
    let merchant = merchant_token(&sandbox).await;
    let receiver = Receiver::start(&[]).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;

    let (reports, mut reported) = mpsc::unbounded_channel();
    let shop = Arc::new(Shop { sandbox_merchant: merchant, sandbox: sandbox.clone(), reports });
    let app = Router::new()
        .route("/", get(|| async { axum::response::Html(PAGE) }))
        .route("/api/checkout", post(checkout))
        .route("/api/report", post(report))
        .with_state(shop);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shop_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    sandbox.set_mini_app_url(&shop_url);

    let browser = Browser::open(&binary, &format!("{}/", sandbox.webview_url()));
    let Ok(Some(outcome)) = tokio::time::timeout(Duration::from_secs(60), reported.recv()).await else {
        let log = std::fs::read_to_string(browser.profile.with_extension("log")).unwrap_or_default();
        let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE") || l.contains(":ERROR:")).collect();
        panic!("the page did not report within a minute; Chromium said:\n{}", console.join("\n"));
    };
    assert_eq!(outcome["step"], "paid", "{outcome}");
    let invoice = InvoiceId::new(outcome["detail"]["first"]["data"]["id"].to_string()).unwrap();
    assert_eq!(sandbox.invoice(&invoice).unwrap().state, InvoiceState::Paid);
    let log = sandbox.wait_for_deliveries(2, Duration::from_secs(5)).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(200));
    assert_eq!(receiver.bodies()[0]["invoiceId"].to_string(), invoice.to_string());

    // The pay sheet shows the invoice's own amount, and says so when the page claimed another.
    let sheets = outcome["detail"]["sheets"].as_array().expect("the sheets the user saw");
    assert_eq!(sheets.len(), 2, "{outcome}");
    assert_eq!((sheets[0]["title"].as_str(), &sheets[0]["warning"]), (Some("Pay 560 ₮"), &Value::Null), "{sheets:?}");
    assert_eq!(sheets[1]["title"], "Pay 560 ₮", "the invoice's amount, not the page's 1.00: {sheets:?}");
    let warning = sheets[1]["warning"].as_str().expect("a visible warning");
    assert!(warning.contains("1.00") && warning.contains("560"), "{warning}");
    let second = InvoiceId::new(outcome["detail"]["second"]["data"]["id"].to_string()).unwrap();
    assert_eq!(sandbox.invoice(&second).unwrap().amount.to_string(), "560 ₮", "charged the invoice's amount");
}
