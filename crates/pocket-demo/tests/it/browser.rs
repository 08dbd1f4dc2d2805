//! The first ten minutes of a new user, in a real headless Chromium: open the wallet simulator
//! with the demo shop inside → consent (token) → greeting → add items → check out → pay in the
//! wallet → "paid" shown; and checkout on desktop: QR code → scanned by the sandbox wallet →
//! paid. Screenshots of the ends are saved to `target/artifacts/demo-paid.png` and
//! `demo-desktop-paid.png`.
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

/// A headless Chromium driven through chromedriver, with its own fresh profile; `None` (the
/// test skipped) when either program is missing outside CI.
struct Browser {
    client: fantoccini::Client,
    profile: PathBuf,
    _driver: Driver,
}

impl Browser {
    async fn start() -> Option<Browser> {
        let (Some(chromium), Some(chromedriver)) = (
            required_program("CHROMIUM", "/usr/bin/chromium", "Debian's chromium"),
            required_program("CHROMEDRIVER", "/usr/bin/chromedriver", "Debian's chromium-driver"),
        ) else {
            return None;
        };
        let port = free_port();
        let driver = Driver(
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
                    "--disable-quic", "--no-first-run", "--window-size=520,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let webdriver = format!("http://127.0.0.1:{port}");
        for _ in 0..50 {
            match ClientBuilder::new(connector.clone()).capabilities(capabilities.clone()).connect(&webdriver).await {
                Ok(client) => return Some(Browser { client, profile, _driver: driver }),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        panic!("chromedriver accepts no session");
    }

    /// Saves a screenshot to `target/artifacts/<name>` and closes the browser.
    async fn finish(self, name: &str) {
        let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        std::fs::write(artifacts.join(name), self.client.screenshot().await.unwrap()).unwrap();
        self.client.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&self.profile);
    }

    async fn click(&self, id: &str) {
        let wait = Duration::from_secs(30);
        let element = self.client.wait().at_most(wait).for_element(Locator::Id(id)).await;
        element.unwrap_or_else(|e| panic!("no #{id}: {e}")).click().await.unwrap();
    }

    async fn text(&self, id: &str) -> String {
        match self.client.find(Locator::Id(id)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn until_paid(&self) {
        until("the paid status", Duration::from_secs(30), || async {
            let Ok(status) = self.client.find(Locator::Id("status")).await else { return false };
            status.attr("data-state").await.ok().flatten().as_deref() == Some("paid")
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_in_orders_and_pays_in_the_wallet() {
    let Some(browser) = Browser::start().await else { return };
    let demo = Demo::start(DemoSettings::ephemeral()).await.expect("the demo starts");
    let sandbox = demo.sandbox().expect("sandbox mode");

    browser.client.goto(demo.open_url()).await.unwrap();
    browser.click("pocket-sandbox-allow").await;
    until("the greeting", Duration::from_secs(30), || async {
        browser.text("greeting").await.contains("Сайн байна уу, Бат-Эрдэнэ Дорж")
    })
    .await;
    browser.click("add-buuz").await;
    browser.click("add-tea").await;
    assert_eq!(browser.text("cart").await, "Сагс: 6000 ₮");
    browser.click("checkout").await;
    browser.click("pocket-sandbox-confirm").await;
    browser.until_paid().await;
    browser.finish("demo-paid.png").await;

    let invoices = sandbox.invoices();
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].state, InvoiceState::Paid);
    assert_eq!(invoices[0].amount, pocket_core::Amount::from_tugrik(6_000).unwrap());
    let deliveries = sandbox.deliveries();
    assert!(deliveries.iter().any(|d| d.outcome == DeliveryOutcome::Answered(200)), "{deliveries:?}");
    demo.shutdown().await;
}

/// Checkout on desktop: the shop shows a QR code; in a second tab the sandbox wallet "scans" it
/// (its text pasted into the scanner) and pays; back in the shop's tab the order turns paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_customer_pays_by_scanning_the_qr_code() {
    let Some(browser) = Browser::start().await else { return };
    let demo = Demo::start(DemoSettings::ephemeral()).await.expect("the demo starts");
    let sandbox = demo.sandbox().expect("sandbox mode");

    browser.client.goto(&format!("{}/desktop", demo.shop_url())).await.unwrap();
    browser.click("add-khuushuur").await;
    browser.click("add-airag").await;
    assert_eq!(browser.text("cart").await, "Сагс: 5500 ₮");
    browser.click("checkout").await;
    until("the QR code", Duration::from_secs(30), || async { !browser.text("qr-text").await.is_empty() }).await;
    let code = browser.text("qr-text").await;
    let svg = browser.client.find(Locator::Css("#qr svg")).await;
    assert!(svg.is_ok(), "the QR code is drawn");
    let shop_tab = browser.client.window().await.unwrap();

    let wallet_tab = browser.client.new_window(true).await.unwrap().handle;
    browser.client.switch_to_window(wallet_tab).await.unwrap();
    browser.client.goto(&format!("{}/scan", sandbox.wallet_url())).await.unwrap();
    let field = browser.client.wait().at_most(Duration::from_secs(30)).for_element(Locator::Id("code")).await.unwrap();
    field.send_keys(&code).await.unwrap();
    browser.click("scan").await;
    browser.click("pay").await;
    until("the wallet's receipt", Duration::from_secs(30), || async { browser.text("state").await == "PAID" }).await;

    browser.client.switch_to_window(shop_tab).await.unwrap();
    browser.until_paid().await;
    browser.finish("demo-desktop-paid.png").await;

    let invoices = sandbox.invoices();
    assert_eq!(invoices.len(), 1);
    assert_eq!((invoices[0].state.clone(), invoices[0].is_gateway()), (InvoiceState::Paid, true));
    assert_eq!(invoices[0].amount, pocket_core::Amount::from_tugrik(5_500).unwrap());
    assert_eq!(code, format!("pocket-sandbox:pay:{}", invoices[0].id));
    demo.shutdown().await;
}
