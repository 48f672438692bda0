//! The request helpers as a server sees them: `json` and `form` bodies with their
//! `Content-Type`, `query` pairs appended to the URL escaped, the `get`/`post` shorthands, and
//! what a body without a `Content-Type` is sent as (Tornado's rule, R-07).

use crate::support::server::*;
use squall::{AsyncHttpClient, HttpClient, HttpRequest};

#[cfg(feature = "json")]
#[test]
fn json_body_is_serialised_with_its_content_type() {
    #[derive(serde::Serialize)]
    struct Order<'a> {
        item: &'a str,
        qty: u32,
        note: Option<&'a str>,
    }
    let srv = Server::start(|_| ok(b"done"));
    let order = Order {
        item: "café \"au lait\"",
        qty: 2,
        note: None,
    };
    let r = HttpClient::new()
        .fetch(
            HttpRequest::post(&srv.url("/orders"))
                .header("Content-Type", "text/plain") // replaced
                .json(&order),
        )
        .unwrap();
    assert_eq!(r.body, b"done");
    let got = srv.last();
    assert_eq!(got.method, "POST");
    assert_eq!(got.header_all("Content-Type"), ["application/json"]);
    let v: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"item": "café \"au lait\"", "qty": 2, "note": null})
    );
    assert_eq!(
        got.header("Content-Length"),
        Some(got.body.len().to_string().as_str())
    );
}

#[cfg(feature = "json")]
#[test]
fn json_that_cannot_be_serialised_fails_the_fetch_before_any_io() {
    let mut map = std::collections::HashMap::new();
    map.insert((1, 2), "a tuple key is not a JSON object key");
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let e = HttpClient::new()
        .fetch(HttpRequest::post(&url).json(&map))
        .unwrap_err();
    assert_eq!(e.kind(), &squall::ErrorKind::InvalidRequest, "{e}");
    assert!(e.to_string().contains("JSON"), "{e}");
}

#[test]
fn form_body_is_urlencoded_with_its_content_type() {
    let srv = Server::start(|_| ok(b""));
    HttpClient::new()
        .fetch(HttpRequest::post(&srv.url("/f")).form(&[
            ("name", "Zoë & co"),
            ("q", "a+b=c"),
            ("empty", ""),
        ]))
        .unwrap();
    let got = srv.last();
    assert_eq!(
        got.header_all("Content-Type"),
        ["application/x-www-form-urlencoded"]
    );
    assert_eq!(
        String::from_utf8(got.body).unwrap(),
        "name=Zo%C3%AB+%26+co&q=a%2Bb%3Dc&empty="
    );
}

#[test]
fn query_pairs_are_appended_escaped_and_keep_the_rest() {
    let srv = Server::start(|_| ok(b""));
    let c = HttpClient::new();
    c.fetch(HttpRequest::get(&srv.url("/s")).query(&[("q", "rust & go"), ("n", "1/2")]))
        .unwrap();
    assert_eq!(srv.last().target, "/s?q=rust+%26+go&n=1%2F2");
    // An existing query is kept byte for byte; a fragment stays out of the request.
    c.fetch(HttpRequest::get(&format!("{}?x=%2F#top", srv.url("/s"))).query(&[("y", "é")]))
        .unwrap();
    assert_eq!(srv.last().target, "/s?x=%2F&y=%C3%A9");
    // Two calls add up; an empty list changes nothing.
    let r = HttpRequest::new("http://h/p?")
        .query(&[("a", "1")])
        .query(&[("b", "2")])
        .query::<&str, &str>(&[]);
    assert_eq!(r.url(), "http://h/p?a=1&b=2");
}

#[test]
fn get_and_post_shorthands() {
    let srv = Server::start(|r| ok(format!("{} {}", r.method, r.body.len()).as_bytes()));
    let c = HttpClient::new();
    assert_eq!(c.get(&srv.url("/")).unwrap().body, b"GET 0");
    assert_eq!(c.post(&srv.url("/"), "abc").unwrap().body, b"POST 3");
    let r = run(AsyncHttpClient::new().get(&srv.url("/"))).unwrap();
    assert_eq!(r.body, b"GET 0");
    assert_eq!(HttpRequest::post("http://h/").get_method(), "POST");
    assert_eq!(HttpRequest::get("http://h/").get_method(), "GET");
}

#[test]
fn a_body_without_content_type_is_sent_as_tornado_does() {
    let srv = Server::start(|_| ok(b""));
    let c = HttpClient::new();
    // A POST without one is a form post ...
    c.post(&srv.url("/"), "raw").unwrap();
    assert_eq!(
        srv.last().header_all("Content-Type"),
        ["application/x-www-form-urlencoded"]
    );
    // ...any other method sends none.
    c.fetch(HttpRequest::new(&srv.url("/")).method("PUT").body("raw"))
        .unwrap();
    assert_eq!(srv.last().header("Content-Type"), None);
    // A caller's own is kept.
    c.fetch(
        HttpRequest::post(&srv.url("/"))
            .header("Content-Type", "text/csv")
            .body("a,b"),
    )
    .unwrap();
    assert_eq!(srv.last().header_all("Content-Type"), ["text/csv"]);
}
