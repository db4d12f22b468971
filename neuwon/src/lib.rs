//! # neuwon — conductance-based neuron simulation
//!
//! *The facade library is not built yet.* This crate will be thin: it turns a user's
//! description (a Rust builder or a TOML model file) into a lowered model, picks a backend and
//! runs it.
//!
//! It ships the `neuwon` command line (`src/main.rs`, subcommands in `src/cli/`). Built today:
//! `neuwon nmodl check FILE.mod… [--emit ast|nmodl|ir]`, which parses, analyses and lowers
//! NMODL files with the `nmodl` crate (exit 0 when every file lowers, 1 with diagnostics
//! otherwise). Planned: `neuwon run`, `neuwon grow`, `neuwon reduce`, `neuwon demo`.
//!
//! The crates below it are usable on their own today: see `soa-db` and `nmodl`.
