//! # reduce — analytical subtree reduction (Neuron_Reduce)
//!
//! *Not built yet (see the project's issue on `reduce`).* This crate will hold the reduction of
//! Amsalem et al. (2020): each dendritic subtree attached to the soma is replaced by an
//! equivalent cylinder that preserves the subtree's transfer impedance at a chosen frequency;
//! synapses and channel densities are mapped onto the reduced cylinders.
//!
//! It will work on a plain cable-tree description and depend on no other workspace crate.
