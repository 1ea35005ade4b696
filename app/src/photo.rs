//! Photos taken in the field: checked, decoded and re-encoded in the browser as JPEG of at most
//! 1600 px on the long side and about 300 KB, named by their SHA-256, kept in IndexedDB until
//! the sync engine uploads them.

use sha2::{Digest, Sha256};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Longest side of a stored photo, in pixels.
pub const MAX_SIDE: u32 = 1600;
/// Size a stored photo aims to stay under.
pub const TARGET_BYTES: usize = 300 * 1024;
/// Largest file accepted from the camera or the gallery before resizing.
pub const MAX_INPUT_BYTES: f64 = 40.0 * 1024.0 * 1024.0;

/// Why a picked file cannot be used (shown next to the photo field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoError {
    /// Not an image at all (a PDF, a video …).
    NotImage,
    /// Larger than [`MAX_INPUT_BYTES`].
    TooLarge,
    /// Claims to be an image but cannot be decoded.
    Unreadable,
}

impl PhotoError {
    /// The locale key of the message.
    pub fn key(&self) -> &'static str {
        match self {
            Self::NotImage => "photo.error.not_image",
            Self::TooLarge => "photo.error.too_large",
            Self::Unreadable => "photo.error.unreadable",
        }
    }
}

/// A photo ready to store: its hash (hex) and JPEG bytes.
pub struct Prepared {
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// The SHA-256 of bytes, as 64 lowercase hex characters (the photo's name everywhere).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The size to draw at: the long side capped at [`MAX_SIDE`], the aspect kept.
pub fn fit(width: u32, height: u32) -> (u32, u32) {
    let long = width.max(height).max(1);
    if long <= MAX_SIDE {
        return (width.max(1), height.max(1));
    }
    let scale = f64::from(MAX_SIDE) / f64::from(long);
    (
        ((f64::from(width) * scale).round() as u32).max(1),
        ((f64::from(height) * scale).round() as u32).max(1),
    )
}

fn unreadable<T>(_: T) -> PhotoError {
    PhotoError::Unreadable
}

/// Decodes `file`, scales it down and encodes it as JPEG, lowering the quality until it fits
/// [`TARGET_BYTES`] (or the lowest quality is reached).
pub async fn prepare(file: &web_sys::File) -> Result<Prepared, PhotoError> {
    if !file.type_().starts_with("image/") {
        return Err(PhotoError::NotImage);
    }
    if file.size() > MAX_INPUT_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let window = web_sys::window().ok_or(PhotoError::Unreadable)?;
    let bitmap: web_sys::ImageBitmap = JsFuture::from(
        window
            .create_image_bitmap_with_blob(file)
            .map_err(unreadable)?,
    )
    .await
    .map_err(unreadable)?
    .dyn_into()
    .map_err(unreadable)?;
    let (w, h) = fit(bitmap.width(), bitmap.height());
    let canvas = web_sys::OffscreenCanvas::new(w, h).map_err(unreadable)?;
    let ctx: web_sys::OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(unreadable)?
        .ok_or(PhotoError::Unreadable)?
        .dyn_into()
        .map_err(unreadable)?;
    ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(w), f64::from(h))
        .map_err(unreadable)?;
    bitmap.close();
    let mut best = Vec::new();
    for quality in [0.82, 0.7, 0.55, 0.4] {
        let opts = web_sys::ImageEncodeOptions::new();
        opts.set_type("image/jpeg");
        opts.set_quality(quality);
        let blob: web_sys::Blob = JsFuture::from(
            canvas
                .convert_to_blob_with_options(&opts)
                .map_err(unreadable)?,
        )
        .await
        .map_err(unreadable)?
        .dyn_into()
        .map_err(unreadable)?;
        let buffer = JsFuture::from(blob.array_buffer())
            .await
            .map_err(unreadable)?;
        best = js_sys::Uint8Array::new(&buffer).to_vec();
        if best.len() <= TARGET_BYTES {
            break;
        }
    }
    Ok(Prepared {
        sha256: sha256_hex(&best),
        bytes: best,
    })
}

/// An object URL showing `bytes` (revoked by the browser when the page goes).
pub fn object_url(bytes: &[u8], content_type: &str) -> Option<String> {
    let parts = js_sys::Array::new();
    parts.push(&js_sys::Uint8Array::from(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(content_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// A position fix: WGS-84 longitude and latitude, and the accuracy radius in metres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fix {
    pub lon: f64,
    pub lat: f64,
    pub accuracy_m: f64,
}

/// Beyond this accuracy radius the grid is not picked automatically: the user picks it.
pub const POOR_ACCURACY_M: f64 = 100.0;

/// Asks the browser for the current position (GPS on phones), at most 20 s.
pub async fn locate() -> Result<Fix, String> {
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::JsValue;
    let geo = web_sys::window()
        .ok_or("no window")?
        .navigator()
        .geolocation()
        .map_err(|_| "geolocation unavailable".to_owned())?;
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move |pos: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &pos);
        });
        let fail = reject.clone();
        let err = Closure::once_into_js(move |e: JsValue| {
            let _ = fail.call1(&JsValue::NULL, &e);
        });
        let opts = web_sys::PositionOptions::new();
        opts.set_enable_high_accuracy(true);
        opts.set_timeout(20_000);
        opts.set_maximum_age(0); // a fresh fix: the warden walks between compounds
        if geo
            .get_current_position_with_error_callback_and_options(
                ok.unchecked_ref(),
                Some(err.unchecked_ref()),
                &opts,
            )
            .is_err()
        {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("geolocation failed"));
        }
    });
    let pos = JsFuture::from(promise).await.map_err(|e| {
        js_sys::Reflect::get(&e, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "position unavailable".into())
    })?;
    let coords =
        js_sys::Reflect::get(&pos, &JsValue::from_str("coords")).map_err(|_| "no coordinates")?;
    let num = |k: &str| {
        js_sys::Reflect::get(&coords, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
    };
    Ok(Fix {
        lon: num("longitude").ok_or("no longitude")?,
        lat: num("latitude").ok_or("no latitude")?,
        accuracy_m: num("accuracy").unwrap_or(f64::MAX),
    })
}
