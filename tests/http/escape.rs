//! `squall::escape`: the J- behaviours (JSON and URL escaping as Tornado does them).

#[cfg(feature = "json")]
use serde::{Deserialize, Serialize};
#[cfg(feature = "json")]
use serde_json::{Value, json};
use squall::escape::{
    Charset, to_unicode, url_concat, url_escape, url_escape_with, url_unescape, url_unescape_as,
    url_unescape_to_bytes, url_unescape_with, utf8,
};
#[cfg(feature = "json")]
use squall::escape::{JsonObject, json_decode, json_encode};

// J-01
#[test]
#[cfg(feature = "json")]
fn json_encode_escapes_closing_tag_opener() {
    assert_eq!(json_encode("</script>").unwrap(), r#""<\/script>""#);
    assert_eq!(
        json_encode(&json!({"k</": ["a</b", "<", "/"]})).unwrap(),
        r#"{"k<\/": ["a<\/b", "<", "/"]}"#
    );
    // A '/' not after '<' stays; so does '<' not before '/'.
    assert_eq!(json_encode("a/b<c").unwrap(), r#""a/b<c""#);
    // Next to other escapes.
    assert_eq!(json_encode("\"</\"").unwrap(), r#""\"<\/\"""#);
}

// J-02
#[test]
#[cfg(feature = "json")]
fn json_encode_is_ascii_only() {
    assert_eq!(json_encode("é").unwrap(), r#""\u00e9""#);
    assert_eq!(json_encode("\u{1F600}").unwrap(), r#""\ud83d\ude00""#);
    assert_eq!(json_encode("a\u{2028}b").unwrap(), r#""a\u2028b""#);
    assert_eq!(
        json_encode("\u{0}\u{1f}\n\t\u{7f}").unwrap(),
        r#""\u0000\u001f\n\t\u007f""#
    );
    let out = json_encode(&json!({"ключ": "значение 😀"})).unwrap();
    assert!(out.is_ascii(), "{out}");
}

// J-03
#[test]
#[cfg(feature = "json")]
fn json_encode_separators_and_key_order() {
    #[derive(Serialize)]
    struct S {
        b: u32,
        a: u32,
    }
    assert_eq!(
        json_encode(&S { b: 1, a: 2 }).unwrap(),
        r#"{"b": 1, "a": 2}"#
    );
    assert_eq!(
        json_encode(&JsonObject(&[("b", 1), ("a", 2)])).unwrap(),
        r#"{"b": 1, "a": 2}"#
    );
    assert_eq!(
        json_encode(&json!([1, [2, 3], {}, [], null, true, 1.5])).unwrap(),
        "[1, [2, 3], {}, [], null, true, 1.5]"
    );
    // serde_json::Value objects are sorted maps in this build.
    assert_eq!(
        json_encode(&json!({"b": 1, "a": {"y": 2, "x": 3}})).unwrap(),
        r#"{"a": {"x": 3, "y": 2}, "b": 1}"#
    );
}

#[test]
#[cfg(feature = "json")]
fn json_encode_reports_unencodable_values() {
    use std::collections::HashMap;
    let mut m = HashMap::new();
    m.insert(vec![1u8], 1);
    assert!(json_encode(&m).is_err());
}

// J-04
#[test]
#[cfg(feature = "json")]
fn json_decode_text_and_bytes_round_trip() {
    for s in ["é", "\u{1F600} and </tags>", "plain", "\u{0}\u{7f}\"\\"] {
        let enc = json_encode(s).unwrap();
        let back: String = json_decode(&enc).unwrap();
        assert_eq!(back, s);
        let back: String = json_decode(enc.as_bytes()).unwrap();
        assert_eq!(back, s);
    }
    let v: Value = json_decode("{\"a\": [1, \"\u{e9}\"]}".as_bytes()).unwrap();
    assert_eq!(v, json!({"a": [1, "é"]}));

    #[derive(Deserialize, Debug, PartialEq)]
    struct P {
        x: i32,
        y: Vec<String>,
    }
    let p: P = json_decode(br#"{"y": ["\ud83d\ude00"], "x": -3}"#).unwrap();
    assert_eq!(
        p,
        P {
            x: -3,
            y: vec!["\u{1F600}".into()]
        }
    );
}

#[test]
#[cfg(feature = "json")]
fn json_decode_rejects_non_json() {
    for bad in [
        &b"NaN"[..],
        b"Infinity",
        b"-Infinity",
        b"[1, NaN]",
        b"{\"a\": 1",
        b"[1] x",
        b"\"\xff\"",
        b"\"\\ud800\"",
        b"",
    ] {
        assert!(
            json_decode::<Value>(bad).is_err(),
            "{:?} was accepted",
            String::from_utf8_lossy(bad)
        );
    }
}

// J-05
#[test]
fn url_escape_plus_default() {
    assert_eq!(url_escape("+ #%"), "%2B+%23%25");
    assert_eq!(url_escape("a/b"), "a%2Fb");
    assert_eq!(url_escape("AZaz09_.-~"), "AZaz09_.-~");
    assert_eq!(url_escape("&=?:@!*'()"), "%26%3D%3F%3A%40%21%2A%27%28%29");
    assert_eq!(url_escape(""), "");
}

// J-06
#[test]
fn url_escape_without_plus() {
    assert_eq!(url_escape_with("+ #%", false), "%2B%20%23%25");
    assert_eq!(url_escape_with("a/b c", false), "a/b%20c");
    assert_eq!(url_escape_with("+ #%", true), "%2B+%23%25");
}

// J-07
#[test]
fn url_escape_text_as_utf8_bytes_as_given() {
    assert_eq!(url_escape("é"), "%C3%A9");
    assert_eq!(url_escape(b"\xe9"), "%E9");
    assert_eq!(url_escape([0u8, 0x7f, 0xff]), "%00%7F%FF");
    assert_eq!(url_escape("\u{1F600}"), "%F0%9F%98%80");
}

// J-08
#[test]
fn url_unescape_plus() {
    assert_eq!(url_unescape("a+b%20c"), "a b c");
    assert_eq!(url_unescape_with("a+b%20c", false), "a+b c");
    assert_eq!(url_unescape_with("a+b", true), "a b");
    assert_eq!(url_unescape("%2B"), "+");
}

// J-09
#[test]
fn url_unescape_encodings() {
    assert_eq!(url_unescape("%C3%A9"), "é");
    assert_eq!(url_unescape(b"%C3%A9"), "é");
    assert_eq!(url_unescape_as("%C3%A9", Charset::Latin1, true), "Ã©");
    assert_eq!(url_unescape_to_bytes("%C3%A9+x", true), b"\xc3\xa9 x");
    assert_eq!(url_unescape_to_bytes(b"%e9+x", false), b"\xe9+x");
    // Literal non-ASCII text is kept as text whatever the charset.
    assert_eq!(url_unescape_as("é%E9", Charset::Latin1, true), "éé");
}

// J-10
#[test]
fn url_unescape_invalid_escapes_stay_literal() {
    assert_eq!(url_unescape("%zz%4a%"), "%zzJ%");
    assert_eq!(url_unescape_to_bytes("%zz%4a%", false), b"%zzJ%");
    assert_eq!(url_unescape_to_bytes("%4", false), b"%4");
    assert_eq!(url_unescape_to_bytes("%%41", false), b"%A");
    assert_eq!(url_unescape("%E9"), "\u{FFFD}");
    assert_eq!(url_unescape("a%C3"), "a\u{FFFD}");
}

#[test]
fn url_escape_round_trips() {
    let samples: [&[u8]; 4] = [
        b"",
        b"hello world/+%",
        b"\x00\xff\x80 \xc3\xa9",
        "ünï😀".as_bytes(),
    ];
    for s in samples {
        for plus in [true, false] {
            assert_eq!(url_unescape_to_bytes(url_escape_with(s, plus), plus), s);
        }
    }
}

// J-11
#[test]
fn utf8_and_to_unicode() {
    assert_eq!(utf8("é"), b"\xc3\xa9");
    assert_eq!(utf8(b"\xe9"), b"\xe9");
    assert_eq!(to_unicode(b"\xc3\xa9").unwrap(), "é");
    assert!(to_unicode(b"\xe9").is_err());
}

#[test]
fn url_concat_like_tornado() {
    let c = |u: &str, a: &[(&str, &str)]| url_concat(u, a);
    let yz = [("y", "y"), ("z", "z")];
    assert_eq!(
        c("https://localhost/path", &yz),
        "https://localhost/path?y=y&z=z"
    );
    assert_eq!(
        c("https://localhost/path?x", &yz),
        "https://localhost/path?x=&y=y&z=z"
    );
    assert_eq!(
        c("https://localhost/path?x&y", &yz),
        "https://localhost/path?x=&y=&y=y&z=z"
    );
    assert_eq!(
        c("https://localhost/path?a=1&b=2", &yz),
        "https://localhost/path?a=1&b=2&y=y&z=z"
    );
    assert_eq!(
        c("https://localhost/path?", &yz),
        "https://localhost/path?y=y&z=z"
    );
    assert_eq!(
        c("https://localhost/path?r=1&t=2", &[]),
        "https://localhost/path?r=1&t=2"
    );
    assert_eq!(
        c("https://localhost/path#tab", &[("y", "y")]),
        "https://localhost/path?y=y#tab"
    );
    assert_eq!(
        c("http://h/?q=a b", &[("k v", "1/2&3")]),
        "http://h/?q=a+b&k+v=1%2F2%263"
    );
}
