//! # morpho-grow — growing neuron morphologies
//!
//! *Not built yet (see the project's issue on `morpho-grow`).* This crate will hold:
//!
//! - the TREES growth algorithm (Cuntz et al. 2010): minimum-spanning-tree growth over carrier
//!   points with a balancing factor between wiring cost and path length;
//! - the ROOTS constraints (Bingham et al. 2020): growth inside and around obstacles and regions;
//! - SWC input and output, so grown cells can be read by NEURON, Arbor and neuwon.
//!
//! It will depend on no other workspace crate.
