//! Precompressed copies of the built assets: `<file>.br` (brotli, quality 11) and `<file>.gz`
//! (gzip, level 9), written next to each compressible file under `dist/assets/`. The server sends
//! them as they are (`ServeDir::precompressed_br/gzip`) instead of compressing on every request,
//! and at a quality too slow to reach on the fly. Only the content-hashed assets: `index.html`,
//! `sw.js` and the manifest are small, change with every deploy (a stale `.br` next to a new
//! `index.html` would be served), and are compressed by the server's `CompressionLayer`.
//!
//! Brotli at quality 11 takes seconds for the app's wasm, so results are kept in
//! `target/xtask/compressed/` under the content's hash and reused while the content is unchanged.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Extensions worth compressing (images and fonts are compressed already).
const COMPRESSIBLE: [&str; 7] = ["html", "js", "wasm", "css", "json", "webmanifest", "svg"];

/// Brotli's window (log2): the format's maximum short of the "large window" extension.
const BROTLI_WINDOW: u32 = 22;

/// The `.br` and `.gz` copies of every compressible file that gets smaller, keyed by their paths.
pub fn precompress(files: &BTreeMap<String, Vec<u8>>) -> Result<BTreeMap<String, Vec<u8>>> {
    let cache_dir = crate::project_root()
        .join("target")
        .join("xtask")
        .join("compressed");
    std::fs::create_dir_all(&cache_dir)?;
    let mut out = BTreeMap::new();
    for (rel, bytes) in files {
        let compressible = rel.starts_with("assets/")
            && Path::new(rel)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible {
            continue;
        }
        let key = hex(&Sha256::digest(bytes));
        for (ext, compress) in [("br", brotli as fn(&[u8]) -> Result<Vec<u8>>), ("gz", gzip)] {
            let cached = cache_dir.join(format!("{key}.{ext}"));
            let packed = if let Ok(packed) = std::fs::read(&cached) {
                packed
            } else {
                let packed = compress(bytes).with_context(|| format!("compressing {rel}"))?;
                std::fs::write(&cached, &packed)
                    .with_context(|| format!("writing {}", cached.display()))?;
                packed
            };
            if packed.len() < bytes.len() {
                out.insert(format!("{rel}.{ext}"), packed);
            }
        }
    }
    Ok(out)
}

/// Brotli at quality 11.
pub fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = ::brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: BROTLI_WINDOW as i32,
        size_hint: bytes.len(),
        ..Default::default()
    };
    ::brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// gzip at level 9.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn both_encodings_decode_to_the_input() {
        let input = "同心 Tongxin ".repeat(500).into_bytes();
        let mut unbr = Vec::new();
        ::brotli::Decompressor::new(&brotli(&input).unwrap()[..], 4096)
            .read_to_end(&mut unbr)
            .unwrap();
        assert_eq!(unbr, input);
        let mut ungz = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&input).unwrap()[..])
            .read_to_end(&mut ungz)
            .unwrap();
        assert_eq!(ungz, input);
        assert!(brotli(&input).unwrap().len() < input.len() / 10);
    }
}
