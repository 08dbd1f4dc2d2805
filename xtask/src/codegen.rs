//! `cargo xtask codegen [--check]`: the OpenAPI documents under `docs/openapi/`, written or
//! checked for drift.

use std::fs;
use std::path::{Path, PathBuf};

use crate::root;

/// The generated files and their contents.
fn generated() -> Result<Vec<(PathBuf, String)>, String> {
    let axum = serde_json::to_string_pretty(&pocket_axum::openapi()).map_err(|e| e.to_string())?;
    Ok(vec![
        (PathBuf::from("docs/openapi/pocket-api.json"), format!("{}\n", pocket_sandbox::openapi_json())),
        (PathBuf::from("docs/openapi/pocket-axum.json"), format!("{axum}\n")),
    ])
}

pub fn codegen(check: bool) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::generated;

    /// The drift check of `cargo xtask lint`, in the README's test command too.
    #[test]
    fn the_committed_openapi_documents_are_what_the_code_produces() {
        for (path, content) in generated().unwrap() {
            let committed = std::fs::read_to_string(crate::root().join(&path)).unwrap_or_default();
            assert!(committed == content, "{} is out of date: run `cargo xtask codegen`", path.display());
        }
    }
}
