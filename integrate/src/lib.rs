//! # integrate — exact integration kernels and the Hines tree solver
//!
//! *Being built (issue: the `integrate` crate).* Matrix exponentials, sparse cable propagators,
//! tabulated kinetic propagators, and Hines' O(N) tree solver, on plain slices.
