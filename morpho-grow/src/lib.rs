//! # morpho-grow — neuron morphologies for neuwon
//!
//! What is built now:
//!
//! - [`Morphology`]: sections (unbranched runs of 3-D points with diameters), each attached
//!   with its x = 0 end to `parent(x)` as in NEURON; a builder for cylinders, frusta and
//!   point lists that refuses bad geometry;
//! - an SWC reader and writer ([`swc`]) with located errors (`file:line: problem`) and a
//!   NEURON-Import3d-compatible soma interpretation (documented in `SWC.md`);
//! - [`Discretisation`]: compartments with NEURON's node layout (segment centres plus
//!   zero-area section-end nodes), NEURON-exact areas and axial resistances, nseg given per
//!   section or globally, NEURON's d_lambda rule and a maximum compartment length.
//!
//! - growth of synthetic neurons (`shared/specs/morpho-grow.md`): [`region`]s (shapes, set
//!   operations, named regions with cycle detection, uniform and lattice sampling), the
//!   TREES greedy growth with balancing factor and ROOTS constraints ([`grow()`], O(N log N)
//!   by lazy ring expansion over a kd-tree), diameters ([`Taper`]), growth programs of many
//!   neurons ([`GrowthProgram`]), the TOML growth spec of `neuwon grow` ([`GrowthSpec`],
//!   format in `GROW.md`) and SWC export ([`forest_to_swc`]).
//!
//! Goals, in priority order: reproduce NEURON's geometry and node layout exactly; never panic
//! on user input; stay a leaf crate (no other workspace crate).
//!
//! Units: µm, µm², MΩ, µS, Ω·cm, µF/cm², nF — named on every field.
//!
//! ```
//! use morpho_grow::{CableParams, Discretisation, Morphology, SampleType};
//! let mut m = Morphology::new();
//! let soma = m.add_cylinder(SampleType::Soma, None, 20.0, 20.0)?;
//! let dend = m.add_cylinder(SampleType::Basal, Some((soma, 1.0)), 200.0, 1.0)?;
//! let d = Discretisation::new(&m, &[1, 9], &CableParams::uniform(&m, 100.0, 1.0))?;
//! // root end node, soma centre, soma x=1 end, 9 dendrite centres, dendrite x=1 end
//! assert_eq!(d.nodes().len(), 13);
//! let soma_centre = d.node_at(0, soma, 0.5)?;
//! assert!((d.nodes()[soma_centre as usize].area_um2 - std::f64::consts::PI * 400.0).abs() < 1e-9);
//! assert_eq!(d.node_at(0, dend, 0.0)?, d.node_at(0, soma, 1.0)?);
//! # Ok::<(), morpho_grow::MorphoError>(())
//! ```

mod discretise;
mod error;
mod export;
mod geometry;
pub mod grow;
mod kdtree;
mod morphology;
pub mod program;
pub mod region;
pub mod spec;
pub mod swc;
pub mod taper;

pub use discretise::{
    lambda_f_um, nseg_d_lambda, nseg_max, nseg_max_length, nseg_uniform, CableParams,
    Discretisation, Node, NodeKind, SectionNodes,
};
pub use error::{MorphoError, Result, SwcErrorKind};
pub use export::{forest_to_samples, forest_to_swc, ExportOptions};
pub use geometry::Point3;
pub use grow::{
    grow, Competition, CostForm, ExtendFirst, Forest, GrowNode, GrowthOutcome, GrowthParams,
    NeuronRegion, PathOrigin, SegmentSpec, SubdivideMode,
};
pub use morphology::{Attachment, Morphology, SampleType, Section, SectionId};
pub use program::{
    Grown, GrowthInstruction, GrowthProgram, NeuronType, SomaDiameter, SomaInstruction,
    SomaPlacement,
};
pub use region::{Aabb, Region, RegionLibrary, RegionSpec};
pub use spec::GrowthSpec;
pub use taper::{Taper, TaperTable};
