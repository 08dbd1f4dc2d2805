//! Three webhook routers with a transactional handler, each with its own pool on one real
//! PostgreSQL, behind which the sandbox delivers: concurrent duplicates at every router write
//! each payment's order row once, in the transaction that records the payment.

use crate::common;

use common::*;
use pocket_axum::{PaymentHandler, PocketWebhook, VerifiedPayment};
use pocket_payments::sqlx::{self, PgConnection};
use pocket_payments::{HandlerError, PgStore, TransactionalHandler};
use pocket_test_support::PostgresServer;

/// Writes the order row, then counts the run in the recorder (inside the transaction).
#[derive(Clone)]
struct WriteOrder(Recorder);

#[async_trait::async_trait]
impl TransactionalHandler for WriteOrder {
    async fn paid(&self, payment: VerifiedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
        sqlx::query("INSERT INTO orders (invoice_id) VALUES ($1)")
            .bind(payment.invoice_id().as_str())
            .execute(&mut *connection)
            .await?;
        self.0.paid(payment).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_duplicates_at_each_of_three_transactional_routers_write_one_order() {
    let Some(server) = PostgresServer::start() else { return };
    let url = server.create_database("shop");
    server.psql("shop", "CREATE TABLE orders (invoice_id text NOT NULL)");
    let shop = shop().await;
    let recorder = recorder();
    let mut urls = Vec::new();
    for replica in 0..3 {
        let store = PgStore::builder(url.as_str()).connect().await.unwrap();
        if replica == 0 {
            store.migrate().await.unwrap();
        }
        let handler = WriteOrder(recorder.clone());
        let router = PocketWebhook::transactional(shop.client.clone(), store, handler).into_router();
        urls.push(format!("{}/pocket/webhook", serve(router).await));
    }
    shop.client.set_webhook_url("http://127.0.0.1:9/unused").await.unwrap();
    pay_and_deliver_to_every_replica(&shop, &urls, &recorder, 10, 10).await;
    assert_eq!(recorder.calls(), 10);
    assert_eq!(server.psql("shop", "SELECT count(*), count(DISTINCT invoice_id) FROM orders"), "10|10");
    assert_eq!(server.psql("shop", "SELECT count(*) FROM pocket_payments WHERE state = 'done'"), "10");
}
