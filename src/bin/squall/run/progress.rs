//! The progress bar: one line on stderr, redrawn in place at most ten times a second.
//!
//! Written by hand (a crate for one line of text would weigh more than the client). The
//! [`Progress`] state is pure: it is told the time and the byte counts and answers with the
//! line to draw, or `None` when the last draw is less than 100 ms old, so the rules are unit
//! tested without a terminal. The caller decides whether a bar is wanted at all: only when
//! stderr is a terminal, `-s` is not given, and the body does not go to that same terminal.
//!
//! [`Ui`] is the impure half: it owns stderr while a bar may be on screen, so every other
//! line written there (`-v`, error lines) wipes the bar first and the next tick redraws it.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::lock;

/// The shortest time between two draws (at most 10 a second).
pub const REDRAW_EVERY: Duration = Duration::from_millis(100);
/// The rate is measured over this recent window, so it follows changes in speed.
const RATE_WINDOW: Duration = Duration::from_secs(3);
const BAR_WIDTH: usize = 24;

/// One progress line's state.
#[derive(Debug)]
pub struct Progress {
    start: Instant,
    last_draw: Option<Instant>,
    samples: VecDeque<(Instant, u64)>,
    label: String,
}

/// `1536` -> `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `75 s` -> `1:15`, `3700 s` -> `1:01:40`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

impl Progress {
    /// A bar starting now; `label` is shown first (e.g. `[2/5]` with several URLs).
    pub fn new(start: Instant, label: impl Into<String>) -> Progress {
        let mut samples = VecDeque::new();
        samples.push_back((start, 0));
        Progress {
            start,
            last_draw: None,
            samples,
            label: label.into(),
        }
    }

    /// Change the text shown before the figures.
    pub fn set_label(&mut self, label: String) {
        self.label = label;
    }

    /// Record progress; returns the line to draw when a redraw is due.
    pub fn update(&mut self, now: Instant, bytes: u64, total: Option<u64>) -> Option<String> {
        self.sample(now, bytes);
        if self
            .last_draw
            .is_some_and(|t| now.saturating_duration_since(t) < REDRAW_EVERY)
        {
            return None;
        }
        self.last_draw = Some(now);
        Some(self.render(now, bytes, total))
    }

    /// The final line (always drawn), ending with a newline.
    pub fn finish(&mut self, now: Instant, bytes: u64, total: Option<u64>) -> String {
        self.sample(now, bytes);
        let mut s = self.render(now, bytes, total);
        s.push('\n');
        s
    }

    fn sample(&mut self, now: Instant, bytes: u64) {
        self.samples.push_back((now, bytes));
        // Keep one sample older than the window so the window is always covered.
        while self.samples.len() > 2
            && now.saturating_duration_since(self.samples[1].0) > RATE_WINDOW
        {
            self.samples.pop_front();
        }
    }

    /// Bytes per second over the recent window (0 before any time has passed).
    pub fn rate(&self, now: Instant) -> f64 {
        let (t0, b0) = self.samples[0];
        let (_, b1) = *self.samples.back().expect("at least the start sample");
        let dt = now.saturating_duration_since(t0).as_secs_f64();
        if dt <= 0.0 {
            0.0
        } else {
            b1.saturating_sub(b0) as f64 / dt
        }
    }

    /// The line for `bytes` of `total` at `now`: `\r`, the text, erase to the end of the line.
    pub fn render(&self, now: Instant, bytes: u64, total: Option<u64>) -> String {
        let rate = self.rate(now);
        let elapsed = human_duration(now.saturating_duration_since(self.start));
        let mut s = String::from("\r");
        if !self.label.is_empty() {
            s.push_str(&self.label);
            s.push(' ');
        }
        match total {
            Some(total) if total > 0 => {
                let frac = (bytes as f64 / total as f64).clamp(0.0, 1.0);
                let filled = (frac * BAR_WIDTH as f64) as usize;
                let mut bar = "=".repeat(filled);
                if filled < BAR_WIDTH {
                    bar.push('>');
                    bar.push_str(&" ".repeat(BAR_WIDTH - filled - 1));
                }
                let eta = if bytes >= total {
                    elapsed.clone()
                } else if rate > 0.0 {
                    let left = (total - bytes) as f64 / rate;
                    format!(
                        "ETA {}",
                        human_duration(Duration::from_secs_f64(left.min(1e9)))
                    )
                } else {
                    "ETA --:--".to_string()
                };
                s.push_str(&format!(
                    "{:>3}% [{bar}] {} / {}  {}/s  {eta}",
                    (frac * 100.0) as u32,
                    human_bytes(bytes),
                    human_bytes(total),
                    human_bytes(rate as u64),
                ));
            }
            _ => {
                s.push_str(&format!(
                    "{}  {}/s  {elapsed}",
                    human_bytes(bytes),
                    human_bytes(rate as u64)
                ));
            }
        }
        s.push_str("\x1b[K");
        s
    }
}

/// The progress bar and every stderr line written while it may be on screen.
pub(super) struct Ui {
    pub(super) state: Arc<Mutex<UiState>>,
}

/// What [`Ui`] shares with the request callbacks.
pub(super) struct UiState {
    enabled: bool,
    bar: Progress,
    drawn: bool,
    bytes: u64,
    totals: Vec<Option<u64>>,
    started: Vec<bool>,
    done: usize,
}

impl Ui {
    pub(super) fn new(enabled: bool, n: usize) -> Ui {
        Ui {
            state: Arc::new(Mutex::new(UiState {
                enabled,
                bar: Progress::new(Instant::now(), ""),
                drawn: false,
                bytes: 0,
                totals: vec![None; n],
                started: vec![false; n],
                done: 0,
            })),
        }
    }

    pub(super) fn enabled(&self) -> bool {
        lock(&self.state).enabled
    }

    pub(super) fn message(&self, text: &str) {
        Ui::message_on(&self.state, text);
    }

    /// A line (or lines) on stderr: the bar is wiped first and redrawn at the next tick.
    pub(super) fn message_on(state: &Mutex<UiState>, text: &str) {
        let mut s = lock(state);
        let mut err = io::stderr().lock();
        if s.drawn {
            let _ = err.write_all(b"\r\x1b[K");
            s.drawn = false;
        }
        let _ = err.write_all(text.as_bytes());
    }

    /// URL `i` starts its body, of `total` bytes if known.
    pub(super) fn started(&self, i: usize, total: Option<u64>) {
        let mut s = lock(&self.state);
        s.started[i] = true;
        s.totals[i] = total;
        drop(s);
        self.tick();
    }

    /// `n` more body bytes arrived.
    pub(super) fn bytes(&self, n: u64) {
        let mut s = lock(&self.state);
        s.bytes += n;
        if s.enabled {
            drop(s);
            self.tick();
        }
    }

    /// URL `i` ended (also without a body).
    pub(super) fn done(&self, i: usize) {
        let mut s = lock(&self.state);
        s.done += 1;
        if !s.started[i] {
            s.started[i] = true;
            s.totals[i] = Some(0);
        }
    }

    fn total(s: &UiState) -> Option<u64> {
        if s.started.iter().all(|&b| b) {
            s.totals.iter().try_fold(0u64, |acc, t| t.map(|t| acc + t))
        } else {
            None
        }
    }

    fn label(s: &UiState) -> String {
        if s.totals.len() > 1 {
            format!("[{}/{}]", s.done, s.totals.len())
        } else {
            String::new()
        }
    }

    /// Redraws the bar if it is due.
    pub(super) fn tick(&self) {
        let mut s = lock(&self.state);
        if !s.enabled {
            return;
        }
        let (bytes, total, label) = (s.bytes, Ui::total(&s), Ui::label(&s));
        s.bar.set_label(label);
        if let Some(line) = s.bar.update(Instant::now(), bytes, total) {
            s.drawn = true;
            let _ = io::stderr().lock().write_all(line.as_bytes());
        }
    }

    /// The last draw, with the totals.
    pub(super) fn finish(&self) {
        let mut s = lock(&self.state);
        if !s.enabled || (s.bytes == 0 && !s.drawn) {
            return;
        }
        let (bytes, total, label) = (s.bytes, Ui::total(&s), Ui::label(&s));
        s.bar.set_label(label);
        let line = s.bar.finish(Instant::now(), bytes, total);
        s.drawn = false;
        let _ = io::stderr().lock().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(100 << 20), "100.0 MiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
        assert_eq!(human_duration(Duration::from_secs(5)), "0:05");
        assert_eq!(human_duration(Duration::from_secs(75)), "1:15");
        assert_eq!(human_duration(Duration::from_secs(3700)), "1:01:40");
    }

    #[test]
    fn redraws_at_most_ten_times_a_second() {
        let t0 = Instant::now();
        let mut p = Progress::new(t0, "");
        assert!(p.update(t0, 0, None).is_some(), "the first update draws");
        let mut draws = 0;
        // 1000 updates over one second: 10 or 11 draws, never 1000.
        for i in 1..=1000u64 {
            if p.update(t0 + Duration::from_millis(i), i * 100, None)
                .is_some()
            {
                draws += 1;
            }
        }
        assert!((9..=11).contains(&draws), "{draws} draws in a second");
    }

    #[test]
    fn known_total_shows_percent_rate_and_eta() {
        let t0 = Instant::now();
        let mut p = Progress::new(t0, "");
        let now = t0 + Duration::from_secs(2);
        let line = p.update(now, 50 << 20, Some(100 << 20)).unwrap();
        assert!(
            line.starts_with('\r') && line.ends_with("\x1b[K"),
            "{line:?}"
        );
        assert!(line.contains(" 50%"), "{line}");
        assert!(line.contains("50.0 MiB / 100.0 MiB"), "{line}");
        assert!(line.contains("25.0 MiB/s"), "{line}");
        assert!(line.contains("ETA 0:02"), "{line}");
        assert!(line.contains("[============>           ]"), "{line}");
        let done = p.finish(t0 + Duration::from_secs(4), 100 << 20, Some(100 << 20));
        assert!(done.contains("100%") && done.ends_with('\n'), "{done}");
    }

    #[test]
    fn unknown_total_shows_bytes_and_rate() {
        let t0 = Instant::now();
        let mut p = Progress::new(t0, "[2/3]");
        let line = p.update(t0 + Duration::from_secs(1), 2048, None).unwrap();
        assert!(
            line.starts_with("\r[2/3] 2.0 KiB  2.0 KiB/s  0:01"),
            "{line:?}"
        );
        assert!(!line.contains('%'));
    }

    #[test]
    fn stalled_transfer_has_no_eta() {
        let t0 = Instant::now();
        let mut p = Progress::new(t0, "");
        let line = p.update(t0, 0, Some(10)).unwrap();
        assert!(line.contains("ETA --:--"), "{line}");
    }

    #[test]
    fn rate_follows_the_recent_window() {
        let t0 = Instant::now();
        let mut p = Progress::new(t0, "");
        // Fast for 10 s, then nothing for 10 s: the rate falls to zero.
        for s in 1..=10u64 {
            p.update(t0 + Duration::from_secs(s), s << 20, None);
        }
        assert!(p.rate(t0 + Duration::from_secs(10)) > 900_000.0);
        for s in 11..=20u64 {
            p.update(t0 + Duration::from_secs(s), 10 << 20, None);
        }
        assert!(p.rate(t0 + Duration::from_secs(20)) < 1.0);
    }
}
