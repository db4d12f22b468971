//! # tests — cross-crate tests against reference data
//!
//! *No cross-crate tests yet.* This crate will hold tests that join several workspace crates
//! and compare their results with NEURON and Arbor traces (copied from the project's shared
//! reference material into `tests/data`).
