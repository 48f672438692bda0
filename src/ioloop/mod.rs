//! The `ioloop` layer (being built).
