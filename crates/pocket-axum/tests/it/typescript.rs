//! pocket.d.ts describes pocket.js: a page written against it type-checks with `tsc --strict`,
//! wrong uses do not, and every function pocket.js puts on `window.Pocket` is declared. Needs
//! TypeScript's `tsc` (`npm install -g typescript`); skipped without it, required with CI=true.

use std::path::{Path, PathBuf};
use std::process::Command;

use pocket_test_support::required_program;

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
}

fn tsc(tsc: &Path, page: &str) -> (bool, String) {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/typescript");
    let output = Command::new(tsc)
        .args(["--noEmit", "--strict", "--target", "es2017", "--lib", "es2017,dom"])
        .arg(assets().join("pocket.d.ts"))
        .arg(here.join(page))
        .output()
        .expect("tsc runs");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn a_page_written_against_the_declarations_type_checks() {
    let Some(program) = required_program("TSC", "tsc", "TypeScript's tsc (npm install -g typescript)") else {
        return;
    };
    let (ok, errors) = tsc(&program, "usage.ts");
    assert!(ok, "usage.ts does not type-check against pocket.d.ts:\n{errors}");
}

#[test]
fn wrong_uses_are_refused_by_the_declarations() {
    let Some(program) = required_program("TSC", "tsc", "TypeScript's tsc (npm install -g typescript)") else {
        return;
    };
    let (ok, errors) = tsc(&program, "misuse.ts");
    assert!(!ok, "misuse.ts type-checked");
    for line in [3, 4, 5] {
        assert!(errors.contains(&format!("misuse.ts({line},")), "no error on line {line}:\n{errors}");
    }
}

#[test]
fn every_function_of_pocket_js_is_declared() {
    let script = std::fs::read_to_string(assets().join("pocket.js")).unwrap();
    let declarations = std::fs::read_to_string(assets().join("pocket.d.ts")).unwrap();
    let mut names: Vec<&str> = script
        .split("Pocket.")
        .skip(1)
        .filter_map(|rest| rest.split_once(" = function").map(|(name, _)| name))
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect();
    names.extend(["getToken", "goBack", "callDeepLink", "callOpenUrl", "payInvoice", "token", "back", "deepLink"]);
    assert!(names.contains(&"payButton") && names.contains(&"pay"), "{names:?}");
    for name in names {
        assert!(declarations.contains(&format!("  {name}(")), "pocket.d.ts does not declare Pocket.{name}");
    }
}
