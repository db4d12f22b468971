//! # integrate — exact integration kernels and the Hines tree solver
//!
//! Numerics for conductance-based neuron models on plain slices, independent of any database or
//! NMODL: the passive cable on a forest of compartment trees, and linear kinetic schemes.
//!
//! Goals, in priority order:
//! 1. **Correct** against closed forms (the spec's T1–T10) and NEURON reference traces.
//! 2. **Both families of methods**, so users can choose by measurement: NEURON's Hines solver
//!    (backward Euler, Crank–Nicolson) and NEUWON's exact integration (Rotter & Diesmann 1999):
//!    sparse cable propagators with operator splitting, and tabulated kinetic propagators.
//! 3. **Fast** kernels that never allocate in the step loop; cells solved in parallel (rayon).
//!
//! Units everywhere (NEURON's, chosen so kernels need no conversion factors): voltage mV, time
//! ms, capacitance nF, conductance µS, current nA, lengths µm, Ra Ω·cm, cm µF/cm², specific
//! conductance S/cm².
//!
//! Which cable method (measured, see `examples/report.rs` and the tests):
//! * [`Hines`] costs O(N) per step (≈ 3–15 ns per compartment) on any tree; backward Euler is
//!   first order, Crank–Nicolson second order but oscillates at stiff nodes after a stimulus
//!   switch.
//! * [`ExactCable`] costs one sparse product with P per step; P's fill grows like 24·√k per row
//!   on unbranched cables (k = h·g_axial/C) but is dense within each cell on bushy trees. With
//!   [`Split::Strang`] and [`ExactOptions::exact_sources`] it is second order and far more
//!   accurate per unit of work on small passive trees; the spec's splits that fold injected
//!   current into the local step carry an offset at small (stiff) injection compartments.
//!
//! ```
//! use integrate::{CableBuilder, ExactCable, Hines, Membrane, Scheme, Split, NEUWON_PRUNE};
//! // A 100 µm × 1 µm passive cable in 10 intervals, pas g = 1e-4 S/cm², e = −65 mV.
//! let mut b = CableBuilder::new();
//! b.add_section(None, 100.0, 1.0, 10, 100.0, 1.0)?;
//! let tree = b.build()?.tree;
//! let g = tree.membrane_conductance_us(1e-4);
//! let ge: Vec<f64> = g.iter().map(|g| g * -65.0).collect();
//! let zero = vec![0.0; tree.len()];
//! let mut v_hines = vec![-70.0; tree.len()];
//! let mut v_exact = v_hines.clone();
//! let mut hines = Hines::new(&tree);
//! let mut exact = ExactCable::new(&tree, 0.025, Split::Strang, NEUWON_PRUNE)?;
//! for _ in 0..400 {
//!     hines.step(Scheme::CrankNicolson, 0.025, &mut v_hines, &g, &ge)?;
//!     exact.step(&mut v_exact, Membrane { g_us: &g, ge_na: &ge, i_na: &zero }, None)?;
//! }
//! // After 10 ms = 1 τm: −65 − 5·e^{−1}.
//! let expected = -65.0 - 5.0 * (-1.0f64).exp();
//! assert!((v_hines[3] - expected).abs() < 1e-6);
//! assert!((v_exact[3] - expected).abs() < 1e-9);
//! # Ok::<(), integrate::Error>(())
//! ```

mod error;
pub mod exact;
pub mod expm;
pub mod graph;
pub mod hines;
pub mod kinetic;
pub mod lti;
pub mod propagator;
pub mod testing;
pub mod tree;

pub use error::{Error, Result};
pub use exact::{ExactCable, ExactOptions, Membrane, Split};
pub use expm::{expm, phi1, phi2, Mat};
pub use graph::{CableGraph, Elimination};
pub use hines::{eliminate_by_height, invert_pivots, solve_tree, HeightOrder, Hines, Scheme};
pub use kinetic::{exp_euler, InputAxis, KineticScheme, KineticTable, TableReport};
pub use lti::LtiPropagator;
pub use propagator::{
    axial_propagator, axial_propagators, graph_propagators, spmv, spmv_par, Csr, FillStats,
    NEUWON_PRUNE,
};
pub use tree::{BuiltCable, CableBuilder, CableTree, SectionId, ROOT};
