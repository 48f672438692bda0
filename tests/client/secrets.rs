//! Secrets stay out of logs: the `Debug` of a request, a response and an error (and so of
//! anything that prints them with `{:?}`) never shows a URL password, nor the values of
//! `Authorization`, `Proxy-Authorization`, `Cookie` or `Set-Cookie`. Each test formats the
//! real objects and greps the text for the secrets.

use crate::support::server::*;
use squall::{AsyncHttpClient, ErrorKind, HttpClient, HttpHeaders, HttpRequest};

const SECRETS: [&str; 6] = [
    "hunter2",        // URL password
    "sekret-token",   // Authorization
    "proxy-pass-123", // Proxy-Authorization
    "session=abc987", // Cookie
    "opt-password",   // auth() password
    "set-me-456",     // Set-Cookie from the server
];

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} leaks {s:?}:\n{text}");
    }
    // base64 of the basic credentials must not leak either.
    assert!(
        !text.contains("dTpodW50ZXIy"),
        "{what} leaks basic credentials:\n{text}"
    );
}

fn secret_request(url: &str) -> HttpRequest {
    HttpRequest::new(url)
        .header("Authorization", "Bearer sekret-token")
        .header("proxy-authorization", "Basic proxy-pass-123")
        .header("Cookie", "session=abc987")
        .header("X-Visible", "shown")
        .auth("someone", "opt-password")
}

#[test]
fn request_debug_redacts_credentials() {
    let req = secret_request("http://u:hunter2@127.0.0.1:1/p?q=1");
    let text = format!("{req:?}");
    assert_clean("HttpRequest", &text);
    assert!(text.contains("<redacted>"), "{text}");
    assert!(text.contains("shown"), "other headers stay visible: {text}");
    assert!(text.contains("u:<redacted>@127.0.0.1:1/p?q=1"), "{text}");
    let pretty = format!("{req:#?}");
    assert_clean("HttpRequest {:#?}", &pretty);
}

#[test]
fn response_and_its_request_redact_credentials() {
    let srv = Server::start(|_| {
        vec![write(resp(
            200,
            &[("Set-Cookie", "id=set-me-456; HttpOnly"), ("X-Ok", "1")],
            b"body",
        ))]
    });
    let url = srv.url("/").replace("http://", "http://u:hunter2@");
    let r = HttpClient::new().fetch(secret_request(&url)).unwrap();
    assert_eq!(r.body, b"body");
    // The secrets really were sent (so the Debug below had them to hide).
    let sent = srv.last();
    assert_eq!(sent.header("Cookie"), Some("session=abc987"));
    assert_eq!(r.headers.get("Set-Cookie"), Some("id=set-me-456; HttpOnly"));
    let text = format!("{r:?}");
    assert_clean("HttpResponse", &text);
    assert!(text.contains("X-Ok"), "{text}");
}

#[test]
fn errors_redact_credentials_in_message_and_response() {
    // A status error carries the response (and its request).
    let srv = Server::start(|_| vec![write(resp(403, &[("Set-Cookie", "x=set-me-456")], b"no"))]);
    let url = srv.url("/").replace("http://", "http://u:hunter2@");
    let e = HttpClient::new().fetch(secret_request(&url)).unwrap_err();
    assert_eq!(e.code(), 403);
    assert_clean("HttpError (status)", &format!("{e:?}"));
    // Messages that quote the URL as given: malformed, unsupported scheme.
    for bad in ["http://u:hunter2@h:99999/", "ftp://u:hunter2@h/"] {
        let e = run(AsyncHttpClient::new().fetch(bad)).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::MalformedUrl | ErrorKind::UnsupportedScheme
            ),
            "{e}"
        );
        assert_clean("HttpError (url)", &format!("{e:?}"));
        assert_clean("HttpError Display", &e.to_string());
        assert!(e.to_string().contains("u:<redacted>@h"), "{e}");
    }
}

#[test]
fn headers_debug_redacts_any_case() {
    let mut h = HttpHeaders::new();
    h.add("AUTHORIZATION", "sekret-token");
    h.add("cookie", "session=abc987");
    h.add("Accept", "*/*");
    let text = format!("{h:?}");
    assert_clean("HttpHeaders", &text);
    assert!(text.contains("*/*"));
    // Only Debug hides them: the values themselves are intact.
    assert_eq!(h.get("Authorization"), Some("sekret-token"));
}
