//! How long to wait before trying again (pure, tested natively). `random` is a number in
//! `[0, 1)` (the caller passes `Math.random()`), so the jitter is testable.

/// Attempts of one request before the round gives up on it.
pub const REQUEST_ATTEMPTS: u32 = 4;
/// The shortest wait before trying a failed request again.
const MIN_MS: f64 = 500.0;
/// The longest wait between two attempts of one request, or two openings of the live stream.
const REQUEST_CAP_MS: f64 = 4_000.0;
/// The longest wait between two failed rounds.
const ROUND_CAP_MS: f64 = 30_000.0;

fn jittered(base: f64, cap: f64, random: f64) -> u32 {
    let top = base.min(cap).max(MIN_MS);
    (MIN_MS + random.clamp(0.0, 1.0) * (top - MIN_MS)) as u32
}

/// The wait before attempt `attempt + 1` of a request that failed `attempt` times (≥ 1):
/// 0.5 s, then up to 1, 2, 4 s, with full jitter above the 0.5 s floor.
pub fn request_delay_ms(attempt: u32, random: f64) -> u32 {
    let base = MIN_MS * f64::from(1u32 << attempt.saturating_sub(1).min(8));
    jittered(base, REQUEST_CAP_MS, random)
}

/// The wait before the next round after `failures` failed rounds in a row (≥ 1). Any request
/// that succeeds resets the count, so a lossy link keeps short rounds.
pub fn round_delay_ms(failures: u32, random: f64) -> u32 {
    let base = MIN_MS * f64::from(1u32 << failures.min(8));
    jittered(base, ROUND_CAP_MS, random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_retries_wait_half_a_second_to_four() {
        assert_eq!(request_delay_ms(1, 0.99), 500);
        for attempt in 1..10 {
            for r in [0.0, 0.5, 0.999] {
                let d = request_delay_ms(attempt, r);
                assert!((500..=4_000).contains(&d), "{attempt} {r}: {d}");
            }
        }
        assert_eq!(request_delay_ms(4, 0.0), 500);
        assert!(request_delay_ms(4, 0.999) > 3_900);
        assert!(request_delay_ms(2, 0.999) <= 1_000);
    }

    #[test]
    fn round_backoff_grows_to_thirty_seconds_and_is_jittered() {
        assert!(round_delay_ms(1, 0.999) <= 1_000);
        assert!(round_delay_ms(20, 0.999) > 29_000);
        assert!(round_delay_ms(20, 0.999) <= 30_000);
        assert_ne!(round_delay_ms(5, 0.1), round_delay_ms(5, 0.9));
    }
}
