//! The watch journal: where the reconciler writes down what it watches — beside the payment
//! store, and implemented by the same stores — so that replicas share the list and a restarted
//! process takes it over.

use std::time::{Duration, SystemTime};

use pocket_core::{InvoiceId, InvoiceState, TerminalId};
use serde::{Deserialize, Serialize};

use crate::store::StoreError;
use crate::{Expected, Unresolved};

/// A watched invoice, as [`Reconciler::watched`](crate::Reconciler::watched) lists it and
/// [`Reconciler::resume`](crate::Reconciler::resume) takes it back (serializable, so an app can
/// keep its list across a restart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Watched {
    /// The invoice.
    pub invoice_id: InvoiceId,
    /// The app's own order for it, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
    /// When to give up on it.
    pub deadline: SystemTime,
    /// The last state Pocket reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state: Option<InvoiceState>,
    /// How many times it was polled.
    #[serde(default)]
    pub polls: u32,
    /// For a gateway invoice: its terminal (it is then asked about through the gateway first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<TerminalId>,
    /// When it was first watched (absent in what older versions wrote down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<SystemTime>,
    /// When the replica that polls it means to poll it next (written down after each poll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_poll: Option<SystemTime>,
}

impl Watched {
    /// An invoice to watch until `deadline`.
    pub fn new(invoice_id: InvoiceId, expected: Option<Expected>, deadline: SystemTime) -> Watched {
        let since = Some(SystemTime::now());
        Watched { invoice_id, expected, deadline, last_state: None, polls: 0, terminal: None, since, next_poll: None }
    }
}

/// Where the reconciler writes down what it watches, so that other replicas and a restarted (or
/// crashed) process can take it over, and where replicas agree who polls an invoice right now.
/// `RedisStore` (feature `redis`) implements it; without one, the list lives in this process.
#[async_trait::async_trait]
pub trait WatchJournal: Send + Sync + 'static {
    /// Writes down (or overwrites) a watched invoice under its key.
    async fn save(&self, key: &str, watched: &Watched) -> Result<(), StoreError>;
    /// Crosses it out (settled, or given up at its deadline); `true` if it was written down, so
    /// that of several replicas crossing one invoice out, exactly one learns it did.
    async fn forget(&self, key: &str) -> Result<bool, StoreError>;
    /// Everything written down, by every replica.
    async fn load(&self) -> Result<Vec<Watched>, StoreError>;
    /// The invoice written down under `key`, if any. The default reads the whole list.
    async fn find(&self, key: &str) -> Result<Option<Watched>, StoreError> {
        Ok(self.load().await?.into_iter().find(|watched| watched.invoice_id.key() == key))
    }
    /// Whether this replica may poll `key` now: it takes the invoice's polling for `lease` if no
    /// other replica holds it, or keeps it if it holds it already. One replica polls each
    /// invoice; when it goes away, another takes over after the lease.
    async fn try_poll(&self, key: &str, lease: Duration) -> Result<bool, StoreError>;
    /// Crosses out an invoice the reconciler gives up on and writes it down as unresolved, for
    /// operators (`pocket payments unresolved`); `true` if it was written down as watched, as
    /// for [`forget`](Self::forget). The default only crosses it out.
    /// `watched` is the watch as it was, to watch it again with.
    async fn give_up(&self, key: &str, unresolved: &Unresolved, watched: &Watched) -> Result<bool, StoreError> {
        let _ = (unresolved, watched);
        self.forget(key).await
    }
}
