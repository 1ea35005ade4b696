//! `cargo xtask dist`: build the app into `dist/`.
//!
//! cargo build (wasm32, profile `wasm-release`, linked with `--emit-relocs`) → `wasm-split-cli`
//! (the field screens and the managers' screens, marked `#[wasm_split]` in `app/src/ui/lazy.rs`,
//! become modules of their own) → wasm-bindgen on the main module (`--target web`, `--keep-lld-exports` for the split
//! modules, name and producers sections stripped) → content-hashed assets → `index.html`, the
//! boot script and `sw.js` filled in from their templates in `public/` → brotli (quality 11) and
//! gzip (level 9) copies of every compressible file next to it, served by the server as they are.
//!
//! No wasm-opt: Debian's binaryen 108 produces a module Chromium rejects, and a working binaryen
//! gains only ~2% gzip once the name section is stripped (see TOOLCHAIN.md and BENCHMARKS.md).
//!
//! Layout produced:
//! ```text
//! dist/index.html                      from public/index.html ({{app.css}}, {{boot.js}}, … filled)
//! dist/sw.js                           from public/sw.js ({{version}}, {{precache}}, {{lazy}},
//!                                      {{hashes}} filled)
//! dist/assets/app.<hash8>.js           wasm-bindgen JS glue (imports split.<hash8>.js)
//! dist/assets/split.<hash8>.js         wasm-split's loader for the split modules (imports app.js)
//! dist/assets/app.<hash8>.wasm         the app's main module: the shell and the sign-in
//! dist/assets/<chunk>.<hash8>.wasm     a split module (one per split point, plus shared chunks):
//!                                      the field screens' precached, the managers' lazy
//! dist/assets/app.<hash8>.css          app/style/app.css (fallback public/app.css)
//! dist/assets/boot.<hash8>.js          from public/boot.js ({{app.js}}, {{app.wasm}} filled)
//! dist/assets/snippets/…               wasm-bindgen inline JS snippets, if any crate has them
//! dist/<everything else in public/>    manifest.webmanifest, icons/…
//! dist/**/<file>.br, <file>.gz         precompressed copies (not precached: the browser decodes)
//! ```
//! app.js and split.js import each other, so they share one hash, taken over both. The loader
//! finds the split modules' hashed names in a table the boot script sets (`{{split.modules}}`),
//! so a changed module changes the boot script only, not the glue and the loader.
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

use crate::{compress, sh, tools};

/// Files in `public/` that are templates or sources, not copied as they are.
const TEMPLATES: [&str; 4] = ["index.html", "sw.js", "boot.js", "app.css"];

#[derive(Args)]
pub struct DistArgs {}

pub fn dist_command(_args: &DistArgs) -> Result<()> {
    tools::ensure_wasm_target()?;
    tools::ensure_wasm_bindgen()?;
    tools::ensure_wasm_split()?;
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
    let split = run_wasm_split(&wasm)?;
    let bindgen = run_wasm_bindgen(&split.join("main.wasm"))?;

    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut names: BTreeMap<&str, String> = BTreeMap::new();

    let wasm_bytes = read(&bindgen.join("app_bg.wasm"))?;
    names.insert(
        "app.wasm",
        insert_hashed(&mut files, "app", "wasm", wasm_bytes),
    );
    let lazy = insert_glue_and_lazy_modules(&mut files, &mut names, &bindgen, &split)?;

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
    let precache: Vec<String> = files
        .keys()
        .map(|rel| format!("/{rel}"))
        .filter(|url| !lazy.contains(url))
        .collect();
    // Files without a content hash in their name (icons, the manifest): their hash, so that an
    // update copies an unchanged one from the old cache instead of downloading it again.
    let hashes: BTreeMap<String, String> = files
        .iter()
        .filter(|(rel, _)| !rel.starts_with("assets/") && rel.as_str() != "index.html")
        .map(|(rel, bytes)| {
            (
                format!("/{rel}"),
                hex(&Sha256::digest(bytes))[..16].to_owned(),
            )
        })
        .collect();
    let mut sw_names: BTreeMap<&str, String> = BTreeMap::new();
    sw_names.insert("version", version.clone());
    sw_names.insert("precache", serde_json::to_string(&precache)?);
    sw_names.insert("lazy", serde_json::to_string(&lazy)?);
    sw_names.insert("hashes", serde_json::to_string(&hashes)?);
    let sw = fill(
        &read_string(&public.join("sw.js"))?,
        &sw_names,
        "public/sw.js",
    )?;
    files.insert("sw.js".to_owned(), sw.into_bytes());

    eprintln!(
        "xtask: dist/ version {version}, {} files (raw, gzip -9, brotli 11):",
        files.len()
    );
    let compressed = compress::precompress(&files)?;
    for (rel, bytes) in &files {
        let size = |ext: &str| {
            compressed
                .get(&format!("{rel}.{ext}"))
                .map_or_else(|| "-".to_owned(), |b| b.len().to_string())
        };
        eprintln!(
            "  {:>10} {:>10} {:>10}  {rel}",
            bytes.len(),
            size("gz"),
            size("br")
        );
    }
    files.extend(compressed);

    let dist = dist_dir();
    write_tree(&dist, &files)?;
    Ok(dist)
}

/// `cargo rustc -p tongxin-app --bin tongxin-app --target wasm32-unknown-unknown --profile
/// wasm-release -- -C link-arg=--emit-relocs`; returns the .wasm of the app's binary, read from
/// cargo's JSON.
fn cargo_build_app() -> Result<PathBuf> {
    let mut cmd = sh::cargo();
    // `cargo rustc` passes the flag to the binary's link only: the dependencies keep their
    // build (RUSTFLAGS would rebuild them all). wasm-split needs the relocations to move code.
    cmd.args([
        "rustc",
        "-p",
        "tongxin-app",
        "--bin",
        "tongxin-app",
        "--target",
        tools::WASM_TARGET,
        "--profile",
        "wasm-release",
        "--message-format=json-render-diagnostics",
        "--",
        "-C",
        "link-arg=--emit-relocs",
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

/// Run wasm-bindgen into `target/xtask/bindgen/`, unless the input, the tool and its command
/// line are all unchanged (a flag changed here, or a build made with other flags in the same
/// target directory, runs it again).
fn run_wasm_bindgen(wasm: &Path) -> Result<PathBuf> {
    let root = crate::project_root();
    let out = root.join("target").join("xtask").join("bindgen");
    let stamp_path = root.join("target").join("xtask").join("bindgen.stamp");
    let tool_version = sh::output(sh::cmd("wasm-bindgen").arg("--version"))
        .context("wasm-bindgen is not installed")?;
    let mut bindgen = sh::cmd("wasm-bindgen");
    bindgen
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            // The split modules import the main module's functions by these export names.
            "--keep-lld-exports",
            "--out-name",
            "app",
            "--out-dir",
        ])
        .arg(&out)
        .arg(wasm);
    let stamp = format!(
        "{tool_version}\n{}\n{}\n",
        hex(&Sha256::digest(read(wasm)?)),
        sh::display(&bindgen)
    );
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
    sh::run(&mut bindgen)?;
    std::fs::write(&stamp_path, stamp)?;
    Ok(out)
}

/// Run `wasm-split-cli` into `target/xtask/split/` (`main.wasm`, one `.wasm` per lazy module,
/// `__wasm_split.js`), unless the input and the tool are unchanged.
fn run_wasm_split(wasm: &Path) -> Result<PathBuf> {
    let scratch = crate::project_root().join("target").join("xtask");
    let out = scratch.join("split");
    let stamp_path = scratch.join("split.stamp");
    let stamp = format!(
        "{}\n{}\n",
        tools::WASM_SPLIT_VERSION,
        hex(&Sha256::digest(read(wasm)?))
    );
    let unchanged = std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp)
        && out.join("main.wasm").is_file();
    if unchanged {
        eprintln!("xtask: {} unchanged, wasm-split skipped", wasm.display());
        return Ok(out);
    }
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    std::fs::create_dir_all(&out)?;
    sh::run(sh::cmd(tools::WASM_SPLIT).arg(wasm).arg(&out))?;
    std::fs::write(&stamp_path, stamp)?;
    Ok(out)
}

/// The global the boot script sets (`{{split.modules}}`: each split module's stem → its hashed
/// file, relative to the loader) and the loader reads.
const MODULE_TABLE: &str = "globalThis.__tongxinSplitModules";

/// The split points whose modules every user needs: precached by the service worker with the
/// shell (and fetched by the page as soon as the sign-in is shown), not loaded on first use.
const PRECACHED_SPLITS: [&str; 1] = ["field"];

/// The wasm-bindgen glue and wasm-split's loader (they import each other, so both are named
/// after one hash over the two), and the split modules, each under its own content hash, their
/// names rewritten in the loader. Returns the URLs of the modules loaded on first use (those not
/// needed by a [`PRECACHED_SPLITS`] split point).
fn insert_glue_and_lazy_modules(
    files: &mut BTreeMap<String, Vec<u8>>,
    names: &mut BTreeMap<&str, String>,
    bindgen: &Path,
    split: &Path,
) -> Result<Vec<String>> {
    /// The loader's module name (the main wasm imports from it, so the glue's imports object
    /// keeps it as a key) and how the glue imports the loader, and the loader the glue
    /// (wasm-split-cli's defaults). Only the `from "…"` clauses are renamed.
    const LOADER_MODULE: &str = "./__wasm_split.js";
    const LOADER_IMPORT: &str = r#"from "./__wasm_split.js""#;
    const GLUE_IMPORT: &str = r#"from "./main.js""#;

    let glue = read_string(&bindgen.join("app.js"))?;
    let loader_path = split.join(LOADER_MODULE.trim_start_matches("./"));
    if !loader_path.is_file() {
        // No split point in the app: the glue stands alone.
        let url = insert_hashed(files, "app", "js", glue.into_bytes());
        names.insert("split.js", url.clone());
        names.insert("app.js", url);
        names.insert("split.modules", "{}".to_owned());
        return Ok(Vec::new());
    }
    let mut loader = read_string(&loader_path)?;
    let needed_by = split_modules_needed_by(&loader);
    let mut lazy = Vec::new();
    let mut modules = BTreeMap::new();
    for (rel, bytes) in walk(split)? {
        let Some(stem) = rel.strip_suffix(".wasm").filter(|s| *s != "main") else {
            continue;
        };
        // wasm-split copies the input's name section into the modules; nothing reads it.
        let url = insert_hashed(files, stem, "wasm", strip_custom_sections(&bytes)?);
        let old = format!("\"./{rel}\"");
        if !loader.contains(&old) {
            bail!("{}: no reference to {old}", loader_path.display());
        }
        // The loader names a module by its stem and finds its hashed file in a table the boot
        // script sets: a module's new content renames it and changes the boot script (1 KB), not
        // the loader nor the glue importing it.
        loader = loader.replace(&old, &format!("{MODULE_TABLE}[\"{stem}\"]"));
        let hashed = url.trim_start_matches("/assets/");
        modules.insert(stem.to_owned(), format!("./{hashed}"));
        let splits = needed_by
            .get(stem)
            .with_context(|| format!("{}: no loader for {rel}", loader_path.display()))?;
        if !splits
            .iter()
            .any(|s| PRECACHED_SPLITS.contains(&s.as_str()))
        {
            lazy.push(url);
        }
    }
    for (text, import, what) in [
        (&glue, LOADER_IMPORT, "the glue"),
        (&loader, GLUE_IMPORT, "the loader"),
    ] {
        if !text.contains(import) {
            bail!("{what} does not import {import}: has the output of wasm-bindgen or wasm-split-cli changed?");
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(glue.as_bytes());
    hasher.update([0]);
    hasher.update(loader.as_bytes());
    let hash = hex(&hasher.finalize())[..8].to_owned();
    let (glue_name, loader_name) = (format!("app.{hash}.js"), format!("split.{hash}.js"));
    let glue = glue.replace(LOADER_IMPORT, &format!(r#"from "./{loader_name}""#));
    let loader = loader.replace(GLUE_IMPORT, &format!(r#"from "./{glue_name}""#));
    files.insert(format!("assets/{glue_name}"), glue.into_bytes());
    files.insert(format!("assets/{loader_name}"), loader.into_bytes());
    names.insert("app.js", format!("/assets/{glue_name}"));
    names.insert("split.js", format!("/assets/{loader_name}"));
    names.insert("split.modules", serde_json::to_string(&modules)?);
    Ok(lazy)
}

/// Which split points need each module of wasm-split's loader: `split_<name>` by `<name>`, and a
/// shared `chunk_<n>` by the split points its `/* a, b */` comment names (the line before its
/// `const __chunk_<n> = …`).
fn split_modules_needed_by(loader: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut comment: Option<Vec<String>> = None;
    for line in loader.lines() {
        let line = line.trim();
        if let Some(chunk) = line
            .strip_prefix("const __chunk_")
            .and_then(|rest| rest.split_once(' '))
            .map(|(n, _)| format!("chunk_{n}"))
        {
            if let Some(splits) = comment.take() {
                out.insert(chunk, splits);
            }
        } else if let Some(split) = line
            .strip_prefix("export const __wasm_split_load_")
            .and_then(|rest| rest.split_once(' '))
            .map(|(name, _)| name.to_owned())
        {
            out.insert(format!("split_{split}"), vec![split]);
        }
        comment = line
            .strip_prefix("/*")
            .and_then(|rest| rest.strip_suffix("*/"))
            .map(|names| names.split(',').map(|n| n.trim().to_owned()).collect());
    }
    out
}

/// A wasm module without its custom sections (id 0: `name`, `producers`, `target_features`, …),
/// which the browser does not need; the other sections are copied as they are.
fn strip_custom_sections(wasm: &[u8]) -> Result<Vec<u8>> {
    const HEADER: usize = 8; // "\0asm" and the version
    if wasm.len() < HEADER || &wasm[..4] != b"\0asm" {
        bail!("not a wasm module");
    }
    let mut out = wasm[..HEADER].to_vec();
    let mut at = HEADER;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, payload) = read_leb_u32(wasm, at + 1)?;
        let end = payload
            .checked_add(size as usize)
            .filter(|&end| end <= wasm.len())
            .context("a wasm section runs past the end of the module")?;
        if id != 0 {
            out.extend_from_slice(&wasm[at..end]);
        }
        at = end;
    }
    Ok(out)
}

/// An unsigned LEB128 `u32` at `at`; returns it and the offset after it.
fn read_leb_u32(bytes: &[u8], mut at: usize) -> Result<(u32, usize)> {
    let mut value = 0u32;
    for shift in (0..35).step_by(7) {
        let byte = *bytes
            .get(at)
            .context("a wasm section size runs past the end")?;
        at += 1;
        value |= u32::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok((value, at));
        }
    }
    bail!("a wasm section size is longer than 5 bytes")
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
    fn split_modules_are_attributed_to_the_split_points_that_need_them() {
        // The shape wasm-split-cli 0.2.4 writes.
        let loader = r#"import { initSync } from "./main.js";
/* field, map */
const __chunk_3 = makeLoad(() => {
    const src = fetch(new URL("./chunk_3.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
/* admin, dashboard */
const __chunk_4 = makeLoad(() => {
    const src = fetch(new URL("./chunk_4.wasm", import.meta.url));
}
, []);
export const __wasm_split_load_map = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_map.wasm", import.meta.url));
}
, [__chunk_3]));
export const __wasm_split_load_field = wrapAsyncCb(makeLoad(() => {
}, [__chunk_3]));
"#;
        let needed = split_modules_needed_by(loader);
        let names = |m: &str| needed[m].join(",");
        assert_eq!(names("chunk_3"), "field,map");
        assert_eq!(names("chunk_4"), "admin,dashboard");
        assert_eq!(names("split_map"), "map");
        assert_eq!(names("split_field"), "field");
        assert_eq!(needed.len(), 4);
    }

    #[test]
    fn custom_sections_are_stripped_and_the_rest_kept() {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([1, 4, 1, 0x60, 0, 0]); // type section: one `() -> ()`
        wasm.extend([0, 5, 4, b'n', b'a', b'm', b'e']); // custom section "name"
        wasm.extend([3, 2, 1, 0]); // function section
        let stripped = strip_custom_sections(&wasm).unwrap();
        let mut want = b"\0asm\x01\0\0\0".to_vec();
        want.extend([1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0]);
        assert_eq!(stripped, want);
        assert!(strip_custom_sections(&wasm[..wasm.len() - 1]).is_err());
        assert!(strip_custom_sections(b"nope").is_err());
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
