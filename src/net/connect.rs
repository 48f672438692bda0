//! `net::connect` (being built).
