//! No two modules of a crate import each other: `cargo xtask lint` (and a plain `cargo test`)
//! reads every crate's `src/` and names each pair where module A uses something of module B
//! (`crate::b::…`, `use crate::{b, …}`, or a name B's items are re-exported under at the crate
//! root) and B uses something of A. A parent and its own child modules are one unit.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// A crate's modules by path (`""` the root, `"watching::polling"`), each with its code (comments
/// left out: doc links are no imports).
type Modules = BTreeMap<String, String>;

pub fn check(root: &Path) -> Result<(), String> {
    eprintln!("==> no two modules of a crate import each other");
    let mut found = Vec::new();
    let crates = fs::read_dir(root.join("crates")).map_err(|e| format!("crates/: {e}"))?;
    let mut dirs: Vec<_> = crates.filter_map(Result::ok).map(|entry| entry.path()).collect();
    dirs.push(root.join("xtask"));
    dirs.sort();
    for dir in dirs {
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut modules = Modules::new();
        read_modules(&src, &src, &mut modules)?;
        found.extend(cycles(&modules).into_iter().map(|(a, b)| format!("{name}: {a} <-> {b}")));
    }
    if found.is_empty() { Ok(()) } else { Err(format!("modules that import each other: {}", found.join("; "))) }
}

fn read_modules(src: &Path, dir: &Path, modules: &mut Modules) -> Result<(), String> {
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            read_modules(src, &path, modules)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let code: Vec<&str> = text.lines().filter(|line| !line.trim_start().starts_with("//")).collect();
            modules.insert(module_name(src, &path), code.join("\n"));
        }
    }
    Ok(())
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` are the root.
fn module_name(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|last| ["mod", "lib", "main"].contains(&last.as_str())) {
        parts.pop();
    }
    parts.join("::")
}

/// Every pair of modules that use each other, neither the other's ancestor.
fn cycles(modules: &Modules) -> Vec<(String, String)> {
    let exported = root_exports(modules.get("").map_or("", String::as_str));
    let uses: BTreeMap<&str, BTreeSet<String>> =
        modules.iter().map(|(name, code)| (name.as_str(), used_modules(name, code, modules, &exported))).collect();
    let mut pairs = Vec::new();
    for (a, used) in &uses {
        for b in used {
            if a < &b.as_str() && uses.get(b.as_str()).is_some_and(|back| back.contains(*a)) {
                pairs.push((a.to_string(), b.clone()));
            }
        }
    }
    pairs
}

/// The crate root's `pub use module::{A, B}` and `pub use module::A`: name → module.
fn root_exports(root: &str) -> BTreeMap<String, String> {
    let mut exported = BTreeMap::new();
    for statement in root.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else { continue };
        let Some((module, items)) = rest.split_once("::") else { continue };
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let name = item.trim().rsplit("::").next().unwrap_or("").trim();
            if !name.is_empty() {
                exported.insert(name.to_owned(), module.trim().to_owned());
            }
        }
    }
    exported
}

/// The modules `code` (module `me`) uses, resolved to the deepest module a path names.
fn used_modules(me: &str, code: &str, modules: &Modules, exported: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut add = |path: &str| {
        let parts: Vec<&str> = path.split("::").map(str::trim).filter(|p| !p.is_empty()).collect();
        let named = (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|c| modules.contains_key(c));
        let target = named.or_else(|| parts.first().and_then(|first| exported.get(*first).cloned()));
        if let Some(target) = target
            && !related(me, &target)
        {
            used.insert(target);
        }
    };
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end].split(',').for_each(&mut add);
        } else {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            add(&rest[..end]);
        }
    }
    used
}

/// A module and its ancestors or descendants are one unit.
fn related(a: &str, b: &str) -> bool {
    a == b || a.is_empty() || b.is_empty() || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_of(files: &[(&str, &str)]) -> Modules {
        files.iter().map(|(name, code)| (name.to_string(), code.to_string())).collect()
    }

    #[test]
    fn modules_that_use_each_other_are_named_through_paths_groups_and_re_exports() {
        let modules = crate_of(&[
            ("", "mod a; mod b; mod c;\npub use b::{Thing, Other};"),
            ("a", "use crate::Thing;"),
            ("b", "fn f() { crate::a::g(); }"),
            ("c", "use crate::{a::x, b};\n// crate::c is only a comment"),
        ]);
        assert_eq!(cycles(&modules), [("a".to_owned(), "b".to_owned())]);
    }

    #[test]
    fn a_parent_and_its_child_are_one_unit() {
        let modules =
            crate_of(&[("", "mod w;"), ("w", "mod p; use p::x;"), ("w::p", "use super::W; use crate::w::Y;")]);
        assert!(cycles(&modules).is_empty());
    }

    #[test]
    fn no_two_modules_of_any_crate_import_each_other() {
        check(&crate::root()).unwrap();
    }
}
