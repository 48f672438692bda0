//! The `client` layer (being built).
