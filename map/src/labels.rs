//! Placing map labels so they never collide: labels are taken in order of priority (the most
//! important first), each tries its own spot, then a line above, a line below, two lines above and below; a label that
//! fits nowhere is not drawn. Everything is in screen pixels, recomputed per frame (a few dozen
//! labels).

/// A label to place: its anchor and size on screen (px) and its priority (lower goes first).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelBox {
    pub at: (f64, f64),
    pub size: (f64, f64),
    pub priority: u8,
}

/// The on-screen size of a line of text at `font_px`: a CJK character is about one em wide,
/// other characters about 0.6 em; the height is one line (1.2 em).
pub fn text_size(text: &str, font_px: f64) -> (f64, f64) {
    let ems: f64 = text
        .chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.0 })
        .sum();
    (ems * font_px, 1.2 * font_px)
}

/// Room kept between two labels, px.
const GAP: f64 = 2.0;

fn overlaps(a: ((f64, f64), (f64, f64)), b: ((f64, f64), (f64, f64))) -> bool {
    let ((ax, ay), (aw, ah)) = a;
    let ((bx, by), (bw, bh)) = b;
    (ax - bx).abs() * 2.0 < aw + bw + 2.0 * GAP && (ay - by).abs() * 2.0 < ah + bh + 2.0 * GAP
}

/// Where each label goes (its centre, px), or `None` when it would collide with a label of
/// higher priority wherever it went. Equal priorities keep the input order.
pub fn place_labels(labels: &[LabelBox]) -> Vec<Option<(f64, f64)>> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by_key(|&i| (labels[i].priority, i));
    let mut placed: Vec<((f64, f64), (f64, f64))> = Vec::new();
    let mut out = vec![None; labels.len()];
    for i in order {
        let l = labels[i];
        let step = l.size.1 + 2.0 * GAP;
        let spot = [0.0, -step, step, -2.0 * step, 2.0 * step]
            .into_iter()
            .map(|dy| (l.at.0, l.at.1 + dy))
            .find(|&c| placed.iter().all(|&p| !overlaps((c, l.size), p)));
        if let Some(c) = spot {
            placed.push((c, l.size));
            out[i] = Some(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(x: f64, y: f64, text: &str, px: f64, priority: u8) -> LabelBox {
        LabelBox {
            at: (x, y),
            size: text_size(text, px),
            priority,
        }
    }

    #[test]
    fn text_size_counts_cjk_as_one_em() {
        assert_eq!(text_size("下关街道", 10.0), (40.0, 12.0));
        assert_eq!(text_size("ab", 10.0), (12.0, 12.0));
    }

    #[test]
    fn a_lower_priority_label_moves_aside_or_is_hidden_never_overlapping() {
        // A community name right on top of its subdistrict's name (given first in the input
        // but of lower priority).
        let community = label(100.0, 100.0, "龙龛社区", 12.0, 2);
        let subdistrict = label(102.0, 101.0, "下关街道", 15.0, 0);
        let placed = place_labels(&[community, subdistrict]);
        assert_eq!(
            placed[1],
            Some((102.0, 101.0)),
            "the subdistrict keeps its spot"
        );
        let c = placed[0].expect("the community moves above or below");
        assert!((c.1 - 100.0).abs() > 10.0, "{c:?}");
        // Six labels on one spot: five spots exist, so the least important is hidden.
        let crowd: Vec<LabelBox> = (0..6)
            .map(|i| label(100.0, 100.0, "太和社区", 12.0, 1 + i))
            .collect();
        let placed = place_labels(&crowd);
        assert_eq!(placed.iter().filter(|p| p.is_some()).count(), 5);
        assert_eq!(placed[5], None, "the least important is the one hidden");
        // Labels far apart all stay where they are.
        let apart = [
            label(0.0, 0.0, "甲", 12.0, 0),
            label(200.0, 0.0, "乙", 12.0, 0),
        ];
        assert_eq!(
            place_labels(&apart),
            vec![Some((0.0, 0.0)), Some((200.0, 0.0))]
        );
    }

    #[test]
    fn no_two_placed_labels_overlap_in_a_crowded_map() {
        // A deterministic scatter of 200 labels over a 640 × 520 screen.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as f64 / f64::from(1u32 << 31)
        };
        let labels: Vec<LabelBox> = (0..200)
            .map(|i| {
                label(
                    next() * 640.0,
                    next() * 520.0,
                    "某某社区",
                    12.0,
                    (i % 4) as u8,
                )
            })
            .collect();
        let placed = place_labels(&labels);
        let boxes: Vec<((f64, f64), (f64, f64))> = placed
            .iter()
            .zip(&labels)
            .filter_map(|(p, l)| p.map(|c| (c, l.size)))
            .collect();
        assert!(boxes.len() > 20, "{}", boxes.len());
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert!(!overlaps(*a, *b), "{a:?} overlaps {b:?}");
            }
        }
    }
}
