//! `net::dns` (being built).
