//! The live map's pure part (一张图), used by the app's map screen and testable natively.
//!
//! Polygons are projected once to *world* coordinates (Web Mercator scaled to [`WORLD`] units)
//! and turned into SVG path strings once; panning and zooming only change the transform of the
//! group that holds them ([`Viewport::svg_transform`]), so a frame never rebuilds 2,000 paths.
//! Strokes use `vector-effect: non-scaling-stroke`; labels are placed in screen space per frame.

pub mod colour;
pub mod labels;

use geo::{BoundingRect, Centroid, MultiPolygon};
use std::fmt::Write as _;

/// Size of the world square in world units (a 256 px tile at zoom 0 is 256 units).
pub const WORLD: f64 = 256.0;
/// Latitude limit of Web Mercator.
pub const MAX_LAT: f64 = 85.051_128_78;

/// Projects WGS84 `(lon, lat)` to world units: x east, y south, both in `[0, WORLD]`.
pub fn project(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0;
    (x * WORLD, y * WORLD)
}

/// The inverse of [`project`].
pub fn unproject(x: f64, y: f64) -> (f64, f64) {
    let lon = x / WORLD * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y / WORLD);
    let lat = n.sinh().atan().to_degrees();
    (lon, lat)
}

/// A polygon ready to draw: its SVG path in world units, its world bounding box and label point.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub path: String,
    pub min: (f64, f64),
    pub max: (f64, f64),
    pub label_at: (f64, f64),
}

/// Builds the world-space SVG path of a (multi)polygon, holes included (`fill-rule: evenodd`).
/// Coordinates are written with enough decimals for street-level zoom (~0.1 m).
pub fn shape(mp: &MultiPolygon<f64>) -> Option<Shape> {
    let rect = mp.bounding_rect()?;
    let centroid = mp.centroid()?;
    let mut path = String::new();
    for poly in mp {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for (i, c) in ring.coords().enumerate() {
                let (x, y) = project(c.x, c.y);
                let cmd = if i == 0 { 'M' } else { 'L' };
                let _ = write!(path, "{cmd}{x:.7} {y:.7}");
            }
            path.push('Z');
        }
    }
    let (x0, y1) = project(rect.min().x, rect.min().y);
    let (x1, y0) = project(rect.max().x, rect.max().y);
    Some(Shape {
        path,
        min: (x0, y0),
        max: (x1, y1),
        label_at: project(centroid.x(), centroid.y()),
    })
}

/// What part of the world the screen shows: `centre` in world units, `scale` in screen pixels
/// per world unit (zoom level z ⇔ scale 2^z), on a `width × height` pixel screen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    pub width: f64,
    pub height: f64,
    pub centre: (f64, f64),
    pub scale: f64,
}

/// Zoom limits: the whole city down to street level.
pub const MIN_ZOOM: f64 = 8.0;
pub const MAX_ZOOM: f64 = 20.0;

impl Viewport {
    /// The viewport that fits the world box `min..max` with `padding` pixels around it.
    pub fn fit(min: (f64, f64), max: (f64, f64), width: f64, height: f64, padding: f64) -> Self {
        let w = (max.0 - min.0).max(1e-9);
        let h = (max.1 - min.1).max(1e-9);
        let scale =
            ((width - 2.0 * padding).max(1.0) / w).min((height - 2.0 * padding).max(1.0) / h);
        let centre = (f64::midpoint(min.0, max.0), f64::midpoint(min.1, max.1));
        Self {
            width,
            height,
            centre,
            scale: clamp_scale(scale),
        }
    }

    /// The zoom level (log2 of the scale).
    pub fn zoom(&self) -> f64 {
        self.scale.log2()
    }

    /// World → screen pixels.
    pub fn to_screen(&self, p: (f64, f64)) -> (f64, f64) {
        (
            (p.0 - self.centre.0) * self.scale + self.width / 2.0,
            (p.1 - self.centre.1) * self.scale + self.height / 2.0,
        )
    }

    /// Screen pixels → world.
    pub fn to_world(&self, s: (f64, f64)) -> (f64, f64) {
        (
            (s.0 - self.width / 2.0) / self.scale + self.centre.0,
            (s.1 - self.height / 2.0) / self.scale + self.centre.1,
        )
    }

    /// Moves the map by a drag of `(dx, dy)` screen pixels.
    #[must_use]
    pub fn pan(self, dx: f64, dy: f64) -> Self {
        Self {
            centre: (
                self.centre.0 - dx / self.scale,
                self.centre.1 - dy / self.scale,
            ),
            ..self
        }
    }

    /// Zooms by `factor` keeping the world point under screen point `at` fixed (mouse wheel,
    /// double tap, keyboard with `at` = screen centre).
    #[must_use]
    pub fn zoom_at(self, factor: f64, at: (f64, f64)) -> Self {
        let anchor = self.to_world(at);
        let scale = clamp_scale(self.scale * factor);
        let centre = (
            anchor.0 - (at.0 - self.width / 2.0) / scale,
            anchor.1 - (at.1 - self.height / 2.0) / scale,
        );
        Self {
            centre,
            scale,
            ..self
        }
    }

    /// A two-finger pinch: the fingers moved from `a0, b0` to `a1, b1` (screen pixels). The map
    /// zooms by the change of their distance and follows the midpoint.
    #[must_use]
    pub fn pinch(self, a0: (f64, f64), b0: (f64, f64), a1: (f64, f64), b1: (f64, f64)) -> Self {
        let d0 = (b0.0 - a0.0).hypot(b0.1 - a0.1).max(1.0);
        let d1 = (b1.0 - a1.0).hypot(b1.1 - a1.1).max(1.0);
        let m0 = (f64::midpoint(a0.0, b0.0), f64::midpoint(a0.1, b0.1));
        let m1 = (f64::midpoint(a1.0, b1.0), f64::midpoint(a1.1, b1.1));
        self.zoom_at(d1 / d0, m0).pan(m1.0 - m0.0, m1.1 - m0.1)
    }

    /// The SVG transform that maps world units to this screen.
    pub fn svg_transform(&self) -> String {
        let tx = self.width / 2.0 - self.centre.0 * self.scale;
        let ty = self.height / 2.0 - self.centre.1 * self.scale;
        format!("matrix({s} 0 0 {s} {tx:.3} {ty:.3})", s = self.scale)
    }

    /// Whether a world box is at least partly on screen.
    pub fn sees(&self, min: (f64, f64), max: (f64, f64)) -> bool {
        let a = self.to_screen(min);
        let b = self.to_screen(max);
        a.0 <= self.width && b.0 >= 0.0 && a.1 <= self.height && b.1 >= 0.0
    }

    /// Whether a world box is big enough on screen to carry a label.
    pub fn fits_label(&self, min: (f64, f64), max: (f64, f64), min_px: f64) -> bool {
        (max.0 - min.0) * self.scale >= min_px && (max.1 - min.1) * self.scale >= min_px * 0.5
    }

    /// Raster tiles `(z, x, y)` covering the screen at the nearest whole zoom, with the
    /// world-space box each covers (so they sit in the same transformed group as the polygons).
    pub fn tiles(&self) -> Vec<Tile> {
        let z = self.zoom().round().clamp(0.0, 22.0) as u32;
        let n = f64::from(1u32 << z.min(31));
        let size = WORLD / n;
        let tl = self.to_world((0.0, 0.0));
        let br = self.to_world((self.width, self.height));
        let (x0, x1) = (
            (tl.0 / size).floor().max(0.0),
            (br.0 / size).floor().min(n - 1.0),
        );
        let (y0, y1) = (
            (tl.1 / size).floor().max(0.0),
            (br.1 / size).floor().min(n - 1.0),
        );
        let mut out = Vec::new();
        let mut y = y0;
        while y <= y1 {
            let mut x = x0;
            while x <= x1 {
                out.push(Tile {
                    z,
                    x: x as u32,
                    y: y as u32,
                    world_x: x * size,
                    world_y: y * size,
                    world_size: size,
                });
                x += 1.0;
            }
            y += 1.0;
        }
        out
    }
}

fn clamp_scale(s: f64) -> f64 {
    s.clamp(MIN_ZOOM.exp2(), MAX_ZOOM.exp2())
}

/// One raster tile of an optional background layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tile {
    pub z: u32,
    pub x: u32,
    pub y: u32,
    pub world_x: f64,
    pub world_y: f64,
    pub world_size: f64,
}

impl Tile {
    /// The tile's URL from a template with `{z}`, `{x}`, `{y}`.
    pub fn url(&self, template: &str) -> String {
        template
            .replace("{z}", &self.z.to_string())
            .replace("{x}", &self.x.to_string())
            .replace("{y}", &self.y.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6
    }

    #[test]
    fn projection_round_trips() {
        for (lon, lat) in [(100.2, 25.6), (0.0, 0.0), (-120.5, -33.3)] {
            let (x, y) = project(lon, lat);
            let back = unproject(x, y);
            assert!(close(back, (lon, lat)), "{back:?}");
        }
        assert!(close(project(0.0, 0.0), (WORLD / 2.0, WORLD / 2.0)));
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let vp = Viewport {
            width: 390.0,
            height: 700.0,
            centre: project(100.2, 25.6),
            scale: 2f64.powi(13),
        };
        let at = (50.0, 120.0);
        let before = vp.to_world(at);
        let z = vp.zoom_at(2.0, at);
        assert!((z.zoom() - vp.zoom() - 1.0).abs() < 1e-9);
        assert!(close(z.to_world(at), before));
        // Zoom is clamped.
        assert!(vp.zoom_at(1e9, at).zoom() <= MAX_ZOOM + 1e-9);
    }

    #[test]
    fn pan_and_pinch_follow_the_fingers() {
        let vp = Viewport {
            width: 400.0,
            height: 400.0,
            centre: (100.0, 100.0),
            scale: 1024.0,
        };
        let w = vp.to_world((10.0, 10.0));
        let moved = vp.pan(30.0, -20.0);
        assert!(close(moved.to_screen(w), (40.0, -10.0)));
        // Spreading two fingers apart doubles the zoom around their midpoint.
        let p = vp.pinch(
            (150.0, 200.0),
            (250.0, 200.0),
            (100.0, 200.0),
            (300.0, 200.0),
        );
        assert!((p.scale / vp.scale - 2.0).abs() < 1e-9);
        assert!(close(
            p.to_world((200.0, 200.0)),
            vp.to_world((200.0, 200.0))
        ));
    }

    #[test]
    fn fit_shows_the_whole_box_and_the_transform_matches() {
        let min = project(100.1, 25.7);
        let max = project(100.3, 25.5);
        let (min, max) = ((min.0, min.1), (max.0, max.1));
        let vp = Viewport::fit(min, max, 390.0, 600.0, 10.0);
        for p in [min, max] {
            let s = vp.to_screen(p);
            assert!(
                s.0 >= 9.9 && s.0 <= 380.1 && s.1 >= 9.9 && s.1 <= 590.1,
                "{s:?}"
            );
        }
        // The SVG matrix maps a world point where to_screen does.
        let t = vp.svg_transform();
        let nums: Vec<f64> = t
            .trim_start_matches("matrix(")
            .trim_end_matches(')')
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        let s = vp.to_screen(min);
        assert!((nums[0] * min.0 + nums[4] - s.0).abs() < 1e-2);
        assert!((nums[3] * min.1 + nums[5] - s.1).abs() < 1e-2);
    }

    #[test]
    fn shapes_keep_holes_and_tiles_cover_the_screen() {
        let g = json!({"type":"Polygon","coordinates":[
            [[100.0,25.0],[100.2,25.0],[100.2,25.2],[100.0,25.2],[100.0,25.0]],
            [[100.05,25.05],[100.1,25.05],[100.1,25.1],[100.05,25.05]]]});
        let mp = tongxin_shared::geo::polygon_from_geojson(&g).unwrap();
        let s = shape(&mp).unwrap();
        assert_eq!(s.path.matches('Z').count(), 2);
        assert!(s.min.0 < s.label_at.0 && s.label_at.0 < s.max.0);
        let vp = Viewport::fit(s.min, s.max, 512.0, 512.0, 0.0);
        let tiles = vp.tiles();
        assert!(!tiles.is_empty() && tiles.len() <= 16, "{}", tiles.len());
        assert!(tiles.iter().all(|t| t.z == vp.zoom().round() as u32));
        assert_eq!(
            tiles[0].url("https://t/{z}/{x}/{y}.png"),
            format!("https://t/{}/{}/{}.png", tiles[0].z, tiles[0].x, tiles[0].y)
        );
        assert!(vp.sees(s.min, s.max));
        assert!(!vp.sees((0.0, 0.0), (1.0, 1.0)));
    }
}
