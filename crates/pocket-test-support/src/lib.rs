//! Helpers shared by the tests of pocket-rs's crates. Not published: every crate's tests add it
//! as a path dev-dependency.
//!
//! Outside programs (redis-server, PostgreSQL, Chromium) follow one rule, [`required_program`]: a missing one
//! makes the test say it was skipped, in plain words; with `CI=true` it is a failure.

pub mod fuzz;
#[cfg(feature = "payments")]
mod handler;
mod logs;
#[cfg(feature = "metrics")]
pub mod metrics;
mod postgres;
mod redis;
mod serve;
mod spring;
mod wait;

#[cfg(feature = "payments")]
pub use handler::{Misbehave, Recorder};
pub use logs::LogCapture;
pub use postgres::PostgresServer;
pub use redis::RedisServer;
pub use serve::{free_port, serve};
pub use spring::spring_long;
pub use wait::eventually;

use std::path::PathBuf;

/// Finds an outside program a test needs: `$VARIABLE` if set, else `default`. `None` (after
/// printing that the test is skipped) when it cannot be run; a panic under `CI=true`, where every
/// program is installed by `.ci/run`.
pub fn required_program(variable: &str, default: &str, what: &str) -> Option<PathBuf> {
    let path = std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default));
    let runs = std::process::Command::new(&path)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if runs {
        return Some(path);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{what} is required in CI: {} was not found", path.display());
    eprintln!("SKIPPED: this test needs {what} ({} or ${variable}); it did not run", path.display());
    None
}
