//! JSON and URL escaping (being built).
