//! `cargo xtask release <version>`: the version set everywhere, a CHANGELOG entry required, and
//! `cargo publish --dry-run` for every published crate.

use std::fs;

use crate::{PUBLISHED, cargo, codegen, root};

pub fn release(version: &str) -> Result<(), String> {
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
    codegen::codegen(false)?;
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
    use super::set_versions;

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
