//! The `net` layer: TCP connects, DNS off the loop, TLS on the loop (being built).
pub mod connect;
pub mod dns;
pub mod tls;
