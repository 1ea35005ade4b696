//! `cargo xtask dist`: build the app into `dist/`.
//!
//! cargo build (wasm32, profile `wasm-release`) → wasm-bindgen (`--target web`, name and producers
//! sections stripped) → content-hashed assets → `index.html`, the boot script and `sw.js` filled in
//! from their templates in `public/`.
//!
//! No wasm-opt: Debian's binaryen 108 produces a module Chromium rejects, and a working binaryen
//! gains only ~2% gzip once the name section is stripped (see TOOLCHAIN.md and BENCHMARKS.md).
//!
//! Layout produced:
//! ```text
//! dist/index.html                      from public/index.html ({{app.css}}, {{boot.js}}, … filled)
//! dist/sw.js                           from public/sw.js ({{version}}, {{precache}} filled)
//! dist/assets/app.<hash8>.js           wasm-bindgen JS glue
//! dist/assets/app.<hash8>.wasm         the app
//! dist/assets/app.<hash8>.css          app/style/app.css (fallback public/app.css)
//! dist/assets/boot.<hash8>.js          from public/boot.js ({{app.js}}, {{app.wasm}} filled)
//! dist/assets/snippets/…               wasm-bindgen inline JS snippets, if any crate has them
//! dist/<everything else in public/>    manifest.webmanifest, icons/…
//! ```
//! `dist/` is assembled in `target/xtask/dist.tmp/` and swapped in at the end, so a running server never
//! serves a half-written tree.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use clap::Args;
use sha2::{Digest, Sha256};

use crate::{sh, tools};

/// Files in `public/` that are templates or sources, not copied as they are.
const TEMPLATES: [&str; 4] = ["index.html", "sw.js", "boot.js", "app.css"];

#[derive(Args)]
pub struct DistArgs {}

pub fn dist_command(_args: &DistArgs) -> Result<()> {
    tools::ensure_wasm_target()?;
    tools::ensure_wasm_bindgen()?;
    build_dist()?;
    Ok(())
}

/// The dist directory (`<root>/dist`).
pub fn dist_dir() -> PathBuf {
    crate::project_root().join("dist")
}

/// Build the app and assemble `dist/`; returns the dist path.
pub fn build_dist() -> Result<PathBuf> {
    let root = crate::project_root();
    let wasm = cargo_build_app()?;
    let bindgen = run_wasm_bindgen(&wasm)?;

    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut names: BTreeMap<&str, String> = BTreeMap::new();

    let glue = read(&bindgen.join("app.js"))?;
    let wasm_bytes = read(&bindgen.join("app_bg.wasm"))?;
    names.insert("app.js", insert_hashed(&mut files, "app", "js", glue));
    names.insert(
        "app.wasm",
        insert_hashed(&mut files, "app", "wasm", wasm_bytes),
    );

    let snippets = bindgen.join("snippets");
    if snippets.is_dir() {
        for (rel, bytes) in walk(&snippets)? {
            files.insert(format!("assets/snippets/{rel}"), bytes);
        }
    }

    let css_path = [root.join("app/style/app.css"), root.join("public/app.css")]
        .into_iter()
        .find(|p| p.is_file())
        .context("no stylesheet: neither app/style/app.css nor public/app.css exists")?;
    names.insert(
        "app.css",
        insert_hashed(&mut files, "app", "css", read(&css_path)?),
    );

    let public = root.join("public");
    let boot = fill(
        &read_string(&public.join("boot.js"))?,
        &names,
        "public/boot.js",
    )?;
    names.insert(
        "boot.js",
        insert_hashed(&mut files, "boot", "js", boot.into_bytes()),
    );

    for (rel, bytes) in walk(&public)? {
        let top_level_template = !rel.contains('/') && TEMPLATES.contains(&rel.as_str());
        let hidden = rel.split('/').any(|part| part.starts_with('.'));
        let source = has_ext(&rel, "py") || has_ext(&rel, "md");
        if !(top_level_template || hidden || source) {
            files.insert(rel, bytes);
        }
    }

    let index = fill(
        &read_string(&public.join("index.html"))?,
        &names,
        "public/index.html",
    )?;
    files.insert("index.html".to_owned(), index.into_bytes());

    let sw_template = read_string(&public.join("sw.js"))?;
    // The worker's own code counts too: a changed sw.js gets a new cache.
    let version = version_of(&files, &sw_template);
    let precache: Vec<String> = files.keys().map(|rel| format!("/{rel}")).collect();
    let precache_json = serde_json::to_string(&precache)?;
    let mut sw_names: BTreeMap<&str, String> = BTreeMap::new();
    sw_names.insert("version", version.clone());
    sw_names.insert("precache", precache_json);
    let sw = fill(
        &read_string(&public.join("sw.js"))?,
        &sw_names,
        "public/sw.js",
    )?;
    files.insert("sw.js".to_owned(), sw.into_bytes());

    let dist = dist_dir();
    write_tree(&dist, &files)?;

    eprintln!("xtask: dist/ version {version}, {} files:", files.len());
    for (rel, bytes) in &files {
        eprintln!("  {:>10}  {rel}", bytes.len());
    }
    Ok(dist)
}

/// `cargo build -p tongxin-app --target wasm32-unknown-unknown --profile wasm-release`; returns the
/// .wasm of the app's binary (or of its cdylib when it has no binary), read from cargo's JSON.
fn cargo_build_app() -> Result<PathBuf> {
    let mut cmd = sh::cargo();
    cmd.args([
        "build",
        "-p",
        "tongxin-app",
        "--target",
        tools::WASM_TARGET,
        "--profile",
        "wasm-release",
        "--message-format=json-render-diagnostics",
    ]);
    eprintln!("$ {}", sh::display(&cmd));
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start cargo")?;
    let stdout = child.stdout.take().context("cargo stdout")?;
    let app_manifest = crate::project_root().join("app").join("Cargo.toml");
    let (mut bin, mut cdylib) = (None, None);
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading cargo output")?;
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact"
            || msg["manifest_path"].as_str().map(Path::new) != Some(app_manifest.as_path())
        {
            continue;
        }
        let kinds: Vec<&str> = msg["target"]["kind"]
            .as_array()
            .map(|k| k.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default();
        let wasm = msg["filenames"].as_array().and_then(|files| {
            files
                .iter()
                .filter_map(serde_json::Value::as_str)
                .find(|f| has_ext(f, "wasm"))
                .map(PathBuf::from)
        });
        if kinds.contains(&"bin") {
            bin = wasm.or(bin);
        } else if kinds.contains(&"cdylib") {
            cdylib = wasm.or(cdylib);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("building the app for wasm32 failed ({status})");
    }
    bin.or(cdylib)
        .context("cargo built tongxin-app but reported no .wasm artifact (does the app have a bin or cdylib target?)")
}

/// Run wasm-bindgen into `target/xtask/bindgen/`, unless the input and the tool are unchanged.
fn run_wasm_bindgen(wasm: &Path) -> Result<PathBuf> {
    let root = crate::project_root();
    let out = root.join("target").join("xtask").join("bindgen");
    let stamp_path = root.join("target").join("xtask").join("bindgen.stamp");
    let tool_version = sh::output(sh::cmd("wasm-bindgen").arg("--version"))
        .context("wasm-bindgen is not installed")?;
    let stamp = format!("{tool_version}\n{}\n", hex(&Sha256::digest(read(wasm)?)));
    let unchanged = std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp)
        && out.join("app.js").is_file()
        && out.join("app_bg.wasm").is_file();
    if unchanged {
        eprintln!("xtask: {} unchanged, wasm-bindgen skipped", wasm.display());
        return Ok(out);
    }
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    std::fs::create_dir_all(&out)?;
    sh::run(
        sh::cmd("wasm-bindgen")
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--remove-name-section",
                "--remove-producers-section",
                "--out-name",
                "app",
                "--out-dir",
            ])
            .arg(&out)
            .arg(wasm),
    )?;
    std::fs::write(&stamp_path, stamp)?;
    Ok(out)
}

/// Insert `assets/<name>.<hash8>.<ext>`; returns its absolute URL path.
fn insert_hashed(
    files: &mut BTreeMap<String, Vec<u8>>,
    name: &str,
    ext: &str,
    bytes: Vec<u8>,
) -> String {
    let hash = hex(&Sha256::digest(&bytes));
    let rel = format!("assets/{name}.{}.{ext}", &hash[..8]);
    files.insert(rel.clone(), bytes);
    format!("/{rel}")
}

/// Replace every `{{key}}` in a template; an unknown placeholder is an error.
fn fill(template: &str, values: &BTreeMap<&str, String>, what: &str) -> Result<String> {
    let mut out = template.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    if let Some(start) = out.find("{{") {
        let rest = &out[start..];
        let end = rest.find("}}").map_or(rest.len().min(40), |e| e + 2);
        bail!(
            "{what}: unknown placeholder {} (known: {})",
            &rest[..end],
            values.keys().copied().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(out)
}

/// A version over every file's path and content and the worker's template: changes whenever
/// anything deployed changes.
fn version_of(files: &BTreeMap<String, Vec<u8>>, sw_template: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(sw_template.as_bytes());
    for (rel, bytes) in files {
        hasher.update(rel.as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    hex(&hasher.finalize())[..16].to_owned()
}

/// All files under `dir`, as (`a/b.ext` relative path, bytes), sorted.
fn walk(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in
            std::fs::read_dir(&current).with_context(|| format!("reading {}", current.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, read(&path)?));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Write the tree into `target/xtask/dist.tmp`, then swap it in for `dist` (same filesystem, so
/// both renames are atomic; the scratch dirs stay under the ignored `target/`).
fn write_tree(dist: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<()> {
    let scratch = crate::project_root().join("target").join("xtask");
    std::fs::create_dir_all(&scratch)?;
    let tmp = scratch.join("dist.tmp");
    let old = scratch.join("dist.old");
    for stale in [&tmp, &old] {
        if stale.exists() {
            std::fs::remove_dir_all(stale)
                .with_context(|| format!("removing {}", stale.display()))?;
        }
    }
    for (rel, bytes) in files {
        let path = tmp.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    if dist.exists() {
        std::fs::rename(dist, &old).with_context(|| format!("moving {} aside", dist.display()))?;
    }
    std::fs::rename(&tmp, dist).with_context(|| format!("moving {} in place", tmp.display()))?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn read_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn has_ext(path: &str, ext: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_and_rejects_unknown_placeholders() {
        let mut values = BTreeMap::new();
        values.insert("app.css", "/assets/app.12345678.css".to_owned());
        let filled = fill(r#"<link href="{{app.css}}">"#, &values, "t").unwrap();
        assert_eq!(filled, r#"<link href="/assets/app.12345678.css">"#);
        let err = fill("{{app.js}}", &values, "t").unwrap_err().to_string();
        assert!(err.contains("{{app.js}}"), "{err}");
    }

    #[test]
    fn hashed_names_follow_content() {
        let mut files = BTreeMap::new();
        let a = insert_hashed(&mut files, "app", "js", b"one".to_vec());
        let b = insert_hashed(&mut files, "app", "js", b"two".to_vec());
        assert_ne!(a, b);
        assert!(
            a.starts_with("/assets/app.") && has_ext(&a, "js") && a.len() == 23,
            "{a}"
        );
        assert_eq!(a, insert_hashed(&mut files, "app", "js", b"one".to_vec()));
    }

    #[test]
    fn version_changes_with_any_file() {
        let mut files = BTreeMap::new();
        files.insert("index.html".to_owned(), b"a".to_vec());
        let v1 = version_of(&files, "sw");
        files.insert("icons/x.png".to_owned(), b"b".to_vec());
        let v2 = version_of(&files, "sw");
        files.insert("icons/x.png".to_owned(), b"c".to_vec());
        assert_ne!(v1, v2);
        assert_ne!(v2, version_of(&files, "sw"));
        assert_ne!(version_of(&files, "sw"), version_of(&files, "sw2"));
        assert_eq!(v1.len(), 16);
    }
}
