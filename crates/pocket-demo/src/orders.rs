//! The café's orders: in memory (the first command needs no database), or — with
//! `POCKET_DATABASE_URL` and the `postgres` feature — in PostgreSQL, marked paid inside the
//! transaction that records the payment, so that an order turns paid exactly once.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use pocket_axum::{PocketWebhook, VerifiedPayment, handler_fn};
use pocket_core::Amount;
use pocket_http::PocketClient;
use serde::Serialize;

#[cfg(feature = "postgres")]
use pocket_axum::pocket_payments::sqlx;

/// An order, keyed by its invoice.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    invoice_id: String,
    total: Amount,
    paid: bool,
    customer: String,
}

impl Order {
    pub(crate) fn new(invoice_id: String, total: Amount, customer: String) -> Order {
        Order { invoice_id, total, paid: false, customer }
    }

    /// Who placed it: the wallet user's subject, or `desktop:<order number>`.
    pub(crate) fn customer(&self) -> &str {
        &self.customer
    }
}

/// Where the orders are kept.
#[derive(Clone)]
pub(crate) enum OrderBook {
    Memory(Arc<Mutex<HashMap<String, Order>>>),
    #[cfg(feature = "postgres")]
    Postgres(pocket_axum::PgStore),
}

impl OrderBook {
    pub(crate) fn in_memory() -> OrderBook {
        OrderBook::Memory(Arc::default())
    }

    /// Orders in the database at `url`, beside the payments' own tables (both made if absent).
    #[cfg(feature = "postgres")]
    pub(crate) async fn in_postgres(url: &str) -> Result<OrderBook, String> {
        let store = pocket_axum::PgStore::builder(url).connect().await.map_err(|e| e.to_string())?;
        store.migrate().await.map_err(|e| e.to_string())?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS cafe_orders (invoice_id text PRIMARY KEY, total_mongo bigint NOT NULL, \
             paid boolean NOT NULL DEFAULT false, customer text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
        )
        .execute(store.pool())
        .await
        .map_err(|e| format!("the orders table could not be made: {e}"))?;
        Ok(OrderBook::Postgres(store))
    }

    pub(crate) async fn insert(&self, order: Order) -> Result<(), String> {
        match self {
            OrderBook::Memory(orders) => {
                orders.lock().insert(order.invoice_id.clone(), order);
                Ok(())
            }
            #[cfg(feature = "postgres")]
            OrderBook::Postgres(store) => {
                sqlx::query("INSERT INTO cafe_orders (invoice_id, total_mongo, customer) VALUES ($1, $2, $3)")
                    .bind(&order.invoice_id)
                    .bind(i64::try_from(order.total.as_mongo()).map_err(|_| "the total is too large")?)
                    .bind(&order.customer)
                    .execute(store.pool())
                    .await
                    .map_err(|e| format!("the order could not be saved: {e}"))?;
                Ok(())
            }
        }
    }

    /// The order of `invoice_id`, or the first order that `matches` when no id is given.
    pub(crate) async fn find(&self, by: Find<'_>) -> Result<Option<Order>, String> {
        match self {
            OrderBook::Memory(orders) => {
                let orders = orders.lock();
                Ok(match by {
                    Find::Invoice(id) => orders.get(id).cloned(),
                    Find::Customer(customer) => orders.values().find(|order| order.customer == customer).cloned(),
                })
            }
            #[cfg(feature = "postgres")]
            OrderBook::Postgres(store) => {
                use sqlx::Row;
                let (sql, value) = match by {
                    Find::Invoice(id) => ("SELECT * FROM cafe_orders WHERE invoice_id = $1", id),
                    Find::Customer(customer) => {
                        ("SELECT * FROM cafe_orders WHERE customer = $1 ORDER BY created_at LIMIT 1", customer)
                    }
                };
                let row = sqlx::query(sql)
                    .bind(value)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|e| format!("the order could not be read: {e}"))?;
                let read = |row: sqlx::postgres::PgRow| -> Result<Order, sqlx::Error> {
                    let mongo: i64 = row.try_get("total_mongo")?;
                    Ok(Order {
                        invoice_id: row.try_get("invoice_id")?,
                        total: Amount::from_mongo(u64::try_from(mongo).unwrap_or_default()),
                        paid: row.try_get("paid")?,
                        customer: row.try_get("customer")?,
                    })
                };
                row.map(read).transpose().map_err(|e| format!("the order could not be read: {e}"))
            }
        }
    }

    /// The payment webhook that marks this book's orders paid.
    pub(crate) fn webhook(&self, client: PocketClient) -> PocketWebhook {
        match self {
            OrderBook::Memory(orders) => {
                let orders = orders.clone();
                PocketWebhook::new(
                    client,
                    handler_fn(move |payment| {
                        let orders = orders.clone();
                        async move { mark_paid(&mut orders.lock(), &payment) }
                    }),
                )
            }
            #[cfg(feature = "postgres")]
            OrderBook::Postgres(store) => PocketWebhook::transactional(client, store.clone(), postgres::MarkPaid),
        }
    }
}

/// How an order is looked up.
pub(crate) enum Find<'a> {
    Invoice(&'a str),
    Customer(&'a str),
}

/// The order moves to paid once; a second run (after the store's retention) finds it paid and
/// changes nothing.
fn mark_paid(orders: &mut HashMap<String, Order>, payment: &VerifiedPayment) -> Result<(), pocket_axum::HandlerError> {
    match orders.get_mut(payment.invoice_id().as_str()) {
        Some(order) if order.paid => Ok(()),
        Some(order) => {
            order.paid = true;
            tracing::info!(invoice_id = %payment.invoice_id(), total = %order.total, "order paid");
            Ok(())
        }
        None => Err(format!("no order for invoice {}", payment.invoice_id()).into()),
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use pocket_axum::pocket_payments::sqlx::{self, PgConnection};
    use pocket_axum::{HandlerError, TransactionalHandler, VerifiedPayment};

    /// Marks the order paid in the payment's own transaction: the order's `paid` and the
    /// payment's record commit together, so the order turns paid exactly once.
    pub(super) struct MarkPaid;

    #[async_trait::async_trait]
    impl TransactionalHandler for MarkPaid {
        async fn paid(&self, payment: VerifiedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
            let updated = sqlx::query("UPDATE cafe_orders SET paid = true WHERE invoice_id = $1")
                .bind(payment.invoice_id().as_str())
                .execute(&mut *connection)
                .await?;
            if updated.rows_affected() == 0 {
                return Err(format!("no order for invoice {}", payment.invoice_id()).into());
            }
            tracing::info!(invoice_id = %payment.invoice_id(), "order paid (in the payment's transaction)");
            Ok(())
        }
    }
}
