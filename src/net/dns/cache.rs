//! The stub resolver's answer cache: each answer kept for its TTL, the whole bounded.
//!
//! Without a cache, every new connection to a host costs a round trip to the name server;
//! with one, a burst of fetches costs one. Answers are keyed by name and record type (an
//! `A` answer says nothing about `AAAA`). A positive answer lives for the smallest TTL of the
//! records it came from, capped at [`MAX_TTL`]; a negative one (the name does not exist, or
//! has no record of that type) for [`NEGATIVE_TTL`] at most, so a name that appears a moment
//! later is not hidden for long. A TTL of 0 is not cached at all, as RFC 1035 §3.2.1 asks.
//!
//! The cache holds at most its capacity in entries; when full, expired entries go first, then
//! the one closest to expiry. Pure data: time is passed in, so tests need no clock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The longest a positive answer is kept, whatever its TTL.
pub const MAX_TTL: Duration = Duration::from_secs(3600);
/// The longest a negative answer is kept.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(5);
/// Default capacity, in (name, type) entries.
pub const DEFAULT_CAPACITY: usize = 1024;

/// A cached answer for one name and record type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cached {
    /// The addresses (possibly none: the name exists but has no record of this type).
    Addrs(Vec<IpAddr>),
    /// The name does not exist (NXDOMAIN).
    NoSuchName,
}

#[derive(Debug)]
struct Entry {
    answer: Cached,
    expires: Instant,
}

/// A bounded TTL cache (see the module docs).
#[derive(Debug)]
pub struct Cache {
    map: HashMap<(String, u16), Entry>,
    capacity: usize,
}

impl Cache {
    /// An empty cache holding at most `capacity` entries (0 disables caching).
    pub fn new(capacity: usize) -> Cache {
        Cache {
            map: HashMap::new(),
            capacity,
        }
    }

    /// The answer for `name` (lower case, no final dot) and `qtype`, if cached and not expired.
    pub fn get(&mut self, name: &str, qtype: u16, now: Instant) -> Option<Cached> {
        let key = (name.to_owned(), qtype);
        match self.map.get(&key) {
            Some(e) if e.expires > now => Some(e.answer.clone()),
            Some(_) => {
                self.map.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keep `answer` for `ttl` (clamped as the module docs say).
    pub fn put(&mut self, name: &str, qtype: u16, answer: Cached, ttl: Duration, now: Instant) {
        let positive = matches!(&answer, Cached::Addrs(a) if !a.is_empty());
        let ttl = ttl.min(if positive { MAX_TTL } else { NEGATIVE_TTL });
        if ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let key = (name.to_owned(), qtype);
        if !self.map.contains_key(&key) && self.map.len() >= self.capacity {
            self.map.retain(|_, e| e.expires > now);
            if self.map.len() >= self.capacity
                && let Some(soonest) = self
                    .map
                    .iter()
                    .min_by_key(|(_, e)| e.expires)
                    .map(|(k, _)| k.clone())
            {
                self.map.remove(&soonest);
            }
        }
        self.map.insert(
            key,
            Entry {
                answer,
                expires: now + ttl,
            },
        );
    }

    /// How many entries are held (expired ones included until they are noticed).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Drop everything (the configuration changed).
    pub fn clear(&mut self) {
        self.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn answers_live_for_their_ttl() {
        let t0 = Instant::now();
        let mut c = Cache::new(8);
        let a = Cached::Addrs(vec![ip("10.0.0.1")]);
        c.put("a.test", 1, a.clone(), Duration::from_secs(30), t0);
        assert_eq!(c.get("a.test", 1, t0), Some(a.clone()));
        assert_eq!(c.get("a.test", 28, t0), None);
        assert_eq!(c.get("a.test", 1, t0 + Duration::from_secs(29)), Some(a));
        assert_eq!(c.get("a.test", 1, t0 + Duration::from_secs(30)), None);
        assert!(c.is_empty()); // the expired entry was dropped when noticed
    }

    #[test]
    fn ttls_are_clamped_and_zero_is_not_cached() {
        let t0 = Instant::now();
        let mut c = Cache::new(8);
        let a = Cached::Addrs(vec![ip("::1")]);
        c.put("long.test", 28, a.clone(), Duration::from_secs(86_400), t0);
        assert_eq!(
            c.get("long.test", 28, t0 + MAX_TTL - Duration::from_secs(1)),
            Some(a)
        );
        assert_eq!(c.get("long.test", 28, t0 + MAX_TTL), None);
        c.put(
            "neg.test",
            1,
            Cached::NoSuchName,
            Duration::from_secs(900),
            t0,
        );
        c.put(
            "nodata.test",
            1,
            Cached::Addrs(vec![]),
            Duration::from_secs(900),
            t0,
        );
        let later = t0 + NEGATIVE_TTL;
        assert_eq!(c.get("neg.test", 1, t0), Some(Cached::NoSuchName));
        assert_eq!(c.get("neg.test", 1, later), None);
        assert_eq!(c.get("nodata.test", 1, later), None);
        c.put(
            "zero.test",
            1,
            Cached::Addrs(vec![ip("10.0.0.1")]),
            Duration::ZERO,
            t0,
        );
        assert_eq!(c.get("zero.test", 1, t0), None);
    }

    #[test]
    fn bounded_expired_then_soonest_evicted() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut c = Cache::new(3);
        let a = || Cached::Addrs(vec![ip("10.0.0.1")]);
        c.put("short", 1, a(), s(1), t0);
        c.put("mid", 1, a(), s(50), t0);
        c.put("long", 1, a(), s(100), t0);
        // Full: at t0+2 "short" has expired and makes room.
        c.put("new1", 1, a(), s(100), t0 + s(2));
        assert_eq!(c.len(), 3);
        assert!(c.get("mid", 1, t0 + s(2)).is_some());
        // Full, nothing expired: the soonest to expire ("mid") goes.
        c.put("new2", 1, a(), s(100), t0 + s(3));
        assert_eq!(c.len(), 3);
        assert!(c.get("mid", 1, t0 + s(3)).is_none());
        assert!(c.get("long", 1, t0 + s(3)).is_some());
        // Replacing a key never evicts.
        c.put("long", 1, a(), s(10), t0 + s(3));
        assert_eq!(c.len(), 3);
        c.clear();
        assert!(c.is_empty());
        let mut off = Cache::new(0);
        off.put("x", 1, a(), s(10), t0);
        assert!(off.is_empty());
    }
}
