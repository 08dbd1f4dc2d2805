//! The first ten minutes of a new user, in a real headless Chromium: open the wallet simulator
//! with the demo shop inside → consent (token) → greeting → add items → check out → pay in the
//! wallet → "paid" shown. A screenshot of the end is saved to `target/artifacts/demo-paid.png`.
//!
//! Driven through chromedriver with fantoccini: the WebDriver protocol clicks through the real
//! page and the real wallet screens, with nothing injected — and both come from Debian's
//! `chromium` and `chromium-driver` packages, which is what CI installs (tools that download their
//! own browser cannot work there). Without them the test says it was skipped; with `CI=true` it fails.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use pocket_core::InvoiceState;
use pocket_demo::{Demo, DemoSettings};
use pocket_sandbox::DeliveryOutcome;
use pocket_test_support::{free_port, required_program};
use serde_json::json;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_in_orders_and_pays_in_the_wallet() {
    let (Some(chromium), Some(chromedriver)) = (
        required_program("CHROMIUM", "/usr/bin/chromium", "Debian's chromium"),
        required_program("CHROMEDRIVER", "/usr/bin/chromedriver", "Debian's chromium-driver"),
    ) else {
        return;
    };
    let demo = Demo::start(DemoSettings::ephemeral()).await.expect("the demo starts");
    let sandbox = demo.sandbox().expect("sandbox mode");

    let port = free_port();
    let _driver = Driver(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let profile = std::env::temp_dir().join(format!("pocket-demo-chromium-{}-{port}", std::process::id()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run", "--window-size=480,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let webdriver = format!("http://127.0.0.1:{port}");
    let mut browser = None;
    for _ in 0..50 {
        match ClientBuilder::new(connector.clone()).capabilities(capabilities.clone()).connect(&webdriver).await {
            Ok(client) => {
                browser = Some(client);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let browser = browser.expect("chromedriver accepts a session");

    browser.goto(demo.open_url()).await.unwrap();
    let wait = Duration::from_secs(30);
    browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Id("pocket-sandbox-allow"))
        .await
        .expect("the consent screen")
        .click()
        .await
        .unwrap();
    until("the greeting", wait, || async {
        let text = browser.find(Locator::Id("greeting")).await.unwrap().text().await.unwrap_or_default();
        text.contains("Сайн байна уу, Бат-Эрдэнэ Дорж")
    })
    .await;
    browser.wait().at_most(wait).for_element(Locator::Id("add-buuz")).await.unwrap().click().await.unwrap();
    browser.find(Locator::Id("add-tea")).await.unwrap().click().await.unwrap();
    assert_eq!(browser.find(Locator::Id("cart")).await.unwrap().text().await.unwrap(), "Сагс: 6000 ₮");
    browser.find(Locator::Id("checkout")).await.unwrap().click().await.unwrap();
    browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Id("pocket-sandbox-confirm"))
        .await
        .expect("the pay screen")
        .click()
        .await
        .unwrap();
    until("the paid status", wait, || async {
        let status = browser.find(Locator::Id("status")).await.unwrap();
        status.attr("data-state").await.ok().flatten().as_deref() == Some("paid")
    })
    .await;

    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("demo-paid.png"), browser.screenshot().await.unwrap()).unwrap();
    browser.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);

    let invoices = sandbox.invoices();
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].state, InvoiceState::Paid);
    assert_eq!(invoices[0].amount, pocket_core::Amount::from_tugrik(6_000).unwrap());
    let deliveries = sandbox.deliveries();
    assert!(deliveries.iter().any(|d| d.outcome == DeliveryOutcome::Answered(200)), "{deliveries:?}");
    demo.shutdown().await;
}
