//! pocket-demo's integration tests, one binary: the shop in a browser and (with `postgres`)
//! orders kept in PostgreSQL. `tests/metrics.rs` is a binary of its own: it installs the
//! process's Prometheus recorder, into which nothing else may record.

mod browser;
mod common;
#[cfg(feature = "postgres")]
mod postgres;
