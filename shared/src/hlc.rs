//! Hybrid logical clock and stamps.
//!
//! An [`Hlc`] is `(wall_ms, counter)`. Each local op takes `max(now, last) + tick`; on every
//! server response the app learns the server's time and keeps an offset, so a phone whose clock
//! is a day ahead does not win every conflict. The clock is pure: the caller passes `now`.

use crate::ids::ActorId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A hybrid logical clock reading. Ordered by wall time, then counter.
///
/// On the wire it is a fixed-width string `"WWWWWWWWWWWWWWW-CCCCCC"` (15-digit milliseconds,
/// 6-digit counter), so that string order equals clock order, also inside a database.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch.
    pub wall_ms: u64,
    /// Logical counter within one millisecond.
    pub counter: u32,
}

/// The largest counter the wire format can carry.
pub const MAX_COUNTER: u32 = 999_999;
/// The largest wall time the wire format can carry.
pub const MAX_WALL_MS: u64 = 999_999_999_999_999;

impl Hlc {
    /// Makes a clock reading.
    pub const fn new(wall_ms: u64, counter: u32) -> Self {
        Self { wall_ms, counter }
    }

    /// The next reading after `self` for a local event at physical time `now_ms`.
    #[must_use]
    pub fn tick(self, now_ms: u64) -> Self {
        if now_ms > self.wall_ms {
            Self::new(now_ms, 0)
        } else if self.counter >= MAX_COUNTER {
            // Counter exhausted within one millisecond: borrow the next millisecond.
            Self::new(self.wall_ms + 1, 0)
        } else {
            Self::new(self.wall_ms, self.counter + 1)
        }
    }

    /// The reading after observing a remote reading `remote` at physical time `now_ms`: greater
    /// than both, so causality is kept.
    #[must_use]
    pub fn observe(self, remote: Hlc, now_ms: u64) -> Self {
        self.max(remote).tick(now_ms)
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}-{:06}", self.wall_ms, self.counter)
    }
}

/// Why a string is not an HLC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid HLC '{0}': expected 15 digits, '-', 6 digits")]
pub struct HlcParseError(pub String);

impl FromStr for Hlc {
    type Err = HlcParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || HlcParseError(s.chars().take(40).collect());
        let (w, c) = s.split_once('-').ok_or_else(err)?;
        if w.len() != 15 || c.len() != 6 || !w.bytes().chain(c.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        Ok(Self::new(
            w.parse().map_err(|_| err())?,
            c.parse().map_err(|_| err())?,
        ))
    }
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Who wrote a value and when: compared by HLC, ties broken by actor id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    pub hlc: Hlc,
    pub actor: ActorId,
}

/// A device's clock: the last reading handed out and the offset to the server's clock.
///
/// Pure: the caller supplies the device time. `offset_ms` is `server - device`, learnt from each
/// server response, so readings follow the server's idea of time, not a wrong phone clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HlcClock {
    pub last: Hlc,
    pub offset_ms: i64,
}

impl HlcClock {
    /// Device time corrected by the learnt offset.
    pub fn corrected(&self, device_now_ms: u64) -> u64 {
        device_now_ms.saturating_add_signed(self.offset_ms)
    }

    /// Hands out the next reading for a local op.
    pub fn next(&mut self, device_now_ms: u64) -> Hlc {
        self.last = self.last.tick(self.corrected(device_now_ms));
        self.last
    }

    /// Learns the server's time from a response received at `device_now_ms`.
    pub fn learn_server_time(&mut self, server_now_ms: u64, device_now_ms: u64) {
        let server = i64::try_from(server_now_ms).unwrap_or(i64::MAX);
        let device = i64::try_from(device_now_ms).unwrap_or(i64::MAX);
        self.offset_ms = server.saturating_sub(device);
    }

    /// Keeps causality after merging a remote stamp.
    pub fn observe(&mut self, remote: Hlc, device_now_ms: u64) {
        if remote > self.last {
            self.last = self.last.observe(remote, self.corrected(device_now_ms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_sorts_like_the_clock() {
        let a = Hlc::new(1_700_000_000_000, 5);
        let b = Hlc::new(1_700_000_000_000, 12);
        let c = Hlc::new(1_700_000_000_001, 0);
        assert!(a < b && b < c);
        assert!(a.to_string() < b.to_string() && b.to_string() < c.to_string());
        assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a);
    }

    #[test]
    fn bad_wire_forms_are_refused() {
        for s in [
            "",
            "1-2",
            "00000000000000a-000000",
            "000000000000001-00000",
            "x",
        ] {
            assert!(s.parse::<Hlc>().is_err(), "{s}");
        }
    }

    #[test]
    fn tick_is_monotonic_even_when_the_clock_goes_back() {
        let mut clock = HlcClock::default();
        let a = clock.next(1000);
        let b = clock.next(900);
        let c = clock.next(900);
        assert!(a < b && b < c);
        assert_eq!(b.wall_ms, 1000);
    }

    #[test]
    fn the_offset_corrects_a_clock_that_runs_a_day_ahead() {
        let day = 86_400_000;
        let mut clock = HlcClock::default();
        clock.learn_server_time(10_000, 10_000 + day);
        let h = clock.next(20_000 + day);
        assert_eq!(h.wall_ms, 20_000);
    }

    #[test]
    fn counter_overflow_borrows_the_next_millisecond() {
        let h = Hlc::new(5, MAX_COUNTER).tick(5);
        assert_eq!(h, Hlc::new(6, 0));
    }
}
