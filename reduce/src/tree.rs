//! The input and output description: a plain tree of unbranched cable sections.
//!
//! NEURON semantics: a section of length `L` is split into `nseg` equal segments
//! (`segments.len()`); each segment has one node at its centre; the section's 1-end is a
//! node without membrane; a child section's 0-end is the parent's node at `parent_x`
//! (`0` and `1` are the parent's end nodes, anything else the centre of the parent segment
//! containing `parent_x`).

use std::collections::BTreeMap;

use crate::error::{ReduceError, Result};

/// What a section is; decides how the reduction treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// The soma; the root of the tree. Kept unchanged.
    Soma,
    /// Axon (or axon hillock). Never reduced, kept unchanged with its own subtree.
    Axon,
    /// Basal dendrite; a stem of this kind becomes a `dend[i]` cylinder.
    Basal,
    /// Apical dendrite; at most one apical stem, it becomes `apic[0]` and is reduced first.
    Apical,
    /// Any other dendrite (treated like a basal stem).
    Dendrite,
}

impl SectionKind {
    /// Kind of an SWC structure type (1 soma, 2 axon, 3 basal, 4 apical, anything else dendrite).
    pub fn from_swc_type(t: i64) -> SectionKind {
        match t {
            1 => SectionKind::Soma,
            2 => SectionKind::Axon,
            3 => SectionKind::Basal,
            4 => SectionKind::Apical,
            _ => SectionKind::Dendrite,
        }
    }

    /// True for the kinds that belong to reducible stem subtrees.
    pub fn is_dendrite(self) -> bool {
        matches!(
            self,
            SectionKind::Basal | SectionKind::Apical | SectionKind::Dendrite
        )
    }
}

/// One sample of a section's diameter profile (a NEURON 3-D point reduced to what the cable
/// equation needs: position along the section and diameter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfilePoint {
    /// Arc length from the section's first point, µm. Rescaled so that the last point lies at
    /// the section's `length_um` (NEURON does the same when `L` and the 3-D arc length differ).
    pub arc_um: f64,
    /// Diameter at this point, µm.
    pub diam_um: f64,
}

/// The geometry of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// A uniform cylinder.
    Cylinder {
        /// Diameter, µm.
        diam_um: f64,
    },
    /// A piecewise-linear diameter profile (frusta between consecutive points), as NEURON
    /// integrates areas and axial resistances over 3-D points.
    Profile(Vec<ProfilePoint>),
}

/// Membrane properties of one segment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment {
    /// Specific membrane capacitance, µF/cm².
    pub cm_uf_cm2: f64,
    /// Passive leak conductance `g_pas`, S/cm².
    pub g_pas_s_cm2: f64,
    /// Leak reversal potential `e_pas`, mV.
    pub e_pas_mv: f64,
    /// Every other range variable of every mechanism present in the segment, by NEURON's
    /// range-variable name (`gIhbar_Ih`, `decay_CaDynamics_E2`, `ena`, …). Units are the
    /// mechanism's own (densities S/cm²). The reduction averages these, it never interprets them.
    pub values: BTreeMap<String, f64>,
}

/// One unbranched section.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Name (e.g. `dend[3]`), used in messages and for reduced cylinders.
    pub name: String,
    /// Kind.
    pub kind: SectionKind,
    /// Index of the parent section, `None` for the root (the soma).
    pub parent: Option<usize>,
    /// Position on the parent (0..=1) where this section's 0-end attaches.
    pub parent_x: f64,
    /// Length `L`, µm.
    pub length_um: f64,
    /// Diameter geometry.
    pub geometry: Geometry,
    /// Axial resistivity `Ra`, Ω·cm.
    pub ra_ohm_cm: f64,
    /// The `nseg` segments from the 0-end to the 1-end.
    pub segments: Vec<Segment>,
}

impl Section {
    /// Number of segments.
    pub fn nseg(&self) -> usize {
        self.segments.len()
    }

    /// Index of the segment that holds relative position `x` (NEURON's rule; `x = 1` is the
    /// last segment).
    pub fn segment_index(&self, x: f64) -> usize {
        segment_index(x, self.nseg())
    }

    /// The segment NEURON uses for section-level values (the one holding `x = 0.5`); `None`
    /// for a section without segments.
    pub fn mid_segment(&self) -> Option<&Segment> {
        self.segments.get(self.segment_index(0.5))
    }
}

/// Index of the segment holding relative position `x` among `nseg` equal segments.
pub fn segment_index(x: f64, nseg: usize) -> usize {
    if nseg == 0 {
        return 0;
    }
    let k = (x * nseg as f64).floor();
    if k.is_nan() || k < 0.0 {
        0
    } else {
        (k as usize).min(nseg - 1)
    }
}

/// A cell: sections in any order, exactly one root (the soma).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CableTree {
    /// All sections.
    pub sections: Vec<Section>,
}

impl CableTree {
    /// Checks every field and the topology; returns the index of the soma (the root).
    ///
    /// Errors: missing parents, cycles, not exactly one root, a root that is not a soma,
    /// non-finite or non-positive lengths, diameters, `Ra`, `cm`, negative `g_pas`, sections
    /// without segments, profiles with fewer than 2 points or decreasing arc positions.
    pub fn validate(&self) -> Result<usize> {
        if self.sections.is_empty() {
            return Err(ReduceError::Empty);
        }
        let n = self.sections.len();
        let mut roots = Vec::new();
        for (i, s) in self.sections.iter().enumerate() {
            let bad =
                |field: String, value: f64, expected: &'static str| ReduceError::InvalidField {
                    section: i,
                    name: s.name.clone(),
                    field,
                    value,
                    expected,
                };
            match s.parent {
                None => roots.push(i),
                Some(p) if p >= n => {
                    return Err(ReduceError::MissingParent {
                        section: i,
                        name: s.name.clone(),
                        parent: p,
                        len: n,
                    })
                }
                Some(_) => {}
            }
            if !(s.parent_x.is_finite() && (0.0..=1.0).contains(&s.parent_x)) {
                return Err(bad("parent_x".into(), s.parent_x, "a number in [0, 1]"));
            }
            if !(s.length_um.is_finite() && s.length_um > 0.0) {
                return Err(bad(
                    "length_um".into(),
                    s.length_um,
                    "a finite length > 0 µm",
                ));
            }
            if !(s.ra_ohm_cm.is_finite() && s.ra_ohm_cm > 0.0) {
                return Err(bad("ra_ohm_cm".into(), s.ra_ohm_cm, "a finite Ra > 0 Ω·cm"));
            }
            if s.segments.is_empty() {
                return Err(ReduceError::NoSegments {
                    section: i,
                    name: s.name.clone(),
                });
            }
            match &s.geometry {
                Geometry::Cylinder { diam_um } => {
                    if !(diam_um.is_finite() && *diam_um > 0.0) {
                        return Err(bad("diam_um".into(), *diam_um, "a finite diameter > 0 µm"));
                    }
                }
                Geometry::Profile(points) => {
                    if points.len() < 2 {
                        return Err(bad(
                            "geometry.points".into(),
                            points.len() as f64,
                            "at least 2 profile points",
                        ));
                    }
                    let mut last = f64::NEG_INFINITY;
                    for (k, p) in points.iter().enumerate() {
                        if !(p.diam_um.is_finite() && p.diam_um > 0.0) {
                            return Err(bad(
                                format!("geometry.points[{k}].diam_um"),
                                p.diam_um,
                                "a finite diameter > 0 µm",
                            ));
                        }
                        if !(p.arc_um.is_finite() && p.arc_um >= last) {
                            return Err(bad(
                                format!("geometry.points[{k}].arc_um"),
                                p.arc_um,
                                "finite arc positions in non-decreasing order",
                            ));
                        }
                        last = p.arc_um;
                    }
                    let span = last - points[0].arc_um;
                    if span.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                        return Err(bad(
                            "geometry.points".into(),
                            span,
                            "profile points spanning a length > 0 µm",
                        ));
                    }
                }
            }
            for (k, seg) in s.segments.iter().enumerate() {
                if !(seg.cm_uf_cm2.is_finite() && seg.cm_uf_cm2 >= 0.0) {
                    return Err(bad(
                        format!("segments[{k}].cm_uf_cm2"),
                        seg.cm_uf_cm2,
                        "a finite cm >= 0 µF/cm²",
                    ));
                }
                if !(seg.g_pas_s_cm2.is_finite() && seg.g_pas_s_cm2 >= 0.0) {
                    return Err(bad(
                        format!("segments[{k}].g_pas_s_cm2"),
                        seg.g_pas_s_cm2,
                        "a finite g_pas >= 0 S/cm²",
                    ));
                }
                if !seg.e_pas_mv.is_finite() {
                    return Err(bad(
                        format!("segments[{k}].e_pas_mv"),
                        seg.e_pas_mv,
                        "a finite e_pas in mV",
                    ));
                }
                for (name, v) in &seg.values {
                    if !v.is_finite() {
                        return Err(bad(
                            format!("segments[{k}].values.{name}"),
                            *v,
                            "a finite number",
                        ));
                    }
                }
            }
        }
        // Cycles: walk each parent chain at most n steps.
        for i in 0..n {
            let mut cur = i;
            let mut steps = 0usize;
            while let Some(p) = self.sections[cur].parent {
                cur = p;
                steps += 1;
                if steps > n {
                    return Err(ReduceError::Cycle {
                        section: i,
                        name: self.sections[i].name.clone(),
                    });
                }
            }
        }
        match roots.as_slice() {
            [r] if self.sections[*r].kind == SectionKind::Soma => Ok(*r),
            [r] => Err(ReduceError::Root(format!(
                "the root section {r} (`{}`) is of kind {:?}, not a soma (a soma attached to an axon is not supported)",
                self.sections[*r].name, self.sections[*r].kind
            ))),
            [] => Err(ReduceError::Root("no section without a parent".into())),
            many => Err(ReduceError::Root(format!(
                "{} sections without a parent (indices {:?})",
                many.len(),
                &many[..many.len().min(8)]
            ))),
        }
    }

    /// Children of every section, in section order.
    pub fn children(&self) -> Vec<Vec<usize>> {
        let mut ch = vec![Vec::new(); self.sections.len()];
        for (i, s) in self.sections.iter().enumerate() {
            if let Some(p) = s.parent {
                if p < ch.len() {
                    ch[p].push(i);
                }
            }
        }
        ch
    }

    /// Total membrane area of all segments, µm² (NEURON's per-segment area summed).
    pub fn total_area_um2(&self) -> f64 {
        self.sections
            .iter()
            .map(|s| {
                crate::discretise::section_geometry(s)
                    .iter()
                    .map(|g| g.area_um2)
                    .sum::<f64>()
            })
            .sum()
    }
}

/// A synapse (point process) to be carried over to the reduced cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Synapse {
    /// Host section index.
    pub section: usize,
    /// Relative position on the host section, 0..=1.
    pub x: f64,
    /// Point-process type (e.g. `Exp2Syn`); merging needs equal types.
    pub kind: String,
    /// Parameters compared for merging (exact equality of names, order and values), e.g.
    /// `e` (mV), `tau1`, `tau2` (ms).
    pub params: Vec<(String, f64)>,
}
