//! `cargo xtask <task>`: project automation.
//!
//! - `codegen [--check]` — writes the OpenAPI documents under `docs/openapi/`; with `--check`,
//!   fails if they differ from what the code produces (drift).
//! - `lint` — the dependency rules (pocket-core: no runtime, HTTP or crypto; pocket-payments:
//!   no web framework or HTTP client; the sandbox: none of the clients it tests), formatting,
//!   clippy and docs with warnings denied, and `codegen --check`.
//! - `features` — every published crate checked alone (no other crate's features unified in),
//!   with no features, its defaults, each feature alone and all of them; then the TLS tests of
//!   the crates that make https requests, for each crate alone, once per TLS feature.
//! - `ci` — `lint`, the README's test command, then `features`: everything `.ci/run` checks.
//! - `release <version>` — sets the version across the workspace, requires a CHANGELOG.md entry
//!   for it, and runs `cargo publish --dry-run` for every published crate in dependency order.
//!   Nothing is uploaded.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The README's test command.
const TEST_COMMAND: &[&str] = &["test", "--workspace", "--all-features"];

/// The published crates, in dependency order.
const PUBLISHED: &[&str] =
    &["pocket-core", "pocket-http", "pocket-jwt", "pocket-payments", "pocket-sandbox", "pocket-axum", "pocket-cli"];

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

/// The crates that make https requests: each has a test in `crates/tls-alone/tests/tls.rs` that
/// must pass with each of its TLS features when the crate is built alone.
const TLS_CRATES: &[&str] = &["pocket-http", "pocket-jwt", "pocket-sandbox"];
const TLS_FEATURES: &[&str] = &["rustls", "native-tls"];

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
    let args: Vec<String> = env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        ["lint"] => lint(),
        ["features"] => features(),
        ["ci"] => {
            lint().and_then(|()| run(&Cargo { what: "tests", args: TEST_COMMAND, env: &[] })).and_then(|()| features())
        }
        ["release", version] => release(version),
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

fn lint() -> Result<(), String> {
    DEPENDENCY_RULES.iter().try_for_each(|(krate, forbidden)| check_dependencies(krate, forbidden))?;
    LINT_STEPS.iter().try_for_each(run)?;
    codegen(true)
}

fn features() -> Result<(), String> {
    let started = std::time::Instant::now();
    let declared = declared_features()?;
    for krate in PUBLISHED {
        let package = declared.iter().find(|package| package.name == *krate);
        let package = package.ok_or(format!("{krate} is not in the workspace"))?;
        // A command-line crate (pocket-cli) has only binaries.
        let targets = if package.has_lib { "--lib" } else { "--bins" };
        if TLS_FEATURES.iter().all(|feature| package.features.iter().any(|declared| declared == feature)) {
            check_one_tls_stack(krate)?;
        }
        for selection in feature_selections(&package.features) {
            let mut args = vec!["check", "--quiet", "-p", krate, targets];
            args.extend(selection.iter().map(String::as_str));
            run_args(&format!("{krate} alone"), &args)?;
        }
    }
    // tls-alone depends on each crate only through one feature per crate and TLS feature, so
    // each run builds that crate alone, with no dev-dependency of its own.
    for krate in TLS_CRATES {
        for feature in TLS_FEATURES {
            let selected = format!("{}-{feature}", krate.trim_start_matches("pocket-"));
            let args = [
                "test",
                "--quiet",
                "-p",
                "tls-alone",
                "--no-default-features",
                "--features",
                &selected,
                "--test",
                "tls",
            ];
            run_args(&format!("{krate} alone with {feature} speaks TLS"), &args)?;
        }
    }
    eprintln!("==> the feature matrix took {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// A crate with both TLS features must carry only the chosen stack: built `--no-default-features
/// --features native-tls` it must not pull rustls in through another crate's defaults, and the
/// other way round.
fn check_one_tls_stack(krate: &str) -> Result<(), String> {
    let stacks: [(&str, &[&str]); 2] =
        [("native-tls", &["rustls", "hyper-rustls", "tokio-rustls"]), ("rustls", &["native-tls", "openssl"])];
    for (feature, other_stack) in stacks {
        eprintln!("==> {krate} with only {feature} depends on none of: {}", other_stack.join(", "));
        let tree = normal_dependencies(krate, &["--no-default-features", "--features", feature])?;
        let offenders = offenders(&tree, other_stack);
        if !offenders.is_empty() {
            return Err(format!("{krate} with only {feature} still depends on: {}", offenders.join(", ")));
        }
    }
    Ok(())
}

/// What to check a crate with: no features, its defaults, each feature alone, all of them —
/// or, for a crate without features, just itself.
fn feature_selections(features: &[String]) -> Vec<Vec<String>> {
    if features.is_empty() {
        return vec![Vec::new()];
    }
    let mut selections = vec![vec!["--no-default-features".to_owned()], Vec::new()];
    for feature in features.iter().filter(|feature| *feature != "default") {
        selections.push(vec!["--no-default-features".to_owned(), "--features".to_owned(), feature.clone()]);
    }
    selections.push(vec!["--all-features".to_owned()]);
    selections
}

/// A workspace crate as the feature matrix needs it.
struct Package {
    name: String,
    features: Vec<String>,
    has_lib: bool,
}

/// Every workspace crate's declared features and whether it has a library, from `cargo metadata`.
fn declared_features() -> Result<Vec<Package>, String> {
    let output = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    let packages = metadata["packages"].as_array().ok_or("cargo metadata lists no packages")?;
    Ok(packages
        .iter()
        .map(|package| {
            let name = package["name"].as_str().unwrap_or_default().to_owned();
            let features = package["features"].as_object().map(|f| f.keys().cloned().collect()).unwrap_or_default();
            let kinds = package["targets"].as_array().into_iter().flatten().flat_map(|t| t["kind"].as_array());
            let has_lib = kinds.flatten().any(|kind| kind == "lib");
            Package { name, features, has_lib }
        })
        .collect())
}

fn run_args(what: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("==> {what}: cargo {}", args.join(" "));
    let status = cargo().args(args).status().map_err(|e| format!("could not run cargo for {what}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}

fn check_dependencies(krate: &str, forbidden: &[&str]) -> Result<(), String> {
    eprintln!("==> {krate} depends on none of: {}", forbidden.join(", "));
    let tree = normal_dependencies(krate, &[])?;
    let offenders = offenders(&tree, forbidden);
    if offenders.is_empty() { Ok(()) } else { Err(format!("{krate} must not depend on: {}", offenders.join(", "))) }
}

/// `cargo tree`'s listing of a crate's normal dependencies, one per line, under `selection`.
fn normal_dependencies(krate: &str, selection: &[&str]) -> Result<String, String> {
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
fn offenders<'a>(tree: &'a str, forbidden: &[&str]) -> Vec<&'a str> {
    tree.lines().filter(|line| line.split_whitespace().next().is_some_and(|name| forbidden.contains(&name))).collect()
}

/// The generated files and their contents.
fn generated() -> Result<Vec<(PathBuf, String)>, String> {
    let axum = serde_json::to_string_pretty(&pocket_axum::openapi()).map_err(|e| e.to_string())?;
    Ok(vec![
        (PathBuf::from("docs/openapi/pocket-api.json"), format!("{}\n", pocket_sandbox::openapi_json())),
        (PathBuf::from("docs/openapi/pocket-axum.json"), format!("{axum}\n")),
    ])
}

fn codegen(check: bool) -> Result<(), String> {
    eprintln!("==> codegen{}", if check { " --check" } else { "" });
    let mut drifted = Vec::new();
    for (path, content) in generated()? {
        let full = root().join(&path);
        let current = fs::read_to_string(&full).unwrap_or_default();
        if current == content {
            continue;
        }
        if check {
            drifted.push(path.display().to_string());
        } else {
            fs::create_dir_all(full.parent().unwrap_or(Path::new("."))).map_err(|e| e.to_string())?;
            fs::write(&full, content).map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!("    wrote {}", path.display());
        }
    }
    if drifted.is_empty() {
        Ok(())
    } else {
        Err(format!("generated files are out of date: {} — run `cargo xtask codegen`", drifted.join(", ")))
    }
}

fn release(version: &str) -> Result<(), String> {
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("{version:?} is not a version like 0.2.0"));
    }
    let changelog = fs::read_to_string(root().join("CHANGELOG.md")).map_err(|e| format!("CHANGELOG.md: {e}"))?;
    if !changelog.lines().any(|line| line.starts_with("## ") && line.contains(&format!("[{version}]"))) {
        return Err(format!("CHANGELOG.md has no entry `## [{version}]`; write what changed first"));
    }
    let manifest_path = root().join("Cargo.toml");
    let manifest = fs::read_to_string(&manifest_path).map_err(|e| e.to_string())?;
    let updated = set_versions(&manifest, version)?;
    fs::write(&manifest_path, updated).map_err(|e| e.to_string())?;
    eprintln!("==> the workspace is now at {version}");
    codegen(false)?;
    let mut args = vec!["publish", "--dry-run", "--allow-dirty"];
    for name in PUBLISHED {
        args.extend(["-p", name]);
    }
    eprintln!("==> cargo {}", args.join(" "));
    let status = cargo().args(&args).status().map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("cargo publish --dry-run failed ({status})")) }
}

/// The workspace version and the version of every `pocket-*` workspace dependency, set to `version`.
fn set_versions(manifest: &str, version: &str) -> Result<String, String> {
    let mut in_package = false;
    let mut changed = 0;
    let lines: Vec<String> = manifest
        .lines()
        .map(|line| {
            if line.starts_with('[') {
                in_package = line.trim() == "[workspace.package]";
            }
            if in_package && line.starts_with("version = ") {
                changed += 1;
                return format!("version = \"{version}\"");
            }
            if line.starts_with("pocket-")
                && line.contains("path = \"crates/")
                && let Some(start) = line.find("version = \"")
            {
                let rest = &line[start + 11..];
                if let Some(end) = rest.find('"') {
                    changed += 1;
                    return format!("{}version = \"{version}\"{}", &line[..start], &rest[end + 1..]);
                }
            }
            line.to_owned()
        })
        .collect();
    if changed < 1 + PUBLISHED.len() {
        return Err(format!("expected to set {} versions in Cargo.toml, set {changed}", 1 + PUBLISHED.len()));
    }
    Ok(lines.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::{FORBIDDEN_IN_PAYMENTS, feature_selections, offenders, set_versions};

    #[test]
    fn every_feature_is_checked_alone_besides_none_default_and_all() {
        let features = ["default", "rustls", "native-tls"].map(str::to_owned);
        let selections: Vec<String> = feature_selections(&features).iter().map(|s| s.join(" ")).collect();
        assert_eq!(
            selections,
            [
                "--no-default-features",
                "",
                "--no-default-features --features rustls",
                "--no-default-features --features native-tls",
                "--all-features"
            ]
        );
        assert_eq!(feature_selections(&[]), [Vec::<String>::new()], "a crate without features is checked once");
    }

    #[test]
    fn a_forbidden_crate_anywhere_in_the_tree_is_named() {
        let tree = "pocket-payments v0.1.0 (/w/crates/pocket-payments)\npocket-core v0.1.0\nreqwest v0.13.1\naxum-core v0.5.0\n";
        assert_eq!(offenders(tree, FORBIDDEN_IN_PAYMENTS), ["reqwest v0.13.1"]);
        assert!(offenders("pocket-core v0.1.0\ntokio v1.48.0\n", FORBIDDEN_IN_PAYMENTS).is_empty());
    }

    #[test]
    fn versions_are_set_everywhere_and_nothing_else_changes() {
        let manifest = "[workspace.package]\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace.dependencies]\n\
            pocket-core = { path = \"crates/pocket-core\", version = \"0.1.0\" }\n\
            pocket-http = { path = \"crates/pocket-http\", version = \"0.1.0\" }\n\
            pocket-jwt = { path = \"crates/pocket-jwt\", version = \"0.1.0\" }\n\
            pocket-axum = { path = \"crates/pocket-axum\", version = \"0.1.0\" }\n\
            pocket-payments = { path = \"crates/pocket-payments\", version = \"0.1.0\" }\n\
            pocket-sandbox = { path = \"crates/pocket-sandbox\", version = \"0.1.0\" }\n\
            pocket-cli = { path = \"crates/pocket-cli\", version = \"0.1.0\" }\n\
            serde = { version = \"1.0.228\" }\n";
        let updated = set_versions(manifest, "0.2.0").unwrap();
        assert_eq!(updated.matches("\"0.2.0\"").count(), 8);
        assert!(updated.contains("serde = { version = \"1.0.228\" }"));
        assert!(set_versions("[package]\nversion = \"1\"\n", "0.2.0").is_err());
    }
}
