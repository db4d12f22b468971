//! # backend-cpu — the reference engine
//!
//! *Not built yet (see the project's issue on simulating real cells).* This crate will hold the
//! backend-independent lowered model (compartments in solver order with parent indices and
//! coefficients, mechanism instance tables, ion pools, event connections, probes, stimuli) and
//! its execution on the CPU with rayon: mechanism kernels, the cable solve from `integrate`,
//! events, spike detection and recording.
