//! The deployment's settings (`GET /api/v1/settings`: case deadlines per category and the
//! escalation steps). The sync loop fetches them at sign-in and then hourly and keeps the last
//! good copy in the local meta store, so a case reported offline still gets the configured
//! deadline; until the first fetch the built-in table applies. Pure helpers, tested natively.

use tongxin_shared::case::Deadlines;
use tongxin_shared::wire::Settings;

/// The meta key of the last settings fetched (JSON of [`Settings`]).
pub const META_SETTINGS: &str = "settings";

/// How often the settings are fetched again while the app runs.
pub const REFRESH_MS: u64 = 3_600_000;

/// Settings as stored or received, if they parse and their deadlines are valid (anything else is
/// ignored: the app keeps what it had).
pub fn decode(text: &str) -> Option<Settings> {
    let s: Settings = serde_json::from_str(text).ok()?;
    s.deadlines.validate().ok()?;
    Some(s)
}

/// The settings in a stored copy; without one (or an unreadable one) the built-in deadlines
/// and no tile layer.
pub fn stored_or_default(stored: Option<&str>) -> Settings {
    stored.and_then(decode).unwrap_or_else(|| Settings {
        deadlines: Deadlines::default(),
        tiles: None,
    })
}

/// Whether it is time to fetch again: never fetched (since sign-in), an hour ago, or the
/// device clock went back since.
pub fn due(last_fetch_ms: Option<u64>, now_ms: u64) -> bool {
    last_fetch_ms.is_none_or(|at| now_ms < at || now_ms - at >= REFRESH_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_settings_are_kept_and_bad_ones_ignored() {
        let mut d = Deadlines::default();
        d.hours.insert("safety".into(), 6);
        let text = serde_json::to_string(&Settings {
            deadlines: d.clone(),
            tiles: None,
        })
        .unwrap();
        assert_eq!(decode(&text).map(|s| s.deadlines), Some(d.clone()));
        assert_eq!(stored_or_default(Some(&text)).deadlines, d);
        // Never fetched, unreadable, or with a value the rules refuse: the built-in table.
        assert_eq!(stored_or_default(None).deadlines, Deadlines::default());
        assert_eq!(stored_or_default(Some("{")).deadlines, Deadlines::default());
        let bad = text.replace("\"safety\":6", "\"safety\":0");
        assert_ne!(bad, text);
        assert_eq!(decode(&bad), None);
        // A newer server may add fields: still read.
        let newer = text.replacen('{', "{\"later\":1,", 1);
        assert_eq!(decode(&newer).map(|s| s.deadlines), Some(d));
    }

    #[test]
    fn fetched_at_sign_in_and_then_hourly() {
        assert!(due(None, 5));
        assert!(!due(Some(1_000), 1_000 + REFRESH_MS - 1));
        assert!(due(Some(1_000), 1_000 + REFRESH_MS));
        // A clock set back does not hold the next fetch off until it catches up.
        assert!(due(Some(1_000), 10));
    }
}
