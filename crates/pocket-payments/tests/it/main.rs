//! pocket-payments' integration tests, one binary: each module is one area; the stores' and
//! features' modules build only with their feature. The multi-process tests start this crate's
//! examples (`redis_replica`, `pg_replica`) as the other replicas.

mod attacks_and_faults;
mod common;
mod gateway;
#[cfg(feature = "metrics")]
mod metrics;
mod pipeline;
#[cfg(feature = "postgres")]
mod postgres;
mod reconciler;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "test-util")]
mod test_util;
