//! The `http` layer (being built).
