//! Colouring grids by a chosen measure, with the legend that explains it. Colours come from
//! ColorBrewer's sequential palettes (colour-blind safe, readable on a plain background).

use serde::{Deserialize, Serialize};
use tongxin_shared::figures::GridState;

/// What the map colours by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    OpenCases,
    OverdueCases,
    DaysSinceVisit,
}

impl Measure {
    pub const ALL: [Measure; 3] = [Self::OpenCases, Self::OverdueCases, Self::DaysSinceVisit];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenCases => "open_cases",
            Self::OverdueCases => "overdue_cases",
            Self::DaysSinceVisit => "days_since_visit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The legend: upper bounds (inclusive) of each bin with its colour; the last bin is open.
    pub fn legend(self) -> &'static [(Option<u32>, &'static str)] {
        match self {
            // Oranges: more open work, darker.
            Self::OpenCases => &[
                (Some(0), "#fff5eb"),
                (Some(2), "#fdd0a2"),
                (Some(5), "#fd8d3c"),
                (Some(10), "#d94801"),
                (None, "#7f2704"),
            ],
            // Reds: any overdue case stands out.
            Self::OverdueCases => &[
                (Some(0), "#f7f7f7"),
                (Some(1), "#fcbba1"),
                (Some(3), "#fb6a4a"),
                (None, "#a50f15"),
            ],
            // Purples: days since the last visit; never visited is the darkest.
            Self::DaysSinceVisit => &[
                (Some(3), "#f2f0f7"),
                (Some(7), "#cbc9e2"),
                (Some(14), "#9e9ac8"),
                (Some(30), "#756bb1"),
                (None, "#54278f"),
            ],
        }
    }

    /// The value of the measure for a grid.
    pub fn value(self, s: &GridState, now_ms: u64) -> u32 {
        match self {
            Self::OpenCases => s.open,
            Self::OverdueCases => s.overdue,
            Self::DaysSinceVisit => s
                .last_visit_ms
                .map_or(u32::MAX, |t| (now_ms.saturating_sub(t) / 86_400_000) as u32),
        }
    }

    /// The fill colour of a grid.
    pub fn colour(self, s: &GridState, now_ms: u64) -> &'static str {
        let v = self.value(s, now_ms);
        let legend = self.legend();
        legend
            .iter()
            .find(|(hi, _)| hi.is_some_and(|h| v <= h))
            .or(legend.last())
            .map_or("#ffffff", |(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_and_colours() {
        let day = 86_400_000;
        let quiet = GridState {
            open: 0,
            overdue: 0,
            last_visit_ms: Some(10 * day),
        };
        let busy = GridState {
            open: 12,
            overdue: 2,
            last_visit_ms: None,
        };
        assert_eq!(Measure::OpenCases.colour(&quiet, 11 * day), "#fff5eb");
        assert_eq!(Measure::OpenCases.colour(&busy, 0), "#7f2704");
        assert_eq!(Measure::OverdueCases.colour(&busy, 0), "#fb6a4a");
        assert_eq!(Measure::DaysSinceVisit.colour(&quiet, 11 * day), "#f2f0f7");
        assert_eq!(
            Measure::DaysSinceVisit.colour(&busy, 0),
            "#54278f",
            "never visited"
        );
        for m in Measure::ALL {
            assert_eq!(Measure::parse(m.as_str()), Some(m));
            assert!(m.legend().last().unwrap().0.is_none(), "last bin is open");
        }
    }
}
