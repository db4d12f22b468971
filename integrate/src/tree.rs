//! The cable system on a forest of trees: compartments in parent-before-child order, each cell
//! (tree) a contiguous range starting at its root.
//!
//! Units (NEURON-compatible and mutually consistent, so no conversion factors appear in kernels):
//! capacitance nF, conductance µS, current nA, voltage mV, time ms (µS·mV = nA, nF·mV/ms = nA,
//! nF/µS = ms). Geometry is given in µm, Ra in Ω·cm, cm in µF/cm², specific membrane conductance
//! in S/cm².

use crate::error::{check_finite, check_len, check_positive, Error, Result};

/// Marker for "no parent" in [`CableTree::parents`].
pub const ROOT: u32 = u32::MAX;

/// A forest of compartment trees with capacitances and axial conductances.
#[derive(Debug, Clone, PartialEq)]
pub struct CableTree {
    parent: Vec<u32>,
    capacitance: Vec<f64>,
    axial: Vec<f64>,
    area: Vec<f64>,
    cells: Vec<usize>,
}

impl CableTree {
    /// Build from per-compartment data.
    ///
    /// * `parent[i]`: parent index (must be `< i` and in the same cell) or `None` for a root; a
    ///   root starts a new cell, and every cell must be contiguous.
    /// * `capacitance_nf[i]`: membrane capacitance in nF, finite and ≥ 0 (0 only for
    ///   NEURON-style zero-area nodes, which [`crate::Hines`] accepts and the exact propagator
    ///   rejects).
    /// * `axial_us[i]`: axial conductance to the parent in µS, finite and > 0 (ignored for roots;
    ///   must be finite).
    /// * `area_um2[i]`: membrane area in µm² (≥ 0), used to turn densities into totals.
    pub fn new(
        parent: &[Option<usize>],
        capacitance_nf: &[f64],
        axial_us: &[f64],
        area_um2: &[f64],
    ) -> Result<Self> {
        let n = parent.len();
        check_len("capacitance_nf", n, capacitance_nf.len())?;
        check_len("axial_us", n, axial_us.len())?;
        check_len("area_um2", n, area_um2.len())?;
        check_finite("capacitance_nf", capacitance_nf)?;
        check_finite("axial_us", axial_us)?;
        check_finite("area_um2", area_um2)?;
        if n > u32::MAX as usize - 1 {
            return Err(Error::InvalidValue {
                what: "number of compartments",
                value: n as f64,
                reason: "must fit in u32",
            });
        }
        let mut cells = Vec::new();
        let mut pv = Vec::with_capacity(n);
        for (i, p) in parent.iter().enumerate() {
            if capacitance_nf[i].is_nan() || capacitance_nf[i] < 0.0 {
                return Err(Error::InvalidValue {
                    what: "capacitance_nf",
                    value: capacitance_nf[i],
                    reason: "must be >= 0 (0 only for NEURON's zero-area nodes)",
                });
            }
            if area_um2[i] < 0.0 {
                return Err(Error::InvalidValue {
                    what: "area_um2",
                    value: area_um2[i],
                    reason: "must be >= 0",
                });
            }
            match p {
                None => {
                    cells.push(i);
                    pv.push(ROOT);
                }
                Some(p) => {
                    let start = cells.last().copied();
                    match start {
                        Some(s) if *p < i && *p >= s => {}
                        _ => {
                            return Err(Error::NotParentOrdered {
                                index: i,
                                parent: *p,
                            })
                        }
                    }
                    check_positive("axial_us", axial_us[i])?;
                    pv.push(*p as u32);
                }
            }
        }
        cells.push(n);
        let mut axial = axial_us.to_vec();
        for (a, p) in axial.iter_mut().zip(&pv) {
            if *p == ROOT {
                *a = 0.0;
            }
        }
        Ok(CableTree {
            parent: pv,
            capacitance: capacitance_nf.to_vec(),
            axial,
            area: area_um2.to_vec(),
            cells,
        })
    }

    /// Number of compartments.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True if there are no compartments.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// Parent indices, [`ROOT`] for roots.
    pub fn parents(&self) -> &[u32] {
        &self.parent
    }

    /// Parent of compartment `i`, `None` for a root.
    pub fn parent(&self, i: usize) -> Option<usize> {
        match self.parent.get(i) {
            Some(&p) if p != ROOT => Some(p as usize),
            _ => None,
        }
    }

    /// Capacitances, nF.
    pub fn capacitance_nf(&self) -> &[f64] {
        &self.capacitance
    }

    /// Axial conductance to the parent, µS (0 for roots).
    pub fn axial_us(&self) -> &[f64] {
        &self.axial
    }

    /// Membrane areas, µm².
    pub fn area_um2(&self) -> &[f64] {
        &self.area
    }

    /// Cell boundaries: cell c is compartments `cells()[c]..cells()[c+1]`.
    pub fn cells(&self) -> &[usize] {
        &self.cells
    }

    /// Number of cells (trees).
    pub fn n_cells(&self) -> usize {
        self.cells.len() - 1
    }

    /// Per-compartment total membrane conductance in µS for a specific conductance `g` in S/cm²
    /// (S/cm² · µm² · 10⁻⁸ cm²/µm² · 10⁶ µS/S = g·area·10⁻²).
    pub fn membrane_conductance_us(&self, g_s_per_cm2: f64) -> Vec<f64> {
        self.area.iter().map(|a| g_s_per_cm2 * a * 1e-2).collect()
    }

    /// Concatenate several forests into one (cells keep their order).
    pub fn concat(trees: &[&CableTree]) -> CableTree {
        let mut out = CableTree {
            parent: Vec::new(),
            capacitance: Vec::new(),
            axial: Vec::new(),
            area: Vec::new(),
            cells: vec![0],
        };
        for t in trees {
            let off = out.parent.len();
            out.parent.extend(t.parent.iter().map(
                |&p| {
                    if p == ROOT {
                        ROOT
                    } else {
                        p + off as u32
                    }
                },
            ));
            out.capacitance.extend_from_slice(&t.capacitance);
            out.axial.extend_from_slice(&t.axial);
            out.area.extend_from_slice(&t.area);
            out.cells.pop();
            out.cells.extend(t.cells.iter().map(|c| c + off));
        }
        out
    }

    /// Dense conductance Laplacian-plus-membrane matrix helper for tests and small systems:
    /// returns (row, col, value) of the symmetric axial Laplacian K in µS.
    pub fn laplacian_triplets(&self) -> Vec<(usize, usize, f64)> {
        let mut t = Vec::with_capacity(3 * self.len());
        for i in 0..self.len() {
            if let Some(p) = self.parent(i) {
                let a = self.axial[i];
                t.push((i, i, a));
                t.push((p, p, a));
                t.push((i, p, -a));
                t.push((p, i, -a));
            }
        }
        t
    }
}

/// Handle of a section added to a [`CableBuilder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SectionId(pub usize);

#[derive(Debug, Clone)]
struct Section {
    parent: Option<usize>,
    length_um: f64,
    diam_um: f64,
    intervals: usize,
    ra_ohm_cm: f64,
    cm_uf_per_cm2: f64,
}

/// Builds a [`CableTree`] from unbranched cylindrical sections with a vertex-centred
/// discretisation: a section of length L split into n intervals has nodes at x = k/n; each node's
/// control volume reaches half-way to its neighbours, so tips and branch points are nodes with
/// half-size volumes and every node has positive capacitance. A child section attaches at its
/// parent's far end (x = 1) and shares that node. Sections are grouped by cell on `build`.
#[derive(Debug, Clone, Default)]
pub struct CableBuilder {
    sections: Vec<Section>,
}

/// The result of [`CableBuilder::build`]: the tree and where each section's nodes went.
#[derive(Debug, Clone)]
pub struct BuiltCable {
    /// The compartment forest.
    pub tree: CableTree,
    /// `nodes[s]` lists the compartment index of each node of section s, from x = 0 to x = 1
    /// (entry 0 is the parent's end node for a child section).
    pub nodes: Vec<Vec<usize>>,
    /// `positions[s][k]`: relative position x ∈ [0, 1] of node `nodes[s][k]`.
    pub positions: Vec<Vec<f64>>,
}

impl BuiltCable {
    /// Compartment index of the node of section `s` nearest to relative position `x` ∈ [0, 1].
    pub fn node_at(&self, s: SectionId, x: f64) -> Result<usize> {
        let nodes = self.nodes.get(s.0).ok_or(Error::UnknownSection(s.0))?;
        if !(0.0..=1.0).contains(&x) {
            return Err(Error::InvalidValue {
                what: "section position x",
                value: x,
                reason: "must lie in [0, 1]",
            });
        }
        let pos = &self.positions[s.0];
        let mut best = 0;
        for (k, p) in pos.iter().enumerate() {
            if (p - x).abs() < (pos[best] - x).abs() {
                best = k;
            }
        }
        Ok(nodes[best])
    }
}

impl CableBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a section: `parent` (None for a cell's root section), `length_um` (µm, > 0),
    /// `diam_um` (µm, > 0), `intervals` (≥ 1), `ra_ohm_cm` (Ω·cm, > 0), `cm_uf_per_cm2`
    /// (µF/cm², > 0). A child attaches at the parent's x = 1 end.
    pub fn add_section(
        &mut self,
        parent: Option<SectionId>,
        length_um: f64,
        diam_um: f64,
        intervals: usize,
        ra_ohm_cm: f64,
        cm_uf_per_cm2: f64,
    ) -> Result<SectionId> {
        check_positive("length_um", length_um)?;
        check_positive("diam_um", diam_um)?;
        check_positive("ra_ohm_cm", ra_ohm_cm)?;
        check_positive("cm_uf_per_cm2", cm_uf_per_cm2)?;
        if intervals == 0 {
            return Err(Error::InvalidValue {
                what: "intervals",
                value: 0.0,
                reason: "must be >= 1",
            });
        }
        if let Some(p) = parent {
            if p.0 >= self.sections.len() {
                return Err(Error::UnknownSection(p.0));
            }
        }
        self.sections.push(Section {
            parent: parent.map(|p| p.0),
            length_um,
            diam_um,
            intervals,
            ra_ohm_cm,
            cm_uf_per_cm2,
        });
        Ok(SectionId(self.sections.len() - 1))
    }

    /// The cell of each section, and the number of cells (parents precede children by
    /// construction, so one pass suffices).
    fn cells_of_sections(&self) -> (Vec<usize>, usize) {
        let mut cell_of = vec![0usize; self.sections.len()];
        let mut n_cells = 0;
        for (s, sec) in self.sections.iter().enumerate() {
            cell_of[s] = match sec.parent {
                None => {
                    n_cells += 1;
                    n_cells - 1
                }
                Some(p) => cell_of[p],
            };
        }
        (cell_of, n_cells)
    }

    /// Discretise into a [`CableTree`].
    pub fn build(&self) -> Result<BuiltCable> {
        self.discretise(|sec, first, out| {
            let n = sec.intervals;
            let dx = sec.length_um / n as f64;
            let half_area = std::f64::consts::PI * sec.diam_um * dx / 2.0;
            // Ra Ω·cm → Ω·µm (×1e4); r = Ra·dx/(π d²/4) Ω; g = 1/r S = 1e6/r µS.
            let cross = std::f64::consts::PI * sec.diam_um * sec.diam_um / 4.0;
            let g_us = 1e6 * cross / (sec.ra_ohm_cm * 1e4 * dx);
            // cm µF/cm² · µm² · 1e-8 cm²/µm² = µF; ×1e3 → nF.
            let c_half = sec.cm_uf_per_cm2 * half_area * 1e-5;
            let mut list = vec![first];
            let mut prev = first;
            for _ in 0..n {
                out.cap[prev] += c_half;
                out.area[prev] += half_area;
                prev = out.push(Some(prev), c_half, g_us, half_area);
                list.push(prev);
            }
            (list, (0..=n).map(|k| k as f64 / n as f64).collect())
        })
    }

    /// Discretise as NEURON does (`nseg` = each section's `intervals`): one node at the centre
    /// of each of the nseg segments with the segment's full lateral area, plus zero-area nodes
    /// at the section ends (x = 0 of a root section, x = 1 of every section); neighbouring
    /// centres are coupled through one segment length, end nodes through half of one. A child's
    /// first centre attaches to the parent's x = 1 node. Zero-area nodes have zero capacitance:
    /// fine for [`crate::Hines`] (backward Euler; Crank–Nicolson's extrapolation is wrong at
    /// them, as in NEURON); the exact propagator needs them eliminated
    /// ([`crate::graph::Elimination`]).
    pub fn build_neuron_compat(&self) -> Result<BuiltCable> {
        self.discretise(|sec, first, out| {
            let n = sec.intervals;
            let seg = sec.length_um / n as f64;
            let seg_area = std::f64::consts::PI * sec.diam_um * seg;
            let cross = std::f64::consts::PI * sec.diam_um * sec.diam_um / 4.0;
            // Conductance (µS) through a length ℓ (µm) of this section.
            let g_of = |len: f64| 1e6 * cross / (sec.ra_ohm_cm * 1e4 * len);
            let mut list = vec![first];
            let mut pos = vec![0.0];
            let mut prev = first;
            for k in 0..n {
                let g = if k == 0 { g_of(seg / 2.0) } else { g_of(seg) };
                let c = sec.cm_uf_per_cm2 * seg_area * 1e-5;
                prev = out.push(Some(prev), c, g, seg_area);
                list.push(prev);
                pos.push((k as f64 + 0.5) / n as f64);
            }
            list.push(out.push(Some(prev), 0.0, g_of(seg / 2.0), 0.0));
            pos.push(1.0);
            (list, pos)
        })
    }

    /// Walks the cells and, in each, the sections in order: a root section starts at a new
    /// zero-capacitance node, a child at its parent's last node; `section` adds the section's
    /// nodes after `first` and returns (its node list from `first`, their positions x).
    fn discretise(
        &self,
        mut section: impl FnMut(&Section, usize, &mut NodeLists) -> (Vec<usize>, Vec<f64>),
    ) -> Result<BuiltCable> {
        let ns = self.sections.len();
        let (cell_of, n_cells) = self.cells_of_sections();
        let mut out = NodeLists::default();
        let mut nodes: Vec<Vec<usize>> = vec![Vec::new(); ns];
        let mut positions: Vec<Vec<f64>> = vec![Vec::new(); ns];
        for cell in 0..n_cells {
            for (s, sec) in self.sections.iter().enumerate() {
                if cell_of[s] != cell {
                    continue;
                }
                let first = match sec.parent {
                    None => out.push(None, 0.0, 0.0, 0.0),
                    Some(p) => *nodes[p].last().ok_or(Error::UnknownSection(p))?,
                };
                (nodes[s], positions[s]) = section(sec, first, &mut out);
            }
        }
        let tree = CableTree::new(&out.parent, &out.cap, &out.axial, &out.area)?;
        Ok(BuiltCable {
            tree,
            nodes,
            positions,
        })
    }
}

/// The per-node arrays of a cable under construction.
#[derive(Default)]
struct NodeLists {
    parent: Vec<Option<usize>>,
    cap: Vec<f64>,
    axial: Vec<f64>,
    area: Vec<f64>,
}

impl NodeLists {
    /// Appends a node; returns its index.
    fn push(&mut self, parent: Option<usize>, cap_nf: f64, axial_us: f64, area_um2: f64) -> usize {
        self.parent.push(parent);
        self.cap.push(cap_nf);
        self.axial.push(axial_us);
        self.area.push(area_um2);
        self.parent.len() - 1
    }
}

/// An unbranched uniform cable of `n` compartments as a tree (compartment i's parent is i − 1):
/// each compartment has capacitance `c_nf` (nF), area `area_um2` (µm²) and axial conductance
/// `g_axial_us` (µS) to its neighbour.
pub fn uniform_chain(n: usize, c_nf: f64, g_axial_us: f64, area_um2: f64) -> Result<CableTree> {
    let parent: Vec<Option<usize>> = (0..n).map(|i| i.checked_sub(1)).collect();
    CableTree::new(
        &parent,
        &vec![c_nf; n],
        &vec![g_axial_us; n],
        &vec![area_um2; n],
    )
}

/// A balanced binary tree of `n` compartments in breadth-first order (parent of i is (i−1)/2),
/// uniform capacitance (nF), axial conductance (µS) and area (µm²).
pub fn binary_tree(n: usize, c_nf: f64, g_axial_us: f64, area_um2: f64) -> Result<CableTree> {
    let parent: Vec<Option<usize>> = (0..n)
        .map(|i| if i == 0 { None } else { Some((i - 1) / 2) })
        .collect();
    CableTree::new(
        &parent,
        &vec![c_nf; n],
        &vec![g_axial_us; n],
        &vec![area_um2; n],
    )
}

/// Capacitance (nF), axial conductance (µS) and lateral area (µm²) of one cylindrical
/// compartment of length `len_um` (µm) and diameter `diam_um` (µm) with `ra_ohm_cm` (Ω·cm) and
/// `cm_uf_per_cm2` (µF/cm²); the conductance is that of one compartment length.
pub fn cylinder_compartment(
    len_um: f64,
    diam_um: f64,
    ra_ohm_cm: f64,
    cm_uf_per_cm2: f64,
) -> Result<(f64, f64, f64)> {
    check_positive("len_um", len_um)?;
    check_positive("diam_um", diam_um)?;
    check_positive("ra_ohm_cm", ra_ohm_cm)?;
    check_positive("cm_uf_per_cm2", cm_uf_per_cm2)?;
    let area = std::f64::consts::PI * diam_um * len_um;
    let cross = std::f64::consts::PI * diam_um * diam_um / 4.0;
    let g = 1e6 * cross / (ra_ohm_cm * 1e4 * len_um);
    Ok((cm_uf_per_cm2 * area * 1e-5, g, area))
}
