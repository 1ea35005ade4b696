//! Case deadlines and escalation steps, configurable per deployment (`tongxin --deadlines
//! FILE`): how many hours a case of each category has to be resolved, and after how many days
//! past its deadline an open case goes up from the community's supervision queue to the
//! subdistrict's and then the city's. [`Deadlines::default`] is the built-in table.
//!
//! The server reads the file once at start ([`Deadlines::from_json`], which refuses anything it
//! would have to guess about, with a message naming the value), serves it at
//! `GET /api/v1/settings`, and its escalation sweeper uses the steps; the app keeps the last copy
//! it fetched, so a new case gets the configured deadline offline too. The functions that use it
//! are in [`crate::case`].

use crate::schema::CASE_CATEGORIES;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest time to resolve a case that a deployment may configure: a year, in hours.
pub const MAX_HOURS: u32 = 366 * 24;
/// Longest escalation step: a year, in days.
pub const MAX_DAYS: u32 = 366;

/// Deadlines per case category and the escalation steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// Hours to resolve a case whose category is not listed in `hours`.
    pub default_hours: u32,
    /// Hours to resolve a case, per category (`schema::CASE_CATEGORIES`).
    #[serde(default)]
    pub hours: BTreeMap<String, u32>,
    #[serde(default)]
    pub escalation: EscalationSteps,
}

/// When an overdue, still open case moves up a level. Overdue at all: the community (the level
/// above the grid). More than `subdistrict_after_days` past the deadline: the subdistrict. More
/// than `city_after_days`: the city.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationSteps {
    pub subdistrict_after_days: u32,
    pub city_after_days: u32,
}

impl Default for EscalationSteps {
    fn default() -> Self {
        Self {
            subdistrict_after_days: 3,
            city_after_days: 7,
        }
    }
}

impl Default for Deadlines {
    /// The built-in table: safety problems a day; environment, elderly care and Erhai lake
    /// protection three days; neighbour disputes five; everything else a week.
    fn default() -> Self {
        let hours = [
            ("safety", 24),
            ("environment", 72),
            ("elderly_care", 72),
            ("erhai_protection", 72),
            ("neighbour_dispute", 120),
        ]
        .into_iter()
        .map(|(c, h)| (c.to_owned(), h))
        .collect();
        Self {
            default_hours: 168,
            hours,
            escalation: EscalationSteps::default(),
        }
    }
}

/// Why a deadlines configuration is refused. Each message names the value and says what would
/// be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeadlinesError {
    #[error("the deadlines are not valid JSON of the expected shape: {0}")]
    Json(String),
    #[error("{what} must be a whole number of hours from 1 to {MAX_HOURS}; it is {got}")]
    Hours { what: String, got: i64 },
    #[error("'{0}' is not a case category; the categories are: {known}", known = CASE_CATEGORIES.join(", "))]
    UnknownCategory(String),
    #[error("escalation.{what} must be a whole number of days from 1 to {MAX_DAYS}; it is {got}")]
    Days { what: &'static str, got: i64 },
    #[error(
        "escalation.city_after_days ({city}) must be more than escalation.subdistrict_after_days ({subdistrict}): a case reaches the subdistrict before the city"
    )]
    StepsOrder { subdistrict: u32, city: u32 },
}

/// The configuration file as written by a person: every key optional (an omitted one keeps the
/// built-in value), unknown keys refused (a misspelt key would otherwise be silently ignored),
/// numbers read as signed so that a negative one gets our message rather than a parser's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDeadlines {
    default_hours: Option<i64>,
    hours: Option<BTreeMap<String, i64>>,
    escalation: Option<FileSteps>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSteps {
    subdistrict_after_days: Option<i64>,
    city_after_days: Option<i64>,
}

fn hours(what: impl Into<String>, got: i64) -> Result<u32, DeadlinesError> {
    u32::try_from(got)
        .ok()
        .filter(|h| (1..=MAX_HOURS).contains(h))
        .ok_or_else(|| DeadlinesError::Hours {
            what: what.into(),
            got,
        })
}

fn days(what: &'static str, got: i64) -> Result<u32, DeadlinesError> {
    u32::try_from(got)
        .ok()
        .filter(|d| (1..=MAX_DAYS).contains(d))
        .ok_or(DeadlinesError::Days { what, got })
}

impl Deadlines {
    /// Reads a deployment's deadlines file (JSON), e.g.
    /// `{"default_hours": 168, "hours": {"safety": 12}, "escalation": {"subdistrict_after_days": 2, "city_after_days": 5}}`.
    /// Omitted keys keep the built-in values; `hours`, when given, replaces the built-in table
    /// (a category it does not list gets `default_hours`).
    pub fn from_json(text: &str) -> Result<Self, DeadlinesError> {
        let file: FileDeadlines =
            serde_json::from_str(text).map_err(|e| DeadlinesError::Json(e.to_string()))?;
        let mut out = Self::default();
        if let Some(h) = file.default_hours {
            out.default_hours = hours("default_hours", h)?;
        }
        if let Some(map) = file.hours {
            out.hours = map
                .into_iter()
                .map(|(category, h)| {
                    let h = hours(format!("hours.{category}"), h)?;
                    Ok((category, h))
                })
                .collect::<Result<_, DeadlinesError>>()?;
        }
        if let Some(steps) = file.escalation {
            if let Some(d) = steps.subdistrict_after_days {
                out.escalation.subdistrict_after_days = days("subdistrict_after_days", d)?;
            }
            if let Some(d) = steps.city_after_days {
                out.escalation.city_after_days = days("city_after_days", d)?;
            }
        }
        out.validate()?;
        Ok(out)
    }

    /// Checks every value: hours and days within range, known categories, the city step after
    /// the subdistrict's. (The app checks what the server sends too, and keeps its last good
    /// copy otherwise.)
    pub fn validate(&self) -> Result<(), DeadlinesError> {
        hours("default_hours", i64::from(self.default_hours))?;
        for (category, h) in &self.hours {
            if !CASE_CATEGORIES.contains(&category.as_str()) {
                return Err(DeadlinesError::UnknownCategory(category.clone()));
            }
            hours(format!("hours.{category}"), i64::from(*h))?;
        }
        let EscalationSteps {
            subdistrict_after_days: sub,
            city_after_days: city,
        } = self.escalation;
        days("subdistrict_after_days", i64::from(sub))?;
        days("city_after_days", i64::from(city))?;
        if city <= sub {
            return Err(DeadlinesError::StepsOrder {
                subdistrict: sub,
                city,
            });
        }
        Ok(())
    }

    /// Hours to resolve a case of `category`.
    pub fn hours_for(&self, category: &str) -> u32 {
        self.hours
            .get(category)
            .copied()
            .unwrap_or(self.default_hours)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_built_in_table_and_valid() {
        let d = Deadlines::default();
        assert_eq!(d.hours_for("safety"), 24);
        assert_eq!(d.hours_for("environment"), 72);
        assert_eq!(d.hours_for("elderly_care"), 72);
        assert_eq!(d.hours_for("erhai_protection"), 72);
        assert_eq!(d.hours_for("neighbour_dispute"), 120);
        assert_eq!(d.hours_for("infrastructure"), 168);
        assert_eq!(d.hours_for("unknown"), 168);
        assert_eq!(d.escalation.subdistrict_after_days, 3);
        assert_eq!(d.escalation.city_after_days, 7);
        assert_eq!(d.validate(), Ok(()));
    }

    #[test]
    fn a_file_overrides_what_it_names_and_keeps_the_rest() {
        let d = Deadlines::from_json(r#"{"escalation": {"city_after_days": 10}}"#).unwrap();
        assert_eq!(d.escalation.subdistrict_after_days, 3);
        assert_eq!(d.escalation.city_after_days, 10);
        assert_eq!(d.hours, Deadlines::default().hours);

        // `hours` replaces the table: an unlisted category gets `default_hours`.
        let d = Deadlines::from_json(r#"{"default_hours": 48, "hours": {"safety": 12}}"#).unwrap();
        assert_eq!(d.hours_for("safety"), 12);
        assert_eq!(d.hours_for("environment"), 48);
        assert_eq!(Deadlines::from_json("{}").unwrap(), Deadlines::default());
    }

    #[test]
    fn the_wire_form_round_trips() {
        let d = Deadlines::default();
        let text = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Deadlines>(&text).unwrap(), d);
        // A file written from the wire form reads back the same.
        assert_eq!(Deadlines::from_json(&text).unwrap(), d);
    }

    #[test]
    fn bad_values_are_refused_with_a_message_naming_them() {
        let err = |text: &str| Deadlines::from_json(text).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"hours": {"safety": 0}}"#),
            format!("hours.safety must be a whole number of hours from 1 to {MAX_HOURS}; it is 0")
        );
        assert!(err(r#"{"default_hours": -5}"#).starts_with("default_hours must be"));
        assert!(err(r#"{"default_hours": 100000}"#).contains("it is 100000"));
        assert!(err(r#"{"hours": {"safty": 12}}"#)
            .starts_with("'safty' is not a case category; the categories are: environment"));
        assert!(err(r#"{"escalation": {"subdistrict_after_days": 0}}"#)
            .starts_with("escalation.subdistrict_after_days must be"));
        assert_eq!(
            err(r#"{"escalation": {"subdistrict_after_days": 7, "city_after_days": 7}}"#),
            "escalation.city_after_days (7) must be more than escalation.subdistrict_after_days (7): a case reaches the subdistrict before the city"
        );
        // A misspelt key is not silently ignored.
        assert!(err(r#"{"default_hour": 12}"#).contains("unknown field `default_hour`"));
        assert!(err(r#"{"hours": {"safety": 1.5}}"#).starts_with("the deadlines are not valid"));
        assert!(err("not json").starts_with("the deadlines are not valid JSON"));
        assert!(err("[]").starts_with("the deadlines are not valid JSON"));
    }

    #[test]
    fn validate_checks_what_was_built_in_code_or_received() {
        let mut d = Deadlines::default();
        d.hours.insert("safety".into(), 0);
        assert!(matches!(d.validate(), Err(DeadlinesError::Hours { .. })));
        let d = Deadlines {
            default_hours: 0,
            ..Deadlines::default()
        };
        assert!(d.validate().is_err());
        let mut d = Deadlines::default();
        d.escalation.city_after_days = 2;
        assert!(matches!(
            d.validate(),
            Err(DeadlinesError::StepsOrder { .. })
        ));
    }
}
