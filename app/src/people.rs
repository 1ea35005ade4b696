//! The people directory on the device (`GET /api/v1/people`): who the user's colleagues are, by
//! login id and name, so that screens show names instead of login ids — offline too. The sync
//! loop fetches it at sign-in, hourly, and whenever the user's area changed, and keeps the last
//! copy in the local meta store (per user: each user has their own database). Pure helpers,
//! tested natively.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tongxin_shared::wire::Person;

/// The meta key of the last directory fetched (JSON of [`StoredPeople`]).
pub const META_PEOPLE: &str = "people";

/// How often the directory is fetched again while the app runs.
pub const REFRESH_MS: u64 = 3_600_000;

/// The directory as kept on the device: when it was fetched, for which area, and the people.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPeople {
    pub at_ms: u64,
    /// The area fingerprint (`Me::scope`) it was fetched for.
    pub scope: String,
    pub people: Vec<Person>,
}

/// Whether to fetch again: never fetched, fetched for another area, an hour ago, or the device
/// clock went back since.
pub fn due(stored: Option<&StoredPeople>, scope: &str, now_ms: u64) -> bool {
    stored.is_none_or(|s| s.scope != scope || now_ms < s.at_ms || now_ms - s.at_ms >= REFRESH_MS)
}

/// A stored copy, if it reads.
pub fn decode(text: &str) -> Option<StoredPeople> {
    serde_json::from_str(text).ok()
}

/// Names by login id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directory {
    names: HashMap<String, String>,
}

impl Directory {
    pub fn new(people: &[Person]) -> Self {
        Self {
            names: people
                .iter()
                .filter(|p| !p.display_name.trim().is_empty())
                .map(|p| (p.username.clone(), p.display_name.clone()))
                .collect(),
        }
    }

    /// The person's name; the login id itself for someone the directory does not list (outside
    /// the user's area, or not fetched yet).
    pub fn name<'a>(&'a self, username: &'a str) -> &'a str {
        self.names.get(username).map_or(username, String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongxin_shared::case::Role;

    fn person(u: &str, n: &str) -> Person {
        Person {
            username: u.into(),
            display_name: n.into(),
            role: Role::Warden,
        }
    }

    #[test]
    fn names_for_the_listed_and_the_login_id_for_the_others() {
        let d = Directory::new(&[person("w0001", "张三"), person("blank", " ")]);
        assert_eq!(d.name("w0001"), "张三");
        assert_eq!(d.name("c_manager"), "c_manager");
        assert_eq!(d.name("blank"), "blank");
    }

    #[test]
    fn fetched_again_hourly_for_a_new_area_or_when_the_clock_went_back() {
        let s = StoredPeople {
            at_ms: 10_000_000,
            scope: "a".into(),
            people: vec![person("w", "W")],
        };
        assert!(due(None, "a", 0));
        assert!(!due(Some(&s), "a", 10_000_000 + REFRESH_MS - 1));
        assert!(due(Some(&s), "a", 10_000_000 + REFRESH_MS));
        assert!(due(Some(&s), "b", 10_000_001), "another area");
        assert!(due(Some(&s), "a", 9_999_999), "the clock went back");
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(decode(&text), Some(s));
        assert_eq!(decode("{"), None);
    }
}
