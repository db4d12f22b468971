//! # benches — benchmarks
//!
//! *No cross-crate benchmarks yet.* This crate will hold the macro scenarios that are compared
//! side by side with NEURON and Arbor (the balanced-binary-tree HH benchmark, rings of cells),
//! with results kept under `bench-results/`. Per-crate micro-benchmarks live in each crate's
//! own `benches/` folder.
