//! stdout in command-line order, whatever order the transfers finish in.
//!
//! With `-P N` several URLs are in flight at once, yet their output (heads, body, `-w`) must
//! come out as if they ran one after another. [`Output`] is that rule alone: one slot per URL,
//! the head-of-line URL writes straight through, the others buffer until every URL before them
//! has finished. It also remembers which URL found stdout closed, for its exit code (23).

use std::io::{self, Write};

/// stdout in command-line order. The URL at the head of the line writes straight through;
/// the others buffer until every URL before them has finished.
pub(super) struct Output {
    stdout: io::Stdout,
    head: usize,
    slots: Vec<UrlOutput>,
    broken: bool,
}

/// One URL's place in the line: what it wrote before its turn, and how it ended.
#[derive(Default)]
struct UrlOutput {
    buf: Vec<u8>,
    done: bool,
    write_failed: bool,
}

impl Output {
    pub(super) fn new(n: usize) -> Output {
        Output {
            stdout: io::stdout(),
            head: 0,
            slots: (0..n).map(|_| UrlOutput::default()).collect(),
            broken: false,
        }
    }

    fn put(&mut self, i: usize, data: &[u8]) {
        if self.broken {
            self.slots[i].write_failed = true;
            return;
        }
        if self.stdout.write_all(data).is_err() {
            self.broken = true;
            self.slots[i].write_failed = true;
        }
    }

    /// URL `i` writes `data` to stdout (now, or when its turn comes).
    pub(super) fn write_stdout(&mut self, i: usize, data: &[u8]) {
        if i == self.head {
            self.put(i, data);
        } else {
            self.slots[i].buf.extend_from_slice(data);
        }
    }

    /// Whether stdout failed while URL `i` was writing to it.
    pub(super) fn write_failed(&self, i: usize) -> bool {
        self.slots[i].write_failed
    }

    /// URL `i` is complete: when it is the head, pass the turn on, flushing what later URLs
    /// buffered meanwhile.
    pub(super) fn finish(&mut self, i: usize) {
        self.slots[i].done = true;
        if i != self.head {
            return;
        }
        let _ = self.stdout.flush();
        while self.head < self.slots.len() && self.slots[self.head].done {
            self.head += 1;
            if self.head < self.slots.len() {
                let buf = std::mem::take(&mut self.slots[self.head].buf);
                let h = self.head;
                self.put(h, &buf);
            }
        }
    }

    /// The end: anything still buffered (behind a URL whose task died) goes out in order.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        while self.head < self.slots.len() {
            let buf = std::mem::take(&mut self.slots[self.head].buf);
            let h = self.head;
            self.put(h, &buf);
            self.head += 1;
        }
        if self.broken {
            return Err(io::Error::other("stdout is closed"));
        }
        self.stdout.flush()
    }
}
