//! `cargo xtask <task>`: project automation. One module per task; this file dispatches and
//! runs cargo.
//!
//! - `codegen [--check]` — writes the OpenAPI documents under `docs/openapi/`; with `--check`,
//!   fails if they differ from what the code produces (drift).
//! - `lint` — the dependency rules (pocket-core: no runtime, HTTP or crypto; pocket-payments:
//!   no web framework or HTTP client; the sandbox: none of the clients it tests), no two modules
//!   of a crate importing each other, formatting, clippy and docs with warnings denied, and
//!   `codegen --check`.
//! - `features` — every published crate checked alone (no other crate's features unified in),
//!   with no features, its defaults, each feature alone and all of them; then the TLS tests of
//!   the crates that make https requests, for each crate alone, once per TLS feature; then every
//!   crate's tests with its default features (`cargo test -p <crate>`).
//! - `ci` — `lint`, the README's test command, then `features`: everything `.ci/run` checks.
//! - `release <version>` — sets the version across the workspace, requires a CHANGELOG.md entry
//!   for it, and runs `cargo publish --dry-run` for every published crate in dependency order.
//!   Nothing is uploaded.

mod codegen;
mod features;
mod lint;
mod modules;
mod release;

use std::env;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// The README's test command.
const TEST_COMMAND: &[&str] = &["test", "--workspace", "--all-features"];

/// The published crates, in dependency order.
const PUBLISHED: &[&str] =
    &["pocket-core", "pocket-http", "pocket-jwt", "pocket-payments", "pocket-sandbox", "pocket-axum", "pocket-cli"];

/// A cargo invocation with a description and extra environment.
struct Cargo {
    what: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::codegen(false),
        ["codegen", "--check"] => codegen::codegen(true),
        ["lint"] => lint::lint(),
        ["features"] => features::features(),
        ["ci"] => lint::lint()
            .and_then(|()| run(&Cargo { what: "tests", args: TEST_COMMAND, env: &[] }))
            .and_then(|()| features::features()),
        ["release", version] => release::release(version),
        _ => Err("usage: cargo xtask <codegen [--check] | lint | features | ci | release <version>>".to_owned()),
    };
    match result {
        Ok(()) => {
            eprintln!("==> done");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("==> {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo() -> Command {
    let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.current_dir(root());
    command
}

fn run(step: &Cargo) -> Result<(), String> {
    eprintln!("==> {}: cargo {}", step.what, step.args.join(" "));
    let status = cargo()
        .args(step.args)
        .envs(step.env.iter().copied())
        .status()
        .map_err(|e| format!("could not run cargo for {}: {e}", step.what))?;
    if status.success() { Ok(()) } else { Err(format!("{} failed ({status})", step.what)) }
}

fn run_args(what: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("==> {what}: cargo {}", args.join(" "));
    let status = cargo().args(args).status().map_err(|e| format!("could not run cargo for {what}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}
