//! Sections, sample types and the builder API.
//!
//! A [`Morphology`] is a forest of *sections*: unbranched runs of 3-D points, each with an
//! optional parent section and the position x ∈ [0, 1] on the parent where its x = 0 end is
//! attached — exactly NEURON's `child.connect(parent(x), 0)`. Sections are stored parent-first
//! (a section's parent always has a smaller index); every builder call keeps this invariant.
//!
//! Names follow NEURON's Import3d convention `prefix[k]`: `soma[k]`, `axon[k]`, `dend[k]`
//! (basal, SWC type 3), `apic[k]` (apical, type 4) and `type<N>[k]` for any other type code
//! N (0 and ≥ 5), k counting the sections of that prefix in creation order. A name can be
//! replaced with [`Morphology::set_name`].

use crate::error::{MorphoError, Result};
use crate::geometry::{arc_lengths, area_between, point_at_arc, Point3};

/// SWC sample type of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleType {
    /// Soma, SWC code 1.
    Soma,
    /// Axon, SWC code 2.
    Axon,
    /// Basal dendrite, SWC code 3.
    Basal,
    /// Apical dendrite, SWC code 4.
    Apical,
    /// Any other code (0 = undefined, ≥ 5 custom).
    Other(u32),
}

impl SampleType {
    /// The type for an SWC code.
    pub fn from_code(code: u32) -> Self {
        match code {
            1 => Self::Soma,
            2 => Self::Axon,
            3 => Self::Basal,
            4 => Self::Apical,
            c => Self::Other(c),
        }
    }

    /// The SWC code.
    pub fn code(self) -> u32 {
        match self {
            Self::Soma => 1,
            Self::Axon => 2,
            Self::Basal => 3,
            Self::Apical => 4,
            Self::Other(c) => c,
        }
    }

    /// Name prefix used for sections of this type (`soma`, `axon`, `dend`, `apic`, `type<N>`).
    pub fn prefix(self) -> String {
        match self {
            Self::Soma => "soma".into(),
            Self::Axon => "axon".into(),
            Self::Basal => "dend".into(),
            Self::Apical => "apic".into(),
            Self::Other(c) => format!("type{c}"),
        }
    }
}

/// Index of a section in its [`Morphology`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SectionId(pub u32);

impl SectionId {
    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a section's x = 0 end is attached: `parent(x)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attachment {
    /// Parent section.
    pub parent: SectionId,
    /// Position on the parent, x ∈ [0, 1] (fraction of the parent's length).
    pub x: f64,
}

/// An unbranched run of 3-D points.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    name: String,
    kind: SampleType,
    parent: Option<Attachment>,
    points: Vec<Point3>,
    arcs: Vec<f64>,
}

impl Section {
    /// Name, e.g. `dend[3]`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Sample type.
    pub fn kind(&self) -> SampleType {
        self.kind
    }
    /// Parent attachment, `None` for a root section.
    pub fn parent(&self) -> Option<Attachment> {
        self.parent
    }
    /// The 3-D points (µm, diameters µm), from x = 0 to x = 1.
    pub fn points(&self) -> &[Point3] {
        &self.points
    }
    /// Path length of each point from the x = 0 end, µm (NEURON's `arc3d`).
    pub fn arc_lengths_um(&self) -> &[f64] {
        &self.arcs
    }
    /// Section length L, µm (sum of distances between consecutive points).
    pub fn length_um(&self) -> f64 {
        self.arcs.last().copied().unwrap_or(0.0)
    }
    /// Total lateral membrane area, µm² (no end caps).
    pub fn area_um2(&self) -> f64 {
        let l = self.length_um();
        area_between(&self.points, &self.arcs, 0.0, l, true)
    }
    /// Position and diameter at x ∈ [0, 1] (linear interpolation along the path).
    pub fn point_at(&self, x: f64) -> Result<Point3> {
        check_x(x)?;
        point_at_arc(&self.points, &self.arcs, x * self.length_um()).ok_or(
            MorphoError::DegenerateSection {
                points: self.points.len(),
                length_um: self.length_um(),
            },
        )
    }
}

/// A forest of sections (one or more cells or trees), parent sections first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Morphology {
    sections: Vec<Section>,
}

fn check_positive(what: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(MorphoError::BadValue { what, value })
    }
}

pub(crate) fn check_x(x: f64) -> Result<()> {
    if (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(MorphoError::BadX { x })
    }
}

impl Morphology {
    /// An empty morphology.
    pub fn new() -> Self {
        Self::default()
    }

    /// All sections, parents before children.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Number of sections.
    pub fn len(&self) -> usize {
        self.sections.len()
    }

    /// True when there is no section.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// The section with this id.
    pub fn section(&self, id: SectionId) -> Result<&Section> {
        self.sections
            .get(id.index())
            .ok_or(MorphoError::UnknownSection {
                index: id.index(),
                count: self.sections.len(),
            })
    }

    /// The section called `name`, if any.
    pub fn find(&self, name: &str) -> Option<SectionId> {
        self.sections
            .iter()
            .position(|s| s.name == name)
            .map(|i| SectionId(i as u32))
    }

    /// Ids of all sections.
    pub fn ids(&self) -> impl Iterator<Item = SectionId> + '_ {
        (0..self.sections.len()).map(|i| SectionId(i as u32))
    }

    /// Children of `id` in creation order.
    pub fn children(&self, id: SectionId) -> Vec<SectionId> {
        self.ids()
            .filter(|c| {
                self.sections
                    .get(c.index())
                    .and_then(|s| s.parent)
                    .is_some_and(|a| a.parent == id)
            })
            .collect()
    }

    /// Sum of section lengths, µm.
    pub fn total_length_um(&self) -> f64 {
        self.sections.iter().map(Section::length_um).sum()
    }

    /// Sum of section lateral areas, µm².
    pub fn total_area_um2(&self) -> f64 {
        self.sections.iter().map(Section::area_um2).sum()
    }

    /// Rename a section.
    pub fn set_name(&mut self, id: SectionId, name: &str) -> Result<()> {
        if let Some(other) = self.find(name) {
            if other != id {
                return Err(MorphoError::DuplicateName(name.to_string()));
            }
        }
        let count = self.sections.len();
        let s = self
            .sections
            .get_mut(id.index())
            .ok_or(MorphoError::UnknownSection {
                index: id.index(),
                count,
            })?;
        s.name = name.to_string();
        Ok(())
    }

    fn next_name(&self, kind: SampleType) -> String {
        let prefix = kind.prefix();
        let k = self.sections.iter().filter(|s| s.kind == kind).count();
        let mut name = format!("{prefix}[{k}]");
        let mut k = k;
        while self.find(&name).is_some() {
            k += 1;
            name = format!("{prefix}[{k}]");
        }
        name
    }

    /// Add a section given by its 3-D points (µm, diameters µm), attached with its x = 0 end
    /// to `parent(x)` (or a root when `parent` is `None`). Needs ≥ 2 points, finite
    /// coordinates, diameters > 0 and a total length > 0. Consecutive equal positions are
    /// allowed (a diameter step: its annulus counts as membrane; see `geometry`).
    pub fn add_points(
        &mut self,
        kind: SampleType,
        parent: Option<(SectionId, f64)>,
        points: Vec<Point3>,
    ) -> Result<SectionId> {
        for p in &points {
            for (what, v) in [
                ("x coordinate (µm)", p.x),
                ("y coordinate (µm)", p.y),
                ("z coordinate (µm)", p.z),
            ] {
                if !v.is_finite() {
                    return Err(MorphoError::BadValue { what, value: v });
                }
            }
            check_positive("diameter (µm)", p.diam)?;
        }
        let arcs = arc_lengths(&points);
        let length = arcs.last().copied().unwrap_or(0.0);
        if points.len() < 2 || length <= 0.0 || !length.is_finite() {
            return Err(MorphoError::DegenerateSection {
                points: points.len(),
                length_um: length,
            });
        }
        let parent = match parent {
            Some((pid, x)) => {
                self.section(pid)?;
                check_x(x)?;
                Some(Attachment { parent: pid, x })
            }
            None => None,
        };
        let name = self.next_name(kind);
        let id = SectionId(self.sections.len() as u32);
        self.sections.push(Section {
            name,
            kind,
            parent,
            points,
            arcs,
        });
        Ok(id)
    }

    /// Add a frustum of length `length_um` whose diameter goes linearly from `diam0_um`
    /// (x = 0) to `diam1_um` (x = 1). It starts at the 3-D position of `parent(x)` (the
    /// origin for a root) and runs along +x.
    pub fn add_frustum(
        &mut self,
        kind: SampleType,
        parent: Option<(SectionId, f64)>,
        length_um: f64,
        diam0_um: f64,
        diam1_um: f64,
    ) -> Result<SectionId> {
        check_positive("length (µm)", length_um)?;
        check_positive("diameter (µm)", diam0_um)?;
        check_positive("diameter (µm)", diam1_um)?;
        let start = match parent {
            Some((pid, x)) => {
                check_x(x)?;
                self.section(pid)?.point_at(x)?
            }
            None => Point3::new(0.0, 0.0, 0.0, diam0_um),
        };
        let a = Point3::new(start.x, start.y, start.z, diam0_um);
        let b = Point3::new(start.x + length_um, start.y, start.z, diam1_um);
        self.add_points(kind, parent, vec![a, b])
    }

    /// Add a cylinder of length `length_um` and diameter `diam_um` (see [`Self::add_frustum`]).
    pub fn add_cylinder(
        &mut self,
        kind: SampleType,
        parent: Option<(SectionId, f64)>,
        length_um: f64,
        diam_um: f64,
    ) -> Result<SectionId> {
        self.add_frustum(kind, parent, length_um, diam_um, diam_um)
    }

    /// Append all sections of `other` (as further trees); returns the id offset of its
    /// first section. Names of `other` that collide get a `cellN.` prefix.
    pub fn append(&mut self, other: &Morphology) -> u32 {
        let offset = self.sections.len() as u32;
        for s in &other.sections {
            let mut s = s.clone();
            if let Some(a) = s.parent.as_mut() {
                a.parent = SectionId(a.parent.0 + offset);
            }
            if self.find(&s.name).is_some() {
                s.name = format!("cell{offset}.{}", s.name);
            }
            self.sections.push(s);
        }
        offset
    }
}
