//! The balanced-binary-tree HH benchmark of `../shared/peers/bench_tree.py`, built directly
//! against `morpho-grow` (geometry, NEURON's node layout) and `backend-cpu` (engine, shipped
//! `hh` and `IClamp`).
//!
//! Per cell: a balanced binary tree of depth D (2^(D+1) − 1 unbranched sections, each child
//! attached at its parent's x = 1), L = 100 µm, diam = 1 µm, nseg = K, Ra = 100 Ω·cm,
//! cm = 1 µF/cm², `hh` everywhere with its default parameters, 6.3 °C, v_init = −65 mV,
//! backward Euler (NEURON's default) at dt = 0.025 ms; an IClamp at the middle of the root
//! section (0.5 nA from 1 ms to the end) and a spike detector (threshold 0 mV) at the same
//! place, as the peers' `NetCon` on `secs[0](0.5)`.

use backend_cpu::{
    library, Cable, CompileOptions, Detector, Engine, Method, Network, Placement, Probe, Settings,
};
use morpho_grow::{CableParams, Discretisation, Morphology, NodeKind, SampleType, SectionId};

use crate::Error;

/// Section length, µm.
pub const SEC_L_UM: f64 = 100.0;
/// Section diameter, µm.
pub const DIAM_UM: f64 = 1.0;
/// Axial resistivity, Ω·cm.
pub const RA_OHM_CM: f64 = 100.0;
/// Specific capacitance, µF/cm².
pub const CM_UF_CM2: f64 = 1.0;
/// Simulated time, ms.
pub const TSTOP_MS: f64 = 100.0;
/// Time step, ms.
pub const DT_MS: f64 = 0.025;
/// Initial membrane potential, mV.
pub const V_INIT_MV: f64 = -65.0;
/// Temperature, °C.
pub const CELSIUS: f64 = 6.3;
/// IClamp amplitude, nA.
pub const AMP_NA: f64 = 0.5;
/// IClamp onset, ms.
pub const DELAY_MS: f64 = 1.0;
/// IClamp duration, ms (to the end of any run).
pub const DUR_MS: f64 = 1e9;
/// Spike detection threshold, mV.
pub const THRESHOLD_MV: f64 = 0.0;

/// One of the peers' benchmark sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Depth 6, nseg 8: 1016 compartments.
    N1e3,
    /// Depth 9, nseg 10: 10 230 compartments.
    N1e4,
    /// Depth 12, nseg 12: 98 292 compartments.
    N1e5,
    /// 100 independent N1e3 cells: 101 600 compartments.
    Many1e3,
    /// Any depth, nseg and number of cells (for tests and exploration).
    Custom {
        /// Tree depth D (2^(D+1) − 1 sections).
        depth: u32,
        /// Segments per section.
        nseg: u32,
        /// Number of independent cells.
        ncells: usize,
    },
}

impl Size {
    /// Parses `N1e3`, `N1e4`, `N1e5`, `100x1e3`, or `DEPTH:NSEG:NCELLS`.
    pub fn parse(s: &str) -> Result<Size, Error> {
        Ok(match s {
            "N1e3" => Size::N1e3,
            "N1e4" => Size::N1e4,
            "N1e5" => Size::N1e5,
            "100x1e3" => Size::Many1e3,
            _ => {
                let parts: Vec<&str> = s.split(':').collect();
                let bad = || {
                    Error::Usage(format!(
                    "unknown size `{s}`: expected N1e3, N1e4, N1e5, 100x1e3 or DEPTH:NSEG:NCELLS"
                ))
                };
                if parts.len() != 3 {
                    return Err(bad());
                }
                let depth: u32 = parts[0].parse().map_err(|_| bad())?;
                let nseg: u32 = parts[1].parse().map_err(|_| bad())?;
                let ncells: usize = parts[2].parse().map_err(|_| bad())?;
                if depth > 20 || nseg == 0 || nseg > 1000 || ncells == 0 || ncells > 100_000 {
                    return Err(Error::Usage(format!(
                        "size `{s}` out of range: depth ≤ 20, 1 ≤ nseg ≤ 1000, 1 ≤ ncells ≤ 100000"
                    )));
                }
                Size::Custom {
                    depth,
                    nseg,
                    ncells,
                }
            }
        })
    }

    /// The label the peers' tables use.
    pub fn label(&self) -> String {
        match self {
            Size::N1e3 => "N1e3".into(),
            Size::N1e4 => "N1e4".into(),
            Size::N1e5 => "N1e5".into(),
            Size::Many1e3 => "100x1e3".into(),
            Size::Custom {
                depth,
                nseg,
                ncells,
            } => format!("{depth}:{nseg}:{ncells}"),
        }
    }

    /// (depth, nseg, number of cells).
    pub fn shape(&self) -> (u32, u32, usize) {
        match *self {
            Size::N1e3 => (6, 8, 1),
            Size::N1e4 => (9, 10, 1),
            Size::N1e5 => (12, 12, 1),
            Size::Many1e3 => (6, 8, 100),
            Size::Custom {
                depth,
                nseg,
                ncells,
            } => (depth, nseg, ncells),
        }
    }

    /// Sections per cell.
    pub fn sections_per_cell(&self) -> usize {
        (1usize << (self.shape().0 + 1)) - 1
    }

    /// Compartments as the peers count them: Σ nseg over every section of every cell.
    pub fn compartments(&self) -> usize {
        let (_, nseg, ncells) = self.shape();
        self.sections_per_cell() * nseg as usize * ncells
    }
}

/// One cell's geometry and where its stimulus and detector go.
pub struct CellGeometry {
    /// The discretisation (NEURON's layout: centres plus zero-area end nodes).
    pub disc: Discretisation,
    /// Diameter of every node, µm.
    pub diam_um: Vec<f64>,
    /// Node of the middle of the root section (NEURON's `secs[0](0.5)`).
    pub root_mid: usize,
}

/// Builds one tree cell.
pub fn cell_geometry(depth: u32, nseg: u32) -> Result<CellGeometry, Error> {
    let nsec = (1usize << (depth + 1)) - 1;
    let mut m = Morphology::new();
    let mut ids: Vec<SectionId> = Vec::with_capacity(nsec);
    for i in 0..nsec {
        let parent = if i == 0 {
            None
        } else {
            Some((ids[(i - 1) / 2], 1.0))
        };
        ids.push(m.add_cylinder(SampleType::Basal, parent, SEC_L_UM, DIAM_UM)?);
    }
    let params = CableParams::uniform(&m, RA_OHM_CM, CM_UF_CM2);
    let disc = Discretisation::new(&m, &vec![nseg; nsec], &params)?;
    let root_mid = disc.node_at(0, ids[0], 0.5)? as usize;
    let diam_um = vec![DIAM_UM; disc.nodes().len()];
    Ok(CellGeometry {
        disc,
        diam_um,
        root_mid,
    })
}

/// How the benchmark model is laid out and run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Blocks of whole cells (each an [`Engine`], stepped in parallel); clamped to the number
    /// of cells.
    pub blocks: usize,
    /// Exact rates instead of NEURON's TABLE for `hh` (NEURON's default is the table).
    pub exact_rates: bool,
}

/// The benchmark model, initialised.
pub struct Tree {
    /// The engines.
    pub network: Network,
    /// Size.
    pub size: Size,
    /// Matrix nodes (compartments plus the zero-area section-end nodes), all cells.
    pub matrix_nodes: usize,
}

/// Builds and initialises the model of `size`; `probe_root` adds a voltage probe at the
/// middle of cell 0's root section (probe 0 of block 0).
pub fn build(size: Size, layout: Layout, probe_root: bool) -> Result<Tree, Error> {
    let (depth, nseg, ncells) = size.shape();
    let geo = cell_geometry(depth, nseg)?;
    let per_cell = geo.disc.nodes().len();
    let opts = CompileOptions {
        use_tables: !layout.exact_rates,
    };
    let hh = library::compile("hh", opts)?;
    let iclamp = library::compile("IClamp", opts)?;
    let blocks = layout.blocks.clamp(1, ncells);
    let settings = Settings {
        dt_ms: DT_MS,
        celsius: CELSIUS,
        v_init_mv: V_INIT_MV,
        method: Method::BackwardEuler,
    };
    // One block at a time, its cable dropped once its engine is built, and the geometry
    // dropped before the last engine is built (a lower peak memory, which the benchmark
    // reports).
    let mut geo = Some(geo);
    let mut engines = Vec::with_capacity(blocks);
    let mut first_cell = 0;
    for b in 0..blocks {
        let Some(g) = geo.as_ref() else {
            break;
        };
        let root_mid = g.root_mid;
        let end = (b + 1) * ncells / blocks;
        let cells = end - first_cell;
        let n = per_cell * cells;
        let mut cable = Cable {
            parent: Vec::with_capacity(n),
            capacitance_nf: Vec::with_capacity(n),
            axial_us: Vec::with_capacity(n),
            area_um2: Vec::with_capacity(n),
            diam_um: Vec::with_capacity(n),
        };
        let mut hh_nodes = Vec::new();
        let mut stim_nodes = Vec::new();
        let mut detectors = Vec::new();
        for c in 0..cells {
            let off = c * per_cell;
            for (k, node) in g.disc.nodes().iter().enumerate() {
                cable.parent.push(node.parent.map(|p| p as usize + off));
                cable.capacitance_nf.push(node.capacitance_nf());
                cable.axial_us.push(node.g_axial_us());
                cable.area_um2.push(node.area_um2);
                cable.diam_um.push(g.diam_um[k]);
                if matches!(node.kind, NodeKind::Centre(_)) {
                    hh_nodes.push(off + k);
                }
            }
            stim_nodes.push(off + root_mid);
            detectors.push(Detector {
                node: off + root_mid,
                threshold_mv: THRESHOLD_MV,
                targets: vec![],
            });
        }
        let placements = vec![
            Placement {
                mechanism: hh.clone(),
                nodes: hh_nodes,
                parameters: vec![],
            },
            Placement {
                mechanism: iclamp.clone(),
                nodes: stim_nodes,
                parameters: vec![
                    ("del".into(), DELAY_MS),
                    ("dur".into(), DUR_MS),
                    ("amp".into(), AMP_NA),
                ],
            },
        ];
        let probes = if probe_root && b == 0 {
            vec![Probe::Voltage { node: root_mid }]
        } else {
            vec![]
        };
        if b + 1 == blocks {
            geo = None;
        }
        engines.push(Engine::new_block_owned(
            b, cable, placements, detectors, probes, settings,
        )?);
        first_cell = end;
    }
    Ok(Tree {
        network: Network::new(engines)?,
        size,
        matrix_nodes: per_cell * ncells,
    })
}

/// Spikes of detector 0 of block 0 (the root middle of cell 0): times, ms.
pub fn root_spikes_cell0(tree: &Tree) -> Vec<f64> {
    tree.network
        .blocks()
        .first()
        .map(|b| {
            b.spikes()
                .iter()
                .filter(|(d, _)| *d == 0)
                .map(|(_, t)| *t)
                .collect()
        })
        .unwrap_or_default()
}
