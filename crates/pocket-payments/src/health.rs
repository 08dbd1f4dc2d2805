//! How the pipeline is, for a readiness probe and a person: whether its store and journal
//! answer, whether the reconciler works through what it watches, and when Pocket last answered.
//! Nothing in it names an invoice, a user, a URL or a secret.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::pipeline::Payments;

/// How long each probe of the store and the journal may take before it counts as failed.
pub const HEALTH_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The key the probes read and write: no invoice has it (invoice keys are numbers or Pocket's
/// own ids, and a claim's key starts with `paid:` or `failed:`).
const PROBE_KEY: &str = "health:probe";

/// What [`Payments::health`] found. Serializes to the JSON the readiness route answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Health {
    /// Whether the pipeline can confirm payments now: the store (and journal, if any) answered
    /// and the reconciler works through what it watches. Pocket's own availability is reported
    /// but does not count: taking a replica out of rotation does not help when Pocket is down.
    pub ready: bool,
    /// The payment store answered a read.
    pub store: Probe,
    /// The watch journal took a write (absent without a journal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal: Option<Probe>,
    /// The reconciler.
    pub reconciler: ReconcilerHealth,
    /// Seconds since Pocket last answered a question about an invoice (absent: not yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_pocket_answer_seconds: Option<u64>,
}

/// One probe of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Probe {
    /// It answered in time, without an error.
    pub ok: bool,
    /// `ok`, `failed` or `timed_out` (the cause is logged, not shown: it may name a host).
    pub status: &'static str,
    /// How long it took, in milliseconds.
    pub millis: u64,
}

/// The reconciler's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReconcilerHealth {
    /// Its worker runs, or nothing is watched (it runs only while something is).
    pub alive: bool,
    /// Invoices watched in this process.
    pub watched: usize,
    /// Age of the oldest of them, in seconds (absent when none is watched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_watched_seconds: Option<u64>,
}

async fn probe<T, E: std::fmt::Display>(what: &str, call: impl Future<Output = Result<T, E>>) -> Probe {
    let started = std::time::Instant::now();
    let status = match tokio::time::timeout(HEALTH_PROBE_TIMEOUT, call).await {
        Ok(Ok(_)) => "ok",
        Ok(Err(error)) => {
            tracing::warn!(%error, "health: the {what} failed");
            "failed"
        }
        Err(_) => {
            tracing::warn!(timeout = ?HEALTH_PROBE_TIMEOUT, "health: the {what} did not answer in time");
            "timed_out"
        }
    };
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Probe { ok: status == "ok", status, millis }
}

impl Payments {
    /// Probes the store (a read) and the journal (a short-lived write that no listing shows),
    /// at once, each within [`HEALTH_PROBE_TIMEOUT`], and reports the reconciler and Pocket's last answer.
    /// Also brings the watched-invoices gauges up to date (feature `metrics`).
    pub async fn health(&self) -> Health {
        let inner = &self.inner;
        // The journal's probe runs beside the store's, so the report takes one probe's bound.
        let journal = inner.watcher.journal().cloned().map(|journal| {
            tokio::spawn(async move {
                probe("watch journal write", journal.try_poll(PROBE_KEY, Duration::from_secs(1))).await
            })
        });
        let store = probe("payment store read", inner.store.is_done(PROBE_KEY)).await;
        let journal = match journal {
            Some(probing) => Some(probing.await.unwrap_or(Probe { ok: false, status: "failed", millis: 0 })),
            None => None,
        };
        let (watched, oldest) = inner.watcher.census();
        inner.meters.watching(watched, oldest.unwrap_or_default());
        let reconciler = ReconcilerHealth {
            alive: watched == 0 || inner.watcher.is_running(),
            watched,
            oldest_watched_seconds: oldest.map(|age| age.as_secs()),
        };
        let ready = store.ok && journal.as_ref().is_none_or(|probe| probe.ok) && reconciler.alive;
        let last_pocket_answer_seconds =
            inner.checker_last_answer().map(|at| SystemTime::now().duration_since(at).unwrap_or_default().as_secs());
        Health { ready, store, journal, reconciler, last_pocket_answer_seconds }
    }
}
