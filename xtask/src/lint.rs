//! `cargo xtask lint`: the dependency rules, no module cycles, formatting, clippy and docs with
//! warnings denied, and OpenAPI drift.

use crate::{Cargo, cargo, codegen, run};

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

/// Crates pocket-payments must never depend on (DESIGN.md: framework-free, no HTTP client; a
/// Redis client and sqlx only behind their features).
const FORBIDDEN_IN_PAYMENTS: &[&str] = &[
    "axum",
    "hyper",
    "reqwest",
    "tower",
    "jsonwebtoken",
    "redis",
    "sqlx",
    "pocket-http",
    "pocket-jwt",
    "pocket-axum",
    "pocket-sandbox",
];

/// Our crates the sandbox must never depend on: it is the independent counterpart in every test.
const FORBIDDEN_IN_SANDBOX: &[&str] = &["pocket-http", "pocket-jwt", "pocket-payments", "pocket-axum"];

/// Each crate whose normal dependency tree (default features) is checked, and what must not be in it.
const DEPENDENCY_RULES: &[(&str, &[&str])] = &[
    ("pocket-core", FORBIDDEN_IN_CORE),
    ("pocket-payments", FORBIDDEN_IN_PAYMENTS),
    ("pocket-sandbox", FORBIDDEN_IN_SANDBOX),
];

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

pub fn lint() -> Result<(), String> {
    DEPENDENCY_RULES.iter().try_for_each(|(krate, forbidden)| check_dependencies(krate, forbidden))?;
    crate::modules::check(&crate::root())?;
    LINT_STEPS.iter().try_for_each(run)?;
    codegen::codegen(true)
}

fn check_dependencies(krate: &str, forbidden: &[&str]) -> Result<(), String> {
    eprintln!("==> {krate} depends on none of: {}", forbidden.join(", "));
    let tree = normal_dependencies(krate, &[])?;
    let offenders = offenders(&tree, forbidden);
    if offenders.is_empty() { Ok(()) } else { Err(format!("{krate} must not depend on: {}", offenders.join(", "))) }
}

/// `cargo tree`'s listing of a crate's normal dependencies, one per line, under `selection`.
pub fn normal_dependencies(krate: &str, selection: &[&str]) -> Result<String, String> {
    let output = cargo()
        .args(["tree", "-p", krate, "-e", "normal", "--prefix", "none"])
        .args(selection)
        .output()
        .map_err(|e| format!("could not run cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo tree failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The lines of a `cargo tree --prefix none` listing that name a forbidden crate.
pub fn offenders<'a>(tree: &'a str, forbidden: &[&str]) -> Vec<&'a str> {
    tree.lines().filter(|line| line.split_whitespace().next().is_some_and(|name| forbidden.contains(&name))).collect()
}

#[cfg(test)]
mod tests {
    use super::{FORBIDDEN_IN_PAYMENTS, offenders};

    #[test]
    fn a_forbidden_crate_anywhere_in_the_tree_is_named() {
        let tree = "pocket-payments v0.1.0 (/w/crates/pocket-payments)\npocket-core v0.1.0\nreqwest v0.13.1\naxum-core v0.5.0\n";
        assert_eq!(offenders(tree, FORBIDDEN_IN_PAYMENTS), ["reqwest v0.13.1"]);
        assert!(offenders("pocket-core v0.1.0\ntokio v1.48.0\n", FORBIDDEN_IN_PAYMENTS).is_empty());
    }
}
