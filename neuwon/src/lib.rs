//! # neuwon — conductance-based neuron simulation
//!
//! *The facade is not built yet.* This crate will be thin: it turns a user's description (a
//! Rust builder or a TOML model file) into a lowered model, picks a backend and runs it. It
//! will also ship the `neuwon` command line (`neuwon run`, `neuwon nmodl check`, `neuwon grow`,
//! `neuwon reduce`, `neuwon demo`).
//!
//! The crates below it are usable on their own today: see `soa-db`.
