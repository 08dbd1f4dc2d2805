//! The demo's `/metrics` and readiness route after a paid flow: the scrape holds what happened
//! (one handler run, one forgery refused, tokens fetched and verified), Prometheus' own
//! `promtool check metrics` finds nothing wrong with it, and the metrics documented in
//! docs/operations.md, recorded by the crates, used by the Grafana dashboard and the alert rules
//! and present in the scrape all agree. One test in its own binary: the Prometheus recorder is
//! the process's, and nothing else may record into it.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "it/common/mod.rs"]
mod common;

use common::{checkout, until_paid};
use pocket_demo::{Demo, DemoSettings};
use pocket_sandbox::TestUser;
use pocket_test_support::required_program;
use serde_json::{Value, json};

fn docs() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs"))
}

/// The metrics docs/operations.md lists: name → Prometheus type.
fn documented() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(docs().join("operations.md")).unwrap();
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            name.starts_with("pocket_").then(|| (name.to_owned(), cells[2].to_owned()))
        })
        .collect()
}

/// What the three crates say they record.
fn recorded_by_the_crates() -> BTreeSet<(String, String)> {
    let all = [pocket_axum::pocket_payments::METRICS, pocket_http::METRICS, pocket_jwt::METRICS];
    all.iter().flat_map(|list| list.iter()).map(|(name, kind, _)| ((*name).to_owned(), (*kind).to_owned())).collect()
}

/// The metric names a PromQL text or dashboard uses (histogram series by their family's name).
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(found) = text[at..].find("pocket_") {
        let start = at + found;
        let end = start
            + text[start..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len() - start);
        let preceded = start > 0
            && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_' || bytes[start - 1] == b'-');
        let name = &text[start..end];
        if !preceded && name.matches('_').count() >= 2 {
            let family =
                ["_bucket", "_count", "_sum"].iter().find_map(|suffix| name.strip_suffix(suffix)).unwrap_or(name);
            names.insert(family.to_owned());
        }
        at = end;
    }
    names
}

/// The metric families a scrape declares (`# TYPE name kind`).
fn families(scrape: &str) -> BTreeSet<(String, String)> {
    scrape
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_once(' '))
        .map(|(name, kind)| (name.to_owned(), kind.to_owned()))
        .collect()
}

/// The value of one sample line of the scrape, e.g. `name{a="b"}`.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_paid_flow_the_scrape_is_valid_documented_and_what_the_dashboard_and_alerts_use() {
    let demo = Demo::start(DemoSettings::ephemeral()).await.expect("the demo starts");
    let shop = demo.shop_url().to_owned();
    let sandbox = demo.sandbox().unwrap();
    let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token;
    let http = reqwest::Client::new();

    let invoice = checkout(&shop, &http, token.expose_secret(), "buuz", 1).await;
    sandbox.pay(&pocket_core::InvoiceId::new(invoice.as_str()).unwrap()).unwrap();
    until_paid(&shop, &http, token.expose_secret(), &invoice).await;
    let forged =
        http.post(format!("{shop}/pocket/webhook")).json(&json!({"invoiceId": "987654321", "invoiceState": "paid"}));
    assert_eq!(forged.send().await.unwrap().status(), 422, "a notice of an invoice Pocket does not know");

    let health = http.get(format!("{shop}/pocket/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["cache-control"], "no-store");
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["ready"], json!(true), "{health}");
    assert_eq!(health["store"]["status"], "ok", "{health}");
    assert!(health["last_pocket_answer_seconds"].as_u64().is_some_and(|seconds| seconds < 60), "{health}");
    assert!(!health.to_string().contains(&invoice) && !health.to_string().contains("127.0.0.1"), "{health}");

    let scrape = http.get(format!("{shop}/metrics")).send().await.unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(scrape.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let scrape = scrape.text().await.unwrap();
    demo.shutdown().await;

    // What happened is in it, exactly where it can be.
    let value =
        |series: &str| sample(&scrape, series).unwrap_or_else(|| panic!("{series} is not in the scrape:\n{scrape}"));
    assert_eq!(value(r#"pocket_payments_handler_runs_total{callback="paid",result="ok"}"#), 1.0);
    assert_eq!(value(r#"pocket_payments_handler_runs_total{callback="paid",result="error"}"#), 0.0);
    assert_eq!(value(r#"pocket_payments_refusals_total{reason="unknown_invoice"}"#), 1.0);
    assert_eq!(value(r#"pocket_payments_refusals_total{reason="amount_mismatch"}"#), 0.0);
    assert_eq!(value(r#"pocket_payments_unresolved_total{reason="deadline"}"#), 0.0);
    assert_eq!(value(r#"pocket_payments_deliveries_total{source="webhook",outcome="refused"}"#), 1.0);
    assert!(value(r#"pocket_jwt_verifications_total{result="valid"}"#) >= 2.0, "checkout and the order's reads");
    assert!(value(r#"pocket_jwt_jwks_fetches_total{result="ok"}"#) >= 1.0);
    assert!(value("pocket_jwt_jwks_keys") >= 1.0);
    assert!(value(r#"pocket_http_token_fetches_total{grant="client_credentials",result="ok"}"#) >= 1.0);
    assert!(value(r#"pocket_http_requests_total{operation="create_invoice",status="200"}"#) >= 1.0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(value("pocket_http_merchant_token_expiry_timestamp_seconds") > now, "the token is valid");
    // Paid by its webhook, the invoice stays watched until the reconciler's next poll finds it done.
    assert!(value("pocket_payments_watched_invoices") <= 1.0);
    assert!(
        scrape.contains("pocket_payments_check_duration_seconds_bucket{api=\"merchant\",le=\"0.005\"}"),
        "histograms have buckets"
    );
    assert!(!scrape.contains(&invoice) && !scrape.contains("987654321"), "no invoice id in a label");
    assert!(!scrape.contains(token.expose_secret()) && !scrape.contains("127.0.0.1"));

    // The list in the docs is what the crates record, and every family in the scrape is in it.
    let documented = documented();
    assert_eq!(documented, recorded_by_the_crates(), "docs/operations.md's table and the crates' METRICS differ");
    let scraped = families(&scrape);
    for family in &scraped {
        assert!(documented.contains(family), "{family:?} is scraped but not documented");
    }
    // The dashboard and the alert rules use only documented metrics that the scrape has.
    let scraped_names: BTreeSet<String> = scraped.into_iter().map(|(name, _)| name).collect();
    let documented_names: BTreeSet<String> = documented.into_iter().map(|(name, _)| name).collect();
    for file in ["grafana/pocket-payments.json", "prometheus/pocket-alerts.yml"] {
        let text = std::fs::read_to_string(docs().join(file)).unwrap();
        let used = names_in(&text);
        assert!(used.len() >= 6, "{file} uses only {used:?}");
        for name in &used {
            assert!(documented_names.contains(name), "{file} uses {name}, which docs/operations.md does not list");
            assert!(scraped_names.contains(name), "{file} uses {name}, which the demo's scrape lacks");
        }
    }
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(docs().join("grafana/pocket-payments.json")).unwrap()).unwrap();
    assert!(
        dashboard["panels"]
            .as_array()
            .is_some_and(|panels| panels.iter().all(|panel| panel["targets"][0]["expr"].is_string()))
    );

    // Prometheus' own tools: the exposition and the rules.
    let Some(promtool) = required_program("PROMTOOL", "/usr/bin/promtool", "promtool (Debian's prometheus)") else {
        return;
    };
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check.stdin.take().unwrap().write_all(scrape.as_bytes()).unwrap();
    let checked = check.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&checked.stdout), String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n{scrape}");
    let rules = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(docs().join("prometheus/pocket-alerts.yml"))
        .output()
        .unwrap();
    assert!(rules.status.success(), "promtool check rules: {}", String::from_utf8_lossy(&rules.stdout));
}

#[test]
fn names_are_read_from_promql_whole() {
    let names = names_in(r#"sum(rate(pocket_a_b_bucket{x="pocket_no"}[5m])) / pocket_c_d_total - my_pocket_e_f"#);
    assert_eq!(names, BTreeSet::from(["pocket_a_b".to_owned(), "pocket_c_d_total".to_owned()]));
}
