//! # reduce — analytical subtree reduction (Neuron_Reduce)
//!
//! A standalone implementation of the reduction of Amsalem et al. (2020, *Nat. Commun.* 11, 288),
//! following the project's `shared/reduce/SPEC.md`: every dendritic subtree attached to the
//! soma ("stem") is replaced by one uniform cylinder that keeps the stem's input impedance and
//! the attenuation to its most distant point at a chosen frequency; synapses and channel
//! densities are moved to the cylinder position with the same transfer impedance to the soma
//! end, and identical synapses in one reduced segment are merged (each keeps its own events).
//!
//! Goals, in priority order: reproduce the reference implementation's numbers on the same
//! discretisation; never panic on bad input (typed [`ReduceError`]s naming the section/field);
//! be fast (the Hay L5PC with 10 000 synapses reduces in milliseconds); depend on no simulator.
//!
//! Pipeline (one module each): [`tree`] (input) → [`discretise`] (NEURON segment areas and
//! axial resistances from diameter profiles) → [`impedance`] (complex Hines solve of the
//! isolated passive subtree) → [`cylinder`] (cable formulas) → [`reduction`] (mapping,
//! merging, mechanism means, orphan rule) → [`check`] (passive comparison of full and reduced).
//!
//! ```
//! use reduce::{reduce, CableTree, Geometry, ReduceOptions, Section, SectionKind, Segment};
//! let seg = |g: f64| Segment { cm_uf_cm2: 1.0, g_pas_s_cm2: g, e_pas_mv: -70.0, ..Default::default() };
//! let sec = |name: &str, kind, parent, l: f64, d: f64, nseg: usize| Section {
//!     name: name.into(), kind, parent, parent_x: if parent == Some(0) { 0.5 } else { 1.0 },
//!     length_um: l, geometry: Geometry::Cylinder { diam_um: d }, ra_ohm_cm: 100.0,
//!     segments: vec![seg(1e-4); nseg],
//! };
//! let tree = CableTree { sections: vec![
//!     sec("soma", SectionKind::Soma, None, 20.0, 20.0, 1),
//!     sec("dend[0]", SectionKind::Basal, Some(0), 200.0, 2.0, 9),
//!     sec("dend[1]", SectionKind::Basal, Some(1), 150.0, 1.0, 7),
//!     sec("dend[2]", SectionKind::Basal, Some(1), 150.0, 1.0, 7),
//! ]};
//! let r = reduce(&tree, &[], &ReduceOptions::default()).unwrap();
//! assert_eq!(r.cylinders.len(), 1);
//! assert_eq!(r.tree.sections.len(), 2); // soma + one cylinder
//! ```
//!
//! Units follow NEURON: µm, Ω·cm, µF/cm², S/cm², mV, Hz; impedances in Ω.
//! Deliberate differences from the reference implementation: sections are classified by
//! [`SectionKind`] instead of by name; a second apical stem or a soma with a parent is
//! rejected as unsupported; the mechanism defaults of the "inserted per section" quirk
//! come from [`ReduceOptions::defaults`] (the crate does not read NMODL).

pub mod check;
pub mod cylinder;
pub mod discretise;
pub mod error;
pub mod impedance;
pub mod reduction;
pub mod tree;

pub use check::{passive_check, PassiveCheck};
pub use cylinder::CableParams;
pub use error::{ReduceError, Result};
pub use num_complex::Complex64;
pub use reduction::{
    reduce, Cylinder, ReduceOptions, ReducedSynapse, Reduction, SegmentMapping, SegmentPolicy,
    SynapseMapping,
};
pub use tree::{CableTree, Geometry, ProfilePoint, Section, SectionKind, Segment, Synapse};
