//! Test helper: feed the same bytes to a state machine whole, one byte at a time, and split
//! in two at every position, and check that every way gives the same events.

/// Events rendered as strings, or the error message.
pub type Outcome = Result<Vec<String>, String>;

/// Runs `run` over `input` delivered as: one piece; one byte per piece; and two pieces split
/// at every position. Panics (naming the way) if any outcome differs from the whole-input one,
/// and returns that outcome.
pub fn feed_all_ways(input: &[u8], run: impl Fn(&[&[u8]]) -> Outcome) -> Outcome {
    let whole = run(&[input]);
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    let one = run(&bytes);
    assert_eq!(one, whole, "one byte at a time differs from whole input");
    for at in 0..=input.len() {
        let (a, b) = input.split_at(at);
        let got = run(&[a, b]);
        assert_eq!(got, whole, "split at {at} differs from whole input");
    }
    whole
}
