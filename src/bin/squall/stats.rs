//! Latency statistics for `squall bench`: an HDR-style log-linear histogram.
//!
//! Recording is one array increment (no allocation, constant memory however long the run),
//! and percentiles come from the bucket counts, not from an average. Values below 128 ns are
//! exact; above, every power of two is split into 64 buckets, so a reported percentile is
//! within 1/64 (1.6 %) of the true sample. The maximum is kept exactly.

use std::time::Duration;

const SUB_BITS: u32 = 6; // 64 buckets per power of two above the linear range
const LINEAR: u64 = 1 << (SUB_BITS + 1); // 128 exact values
const BUCKETS: usize = LINEAR as usize + (64 - SUB_BITS as usize - 1) * (1 << SUB_BITS);

/// A latency histogram in nanoseconds.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
    max: u64,
    min: u64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("total", &self.total)
            .field("min", &self.min)
            .field("max", &self.max)
            .finish()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros(); // >= SUB_BITS + 1
    let shift = msb - SUB_BITS; // v >> shift is in [64, 128)
    LINEAR as usize + (shift as usize - 1) * (1 << SUB_BITS) + ((v >> shift) as usize - 64)
}

/// The highest value that lands in bucket `i`.
fn upper(i: usize) -> u64 {
    if i < LINEAR as usize {
        return i as u64;
    }
    let j = i - LINEAR as usize;
    let shift = (j >> SUB_BITS) as u32 + 1;
    let mantissa = (j & ((1 << SUB_BITS) - 1)) as u64 + 64;
    // The bucket holds [mantissa << shift, (mantissa + 1) << shift).
    ((mantissa + 1) << shift).wrapping_sub(1)
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
            max: 0,
            min: u64::MAX,
        }
    }

    /// Record one latency.
    #[inline]
    pub fn record(&mut self, d: Duration) {
        let v = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[index(v)] += 1;
        self.total += 1;
        self.max = self.max.max(v);
        self.min = self.min.min(v);
    }

    /// How many latencies were recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// The largest latency (exact).
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max)
    }

    /// The `p`-th percentile (0..=100): the smallest recorded value with at least p % of the
    /// samples at or below it, to the bucket's precision (never above the maximum).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_nanos(upper(i).clamp(self.min, self.max));
            }
        }
        Duration::from_nanos(self.max)
    }
}

/// `0.0123 s` -> `12.300 ms`.
pub fn fmt_latency(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_ordered() {
        let mut last = 0;
        for v in 0..10_000u64 {
            let i = index(v);
            assert!(i >= last && upper(i) >= v, "{v}");
            last = i;
        }
        for v in (1..64).map(|s| 1u64 << s).chain([u64::MAX]) {
            let i = index(v);
            assert!(i < BUCKETS, "{v}");
            assert!(upper(i) >= v, "{v} above its bucket {}", upper(i));
            assert!(i == 0 || upper(i - 1) < v, "{v} below its bucket");
        }
        for i in 1..BUCKETS {
            assert!(upper(i) > upper(i - 1), "bucket {i}");
        }
        assert_eq!(upper(BUCKETS - 1), u64::MAX);
    }

    #[test]
    fn percentiles_of_a_uniform_run() {
        let mut h = Histogram::new();
        for us in 1..=10_000u64 {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.len(), 10_000);
        let close = |got: Duration, want_us: f64| {
            let got = got.as_secs_f64() * 1e6;
            assert!(
                (got - want_us).abs() <= want_us / 60.0,
                "{got} vs {want_us}"
            );
        };
        close(h.percentile(50.0), 5000.0);
        close(h.percentile(99.0), 9900.0);
        assert_eq!(h.max(), Duration::from_micros(10_000));
        assert_eq!(h.percentile(100.0), Duration::from_micros(10_000));
        close(h.percentile(0.0), 1.0);
    }

    #[test]
    fn a_slow_tail_shows_in_p99_not_p50() {
        let mut h = Histogram::new();
        for _ in 0..985 {
            h.record(Duration::from_micros(100));
        }
        for _ in 0..15 {
            h.record(Duration::from_millis(50));
        }
        assert!(h.percentile(50.0) <= Duration::from_micros(102));
        assert!(h.percentile(99.0) >= Duration::from_millis(49));
        assert_eq!(h.max(), Duration::from_millis(50));
    }

    #[test]
    fn exact_for_small_values_and_empty_is_zero() {
        let h = Histogram::new();
        assert_eq!(h.len(), 0);
        assert_eq!(h.percentile(50.0), Duration::ZERO);
        let mut h = Histogram::new();
        h.record(Duration::from_nanos(42));
        assert_eq!(h.percentile(50.0), Duration::from_nanos(42));
        assert_eq!(fmt_latency(Duration::from_micros(12_300)), "12.300 ms");
    }
}
