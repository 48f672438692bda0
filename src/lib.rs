//! # squall
//!
//! An HTTP/1.1 client in the shape of Tornado's `AsyncHTTPClient`, built on an event loop of
//! its own. The crate is layered, and the folders show the layers:
//!
//! - [`ioloop`]: a single-threaded reactor over mio, a minimal executor for futures, a timer
//!   heap and thread-safe callbacks. It knows nothing of HTTP.
//! - [`http`]: the sans-IO protocol core. Bytes go in, events come out; it never touches a
//!   socket, so every rule in it is tested with exact wire bytes.
//! - [`net`]: TCP connects (happy eyeballs, source binding), DNS off the loop, TLS with rustls.
//! - [`client`]: policy: the keep-alive pool, the queue, redirects, timeouts, streaming.
//! - [`escape`]: JSON and URL escaping as Tornado's `tornado.escape` does it.
//!
//! # Cargo features
//!
//! All on by default; with `default-features = false` the library depends on mio, httparse
//! and socket2 only.
//!
//! - `tls`: `https` with rustls (ring) and webpki-roots. Without it an `https` URL fails at
//!   fetch time with [`ErrorKind::UnsupportedScheme`].
//! - `gzip`: decoding gzip/deflate bodies with flate2. Without it nothing asks for a coded
//!   body and one sent anyway is handed over as received, `Content-Encoding` intact.
//! - `json`: serde_json: `escape::json_encode`/`json_decode`, `HttpResponse::json`,
//!   `HttpRequest::json`.
//! - `cli`: the `squall` binary (lexopt).
//!
//! [`HttpRequest`], [`HttpResponse`] and [`HttpError`] are `Send + Sync`; their `Debug`
//! output redacts credentials.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod calendar;
pub mod client;
pub mod escape;
pub mod http;
pub mod ioloop;
pub mod net;

pub use client::{
    AsyncHttpClient, BodyWriter, ClientBuilder, ErrorKind, HttpClient, HttpError, HttpRequest,
    HttpResponse, ResponseReader, StreamingResponse, TimeInfo, TimeoutPhase,
};
pub use client::{NoProxy, Proxy, ProxyErrorKind, ProxyRules};
pub use http::headers::HttpHeaders;
pub use http::url::Url;
pub use ioloop::IoLoop;
