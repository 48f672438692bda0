//! `net::tls` (being built).
