//! The `net` layer (being built).
