//! The reduction itself (SPEC §2–§9): stems → equivalent cylinders, point mapping, synapse
//! merging, mechanism mapping with the orphan-segment neighbour rule.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use num_complex::Complex64;

use crate::cylinder::{
    default_nseg, diameter_um, electrotonic_length, lambda_um, map_point, proportional_nseg,
    round_half_even, CableParams,
};
use crate::error::{ReduceError, Result};
use crate::impedance::Network;
use crate::tree::{segment_index, CableTree, Geometry, Section, SectionKind, Segment, Synapse};

/// Largest accepted [`SegmentPolicy::Total`].
pub const MAX_TOTAL_SEGMENTS: usize = 1_000_000;

/// Frequency offset the reference adds to every impedance computation, Hz (SPEC §3 quirk).
pub const IMPEDANCE_FREQ_OFFSET_HZ: f64 = 1.0 / 9e9;

/// How many segments each cylinder gets (SPEC §6; the reference's `total_segments_manual`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum SegmentPolicy {
    /// One segment per ~0.1 λ, odd: `2⌊5L⌋ + 1` (reference value −1).
    #[default]
    Default,
    /// An absolute total `N > 1` for the reduced cell, soma counted as one: `N − 1` segments
    /// distributed over the cylinders in proportion to their electrotonic lengths.
    Total(usize),
    /// A fraction `0 < r ≤ 1`: default rule, but at least `round(r · original dendritic
    /// segments)` in total (proportional rule with that number as `N` when below).
    Fraction(f64),
}

impl SegmentPolicy {
    /// The policy the reference derives from its `total_segments_manual` number.
    pub fn from_manual(v: f64) -> SegmentPolicy {
        if v.is_nan() || v <= 0.0 {
            SegmentPolicy::Default
        } else if v > 1.0 {
            SegmentPolicy::Total(v as usize)
        } else {
            SegmentPolicy::Fraction(v)
        }
    }
}

/// Options of [`reduce`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReduceOptions {
    /// Reduction frequency `f`, Hz (≥ 0).
    pub frequency_hz: f64,
    /// Segment-count rule.
    pub segments: SegmentPolicy,
    /// Default values of mechanism range variables (NMODL PARAMETER defaults), by range-variable
    /// name. Used for cylinder segments that receive no original segment carrying a mechanism
    /// that other segments of the same cylinder carry (SPEC §8 quirk). Variables without a
    /// default are left unset there and a warning is recorded.
    pub defaults: BTreeMap<String, f64>,
}

/// One equivalent cylinder and the intermediate quantities that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cylinder {
    /// Name of the cylinder section (`apic[0]`, `dend[i]`).
    pub name: String,
    /// Index of the stem's root section in the original tree.
    pub root: usize,
    /// Index of the cylinder section in the reduced tree.
    pub section: usize,
    /// Cable parameters of the stem root (at x = 0.5) and the frequency.
    pub params: CableParams,
    /// Leak reversal of the stem root, mV.
    pub e_pas_mv: f64,
    /// Input impedance of the isolated passive subtree at its root's 0-end, Ω.
    pub z_in_ohm: Complex64,
    /// Transfer impedance of smallest modulus among section 1-ends, Ω.
    pub z_min_ohm: Complex64,
    /// Electrotonic length `L` (dimensionless).
    pub electrotonic_length: f64,
    /// DC space constant, µm.
    pub lambda_um: f64,
    /// Physical length, µm.
    pub length_um: f64,
    /// Diameter, µm.
    pub diam_um: f64,
    /// Number of segments.
    pub nseg: usize,
    /// Position on the soma where the stem (and the cylinder) attach.
    pub attach_x: f64,
    /// Number of cylinder segments that received no original segment (neighbour rule).
    pub orphan_segments: usize,
}

/// Where one original dendritic segment went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentMapping {
    /// Original section index.
    pub section: usize,
    /// Segment index in that section.
    pub segment: usize,
    /// Index into [`Reduction::cylinders`].
    pub cylinder: usize,
    /// Transfer impedance between the stem's 0-end and the segment centre (isolated passive
    /// subtree), Ω.
    pub transfer_ohm: Complex64,
    /// Mapped relative position on the cylinder.
    pub x_mapped: f64,
    /// Cylinder segment index.
    pub reduced_segment: usize,
}

/// Where one original synapse went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynapseMapping {
    /// Index into [`Reduction::synapses`] of the (possibly merged) synapse it now drives.
    pub target: usize,
    /// Section of the reduced tree it sits on.
    pub section: usize,
    /// Mapped relative position (before snapping to the segment centre); for synapses on
    /// kept sections (soma, axon) the original position.
    pub x_mapped: f64,
    /// Transfer impedance to the stem's 0-end in the isolated subtree, Ω (`None` on kept sections).
    pub transfer_ohm: Option<Complex64>,
}

/// A synapse of the reduced cell; stands for one or more original synapses.
#[derive(Debug, Clone, PartialEq)]
pub struct ReducedSynapse {
    /// Section of the reduced tree.
    pub section: usize,
    /// Relative position: the centre of the segment it lands in (cylinders; where NEURON puts
    /// it), or the original position on kept sections.
    pub x: f64,
    /// Point-process type.
    pub kind: String,
    /// Parameters (identical for all merged members).
    pub params: Vec<(String, f64)>,
    /// Original synapse indices merged into this one, in processing order. Each keeps its own
    /// connection (weight, delay, events).
    pub members: Vec<usize>,
}

/// The result of [`reduce`].
#[derive(Debug, Clone, PartialEq)]
pub struct Reduction {
    /// The reduced cell: soma (index 0, unchanged), kept sections (axon…) unchanged, then
    /// one cylinder per stem (apical first).
    pub tree: CableTree,
    /// Per stem, in cylinder order.
    pub cylinders: Vec<Cylinder>,
    /// Reduced (merged) synapses.
    pub synapses: Vec<ReducedSynapse>,
    /// Per original synapse (input order).
    pub synapse_map: Vec<SynapseMapping>,
    /// Per original dendritic segment (stem order, then depth-first section order).
    pub segment_map: Vec<SegmentMapping>,
    /// Original section → reduced section, for the sections kept as they are.
    pub section_map: Vec<Option<usize>>,
    /// Non-fatal remarks (skipped children, unset mechanism variables).
    pub warnings: Vec<String>,
}

impl Reduction {
    /// Total number of segments of the reduced cell.
    pub fn total_segments(&self) -> usize {
        self.tree.sections.iter().map(Section::nseg).sum()
    }
}

struct Stem {
    root: usize,
    sections: Vec<usize>,
    net: Network,
    z: Vec<Complex64>,
    params: CableParams,
    q: Complex64,
    e_pas: f64,
    z_in: Complex64,
    z_min: Complex64,
    l: f64,
    diam: f64,
    lambda: f64,
}

impl Stem {
    fn map(&self, section: usize, x: f64) -> (Complex64, f64) {
        let node = self.net.node_at(section, x).unwrap_or(0);
        let zp = self.z.get(node).copied().unwrap_or(self.z_in);
        (zp, map_point(self.z_in, self.q, self.l, zp))
    }
}

fn subtree(children: &[Vec<usize>], root: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(s) = stack.pop() {
        out.push(s);
        for &c in children[s].iter().rev() {
            stack.push(c);
        }
    }
    out
}

/// Reduces every dendritic stem subtree of `tree` to an equivalent cylinder and maps the
/// synapses onto the result (see the crate docs and SPEC.md).
pub fn reduce(tree: &CableTree, synapses: &[Synapse], opts: &ReduceOptions) -> Result<Reduction> {
    let soma = tree.validate()?;
    let f = opts.frequency_hz;
    if !(f.is_finite() && f >= 0.0) {
        return Err(ReduceError::InvalidOption {
            field: "frequency_hz",
            value: f,
            expected: "a finite frequency >= 0 Hz",
        });
    }
    if let SegmentPolicy::Total(n) = opts.segments {
        if n > MAX_TOTAL_SEGMENTS {
            return Err(ReduceError::InvalidOption {
                field: "segments (total)",
                value: n as f64,
                expected: "a total of at most 1 000 000 segments",
            });
        }
    }
    if let SegmentPolicy::Fraction(r) = opts.segments {
        if !(r > 0.0 && r <= 1.0) {
            return Err(ReduceError::InvalidOption {
                field: "segments (fraction)",
                value: r,
                expected: "a fraction in (0, 1]",
            });
        }
    }
    for (k, (name, v)) in opts.defaults.iter().enumerate() {
        if !v.is_finite() {
            return Err(ReduceError::Unsupported(format!(
                "default #{k} `{name}` = {v} is not finite"
            )));
        }
    }
    let n = tree.sections.len();
    for (i, s) in synapses.iter().enumerate() {
        if s.section >= n {
            return Err(ReduceError::InvalidSynapse {
                synapse: i,
                message: format!("section index {} out of range ({} sections)", s.section, n),
            });
        }
        if !(s.x.is_finite() && (0.0..=1.0).contains(&s.x)) {
            return Err(ReduceError::InvalidSynapse {
                synapse: i,
                message: format!("x = {} is not in [0, 1]", s.x),
            });
        }
        if let Some((p, v)) = s.params.iter().find(|(_, v)| !v.is_finite()) {
            return Err(ReduceError::InvalidSynapse {
                synapse: i,
                message: format!("parameter `{p}` = {v} is not finite"),
            });
        }
    }
    let children = tree.children();
    let mut warnings = Vec::new();

    // §2: classify the soma's children.
    let mut kept_roots = Vec::new();
    let mut apical = None;
    let mut stems_roots = Vec::new();
    let mut n_axon = 0;
    for &c in &children[soma] {
        let sec = &tree.sections[c];
        match sec.kind {
            SectionKind::Axon => {
                n_axon += 1;
                if n_axon > 1 {
                    return Err(ReduceError::Unsupported(format!(
                        "more than one axon section attached to the soma (`{}`)",
                        sec.name
                    )));
                }
                kept_roots.push(c);
            }
            SectionKind::Soma => {
                warnings.push(format!(
                    "soma child `{}` is of kind soma: kept unchanged, not reduced",
                    sec.name
                ));
                kept_roots.push(c);
            }
            SectionKind::Apical => {
                if apical.is_some() {
                    return Err(ReduceError::Unsupported(format!(
                        "more than one apical stem (second: `{}`)",
                        sec.name
                    )));
                }
                apical = Some(c);
            }
            SectionKind::Basal | SectionKind::Dendrite => stems_roots.push(c),
        }
    }
    if let Some(a) = apical {
        stems_roots.insert(0, a);
    }

    // §3–§5: impedances and cylinders.
    let f_imp = f + IMPEDANCE_FREQ_OFFSET_HZ;
    let mut stems = Vec::with_capacity(stems_roots.len());
    for &root in &stems_roots {
        let rsec = &tree.sections[root];
        let degenerate = |message: String| ReduceError::Degenerate {
            section: root,
            name: rsec.name.clone(),
            message,
        };
        let Some(mid) = rsec.mid_segment() else {
            return Err(ReduceError::NoSegments {
                section: root,
                name: rsec.name.clone(),
            });
        };
        if mid.g_pas_s_cm2.is_nan() || mid.g_pas_s_cm2 <= 0.0 {
            return Err(degenerate(format!(
                "g_pas = {} S/cm² at the root's x = 0.5; Rm = 1/g_pas needs g_pas > 0",
                mid.g_pas_s_cm2
            )));
        }
        let params = CableParams {
            rm_ohm_cm2: 1.0 / mid.g_pas_s_cm2,
            ra_ohm_cm: rsec.ra_ohm_cm,
            cm_uf_cm2: mid.cm_uf_cm2,
            freq_hz: f,
        };
        let sections = subtree(&children, root);
        let net = Network::build(tree, &children, root, &|_| true);
        let z = net.solve(f_imp, 0);
        let z_in = z[0];
        let mut z_min: Option<Complex64> = None;
        for &s in &sections {
            if let Some(node) = net.end_node(s) {
                let zs = z[node];
                if z_min.is_none_or(|m| zs.norm() < m.norm()) {
                    z_min = Some(zs);
                }
            }
        }
        let z_min = z_min.unwrap_or(z_in);
        if !(z_in.norm().is_finite() && z_min.norm().is_finite() && z_in.norm() > 0.0) {
            return Err(degenerate(format!(
                "the passive subtree has no finite input impedance (Z_in = {z_in} Ω); is every g_pas 0?"
            )));
        }
        let q = params.q();
        let l = electrotonic_length(z_in, z_min, q);
        let diam = diameter_um(&params, z_in, l);
        let lambda = lambda_um(&params, diam);
        if !(l > 1e-9 && diam.is_finite() && diam > 0.0 && lambda.is_finite()) {
            return Err(degenerate(format!(
                "no equivalent cylinder: |Z_min| = {} Ω is not below |Z_in| = {} Ω (electrotonic length {l})",
                z_min.norm(),
                z_in.norm()
            )));
        }
        stems.push(Stem {
            root,
            sections,
            net,
            z,
            params,
            q,
            e_pas: mid.e_pas_mv,
            z_in,
            z_min,
            l,
            diam,
            lambda,
        });
    }

    // §6: segment counts.
    let ls: Vec<f64> = stems.iter().map(|s| s.l).collect();
    let default: Vec<usize> = ls.iter().map(|&l| default_nseg(l)).collect();
    let nsegs = match opts.segments {
        SegmentPolicy::Default => default,
        SegmentPolicy::Total(total) if total > 1 => proportional_nseg(&ls, total - 1),
        SegmentPolicy::Total(_) => default,
        SegmentPolicy::Fraction(r) => {
            let orig: usize = stems
                .iter()
                .flat_map(|s| s.sections.iter())
                .map(|&s| tree.sections[s].nseg())
                .sum();
            let min_total = round_half_even(r * orig as f64) as usize;
            if default.iter().sum::<usize>() < min_total && min_total > 1 {
                proportional_nseg(&ls, min_total - 1)
            } else {
                default
            }
        }
    };

    // Reduced tree: soma, kept subtrees, cylinders.
    let mut section_map = vec![None; n];
    let mut new_sections: Vec<Section> = Vec::new();
    let mut soma_sec = tree.sections[soma].clone();
    soma_sec.parent = None;
    new_sections.push(soma_sec);
    section_map[soma] = Some(0);
    let mut kept: Vec<usize> = kept_roots
        .iter()
        .flat_map(|&r| subtree(&children, r))
        .collect();
    kept.sort_unstable();
    for &s in &kept {
        section_map[s] = Some(new_sections.len());
        new_sections.push(tree.sections[s].clone());
    }
    for &s in &kept {
        if let Some(new) = section_map[s] {
            let p = tree.sections[s].parent.and_then(|p| section_map[p]);
            new_sections[new].parent = p;
        }
    }

    // §7–§8: mapping of original segments, mechanism means.
    let mut cylinders = Vec::with_capacity(stems.len());
    let mut segment_map = Vec::new();
    let mut n_basal = 0;
    for (si, stem) in stems.iter().enumerate() {
        let nseg = nsegs[si];
        let rsec = &tree.sections[stem.root];
        let name = if rsec.kind == SectionKind::Apical {
            "apic[0]".to_string()
        } else {
            n_basal += 1;
            format!("dend[{}]", n_basal - 1)
        };
        let mut members: Vec<Vec<&Segment>> = vec![Vec::new(); nseg];
        for &s in &stem.sections {
            let sec = &tree.sections[s];
            let k = sec.nseg();
            for (j, seg) in sec.segments.iter().enumerate() {
                let x = (j as f64 + 0.5) / k as f64;
                let (zp, xm) = stem.map(s, x);
                let r = segment_index(xm, nseg);
                members[r].push(seg);
                segment_map.push(SegmentMapping {
                    section: s,
                    segment: j,
                    cylinder: si,
                    transfer_ohm: zp,
                    x_mapped: xm,
                    reduced_segment: r,
                });
            }
        }
        let (segments, orphans) =
            map_mechanisms(&members, &stem.params, &opts.defaults, &name, &mut warnings).map_err(
                |message| ReduceError::Degenerate {
                    section: stem.root,
                    name: rsec.name.clone(),
                    message,
                },
            )?;
        let length = stem.lambda * stem.l;
        let section_index = new_sections.len();
        new_sections.push(Section {
            name: name.clone(),
            kind: rsec.kind,
            parent: Some(0),
            parent_x: rsec.parent_x,
            length_um: length,
            geometry: Geometry::Cylinder { diam_um: stem.diam },
            ra_ohm_cm: rsec.ra_ohm_cm,
            segments,
        });
        cylinders.push(Cylinder {
            name,
            root: stem.root,
            section: section_index,
            params: stem.params,
            e_pas_mv: stem.e_pas,
            z_in_ohm: stem.z_in,
            z_min_ohm: stem.z_min,
            electrotonic_length: stem.l,
            lambda_um: stem.lambda,
            length_um: length,
            diam_um: stem.diam,
            nseg,
            attach_x: rsec.parent_x,
            orphan_segments: orphans,
        });
    }

    // §8: synapses, stem by stem, then the rest.
    let mut stem_of = vec![None; n];
    for (si, stem) in stems.iter().enumerate() {
        for &s in &stem.sections {
            stem_of[s] = Some(si);
        }
    }
    let mut order: Vec<usize> = Vec::with_capacity(synapses.len());
    for si in 0..stems.len() {
        order.extend((0..synapses.len()).filter(|&k| stem_of[synapses[k].section] == Some(si)));
    }
    order.extend((0..synapses.len()).filter(|&k| stem_of[synapses[k].section].is_none()));
    let mut reduced_syn: Vec<ReducedSynapse> = Vec::new();
    let mut by_place: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    let mut synapse_map = vec![None; synapses.len()];
    for k in order {
        let syn = &synapses[k];
        let (section, seg, x_mapped, x_place, zp) = match stem_of[syn.section] {
            Some(si) => {
                let (zp, xm) = stems[si].map(syn.section, syn.x);
                let nseg = cylinders[si].nseg;
                let r = segment_index(xm, nseg);
                (
                    cylinders[si].section,
                    r,
                    xm,
                    (r as f64 + 0.5) / nseg as f64,
                    Some(zp),
                )
            }
            None => {
                let Some(new) = section_map[syn.section] else {
                    return Err(ReduceError::InvalidSynapse {
                        synapse: k,
                        message: "host section is neither in a stem nor kept".into(),
                    });
                };
                let r = tree.sections[syn.section].segment_index(syn.x);
                (new, r, syn.x, syn.x, None)
            }
        };
        let here = by_place.entry((section, seg)).or_default();
        let existing = here.iter().copied().find(|&t| {
            let rs = &reduced_syn[t];
            rs.kind == syn.kind && rs.params == syn.params
        });
        let target = match existing {
            Some(t) => {
                reduced_syn[t].members.push(k);
                t
            }
            None => {
                reduced_syn.push(ReducedSynapse {
                    section,
                    x: x_place,
                    kind: syn.kind.clone(),
                    params: syn.params.clone(),
                    members: vec![k],
                });
                here.push(reduced_syn.len() - 1);
                reduced_syn.len() - 1
            }
        };
        synapse_map[k] = Some(SynapseMapping {
            target,
            section,
            x_mapped,
            transfer_ohm: zp,
        });
    }
    let synapse_map = synapse_map
        .into_iter()
        .enumerate()
        .map(|(k, m)| {
            m.ok_or_else(|| ReduceError::InvalidSynapse {
                synapse: k,
                message: "not mapped".into(),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    Ok(Reduction {
        tree: CableTree {
            sections: new_sections,
        },
        cylinders,
        synapses: reduced_syn,
        synapse_map,
        segment_map,
        section_map,
        warnings,
    })
}

/// Plain means per cylinder segment, then the orphan neighbour rule; returns the segments and
/// the number of orphans.
fn map_mechanisms(
    members: &[Vec<&Segment>],
    params: &CableParams,
    defaults: &BTreeMap<String, f64>,
    name: &str,
    warnings: &mut Vec<String>,
) -> std::result::Result<(Vec<Segment>, usize), String> {
    let nseg = members.len();
    // Means of the segments that received members.
    let mut means: Vec<Option<Segment>> = members
        .iter()
        .map(|m| {
            if m.is_empty() {
                return None;
            }
            let cnt = m.len() as f64;
            let g = m.iter().map(|s| s.g_pas_s_cm2).sum::<f64>() / cnt;
            let e = m.iter().map(|s| s.e_pas_mv).sum::<f64>() / cnt;
            let mut acc: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
            for s in m {
                for (k, v) in &s.values {
                    let a = acc.entry(k.as_str()).or_insert((0.0, 0));
                    a.0 += v;
                    a.1 += 1;
                }
            }
            Some(Segment {
                cm_uf_cm2: params.cm_uf_cm2,
                g_pas_s_cm2: g,
                e_pas_mv: e,
                values: acc
                    .into_iter()
                    .map(|(k, (s, c))| (k.to_string(), s / c as f64))
                    .collect(),
            })
        })
        .collect();
    let present: Vec<bool> = means.iter().map(Option::is_some).collect();
    let orphans = present.iter().filter(|p| !**p).count();
    for r in 0..nseg {
        if present[r] {
            continue;
        }
        let a = (0..r).rev().find(|&i| present[i]);
        let b = (r + 1..nseg).find(|&i| present[i]);
        let seg = match (a, b) {
            (Some(a), None) => means[a].clone(),
            (None, Some(b)) => means[b].clone(),
            (Some(a), Some(b)) => match (&means[a], &means[b]) {
                (Some(sa), Some(sb)) => {
                    let mut values = sa.values.clone();
                    for (k, vb) in &sb.values {
                        values
                            .entry(k.clone())
                            .and_modify(|va| *va = (*va + vb) / 2.0)
                            .or_insert(*vb);
                    }
                    Some(Segment {
                        cm_uf_cm2: params.cm_uf_cm2,
                        g_pas_s_cm2: (sa.g_pas_s_cm2 + sb.g_pas_s_cm2) / 2.0,
                        e_pas_mv: (sa.e_pas_mv + sb.e_pas_mv) / 2.0,
                        values,
                    })
                }
                _ => None,
            },
            (None, None) => None,
        };
        match seg {
            Some(s) => means[r] = Some(s),
            None => {
                return Err(format!(
                    "cylinder segment {r} has no neighbour to copy from"
                ))
            }
        }
    }
    let mut segs: Vec<Segment> = means.into_iter().flatten().collect();
    if segs.len() != nseg {
        return Err("internal: segment count mismatch".into());
    }
    // Mechanisms are inserted per section: a variable present anywhere is present everywhere.
    let all: BTreeSet<String> = segs.iter().flat_map(|s| s.values.keys().cloned()).collect();
    let mut unset = BTreeSet::new();
    for s in &mut segs {
        for v in &all {
            if !s.values.contains_key(v) {
                match defaults.get(v) {
                    Some(d) => {
                        s.values.insert(v.clone(), *d);
                    }
                    None => {
                        unset.insert(v.clone());
                    }
                }
            }
        }
    }
    for v in unset {
        warnings.push(format!(
            "{name}: `{v}` is missing on some segments and has no default; left unset there"
        ));
    }
    Ok((segs, orphans))
}
