//! Tidy checks, run as ordinary tests (`cargo test -p xtask`, part of `cargo xtask test`), in the
//! spirit of rust-analyzer's `tidy.rs`: house rules that no compiler or linter checks.

use std::path::{Path, PathBuf};

use crate::project_root;

/// The workspace members, read from the root Cargo.toml's `members = [...]`.
fn members() -> Vec<PathBuf> {
    let root = project_root();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("root Cargo.toml");
    let start = manifest.find("members").expect("workspace members");
    let list = &manifest[start..];
    let list = &list[list.find('[').expect("[")..=list.find(']').expect("]")];
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(|member| root.join(member))
        .collect()
}

fn crate_roots(member: &Path) -> Vec<PathBuf> {
    ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|f| member.join(f))
        .filter(|p| p.is_file())
        .collect()
}

#[test]
fn every_crate_root_says_what_lives_there() {
    let mut missing = Vec::new();
    for member in members() {
        for root in crate_roots(&member) {
            let text = std::fs::read_to_string(&root).unwrap();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if !first.starts_with("//!") {
                missing.push(root.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "crate roots without a `//!` doc saying what lives there: {missing:?}"
    );
}

#[test]
fn every_crate_uses_the_workspace_lints() {
    let mut missing = Vec::new();
    for member in members() {
        let manifest = std::fs::read_to_string(member.join("Cargo.toml")).unwrap();
        let uses = manifest
            .split("[lints]")
            .nth(1)
            .is_some_and(|rest| rest.trim_start().starts_with("workspace = true"));
        if !uses {
            missing.push(member.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "crates without `[lints] workspace = true`: {missing:?}"
    );
}

#[test]
fn index_html_has_no_inline_script() {
    // A Content-Security-Policy without 'unsafe-inline' will forbid inline scripts.
    let html = std::fs::read_to_string(project_root().join("public/index.html")).unwrap();
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<script") {
        let tag_end = rest[start..].find('>').expect("unterminated <script") + start;
        let tag = &rest[start..=tag_end];
        assert!(
            tag.contains(" src="),
            "inline script in public/index.html: {tag}"
        );
        let close = rest[tag_end..].find("</script>").expect("</script>") + tag_end;
        assert!(
            rest[tag_end + 1..close].trim().is_empty(),
            "a <script src> with a body in public/index.html"
        );
        rest = &rest[close..];
    }
}

#[test]
fn templates_use_only_placeholders_xtask_fills() {
    let public = project_root().join("public");
    for (file, allowed) in [
        (
            "index.html",
            &["app.css", "app.js", "app.wasm", "boot.js", "split.js"][..],
        ),
        ("boot.js", &["app.js", "app.wasm", "split.modules"][..]),
        ("sw.js", &["version", "precache", "lazy", "hashes"][..]),
    ] {
        let text = std::fs::read_to_string(public.join(file)).unwrap();
        for (i, _) in text.match_indices("{{") {
            let name = &text[i + 2..i + 2 + text[i + 2..].find("}}").expect("}}")];
            assert!(
                allowed.contains(&name),
                "public/{file}: unknown placeholder {{{{{name}}}}}"
            );
        }
    }
}
