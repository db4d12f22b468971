//! # tests — cross-crate tests against reference data
//!
//! Tests that join several workspace crates and compare with NEURON and Arbor traces (copied
//! from the project's shared reference material into `tests/data`). Today:
//!
//! - `tests/passive_y_wiring.rs`: `morpho-grow` discretises the passive Y tree with NEURON's
//!   layout and `integrate` solves it with Hines' backward Euler; the traces match NEURON's
//!   `passive_y` reference (dt 0.025 ms) to 5e-9 mV. This is the geometry path of the engine.
//!
//! - `tests/hh_soma_engine.rs`: `backend-cpu` runs our `hh` and `IClamp` in the documented
//!   phase order and `integrate`'s Hines solver steps the membrane on one compartment; the
//!   result is NEURON's `hh_soma` run (backward Euler, tables on) to 5e-9 mV through four
//!   spikes. This is the mechanism half of the engine's step.
//!
//! The engine's end-to-end tests against `hh_axon`, `ball_and_stick_syn` and
//! `ring10` come with the engine.
