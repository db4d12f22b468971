//! SWC input and output with NEURON-Import3d-compatible interpretation.
//!
//! Every interpretation is documented in `morpho-grow/SWC.md`. In short:
//!
//! * lines: `id type x y z radius parent`, whitespace separated; `#` starts a comment
//!   anywhere on a line; blank lines and `\r` are ignored;
//! * refused, with `file:line`: wrong column count, malformed numbers (NaN/∞ included),
//!   negative ids or types, radius ≤ 0, duplicate ids, missing parents, cycles, several
//!   roots (unless [`SwcOptions::allow_multiple_roots`]), a parent after its child (only with
//!   [`SwcOptions::require_parent_first`]; by default any order is accepted, as NEURON does);
//! * type codes 0 and ≥ 5 are accepted with a warning;
//! * soma: single point → a cylinder of length = diameter = 2r (3 points along x, centred on
//!   the sample); NeuroMorpho three-point soma → one section through the three samples; any
//!   other soma → unbranched soma sections like any other type. Non-soma branches off a soma
//!   attach to soma(0.5) through a zero-length "wire" (single-point and three-point somas, and
//!   interior samples of a multi-point soma), to soma(0) when their parent is the root sample,
//!   and to soma(1) — starting with a point at the soma end — when their parent is the last
//!   sample of a soma section.

use std::collections::HashMap;

use crate::error::{MorphoError, Result, SwcErrorKind};
use crate::geometry::Point3;
use crate::morphology::{Morphology, SampleType, SectionId};

/// One SWC sample (a data line).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SwcSample {
    /// Sample id (≥ 0).
    pub id: i64,
    /// Type code (1 soma, 2 axon, 3 basal, 4 apical, others custom).
    pub kind: u32,
    /// x, µm.
    pub x: f64,
    /// y, µm.
    pub y: f64,
    /// z, µm.
    pub z: f64,
    /// Radius, µm (> 0).
    pub radius: f64,
    /// Parent id, −1 for a root.
    pub parent: i64,
    /// 1-based line number in the file.
    pub line: usize,
}

impl SwcSample {
    fn point(&self) -> Point3 {
        Point3::new(self.x, self.y, self.z, 2.0 * self.radius)
    }
}

/// Reader options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SwcOptions {
    /// Accept several roots (several trees or cells in one file). Default: refuse.
    pub allow_multiple_roots: bool,
    /// Refuse a sample whose parent is defined on a later line. Default: accept (reorder).
    pub require_parent_first: bool,
}

/// How the soma of one tree was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SomaForm {
    /// The root is not a soma sample.
    NoSoma,
    /// One soma sample: a sphere, made a cylinder with length = diameter.
    SinglePoint,
    /// NeuroMorpho's three-point soma (centre, centre ∓ r along y).
    ThreePoint,
    /// Any other soma: soma sections through the soma samples.
    MultiPoint,
}

/// A non-fatal remark about the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwcWarning {
    /// 1-based line.
    pub line: usize,
    /// What was noticed and what was done.
    pub message: String,
}

/// The result of reading an SWC file.
#[derive(Debug, Clone, PartialEq)]
pub struct SwcMorphology {
    /// The sections.
    pub morphology: Morphology,
    /// Soma form of each tree (one entry per root, in file order).
    pub soma_forms: Vec<SomaForm>,
    /// For each section, the ids of the samples it was made from (points added by the
    /// interpretation — a prepended parent point, the single-point soma's ends — have none).
    pub section_samples: Vec<Vec<i64>>,
    /// Non-fatal remarks.
    pub warnings: Vec<SwcWarning>,
}

fn swc_err(file: &str, line: usize, kind: SwcErrorKind, message: String) -> MorphoError {
    MorphoError::Swc {
        file: file.to_string(),
        line,
        kind,
        message,
    }
}

const COLUMNS: [&str; 7] = ["id", "type", "x", "y", "z", "radius", "parent"];

/// Parse the data lines of an SWC text (no interpretation beyond per-line checks).
pub fn parse_samples(text: &str, file: &str) -> Result<Vec<SwcSample>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let data = raw.split('#').next().unwrap_or("");
        let tokens: Vec<&str> = data.split_whitespace().collect();
        if tokens.is_empty() {
            continue;
        }
        if tokens.len() != 7 {
            return Err(swc_err(
                file,
                line,
                SwcErrorKind::ColumnCount,
                format!(
                    "expected 7 columns `id type x y z radius parent`, found {}",
                    tokens.len()
                ),
            ));
        }
        let int = |k: usize| -> Result<i64> {
            let t = tokens.get(k).copied().unwrap_or("");
            t.parse::<i64>().map_err(|_| {
                swc_err(
                    file,
                    line,
                    SwcErrorKind::MalformedNumber,
                    format!(
                        "column {} ({}): expected an integer, found {t:?}",
                        k + 1,
                        COLUMNS.get(k).unwrap_or(&"?")
                    ),
                )
            })
        };
        let real = |k: usize| -> Result<f64> {
            let t = tokens.get(k).copied().unwrap_or("");
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(swc_err(
                    file,
                    line,
                    SwcErrorKind::MalformedNumber,
                    format!(
                        "column {} ({}): expected a finite number, found {t:?}",
                        k + 1,
                        COLUMNS.get(k).unwrap_or(&"?")
                    ),
                )),
            }
        };
        let id = int(0)?;
        if id < 0 {
            return Err(swc_err(
                file,
                line,
                SwcErrorKind::BadId,
                format!("sample id {id} is negative; ids must be ≥ 0"),
            ));
        }
        let kind = int(1)?;
        let kind = u32::try_from(kind).map_err(|_| {
            swc_err(
                file,
                line,
                SwcErrorKind::BadType,
                format!("type code {kind} is not a non-negative integer"),
            )
        })?;
        let (x, y, z, radius) = (real(2)?, real(3)?, real(4)?, real(5)?);
        if radius <= 0.0 {
            return Err(swc_err(
                file,
                line,
                SwcErrorKind::NonPositiveRadius,
                format!("radius {radius} µm of sample {id}; expected > 0"),
            ));
        }
        let parent = int(6)?;
        if parent < -1 {
            return Err(swc_err(
                file,
                line,
                SwcErrorKind::MissingParent,
                format!("parent {parent} of sample {id}; expected -1 (root) or a sample id"),
            ));
        }
        out.push(SwcSample {
            id,
            kind,
            x,
            y,
            z,
            radius,
            parent,
            line,
        });
    }
    Ok(out)
}

/// Read an SWC file from disk (see [`parse_swc`]).
pub fn read_swc(path: &std::path::Path, opts: SwcOptions) -> Result<SwcMorphology> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| MorphoError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    parse_swc(&text, &file, opts)
}

/// Parse and interpret an SWC text; `file` is used in error messages.
pub fn parse_swc(text: &str, file: &str, opts: SwcOptions) -> Result<SwcMorphology> {
    let samples = parse_samples(text, file)?;
    Builder::new(&samples, file, opts)?.build()
}

struct Builder<'a> {
    s: &'a [SwcSample],
    file: &'a str,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    out: SwcMorphology,
}

/// A section to create: its first own sample, an optional point placed before it, and where
/// it attaches.
struct Pending {
    first: usize,
    prepend: Option<Point3>,
    attach: Option<(SectionId, f64)>,
}

impl<'a> Builder<'a> {
    fn new(s: &'a [SwcSample], file: &'a str, opts: SwcOptions) -> Result<Self> {
        if s.is_empty() {
            return Err(swc_err(
                file,
                0,
                SwcErrorKind::Empty,
                "no sample lines found".into(),
            ));
        }
        let mut index: HashMap<i64, usize> = HashMap::with_capacity(s.len());
        for (k, smp) in s.iter().enumerate() {
            if let Some(&prev) = index.get(&smp.id) {
                let first_line = s.get(prev).map_or(0, |p| p.line);
                return Err(swc_err(
                    file,
                    smp.line,
                    SwcErrorKind::DuplicateId,
                    format!("duplicate sample id {} (first defined on line {first_line}); ids must be unique", smp.id),
                ));
            }
            index.insert(smp.id, k);
        }
        let mut parent = vec![None; s.len()];
        let mut children = vec![Vec::new(); s.len()];
        let mut roots = Vec::new();
        for (k, smp) in s.iter().enumerate() {
            if smp.parent == -1 {
                roots.push(k);
                continue;
            }
            let Some(&p) = index.get(&smp.parent) else {
                return Err(swc_err(
                    file,
                    smp.line,
                    SwcErrorKind::MissingParent,
                    format!(
                        "parent {} of sample {} is not defined in the file",
                        smp.parent, smp.id
                    ),
                ));
            };
            if p == k {
                return Err(swc_err(
                    file,
                    smp.line,
                    SwcErrorKind::Cycle,
                    format!("sample {} is its own parent", smp.id),
                ));
            }
            if opts.require_parent_first && p > k {
                let pl = s.get(p).map_or(0, |x| x.line);
                return Err(swc_err(
                    file,
                    smp.line,
                    SwcErrorKind::ParentAfterChild,
                    format!("parent {} of sample {} is defined later (line {pl}); expected parents first", smp.parent, smp.id),
                ));
            }
            if let Some(slot) = parent.get_mut(k) {
                *slot = Some(p);
            }
            if let Some(c) = children.get_mut(p) {
                c.push(k);
            }
        }
        // cycles: every sample must reach a root
        let mut state = vec![0u8; s.len()]; // 0 new, 1 on path, 2 reaches a root
        for start in 0..s.len() {
            let mut path = Vec::new();
            let mut cur = Some(start);
            while let Some(k) = cur {
                match state.get(k).copied() {
                    Some(2) => break,
                    Some(1) => {
                        let pos = path.iter().position(|&q| q == k).unwrap_or(0);
                        let line = path
                            .get(pos..)
                            .unwrap_or(&[][..])
                            .iter()
                            .filter_map(|&q| s.get(q))
                            .map(|x: &SwcSample| x.line)
                            .min()
                            .unwrap_or(0);
                        let id = s.iter().find(|x| x.line == line).map_or(0, |x| x.id);
                        return Err(swc_err(
                            file,
                            line,
                            SwcErrorKind::Cycle,
                            format!("sample {id} is on a parent cycle (following parents never reaches a root)"),
                        ));
                    }
                    _ => {}
                }
                if let Some(st) = state.get_mut(k) {
                    *st = 1;
                }
                path.push(k);
                cur = parent.get(k).copied().flatten();
            }
            for q in path {
                if let Some(st) = state.get_mut(q) {
                    *st = 2;
                }
            }
        }
        if roots.len() > 1 && !opts.allow_multiple_roots {
            let first = roots.first().and_then(|&r| s.get(r)).map_or(0, |x| x.line);
            let second = roots.get(1).and_then(|&r| s.get(r));
            return Err(swc_err(
                file,
                second.map_or(0, |x| x.line),
                SwcErrorKind::MultipleRoots,
                format!(
                    "sample {} is a second root (parent -1; the first root is on line {first}); expected one connected tree (allow_multiple_roots reads several)",
                    second.map_or(0, |x| x.id)
                ),
            ));
        }
        let mut out = SwcMorphology {
            morphology: Morphology::new(),
            soma_forms: Vec::new(),
            section_samples: Vec::new(),
            warnings: Vec::new(),
        };
        let mut seen_codes = Vec::new();
        for smp in s {
            if (smp.kind == 0 || smp.kind >= 5) && !seen_codes.contains(&smp.kind) {
                seen_codes.push(smp.kind);
                out.warnings.push(SwcWarning {
                    line: smp.line,
                    message: format!("type code {} is not one of 1–4 (soma, axon, basal, apical); read as custom type", smp.kind),
                });
            }
        }
        Ok(Self {
            s,
            file,
            children,
            roots,
            out,
        })
    }

    fn smp(&self, k: usize) -> Result<&SwcSample> {
        self.s.get(k).ok_or_else(|| {
            swc_err(
                self.file,
                0,
                SwcErrorKind::Empty,
                "internal index out of range".into(),
            )
        })
    }

    fn is_soma(&self, k: usize) -> bool {
        self.s.get(k).is_some_and(|x| x.kind == 1)
    }

    fn kids(&self, k: usize) -> &[usize] {
        self.children.get(k).map_or(&[], |v| v.as_slice())
    }

    fn soma_kids(&self, k: usize) -> Vec<usize> {
        self.kids(k)
            .iter()
            .copied()
            .filter(|&c| self.is_soma(c))
            .collect()
    }

    fn build(mut self) -> Result<SwcMorphology> {
        let roots = self.roots.clone();
        for r in roots {
            self.build_tree(r)?;
        }
        Ok(self.out)
    }

    fn soma_form(&self, root: usize) -> Result<SomaForm> {
        if !self.is_soma(root) {
            return Ok(SomaForm::NoSoma);
        }
        let mut count = 0usize;
        let mut stack = vec![root];
        while let Some(k) = stack.pop() {
            count += 1;
            stack.extend(self.soma_kids(k));
        }
        if count == 1 {
            return Ok(SomaForm::SinglePoint);
        }
        let sk = self.soma_kids(root);
        if count == 3 && sk.len() == 2 {
            let c = self.smp(root)?;
            let tol = 0.01 * c.radius;
            let ok = |k: usize| -> Option<f64> {
                let p = self.s.get(k)?;
                let dy = p.y - c.y;
                ((p.x - c.x).abs() <= tol
                    && (p.z - c.z).abs() <= tol
                    && (dy.abs() - c.radius).abs() <= tol)
                    .then_some(dy)
            };
            if let (Some(a), Some(b)) = (
                sk.first().and_then(|&k| ok(k)),
                sk.get(1).and_then(|&k| ok(k)),
            ) {
                if a * b < 0.0 {
                    return Ok(SomaForm::ThreePoint);
                }
            }
        }
        Ok(SomaForm::MultiPoint)
    }

    fn add_section(
        &mut self,
        kind: u32,
        attach: Option<(SectionId, f64)>,
        points: Vec<Point3>,
        ids: Vec<i64>,
    ) -> Result<SectionId> {
        let id = self
            .out
            .morphology
            .add_points(SampleType::from_code(kind), attach, points)?;
        self.out.section_samples.push(ids);
        Ok(id)
    }

    fn build_tree(&mut self, root: usize) -> Result<()> {
        let form = self.soma_form(root)?;
        self.out.soma_forms.push(form);
        let mut queue: Vec<Pending> = Vec::new();
        match form {
            SomaForm::SinglePoint | SomaForm::ThreePoint => {
                let c = *self.smp(root)?;
                let (pts, ids, members) = if form == SomaForm::SinglePoint {
                    let d = 2.0 * c.radius;
                    (
                        vec![
                            Point3::new(c.x - c.radius, c.y, c.z, d),
                            Point3::new(c.x, c.y, c.z, d),
                            Point3::new(c.x + c.radius, c.y, c.z, d),
                        ],
                        vec![c.id],
                        vec![root],
                    )
                } else {
                    let mut sk = self.soma_kids(root);
                    sk.sort_by(|&a, &b| {
                        let ya = self.s.get(a).map_or(0.0, |p| p.y);
                        let yb = self.s.get(b).map_or(0.0, |p| p.y);
                        ya.total_cmp(&yb)
                    });
                    let (lo, hi) = (
                        *self.smp(sk.first().copied().unwrap_or(root))?,
                        *self.smp(sk.get(1).copied().unwrap_or(root))?,
                    );
                    (
                        vec![lo.point(), c.point(), hi.point()],
                        vec![lo.id, c.id, hi.id],
                        vec![
                            sk.first().copied().unwrap_or(root),
                            root,
                            sk.get(1).copied().unwrap_or(root),
                        ],
                    )
                };
                let soma = self.add_section(1, None, pts, ids)?;
                for m in members {
                    for &ch in self.kids(m) {
                        if !self.is_soma(ch) {
                            queue.push(Pending {
                                first: ch,
                                prepend: None,
                                attach: Some((soma, 0.5)),
                            });
                        }
                    }
                }
            }
            SomaForm::NoSoma | SomaForm::MultiPoint => {
                queue.push(Pending {
                    first: root,
                    prepend: None,
                    attach: None,
                });
            }
        }
        // depth-first, children in file order, parents before children
        queue.reverse();
        while let Some(p) = queue.pop() {
            let mut more = self.build_run(p)?;
            more.reverse();
            queue.extend(more);
        }
        Ok(())
    }

    /// Follow one unbranched run from `p.first`, create its section, return its branches.
    fn build_run(&mut self, p: Pending) -> Result<Vec<Pending>> {
        let first = *self.smp(p.first)?;
        let soma = first.kind == 1;
        let is_root = p.attach.is_none();
        let mut run = vec![p.first];
        let mut cur = p.first;
        loop {
            let next = if soma {
                let sk = self.soma_kids(cur);
                // the root continues through its first soma child; others only when unbranched
                if (cur == p.first && is_root) || sk.len() == 1 {
                    sk.first().copied()
                } else {
                    None
                }
            } else {
                let k = self.kids(cur);
                let same = |c: usize| self.s.get(c).is_some_and(|x| x.kind == first.kind);
                if cur == p.first && is_root {
                    k.iter().copied().find(|&c| same(c))
                } else if k.len() == 1 {
                    k.first().copied().filter(|&c| same(c))
                } else {
                    None
                }
            };
            // cycles were refused in `new`, so a run always ends
            match next {
                Some(n) if run.len() <= self.s.len() => {
                    run.push(n);
                    cur = n;
                }
                _ => break,
            }
        }
        let mut points: Vec<Point3> = p.prepend.into_iter().collect();
        let mut ids = Vec::with_capacity(run.len());
        for &k in &run {
            let smp = self.smp(k)?;
            points.push(smp.point());
            ids.push(smp.id);
        }
        let length: f64 = points.windows(2).map(|w| w[0].distance(&w[1])).sum();
        let has_branches = run
            .iter()
            .enumerate()
            .any(|(i, &k)| self.kids(k).iter().any(|c| run.get(i + 1) != Some(c)));
        if points.len() < 2 || length <= 0.0 {
            if has_branches {
                return Err(swc_err(
                    self.file,
                    first.line,
                    SwcErrorKind::ZeroLengthSection,
                    format!("the section starting at sample {} has zero length but has branches; expected distinct positions", first.id),
                ));
            }
            self.out.warnings.push(SwcWarning {
                line: first.line,
                message: format!("zero-length section starting at sample {} dropped (as NEURON's Import3d drops one-point sections)", first.id),
            });
            return Ok(Vec::new());
        }
        let sec = self.add_section(first.kind, p.attach, points, ids)?;
        let last = run.len() - 1;
        let mut branches = Vec::new();
        for (i, &k) in run.iter().enumerate() {
            let ks = *self.smp(k)?;
            for &c in self.kids(k) {
                if run.get(i + 1) == Some(&c) {
                    continue;
                }
                let child = *self.smp(c)?;
                let child_soma = child.kind == 1;
                let pend = if i == last {
                    let d = if soma && !child_soma {
                        2.0 * child.radius
                    } else {
                        2.0 * ks.radius
                    };
                    Pending {
                        first: c,
                        prepend: Some(Point3::new(ks.x, ks.y, ks.z, d)),
                        attach: Some((sec, 1.0)),
                    }
                } else if i == 0 && is_root {
                    let prepend = (child_soma || !soma).then(|| ks.point());
                    Pending {
                        first: c,
                        prepend,
                        attach: Some((sec, 0.0)),
                    }
                } else {
                    // interior sample: only possible on soma runs (NEURON: soma(0.5), wire)
                    Pending {
                        first: c,
                        prepend: None,
                        attach: Some((sec, 0.5)),
                    }
                };
                branches.push(pend);
            }
        }
        Ok(branches)
    }
}

/// Write a morphology as SWC text (ids from 1, parents first, radius = diameter/2, type from
/// the section kind). A child's first point is attached to the parent sample nearest to its
/// attachment x and is left out when it coincides with that sample's position, so a file read
/// in NEURON mode and written back reads back to the same sections (see `SWC.md` for the cases
/// that cannot round-trip: attachments at interior x of non-soma sections, 2-point somas).
pub fn write_swc(morph: &Morphology) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("# written by neuwon morpho-grow\n# id type x y z radius parent\n");
    // sample ids of every section's points (None for a skipped first point)
    let mut ids: Vec<Vec<i64>> = Vec::with_capacity(morph.len());
    let mut next = 1i64;
    for sec in morph.sections() {
        let pts = sec.points();
        let mut parent_id = -1i64;
        let mut skip_first = false;
        if let Some(a) = sec.parent() {
            if let (Some(ps), Some(pids)) = (
                morph.sections().get(a.parent.index()),
                ids.get(a.parent.index()),
            ) {
                let target = a.x * ps.length_um();
                let arcs = ps.arc_lengths_um();
                let best = (0..arcs.len())
                    .filter(|&j| pids.get(j).is_some_and(|&id| id > 0))
                    .min_by(|&i, &j| {
                        let di = (arcs.get(i).copied().unwrap_or(0.0) - target).abs();
                        let dj = (arcs.get(j).copied().unwrap_or(0.0) - target).abs();
                        di.total_cmp(&dj)
                    });
                if let Some(j) = best {
                    parent_id = pids.get(j).copied().unwrap_or(-1);
                    // leave the first point out only where the reader puts it back exactly:
                    // at the parent's last sample (x = 1), or at the first sample of a root
                    // section (x = 0) unless a non-soma branch leaves a soma there (a wire).
                    let parent_soma = ps.kind() == SampleType::Soma;
                    let child_soma = sec.kind() == SampleType::Soma;
                    let prepends = (a.x == 1.0 && j + 1 == arcs.len())
                        || (a.x == 0.0
                            && j == 0
                            && ps.parent().is_none()
                            && (child_soma || !parent_soma));
                    if let (Some(pp), Some(first), true) =
                        (ps.points().get(j), pts.first(), prepends)
                    {
                        let regenerated = if parent_soma && !child_soma {
                            pts.get(1).map_or(f64::NAN, |p| p.diam)
                        } else {
                            pp.diam
                        };
                        skip_first = pp.x == first.x
                            && pp.y == first.y
                            && pp.z == first.z
                            && regenerated == first.diam;
                    }
                }
            }
        }
        let mut sec_ids = Vec::with_capacity(pts.len());
        for (i, p) in pts.iter().enumerate() {
            if i == 0 && skip_first {
                sec_ids.push(parent_id);
                continue;
            }
            let _ = writeln!(
                out,
                "{next} {} {} {} {} {} {parent_id}",
                sec.kind().code(),
                p.x,
                p.y,
                p.z,
                0.5 * p.diam
            );
            sec_ids.push(next);
            parent_id = next;
            next += 1;
        }
        ids.push(sec_ids);
    }
    out
}

/// Writes samples as SWC data lines, one per sample, after the header
/// `# id type x y z radius parent`. Numbers are written in Rust's shortest round-trip form,
/// so `parse_samples` followed by `write_samples` reproduces a file written here byte for
/// byte.
pub fn write_samples(samples: &[SwcSample]) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("# id type x y z radius parent\n");
    for s in samples {
        let _ = writeln!(
            out,
            "{} {} {} {} {} {} {}",
            s.id, s.kind, s.x, s.y, s.z, s.radius, s.parent
        );
    }
    out
}
