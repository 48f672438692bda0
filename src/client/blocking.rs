//! [`HttpClient`]: the blocking client, for code that has no loop of its own (Tornado's
//! `HTTPClient`, Q-16).
//!
//! It owns a private [`IoLoop`] and an [`AsyncHttpClient`]; `fetch` runs the loop until that
//! one fetch is done, so keep-alive connections stay in the private loop's pool between calls.
//! Calling it from inside a running loop would need a second loop nested in the first: it
//! refuses with a clear error instead.
//!
//! Large bodies need not sit in memory: [`HttpClient::fetch_reader`] returns the response as
//! soon as its head is in, and its body is a [`std::io::Read`] (and `BufRead`) that runs the
//! loop for each next piece, so a reader that stops reading stops the transfer. An upload is
//! read from any `Read` with [`HttpRequest::body_reader`].

use std::io::{self, BufRead, Read};

use super::error::{ErrorKind, HttpError};
use super::request::HttpRequest;
use super::response::HttpResponse;
use super::streaming::StreamingResponse;
use super::{AsyncHttpClient, ClientBuilder};
use crate::http::headers::HttpHeaders;
use crate::ioloop::IoLoop;

/// A blocking HTTP client with a private loop.
pub struct HttpClient {
    io_loop: IoLoop,
    client: AsyncHttpClient,
    closed: bool,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A blocking client with default settings.
    pub fn new() -> HttpClient {
        HttpClient::with_builder(AsyncHttpClient::builder())
    }

    /// A blocking client configured by `builder`.
    pub fn with_builder(builder: ClientBuilder) -> HttpClient {
        HttpClient {
            io_loop: IoLoop::new(),
            client: builder.build(),
            closed: false,
        }
    }

    /// Fetches `req`, blocking until the response (or error) is complete.
    pub fn fetch(&self, req: impl Into<HttpRequest>) -> Result<HttpResponse, HttpError> {
        self.check_usable("fetch")?;
        let req = req.into();
        match self.io_loop.try_run_sync(self.client.fetch(req)) {
            Ok(r) => r,
            Err(e) => Err(HttpError::invalid(format!("HttpClient::fetch(): {e}"))),
        }
    }

    /// A GET of `url`: `fetch(HttpRequest::get(url))`.
    pub fn get(&self, url: &str) -> Result<HttpResponse, HttpError> {
        self.fetch(HttpRequest::get(url))
    }

    /// A POST of `body` to `url` (sent as a form unless a `Content-Type` is set, see
    /// [`HttpRequest::body`]); for JSON or a form use `fetch(HttpRequest::post(url).json(..))`.
    pub fn post(&self, url: &str, body: impl Into<Vec<u8>>) -> Result<HttpResponse, HttpError> {
        self.fetch(HttpRequest::post(url).body(body))
    }

    /// Fetches `req` up to the response head and returns the response with its body still
    /// on the socket, to be read as a [`std::io::Read`] ([`ResponseReader`]). A status error
    /// (non-2xx with `raise_error` on) is returned here, as by `fetch`.
    pub fn fetch_reader(
        &self,
        req: impl Into<HttpRequest>,
    ) -> Result<ResponseReader<'_>, HttpError> {
        self.check_usable("fetch_reader")?;
        let req = req.into();
        let response = match self.io_loop.try_run_sync(self.client.fetch_streaming(req)) {
            Ok(r) => r?,
            Err(e) => {
                return Err(HttpError::invalid(format!(
                    "HttpClient::fetch_reader(): {e}"
                )));
            }
        };
        Ok(ResponseReader {
            client: self,
            response,
            piece: Vec::new(),
            pos: 0,
            done: false,
        })
    }

    fn check_usable(&self, what: &str) -> Result<(), HttpError> {
        if self.closed {
            return Err(HttpError::new(
                ErrorKind::ClientClosed,
                format!("{what}() called on closed HttpClient"),
            ));
        }
        if IoLoop::current().is_running() {
            return Err(HttpError::invalid(format!(
                "HttpClient::{what}() cannot be called inside a running IoLoop; \
                 use AsyncHttpClient there"
            )));
        }
        Ok(())
    }

    /// Closes the client and its loop; quiet, idempotent.
    pub fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.client.close();
            self.io_loop.close();
        }
    }
}

impl Drop for HttpClient {
    fn drop(&mut self) {
        self.close();
    }
}

/// A response whose body streams in as it is read ([`HttpClient::fetch_reader`]). Each `read`
/// that finds nothing buffered runs the client's loop until the next decoded piece arrives;
/// `Ok(0)` is the end of the body (and the connection goes back to the pool). A failure (a
/// timeout, the connection closed mid-body, a bad gzip stream) is an `io::Error` whose inner
/// error is the [`HttpError`] (`err.get_ref()` and downcast), never a silent end.
///
/// Dropping it before the end closes the connection.
pub struct ResponseReader<'c> {
    client: &'c HttpClient,
    response: StreamingResponse,
    piece: Vec<u8>,
    pos: usize,
    done: bool,
}

impl std::fmt::Debug for ResponseReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseReader")
            .field("response", &self.response)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ResponseReader<'_> {
    /// The status code.
    pub fn code(&self) -> u16 {
        self.response.code
    }

    /// The response headers.
    pub fn headers(&self) -> &HttpHeaders {
        &self.response.headers
    }

    /// The response itself: reason, version, effective URL, redirect history, timings.
    pub fn response(&self) -> &StreamingResponse {
        &self.response
    }

    /// Runs the loop until the next piece of the body (or its end, or a failure).
    fn next_piece(&mut self) -> io::Result<()> {
        while self.pos == self.piece.len() && !self.done {
            let next = self
                .client
                .io_loop
                .try_run_sync(self.response.chunk())
                .map_err(io::Error::other)?;
            match next {
                Ok(Some(piece)) => {
                    self.piece = piece;
                    self.pos = 0;
                }
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    let kind = match e.kind() {
                        ErrorKind::Timeout(_) => io::ErrorKind::TimedOut,
                        ErrorKind::ClosedMidBody => io::ErrorKind::UnexpectedEof,
                        ErrorKind::Reset => io::ErrorKind::ConnectionReset,
                        _ => io::ErrorKind::InvalidData,
                    };
                    return Err(io::Error::new(kind, e));
                }
            }
        }
        Ok(())
    }
}

impl Read for ResponseReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ResponseReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.next_piece()?;
        Ok(&self.piece[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.piece.len());
    }
}
