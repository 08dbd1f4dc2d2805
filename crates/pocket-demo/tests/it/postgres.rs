//! The café with `POCKET_DATABASE_URL`: its orders live in a real PostgreSQL, and a payment
//! marks its order paid in the payment's own transaction — once, however often it is delivered.

use crate::common;

use common::{checkout, until_paid};
use pocket_demo::{Demo, DemoSettings};
use pocket_sandbox::TestUser;
use pocket_test_support::PostgresServer;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_is_marked_paid_in_postgres_once() {
    let Some(server) = PostgresServer::start() else { return };
    let url = server.create_database("cafe");
    let mut settings = DemoSettings::ephemeral();
    settings.database_url = Some(url);
    let demo = Demo::start(settings).await.expect("the demo starts with its orders in PostgreSQL");
    let sandbox = demo.sandbox().unwrap();
    let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token;
    let http = reqwest::Client::new();
    let invoice = checkout(demo.shop_url(), &http, token.expose_secret(), "tea", 2).await;
    assert_eq!(server.psql("cafe", "SELECT count(*), bool_or(paid) FROM cafe_orders"), "1|f");
    sandbox.pay(&pocket_core::InvoiceId::new(invoice.as_str()).unwrap()).unwrap();
    until_paid(demo.shop_url(), &http, token.expose_secret(), &invoice).await;
    assert_eq!(server.psql("cafe", "SELECT paid FROM cafe_orders"), "t");
    assert_eq!(server.psql("cafe", "SELECT count(*) FROM pocket_payments WHERE state = 'done'"), "1");
    // Another delivery of the same notice changes nothing: it is already processed.
    let (status, answer) = {
        let answer = http
            .post(format!("{}/pocket/webhook", demo.shop_url()))
            .json(&json!({"invoiceId": invoice, "invoiceState": "paid"}))
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.json::<serde_json::Value>().await.unwrap())
    };
    assert_eq!((status, answer["status"].as_str()), (200, Some("already_handled")), "{answer}");
    demo.shutdown().await;
}
