//! Sign-in attempt limits, in memory, per instance. Two back-offs, both counting attempts up
//! front (so a burst of parallel guesses is counted before any argon2 hash finishes):
//!
//! - **per account and client address**: wrong guesses at an account from one address make
//!   *that address* wait before it may try that account again, doubling with each further
//!   failure. A success clears it. Guesses from address A never stop the real user signing in
//!   from address B: an attacker cannot lock a warden out.
//! - **per client address** (IPv6 by its /64 network), over all accounts: against spraying one
//!   password at many accounts. A success does not count here.
//!
//! Both tables hold at most [`MAX_TRACKED`] keys; the least recently used key is forgotten
//! first, so memory stays bounded whatever an attacker sends. A username longer than
//! [`MAX_LOGIN_USERNAME_CHARS`] is refused before it is looked at (`auth::login`).

use lru::LruCache;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// The longest username a sign-in may name (accounts have at most 40 characters); longer ones
/// are refused with 400 before they reach the limits or the database.
pub const MAX_LOGIN_USERNAME_CHARS: usize = 64;

/// Most keys each table tracks.
pub const MAX_TRACKED: usize = 50_000;

/// How a run of failed attempts is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts answered without waiting.
    pub free: u32,
    /// The wait after the last free attempt; doubled for every further one.
    pub first_wait_ms: u64,
    /// The longest wait.
    pub max_wait_ms: u64,
    /// A key with no attempt for this long starts over.
    pub forget_after_ms: u64,
}

/// Per account and address: 5 attempts, then 15 s, 30 s, 1 min, … up to 15 min between tries.
pub const PER_ACCOUNT: Backoff = Backoff {
    free: 5,
    first_wait_ms: 15_000,
    max_wait_ms: 15 * 60_000,
    forget_after_ms: 60 * 60_000,
};

/// Per address: 30 failed attempts (any accounts), then 2 s, 4 s, … up to 15 min between tries.
pub const PER_ADDRESS: Backoff = Backoff {
    free: 30,
    first_wait_ms: 2_000,
    max_wait_ms: 15 * 60_000,
    forget_after_ms: 60 * 60_000,
};

impl Backoff {
    /// The wait after the `n`-th attempt (counting from 1).
    fn wait_after(&self, n: u32) -> u64 {
        if n < self.free {
            return 0;
        }
        let doublings = (n - self.free).min(32);
        self.first_wait_ms
            .saturating_mul(1u64 << doublings)
            .min(self.max_wait_ms)
    }
}

#[derive(Clone, Copy, Debug)]
struct Attempts {
    count: u32,
    last_ms: u64,
    until_ms: u64,
}

/// Attempts per key under one [`Backoff`], for at most `cap` keys.
struct AttemptLog<K: Hash + Eq> {
    backoff: Backoff,
    entries: Mutex<LruCache<K, Attempts>>,
}

impl<K: Hash + Eq> AttemptLog<K> {
    fn new(backoff: Backoff, cap: usize) -> Self {
        Self {
            backoff,
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(cap).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<K, Attempts>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `key` must still wait, if it must.
    fn waiting(&self, key: &K, now_ms: u64) -> Option<u64> {
        self.lock()
            .peek(key)
            .filter(|a| a.until_ms > now_ms)
            .map(|a| a.until_ms - now_ms)
    }

    /// Counts an attempt (the caller checked [`Self::waiting`]).
    fn count(&self, key: K, now_ms: u64) {
        let mut entries = self.lock();
        let fresh = Attempts {
            count: 0,
            last_ms: now_ms,
            until_ms: 0,
        };
        let a = entries.get_or_insert_mut(key, || fresh);
        if now_ms.saturating_sub(a.last_ms) >= self.backoff.forget_after_ms {
            *a = fresh;
        }
        a.count += 1;
        a.last_ms = now_ms;
        let wait = self.backoff.wait_after(a.count);
        if wait > 0 {
            a.until_ms = now_ms + wait;
        }
    }

    /// Takes one counted attempt back (it succeeded).
    fn uncount(&self, key: &K) {
        let mut entries = self.lock();
        if let Some(a) = entries.peek_mut(key) {
            a.count = a.count.saturating_sub(1);
            if a.count < self.backoff.free {
                a.until_ms = 0;
            }
        }
    }

    fn forget(&self, key: &K) {
        self.lock().pop(key);
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The key of a client address: an IPv4 address, or an IPv6 address's /64 network (one
/// subscriber usually holds a whole /64).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct AddressKey(IpAddr);

impl AddressKey {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Self(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => Self(IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into())),
            },
        }
    }
}

/// A sign-in that must wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    /// Whole seconds until the next attempt is taken (at least 1).
    pub retry_after_s: u64,
}

/// The sign-in limits of one instance (see the module's doc).
pub struct LoginLimits {
    per_account: AttemptLog<(String, Option<AddressKey>)>,
    per_address: AttemptLog<AddressKey>,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self::new(PER_ACCOUNT, PER_ADDRESS, MAX_TRACKED)
    }
}

impl LoginLimits {
    pub fn new(per_account: Backoff, per_address: Backoff, cap: usize) -> Self {
        Self {
            per_account: AttemptLog::new(per_account, cap),
            per_address: AttemptLog::new(per_address, cap),
        }
    }

    /// Admits a sign-in attempt of `username` from `ip` (unknown when no socket is involved),
    /// counting it against both limits, or says how long to wait. Call [`Self::succeeded`] when
    /// the password was right.
    pub fn attempt(&self, username: &str, ip: Option<IpAddr>, now_ms: u64) -> Result<(), Limited> {
        let address = ip.map(AddressKey::of);
        let account = (username.to_owned(), address);
        let wait = self
            .per_account
            .waiting(&account, now_ms)
            .max(address.and_then(|a| self.per_address.waiting(&a, now_ms)));
        if let Some(ms) = wait {
            return Err(Limited {
                retry_after_s: ms.div_ceil(1000).max(1),
            });
        }
        self.per_account.count(account, now_ms);
        if let Some(a) = address {
            self.per_address.count(a, now_ms);
        }
        Ok(())
    }

    /// The attempt admitted last for `username` from `ip` was right: the account's back-off from
    /// that address is cleared and the address is not charged for it.
    pub fn succeeded(&self, username: &str, ip: Option<IpAddr>) {
        let address = ip.map(AddressKey::of);
        self.per_account.forget(&(username.to_owned(), address));
        if let Some(a) = address {
            self.per_address.uncount(&a);
        }
    }

    /// Keys tracked: (accounts × addresses, addresses).
    pub fn tracked(&self) -> (usize, usize) {
        (self.per_account.len(), self.per_address.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn limits() -> LoginLimits {
        LoginLimits::default()
    }

    #[test]
    fn wrong_guesses_back_off_per_account_and_address() {
        let l = limits();
        let t = 1_000_000;
        for i in 0..5 {
            assert_eq!(l.attempt("w1", Some(A), t + i), Ok(()), "attempt {i}");
        }
        assert_eq!(
            l.attempt("w1", Some(A), t + 10),
            Err(Limited { retry_after_s: 15 })
        );
        // The real user, from another address, is not held up.
        assert_eq!(l.attempt("w1", Some(B), t + 10), Ok(()));
        l.succeeded("w1", Some(B));
        // The attacker's waits double: 15 s, 30 s, 60 s …
        let mut now = t + 4 + 15_000;
        for wait in [30_000, 60_000, 120_000] {
            assert_eq!(l.attempt("w1", Some(A), now), Ok(()));
            assert!(l.attempt("w1", Some(A), now + wait - 1).is_err());
            now += wait;
        }
        // … up to 15 minutes, and an hour of quiet starts over.
        let long = Backoff {
            free: 1,
            first_wait_ms: 1,
            max_wait_ms: 900_000,
            forget_after_ms: 3_600_000,
        };
        assert_eq!(long.wait_after(60), 900_000);
        assert_eq!(long.wait_after(u32::MAX), 900_000);
        let later = now + 3_600_000;
        for _ in 0..5 {
            assert_eq!(l.attempt("w1", Some(A), later), Ok(()));
        }
    }

    #[test]
    fn a_success_clears_the_account_but_not_the_address() {
        let l = LoginLimits::new(
            PER_ACCOUNT,
            Backoff {
                free: 3,
                ..PER_ADDRESS
            },
            100,
        );
        let t = 0;
        l.attempt("a", Some(A), t).unwrap();
        l.attempt("a", Some(A), t).unwrap();
        l.succeeded("a", Some(A));
        // The success was not charged to the address: two more attempts remain free …
        l.attempt("b", Some(A), t).unwrap();
        l.attempt("c", Some(A), t).unwrap();
        // … and then the address waits, whatever the account (spraying).
        assert!(l.attempt("d", Some(A), t).is_err());
        assert!(l.attempt("d", Some(B), t).is_ok());
    }

    #[test]
    fn memory_is_bounded_by_forgetting_the_oldest_keys() {
        let l = LoginLimits::new(PER_ACCOUNT, PER_ADDRESS, 3);
        for i in 0..5 {
            for _ in 0..5 {
                l.attempt(&format!("user{i}"), None, 0).unwrap();
            }
        }
        assert_eq!(l.tracked(), (3, 0));
        assert!(l.attempt("user4", None, 0).is_err(), "the newest is kept");
        assert!(
            l.attempt("user0", None, 0).is_ok(),
            "the oldest was forgotten"
        );
        for i in 0..200u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(i));
            l.attempt("x", Some(ip), 0).unwrap();
        }
        assert_eq!(l.tracked(), (3, 3));
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_network() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            AddressKey::of(ip("2001:db8:1:2::1")),
            AddressKey::of(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            AddressKey::of(ip("2001:db8:1:2::1")),
            AddressKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(AddressKey::of(ip("::ffff:10.0.0.1")), AddressKey::of(A));
    }
}
