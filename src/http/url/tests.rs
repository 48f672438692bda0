//! Unit tests of URL parsing, printing and reference resolution (RFC 3986 §5.4's examples
//! among them), in a file of their own so that `url.rs` reads as the parser.

use super::*;

fn p(s: &str) -> Url {
    Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn components() {
    let u = p("http://example.com");
    assert_eq!(
        (u.scheme(), u.host(), u.port(), u.explicit_port()),
        ("http", "example.com", 80, None)
    );
    assert_eq!(u.path_and_query(), "/"); // R-02
    assert_eq!(u.to_string(), "http://example.com");
    let u = p("https://EXAMPLE.com./x/y?a=b&c#top");
    assert_eq!(u.host(), "example.com.");
    assert_eq!(u.port(), 443); // R-09
    assert_eq!(u.path_and_query(), "/x/y?a=b&c");
    assert_eq!(u.to_string(), "https://example.com./x/y?a=b&c");
    let u = p("http://h/p?");
    assert_eq!(u.path_and_query(), "/p?");
    assert_eq!(u.to_string(), "http://h/p?");
    let u = p("http://h?q");
    assert_eq!(u.path_and_query(), "/?q");
}

#[test]
fn hosts() {
    let u = p("http://[::1]:8080/");
    assert_eq!(u.host(), "::1"); // R-09: brackets removed for connecting
    assert!(u.is_ip_host());
    assert_eq!(u.host_header(), "[::1]:8080"); // R-08
    assert_eq!(u.to_string(), "http://[::1]:8080/");
    let u = p("http://[2001:DB8::1]/");
    assert_eq!(u.host(), "2001:db8::1");
    let u = p("http://127.0.0.1:80/");
    assert!(u.is_ip_host());
    assert_eq!(u.host_header(), "127.0.0.1:80");
    assert!(!p("http://a.b/").is_ip_host());
    for bad in [
        "http://127.1/",
        "http://1.2.3.256/",
        "http://0x7f.0.0.1/",
        "http://[::1/",
        "http://[::g]/",
        "http://[::1]x/",
        "http://[fe80::1%25eth0]/",
        "http://a_b%41/",
        "http://a<b/",
        "http://:80/",
        "http:///x",
        "http:x",
        "http://h:99999/",
        "http://h:8a/",
        "http://h:-1/",
    ] {
        assert!(Url::parse(bad).is_err(), "{bad} accepted");
    }
    let e = Url::parse("http://bücher.de/").unwrap_err();
    assert!(
        e.to_string()
            .contains("internationalised host names are not supported"),
        "{e}"
    );
}

#[test]
fn ports() {
    assert_eq!(p("http://h:/").explicit_port(), None);
    assert_eq!(p("http://h:00081/").port(), 81);
    assert_eq!(p("http://h:65535/").port(), 65535);
    assert_eq!(p("https://h:443/").host_header(), "h:443");
}

#[test]
fn userinfo() {
    let u = p("http://u%40x:p%3Aw:d@h/");
    assert_eq!(u.username().as_deref(), Some("u@x")); // R-15
    assert_eq!(u.password().as_deref(), Some("p:w:d"));
    assert_eq!(u.host_header(), "h");
    assert_eq!(u.without_userinfo().to_string(), "http://h/");
    let u = p("http://user@h/");
    assert_eq!(u.username().as_deref(), Some("user"));
    assert_eq!(u.password(), None);
    assert_eq!(p("http://h/").username(), None);
    // R-13: credentials are UTF-8 (percent-encoded on the wire), never normalised.
    let u = p("http://us\u{e9}r:p\u{a3}@h/");
    assert_eq!(u.username().as_deref(), Some("us\u{e9}r"));
    assert_eq!(u.password().as_deref(), Some("p\u{a3}"));
}

#[test]
fn refuses_spaces_and_controls() {
    for bad in [
        "http://h/a b",
        " http://h/",
        "http://h/\t",
        "http://h/\r\nX: y",
        "http://h/\0",
        "http://h/\u{7f}",
        "",
        "//h/",
        "h/x",
    ] {
        let e = Url::parse(bad).unwrap_err();
        assert!(e.to_string().starts_with("malformed URL"), "{e}");
    }
    assert!(
        Url::parse("http://h/a b")
            .unwrap_err()
            .to_string()
            .contains("space at byte 10")
    );
}

#[test]
fn dot_segments_are_removed_from_the_target() {
    // RFC 3986 §5.2.2 (T.path = remove_dot_segments(R.path)) and §5.4.2.
    assert_eq!(p("http://h/a/./b/../c").path_and_query(), "/a/c");
    assert_eq!(p("http://h/../../x?y=/../z").path_and_query(), "/x?y=/../z");
    assert_eq!(p("http://h/a/b/..").path_and_query(), "/a/");
    assert_eq!(p("http://h/.").path_and_query(), "/");
    // Percent-encoded dots are data, not dot segments (§2.3 leaves the choice; kept).
    assert_eq!(p("http://h/a/%2E%2E/b").path_and_query(), "/a/%2E%2E/b");
    assert_eq!(p("http://h/a.b/c..d/.e").path_and_query(), "/a.b/c..d/.e");
    // Without an authority the path is kept: "/..//p" must not turn into "//p", which
    // would read back as an authority (fuzz corpus url/a3703267…).
    let u = p("to:/..//p.");
    assert_eq!(p(&u.to_string()), u);
}

#[test]
fn characters_outside_rfc3986_are_encoded_and_escapes_kept() {
    let u = p("http://h/a\\b|c{d}^`\"<>[]?q=[1]|x?y&%41%zz");
    assert_eq!(
        u.path_and_query(),
        "/a%5Cb%7Cc%7Bd%7D%5E%60%22%3C%3E%5B%5D?q=%5B1%5D%7Cx?y&%41%zz"
    );
    assert_eq!(p(&u.to_string()), u);
    assert_eq!(p("http://h/a%2Fb%41").path_and_query(), "/a%2Fb%41");
}

#[test]
fn non_ascii_path_is_encoded() {
    let u = p("http://h/caf\u{e9}?q=\u{e9}");
    assert_eq!(u.path_and_query(), "/caf%C3%A9?q=%C3%A9");
}

#[test]
fn other_schemes_parse() {
    let u = p("ftp://h/x");
    assert_eq!(u.scheme(), "ftp");
    assert_eq!(u.port(), 0);
    let u = p("mailto:a@b");
    assert_eq!(u.to_string(), "mailto:a@b");
    assert_eq!(u.host(), "");
}

#[test]
fn display_round_trips() {
    for s in [
        "http://h",
        "http://u:p@h:1/a/../b?c=d",
        "https://[::ffff:1.2.3.4]:443/",
        "http://h/%zz",
        "http://h:/",
        "mailto:x",
        "http://@h/",
    ] {
        let u = p(s);
        assert_eq!(p(&u.to_string()), u, "{s}");
    }
}

#[test]
fn rfc3986_section_5_4_examples() {
    let base = p("http://a/b/c/d;p?q");
    let cases = [
        ("g", "http://a/b/c/g"),
        ("./g", "http://a/b/c/g"),
        ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"),
        ("//g", "http://g"),
        ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q"),
        ("g#s", "http://a/b/c/g"),
        ("g?y#s", "http://a/b/c/g?y"),
        (";x", "http://a/b/c/;x"),
        ("g;x", "http://a/b/c/g;x"),
        ("g;x?y#s", "http://a/b/c/g;x?y"),
        ("", "http://a/b/c/d;p?q"),
        (".", "http://a/b/c/"),
        ("./", "http://a/b/c/"),
        ("..", "http://a/b/"),
        ("../", "http://a/b/"),
        ("../g", "http://a/b/g"),
        ("../..", "http://a/"),
        ("../../", "http://a/"),
        ("../../g", "http://a/g"),
        // abnormal examples, §5.4.2
        ("../../../g", "http://a/g"),
        ("../../../../g", "http://a/g"),
        ("/./g", "http://a/g"),
        ("/../g", "http://a/g"),
        ("g.", "http://a/b/c/g."),
        (".g", "http://a/b/c/.g"),
        ("g..", "http://a/b/c/g.."),
        ("..g", "http://a/b/c/..g"),
        ("./../g", "http://a/b/g"),
        ("./g/.", "http://a/b/c/g/"),
        ("g/./h", "http://a/b/c/g/h"),
        ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
        ("g;x=1/../y", "http://a/b/c/y"),
        ("g?y/./x", "http://a/b/c/g?y/./x"),
        ("g?y/../x", "http://a/b/c/g?y/../x"),
        ("g#s/./x", "http://a/b/c/g"),
        ("g#s/../x", "http://a/b/c/g"),
        ("HTTP://a/x", "http://a/x"),
        ("https://other:8443/z", "https://other:8443/z"),
    ];
    for (r, want) in cases {
        let got = base.join(r).unwrap_or_else(|e| panic!("{r}: {e}"));
        assert_eq!(got.to_string(), want, "reference {r:?}");
    }
    // "g:h" is a URL of scheme g (strict parsers take it as absolute).
    assert_eq!(base.join("g:h").unwrap().to_string(), "g:h");
}

#[test]
fn join_edge_cases() {
    let base = p("http://u:p@h:8080");
    assert_eq!(base.join("x").unwrap().to_string(), "http://u:p@h:8080/x");
    assert_eq!(base.join("/a b").unwrap().path(), "/a%20b");
    assert!(base.join("/a\r\nb").is_err());
    assert!(base.join("http://").is_err());
    assert!(base.join("//bücher.de/").is_err());
}

#[test]
fn join_location_encodes_the_received_octets() {
    let base = p("http://h/a/b");
    // Raw UTF-8 "é" on the wire is C3 A9, stored as the latin-1 text "\u{c3}\u{a9}".
    assert_eq!(
        base.join_location("/\u{c3}\u{a9}").unwrap().path(),
        "/%C3%A9"
    );
    // A latin-1 byte E9 stays one octet.
    assert_eq!(
        base.join_location("x\u{e9}?q=\u{e9}")
            .unwrap()
            .path_and_query(),
        "/a/x%E9?q=%E9"
    );
    assert_eq!(
        base.join_location("/plain?x").unwrap().path_and_query(),
        "/plain?x"
    );
    // A host made of such bytes is still refused (no IDNA).
    assert!(base.join_location("//b\u{fc}cher.de/").is_err());
}

#[test]
fn same_origin_uses_effective_port() {
    let a = p("http://H/");
    assert!(a.same_origin(&p("http://h:80/x")));
    assert!(!a.same_origin(&p("https://h/")));
    assert!(!a.same_origin(&p("http://h:81/")));
    assert!(!a.same_origin(&p("http://g/")));
}

#[test]
fn request_targets() {
    let u = p("http://u:p@[::1]/");
    assert_eq!(u.authority_form(), "[::1]:80");
    assert_eq!(p("http://u:p@h").absolute_form(), "http://h/");
}
