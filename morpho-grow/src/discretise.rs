//! Discretisation into compartments with NEURON's node layout.
//!
//! # Node layout (NEURON's)
//!
//! A section with `nseg` segments owns `nseg + 1` nodes: the centres of its segments, at
//! x = (i + ½)/nseg, i = 0 … nseg − 1, and a **zero-area node at its x = 1 end**. A *root*
//! section owns one more node, the **zero-area node at its x = 0 end** (the tree's root node).
//! The x = 0 end of a non-root section is not a node of its own: the section's first centre
//! connects directly to the parent's node at the attachment point, which for `parent(x)` is
//!
//! * x = 1 → the parent's x = 1 end node (e.g. `connect child(0), parent(1)`),
//! * x = 0 → the node of the parent's own x = 0 end (recursively: the root node, or the node
//!   the parent is attached to),
//! * 0 < x < 1 → the centre of the parent's segment containing x: ⌊x·nseg⌋, clamped to
//!   nseg − 1 (so a boundary x = k/nseg goes to the distal segment k).
//!
//! This is what `shared/reference/hh_axon/model.md` and `passive_y/model.md` describe:
//! "x = 0 and x = 1 are NEURON's zero-area end nodes … connected to the first segment centre
//! by half a segment of axial resistance", and passive_y's "67 segments + 4 zero-area nodes".
//!
//! # Area and axial resistance
//!
//! * Area of a centre node: the lateral area of the section's frusta between arc lengths
//!   i·L/nseg and (i+1)·L/nseg, diameters interpolated linearly in arc length at the cut points
//!   (NEURON's `area()`, which ignores end caps). End nodes have area 0.
//! * Axial resistance to the parent node (NEURON's `ri()`), in MΩ: Ra·∫ dx / (π d²/4) along
//!   the path between the two nodes. With Ra in Ω·cm, x and d in µm:
//!   R = 4·Ra/π · ∫dx/d² · 10⁻² MΩ (Ω·cm/µm = 10⁴ Ω = 10⁻² MΩ); for a cylinder of length ℓ,
//!   R = 4·Ra·ℓ/(π d²)·10⁻². A first centre's path is its own left half segment only (the
//!   parent's node sits exactly at the attachment point); an inner centre's is the right half
//!   of the previous segment plus its own left half; the x = 1 end node's is the right half of
//!   the last segment. ∫dx/d² over a linear-diameter piece is h/(d₁d₂) exactly.
//!
//! # Zero-area nodes (for the engine)
//!
//! End nodes ([`NodeKind::End0`], [`NodeKind::End1`]) have no membrane and therefore no
//! capacitance. A solver that needs capacitance > 0 at every node (`integrate::CableTree`) can
//! eliminate them: with no membrane current, an end node's voltage is algebraic,
//! v = Σ gₖ vₖ / Σ gₖ over its neighbours k (axial conductances gₖ, plus any point-process
//! current I: v = (Σ gₖ vₖ + I)/Σ gₖ). Eliminating it joins every pair of its neighbours by
//! the conductance gᵢgⱼ/Σ gₖ (a star–mesh transform): for a node with exactly two neighbours
//! this is the series conductance, and a leaf end node (a sealed tip) simply disappears. NEURON
//! itself keeps them and gives them 100 µm² of "area" only to convert point-process nA.

use crate::error::{MorphoError, Result};
use crate::geometry::{area_between, inv_d2_between};
use crate::morphology::{check_x, Morphology, Section, SectionId};

/// Electrical parameters of one section.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CableParams {
    /// Axial resistivity Ra, Ω·cm.
    pub ra_ohm_cm: f64,
    /// Specific membrane capacitance cm, µF/cm².
    pub cm_uf_per_cm2: f64,
}

impl Default for CableParams {
    /// NEURON's defaults: Ra = 35.4 Ω·cm, cm = 1 µF/cm².
    fn default() -> Self {
        Self {
            ra_ohm_cm: 35.4,
            cm_uf_per_cm2: 1.0,
        }
    }
}

impl CableParams {
    /// The same parameters for every section of `morph`.
    pub fn uniform(morph: &Morphology, ra_ohm_cm: f64, cm_uf_per_cm2: f64) -> Vec<Self> {
        vec![
            Self {
                ra_ohm_cm,
                cm_uf_per_cm2
            };
            morph.len()
        ]
    }
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Zero-area node at the x = 0 end of a root section.
    End0,
    /// Centre of segment `i` (0-based) of the section, at x = (i + ½)/nseg.
    Centre(u32),
    /// Zero-area node at the x = 1 end of the section.
    End1,
}

/// One compartment (node) of the cable tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Index of the parent node, `None` for a tree's root node. Always smaller than this
    /// node's own index.
    pub parent: Option<u32>,
    /// Which cell (morphology) of a concatenated discretisation, 0-based.
    pub cell: u32,
    /// Section within that cell's morphology.
    pub section: SectionId,
    /// Segment centre or end node.
    pub kind: NodeKind,
    /// Position on the section, x ∈ [0, 1].
    pub x: f64,
    /// Membrane area, µm² (0 for end nodes).
    pub area_um2: f64,
    /// Axial resistance to the parent node, MΩ (0 for a root node, which has no parent).
    pub r_axial_mohm: f64,
    /// Specific membrane capacitance of the section, µF/cm².
    pub cm_uf_per_cm2: f64,
}

impl Node {
    /// True for the zero-area end nodes.
    pub fn is_end_node(&self) -> bool {
        !matches!(self.kind, NodeKind::Centre(_))
    }

    /// Axial conductance to the parent, µS (= 1 / MΩ); 0 for a root node.
    pub fn g_axial_us(&self) -> f64 {
        if self.parent.is_some() && self.r_axial_mohm > 0.0 {
            1.0 / self.r_axial_mohm
        } else {
            0.0
        }
    }

    /// Membrane capacitance, nF: cm·area·10⁻⁵ (µF/cm² · µm² = 10⁻⁸ µF = 10⁻⁵ nF).
    pub fn capacitance_nf(&self) -> f64 {
        self.cm_uf_per_cm2 * self.area_um2 * 1e-5
    }
}

/// The nodes of one section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionNodes {
    /// Number of segments.
    pub nseg: u32,
    /// Node at the section's x = 0 end (its own [`NodeKind::End0`] for a root section, the
    /// parent's node at the attachment point otherwise).
    pub start: u32,
    /// Node of segment 0's centre; segment i's centre is `first_centre + i`.
    pub first_centre: u32,
    /// The section's [`NodeKind::End1`] node.
    pub end: u32,
}

/// An engine-neutral compartment tree of one or more cells.
///
/// Invariants: a node's parent index is smaller than its own; every tree (root section and its
/// descendants) occupies a contiguous run of nodes starting with its root node (the root
/// section's [`NodeKind::End0`]); cells follow each other in the order they were added. These
/// are the layout rules of `integrate::CableTree::new(parents, capacitances_nf,
/// axial_conductances_us, areas_um2)`; note that its exact propagator refuses the zero
/// capacitance of end nodes (see the module docs for eliminating them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Discretisation {
    nodes: Vec<Node>,
    cells: Vec<Vec<SectionNodes>>,
}

/// NEURON's `lambda_f(freq)` of a section, µm: the AC length constant at `freq_hz`, computed
/// over the 3-D points as `fixnseg.hoc` does: L / Σ (Δarc / λ(d̄)) with
/// λ(d) = 10⁵·√(d / (4π·f·Ra·cm)) and d̄ = (d₁ + d₂)/2 per piece.
pub fn lambda_f_um(section: &Section, params: CableParams, freq_hz: f64) -> Result<f64> {
    for (what, v) in [
        ("frequency (Hz)", freq_hz),
        ("Ra (Ω·cm)", params.ra_ohm_cm),
        ("cm (µF/cm²)", params.cm_uf_per_cm2),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(MorphoError::BadValue { what, value: v });
        }
    }
    let pts = section.points();
    let arcs = section.arc_lengths_um();
    let mut s = 0.0;
    for (p, a) in pts.windows(2).zip(arcs.windows(2)) {
        s += (a[1] - a[0]) / (p[0].diam + p[1].diam).sqrt();
    }
    let k = std::f64::consts::SQRT_2
        * 1e-5
        * (4.0 * std::f64::consts::PI * freq_hz * params.ra_ohm_cm * params.cm_uf_per_cm2).sqrt();
    Ok(section.length_um() / (s * k))
}

fn check_len<T>(what: &'static str, v: &[T], morph: &Morphology) -> Result<()> {
    if v.len() == morph.len() {
        Ok(())
    } else {
        Err(MorphoError::LengthMismatch {
            what,
            got: v.len(),
            expected: morph.len(),
        })
    }
}

/// The same nseg for every section.
pub fn nseg_uniform(morph: &Morphology, nseg: u32) -> Vec<u32> {
    vec![nseg; morph.len()]
}

/// NEURON's d_lambda rule (`fixnseg.hoc`, `geom_nseg`): per section
/// nseg = ⌊(L/(d_lambda·λ_f) + 0.9)/2⌋·2 + 1 (always odd). NEURON's defaults are
/// `d_lambda = 0.1`, `freq_hz = 100`.
pub fn nseg_d_lambda(
    morph: &Morphology,
    params: &[CableParams],
    d_lambda: f64,
    freq_hz: f64,
) -> Result<Vec<u32>> {
    check_len("cable parameters", params, morph)?;
    if !(d_lambda.is_finite() && d_lambda > 0.0) {
        return Err(MorphoError::BadValue {
            what: "d_lambda",
            value: d_lambda,
        });
    }
    morph
        .sections()
        .iter()
        .zip(params)
        .map(|(s, p)| {
            let lam = lambda_f_um(s, *p, freq_hz)?;
            let half = ((s.length_um() / (d_lambda * lam) + 0.9) / 2.0).floor();
            Ok((half as u32).saturating_mul(2).saturating_add(1))
        })
        .collect()
}

/// The smallest nseg with L/nseg ≤ `max_um` per section (a maximum compartment length).
pub fn nseg_max_length(morph: &Morphology, max_um: f64) -> Result<Vec<u32>> {
    if !(max_um.is_finite() && max_um > 0.0) {
        return Err(MorphoError::BadValue {
            what: "maximum compartment length (µm)",
            value: max_um,
        });
    }
    Ok(morph
        .sections()
        .iter()
        .map(|s| ((s.length_um() / max_um).ceil() as u32).max(1))
        .collect())
}

/// Element-wise maximum of two nseg lists (e.g. d_lambda and a maximum length together).
pub fn nseg_max(a: &[u32], b: &[u32]) -> Vec<u32> {
    a.iter().zip(b).map(|(x, y)| *x.max(y)).collect()
}

impl Discretisation {
    /// Discretise one cell: `nseg` and `params` have one entry per section.
    pub fn new(morph: &Morphology, nseg: &[u32], params: &[CableParams]) -> Result<Self> {
        let mut d = Self::default();
        d.push_cell(morph, nseg, params)?;
        Ok(d)
    }

    /// Append another cell (its node indices follow the existing ones). Returns its cell index.
    pub fn push_cell(
        &mut self,
        morph: &Morphology,
        nseg: &[u32],
        params: &[CableParams],
    ) -> Result<u32> {
        check_len("nseg list", nseg, morph)?;
        check_len("cable parameters", params, morph)?;
        for (i, n) in nseg.iter().enumerate() {
            if *n == 0 {
                return Err(MorphoError::ZeroNseg { section: i });
            }
        }
        for p in params {
            for (what, v) in [("Ra (Ω·cm)", p.ra_ohm_cm), ("cm (µF/cm²)", p.cm_uf_per_cm2)] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(MorphoError::BadValue { what, value: v });
                }
            }
        }
        let cell = self.cells.len() as u32;
        let mut table: Vec<Option<SectionNodes>> = vec![None; morph.len()];
        let mut nodes = std::mem::take(&mut self.nodes);
        for sid in tree_order(morph) {
            let (Some(sec), Some(&n), Some(p)) = (
                morph.sections().get(sid.index()),
                nseg.get(sid.index()),
                params.get(sid.index()),
            ) else {
                continue;
            };
            let pts = sec.points();
            let arcs = sec.arc_lengths_um();
            let l = sec.length_um();
            let factor = 4.0 * p.ra_ohm_cm / std::f64::consts::PI * 1e-2;
            let bound = |k: u32| {
                if k == n {
                    l
                } else {
                    l * f64::from(k) / f64::from(n)
                }
            };
            let mid = |k: u32| l * (f64::from(k) + 0.5) / f64::from(n);
            let start = match sec.parent() {
                None => {
                    nodes.push(Node {
                        parent: None,
                        cell,
                        section: sid,
                        kind: NodeKind::End0,
                        x: 0.0,
                        area_um2: 0.0,
                        r_axial_mohm: 0.0,
                        cm_uf_per_cm2: p.cm_uf_per_cm2,
                    });
                    (nodes.len() - 1) as u32
                }
                Some(a) => {
                    let pt = table.get(a.parent.index()).copied().flatten().ok_or(
                        MorphoError::UnknownSection {
                            index: a.parent.index(),
                            count: table.len(),
                        },
                    )?;
                    lookup(&pt, a.x)
                }
            };
            let first_centre = nodes.len() as u32;
            for i in 0..n {
                let left = inv_d2_between(pts, arcs, bound(i), mid(i));
                let right_prev = if i == 0 {
                    0.0
                } else {
                    inv_d2_between(pts, arcs, mid(i - 1), bound(i))
                };
                let parent = if i == 0 { start } else { first_centre + i - 1 };
                nodes.push(Node {
                    parent: Some(parent),
                    cell,
                    section: sid,
                    kind: NodeKind::Centre(i),
                    x: (f64::from(i) + 0.5) / f64::from(n),
                    area_um2: area_between(pts, arcs, bound(i), bound(i + 1), i + 1 == n),
                    r_axial_mohm: factor * (left + right_prev),
                    cm_uf_per_cm2: p.cm_uf_per_cm2,
                });
            }
            let last_right = inv_d2_between(pts, arcs, mid(n - 1), l);
            nodes.push(Node {
                parent: Some(first_centre + n - 1),
                cell,
                section: sid,
                kind: NodeKind::End1,
                x: 1.0,
                area_um2: 0.0,
                r_axial_mohm: factor * last_right,
                cm_uf_per_cm2: p.cm_uf_per_cm2,
            });
            if let Some(slot) = table.get_mut(sid.index()) {
                *slot = Some(SectionNodes {
                    nseg: n,
                    start,
                    first_centre,
                    end: (nodes.len() - 1) as u32,
                });
            }
        }
        self.nodes = nodes;
        let table: Option<Vec<SectionNodes>> = table.into_iter().collect();
        let table = table.ok_or(MorphoError::UnknownSection {
            index: 0,
            count: morph.len(),
        })?;
        self.cells.push(table);
        Ok(cell)
    }

    /// Append all cells of `other`, shifting its node indices and cell numbers.
    pub fn append(&mut self, other: &Discretisation) {
        let node_off = self.nodes.len() as u32;
        let cell_off = self.cells.len() as u32;
        self.nodes.extend(other.nodes.iter().map(|n| Node {
            parent: n.parent.map(|p| p + node_off),
            cell: n.cell + cell_off,
            ..n.clone()
        }));
        self.cells.extend(other.cells.iter().map(|t| {
            t.iter()
                .map(|s| SectionNodes {
                    nseg: s.nseg,
                    start: s.start + node_off,
                    first_centre: s.first_centre + node_off,
                    end: s.end + node_off,
                })
                .collect()
        }));
    }

    /// All nodes, parents before children.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of cells.
    pub fn cell_count(&self) -> usize {
        self.cells.len()
    }

    /// The node table of a section of a cell.
    pub fn section_nodes(&self, cell: u32, section: SectionId) -> Result<SectionNodes> {
        let table = self
            .cells
            .get(cell as usize)
            .ok_or(MorphoError::UnknownCell {
                index: cell,
                count: self.cells.len(),
            })?;
        table
            .get(section.index())
            .copied()
            .ok_or(MorphoError::UnknownSection {
                index: section.index(),
                count: table.len(),
            })
    }

    /// NEURON's node for `section(x)` of `cell`: x = 0 → the section's start node, x = 1 → its
    /// end node, otherwise the centre of the segment containing x (⌊x·nseg⌋, clamped).
    pub fn node_at(&self, cell: u32, section: SectionId, x: f64) -> Result<u32> {
        check_x(x)?;
        Ok(lookup(&self.section_nodes(cell, section)?, x))
    }

    /// Parent index of every node (`None` for roots).
    pub fn parents(&self) -> Vec<Option<u32>> {
        self.nodes.iter().map(|n| n.parent).collect()
    }

    /// Sum of all node areas, µm².
    pub fn total_area_um2(&self) -> f64 {
        self.nodes.iter().map(|n| n.area_um2).sum()
    }

    /// The node tables of all sections of a cell, indexed by section.
    pub fn cell_sections(&self, cell: u32) -> Option<&[SectionNodes]> {
        self.cells.get(cell as usize).map(Vec::as_slice)
    }

    /// Membrane area of every node, µm² (column for a solver).
    pub fn areas_um2(&self) -> Vec<f64> {
        self.nodes.iter().map(|n| n.area_um2).collect()
    }

    /// Membrane capacitance of every node, nF (0 for end nodes).
    pub fn capacitances_nf(&self) -> Vec<f64> {
        self.nodes.iter().map(Node::capacitance_nf).collect()
    }

    /// Axial conductance of every node to its parent, µS (0 for roots).
    pub fn axial_conductances_us(&self) -> Vec<f64> {
        self.nodes.iter().map(Node::g_axial_us).collect()
    }
}

/// Sections tree by tree: each root (in index order) followed by its descendants depth first,
/// children in index order. Parents come before children and every tree is contiguous.
fn tree_order(morph: &Morphology) -> Vec<SectionId> {
    let mut children: Vec<Vec<SectionId>> = vec![Vec::new(); morph.len()];
    let mut roots = Vec::new();
    for (id, s) in morph.ids().zip(morph.sections()) {
        match s.parent() {
            Some(a) => {
                if let Some(c) = children.get_mut(a.parent.index()) {
                    c.push(id);
                }
            }
            None => roots.push(id),
        }
    }
    let mut order = Vec::with_capacity(morph.len());
    for r in roots {
        let mut stack = vec![r];
        while let Some(id) = stack.pop() {
            order.push(id);
            if let Some(c) = children.get(id.index()) {
                stack.extend(c.iter().rev());
            }
        }
    }
    order
}

fn lookup(s: &SectionNodes, x: f64) -> u32 {
    if x <= 0.0 {
        s.start
    } else if x >= 1.0 {
        s.end
    } else {
        let i = ((x * f64::from(s.nseg)).floor() as u32).min(s.nseg - 1);
        s.first_centre + i
    }
}
