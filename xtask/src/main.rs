//! `cargo xtask <task>`: project automation that needs nothing but cargo.
//!
//! - `lint` — the dependency rule for pocket-core, formatting, clippy and docs with warnings denied.
//! - `ci` — `lint`, then the README's test command: everything `.ci/run` checks.

use std::env;
use std::process::{Command, ExitCode};

/// The README's test command.
const TEST_COMMAND: &[&str] = &["test", "--workspace", "--all-features"];

/// Crates pocket-core must never depend on (DESIGN.md: no runtime, no HTTP, no crypto).
const FORBIDDEN_IN_CORE: &[&str] = &[
    "tokio",
    "reqwest",
    "hyper",
    "http",
    "axum",
    "tower",
    "jsonwebtoken",
    "ring",
    "aws-lc-rs",
    "aws-lc-sys",
    "rustls",
    "openssl",
    "rsa",
    "sha2",
    "zeroize",
];

/// A cargo invocation with a description and extra environment.
struct Cargo {
    what: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const LINT_STEPS: &[Cargo] = &[
    Cargo { what: "formatting", args: &["fmt", "--all", "--check"], env: &[] },
    Cargo {
        what: "clippy, warnings denied",
        args: &["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"],
        env: &[],
    },
    Cargo {
        what: "documentation, warnings denied",
        args: &["doc", "--workspace", "--no-deps", "--all-features"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

fn main() -> ExitCode {
    let task = env::args().nth(1);
    let result = match task.as_deref() {
        Some("lint") => lint(),
        Some("ci") => lint().and_then(|()| run(&Cargo { what: "tests", args: TEST_COMMAND, env: &[] })),
        _ => Err("usage: cargo xtask <lint|ci>".to_owned()),
    };
    match result {
        Ok(()) => {
            eprintln!("==> all checks passed");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("==> {message}");
            ExitCode::FAILURE
        }
    }
}

fn cargo() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

fn lint() -> Result<(), String> {
    check_core_dependencies()?;
    LINT_STEPS.iter().try_for_each(run)
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

fn check_core_dependencies() -> Result<(), String> {
    eprintln!("==> pocket-core stays free of runtime, HTTP and crypto crates");
    let output = cargo()
        .args(["tree", "-p", "pocket-core", "-e", "normal", "--prefix", "none"])
        .output()
        .map_err(|e| format!("could not run cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo tree failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let offenders: Vec<&str> = tree
        .lines()
        .filter(|line| line.split_whitespace().next().is_some_and(|name| FORBIDDEN_IN_CORE.contains(&name)))
        .collect();
    if offenders.is_empty() { Ok(()) } else { Err(format!("pocket-core must not depend on: {}", offenders.join(", "))) }
}
