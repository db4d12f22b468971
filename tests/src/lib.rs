//! # tests — cross-crate tests against reference data
//!
//! Tests that join several workspace crates and compare with NEURON and Arbor traces (copied
//! from the project's shared reference material into `tests/data`). Today:
//!
//! - `tests/passive_y_wiring.rs`: `morpho-grow` discretises the passive Y tree with NEURON's
//!   layout and `integrate` solves it with Hines' backward Euler; the traces match NEURON's
//!   `passive_y` reference (dt 0.025 ms) to 5e-9 mV. This is the geometry path of the engine.
//!
//! The engine's end-to-end tests against `hh_soma`, `hh_axon`, `ball_and_stick_syn` and
//! `ring10` come with the engine.
