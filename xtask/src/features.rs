//! `cargo xtask features`: every published crate alone, per feature selection, and the TLS
//! tests of the crates that make https requests, once per TLS feature.

use crate::lint::{normal_dependencies, offenders};
use crate::{PUBLISHED, cargo, run_args};

/// The crates that make https requests: each has a test in `crates/tls-alone/tests/tls.rs` that
/// must pass with each of its TLS features when the crate is built alone.
const TLS_CRATES: &[&str] = &["pocket-http", "pocket-jwt", "pocket-sandbox"];
const TLS_FEATURES: &[&str] = &["rustls", "native-tls"];

pub fn features() -> Result<(), String> {
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
    // `cargo test -p <crate>` is what a contributor runs first: every crate's tests build and
    // pass with its default features, no other crate's dev-dependencies unified in. (A test
    // build unifies the crate's own dev-dependencies' features into it, so the `check` with
    // defaults above stays: it is what proves a user's build of the crate alone.)
    for package in &declared {
        run_args(&format!("{} tests with its defaults", package.name), &["test", "--quiet", "-p", &package.name])?;
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

#[cfg(test)]
mod tests {
    use super::feature_selections;

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
}
