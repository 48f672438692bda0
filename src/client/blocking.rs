//! [`HttpClient`]: the blocking client, for code that has no loop of its own (Tornado's
//! `HTTPClient`, Q-16).
//!
//! It owns a private [`IoLoop`] and an [`AsyncHttpClient`]; `fetch` runs the loop until that
//! one fetch is done, so keep-alive connections stay in the private loop's pool between calls.
//! Calling it from inside a running loop would need a second loop nested in the first: it
//! refuses with a clear error instead.

use super::error::{ErrorKind, HttpError};
use super::request::HttpRequest;
use super::response::HttpResponse;
use super::{AsyncHttpClient, ClientBuilder};
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
        if self.closed {
            return Err(HttpError::new(
                ErrorKind::ClientClosed,
                "fetch() called on closed HttpClient",
            ));
        }
        if IoLoop::current().is_running() {
            return Err(HttpError::invalid(
                "HttpClient::fetch() cannot be called inside a running IoLoop; \
                 use AsyncHttpClient there",
            ));
        }
        let req = req.into();
        match self.io_loop.try_run_sync(self.client.fetch(req)) {
            Ok(r) => r,
            Err(e) => Err(HttpError::invalid(format!("HttpClient::fetch(): {e}"))),
        }
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
