//! Regions of space: shapes, set operations, named regions and point sampling.
//!
//! A [`Region`] is a closed tree of shapes and set operations; it answers
//! [`Region::contains`] and gives an axis-aligned bounding box ([`Region::aabb`]). Semantics
//! follow NEUWON's `regions.py` (see `shared/specs/morpho-grow.md` §2):
//!
//! | kind | inside | bounding box |
//! |---|---|---|
//! | sphere | ‖p − c‖ ≤ r (closed) | c ± r |
//! | rectangle | lo ≤ p < hi on every axis (half-open above) | the corners |
//! | cylinder | flat caps, 0 ≤ t ≤ ‖a‖², radial² ≤ r² | exact box of the end discs |
//! | cone | apex to base, radius r·t/h at axial distance t | box of apex and base disc |
//! | union / intersection | any / all | min/max of the parts |
//! | not | complement | infinite |
//! | everywhere / nowhere | always / never | infinite / empty |
//!
//! Regions can also be written as data ([`RegionSpec`]) that refers to other regions by name;
//! [`RegionLibrary::resolve`] turns a spec into a [`Region`] and refuses any cycle of names.
//!
//! Sampling: [`sample_points`] draws `round(density · V_box)` uniform points in the bounding
//! box and keeps those inside (rejection; the count is binomial with mean density × volume);
//! [`lattice_points`] places points on a cubic lattice of spacing density^(−1/3) — the
//! behaviour NEUWON's `grid_points` intended.

use std::collections::HashMap;

use rand::Rng;

use crate::error::{MorphoError, Result};

/// A point or vector in µm.
pub type Vec3 = [f64; 3];

/// Axis-aligned bounding box, µm. `lo > hi` on some axis means empty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aabb {
    /// Lower corner.
    pub lo: Vec3,
    /// Upper corner.
    pub hi: Vec3,
}

impl Aabb {
    /// The whole space.
    pub const INFINITE: Aabb = Aabb {
        lo: [f64::NEG_INFINITY; 3],
        hi: [f64::INFINITY; 3],
    };
    /// The empty box (inverted).
    pub const EMPTY: Aabb = Aabb {
        lo: [f64::INFINITY; 3],
        hi: [f64::NEG_INFINITY; 3],
    };

    /// True when every bound is finite (or the box is empty).
    pub fn is_finite(&self) -> bool {
        self.is_empty() || self.lo.iter().chain(&self.hi).all(|v| v.is_finite())
    }

    /// True when the box holds no point.
    pub fn is_empty(&self) -> bool {
        (0..3).any(|k| self.lo[k] > self.hi[k])
    }

    /// Volume, µm³ (0 for an empty box).
    pub fn volume(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        (0..3).map(|k| self.hi[k] - self.lo[k]).product()
    }

    /// True when p lies in the closed box.
    pub fn contains(&self, p: &Vec3) -> bool {
        (0..3).all(|k| self.lo[k] <= p[k] && p[k] <= self.hi[k])
    }
}

/// A region of space (µm).
#[derive(Debug, Clone, PartialEq)]
pub enum Region {
    /// Closed ball.
    Sphere {
        /// Centre, µm.
        center: Vec3,
        /// Radius, µm (≥ 0).
        radius: f64,
    },
    /// Axis-aligned box given by two opposite corners; half-open on the upper side.
    Rectangle {
        /// Lower corner, µm.
        lo: Vec3,
        /// Upper corner, µm.
        hi: Vec3,
    },
    /// Finite right circular cylinder with flat caps.
    Cylinder {
        /// First end centre, µm.
        p1: Vec3,
        /// Second end centre, µm.
        p2: Vec3,
        /// Radius, µm.
        radius: f64,
    },
    /// Right circular cone from its apex to the centre of its base.
    Cone {
        /// Apex, µm.
        apex: Vec3,
        /// Centre of the base disc, µm.
        base: Vec3,
        /// Base radius, µm.
        radius: f64,
    },
    /// Points in any of the parts.
    Union(Vec<Region>),
    /// Points in all of the parts.
    Intersection(Vec<Region>),
    /// Points not in the part.
    Not(Box<Region>),
    /// All space.
    Everywhere,
    /// No point.
    Nowhere,
}

fn sub(a: &Vec3, b: &Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot(a: &Vec3, b: &Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Per-axis half extent of a disc of radius r whose normal is `a`: r·sqrt(1 − a_k²/‖a‖²).
fn disc_extent(a: &Vec3, r: f64) -> Vec3 {
    let n2 = dot(a, a);
    let mut s = [r; 3];
    if n2 > 0.0 {
        for (k, sk) in s.iter_mut().enumerate() {
            let others: f64 = (0..3).filter(|&j| j != k).map(|j| a[j] * a[j]).sum();
            *sk = r * (others / n2).sqrt();
        }
    }
    s
}

impl Region {
    /// A sphere.
    pub fn sphere(center: Vec3, radius: f64) -> Self {
        Region::Sphere { center, radius }
    }

    /// True when `p` is inside.
    pub fn contains(&self, p: &Vec3) -> bool {
        match self {
            Region::Sphere { center, radius } => {
                let d = sub(p, center);
                dot(&d, &d) <= radius * radius
            }
            Region::Rectangle { lo, hi } => (0..3).all(|k| {
                let (a, b) = (lo[k].min(hi[k]), lo[k].max(hi[k]));
                a <= p[k] && p[k] < b
            }),
            Region::Cylinder { p1, p2, radius } => {
                let a = sub(p2, p1);
                let v = sub(p, p1);
                let n2 = dot(&a, &a);
                let t = dot(&a, &v);
                if n2 == 0.0 {
                    return false;
                }
                (0.0..=n2).contains(&t) && dot(&v, &v) - t * t / n2 <= radius * radius
            }
            Region::Cone { apex, base, radius } => {
                let a = sub(base, apex);
                let v = sub(p, apex);
                let h2 = dot(&a, &a);
                if h2 == 0.0 {
                    return false;
                }
                let h = h2.sqrt();
                let t = dot(&a, &v) / h; // axial distance from the apex, µm
                if !(0.0..=h).contains(&t) {
                    return false;
                }
                let radial2 = (dot(&v, &v) - t * t).max(0.0);
                let rt = radius * t / h;
                radial2 <= rt * rt
            }
            Region::Union(parts) => parts.iter().any(|r| r.contains(p)),
            Region::Intersection(parts) => parts.iter().all(|r| r.contains(p)),
            Region::Not(r) => !r.contains(p),
            Region::Everywhere => true,
            Region::Nowhere => false,
        }
    }

    /// Axis-aligned bounding box (possibly infinite or empty).
    pub fn aabb(&self) -> Aabb {
        match self {
            Region::Sphere { center, radius } => Aabb {
                lo: [center[0] - radius, center[1] - radius, center[2] - radius],
                hi: [center[0] + radius, center[1] + radius, center[2] + radius],
            },
            Region::Rectangle { lo, hi } => Aabb {
                lo: [lo[0].min(hi[0]), lo[1].min(hi[1]), lo[2].min(hi[2])],
                hi: [lo[0].max(hi[0]), lo[1].max(hi[1]), lo[2].max(hi[2])],
            },
            Region::Cylinder { p1, p2, radius } => {
                let s = disc_extent(&sub(p2, p1), *radius);
                let mut b = Aabb::EMPTY;
                for k in 0..3 {
                    b.lo[k] = p1[k].min(p2[k]) - s[k];
                    b.hi[k] = p1[k].max(p2[k]) + s[k];
                }
                b
            }
            Region::Cone { apex, base, radius } => {
                let s = disc_extent(&sub(base, apex), *radius);
                let mut b = Aabb::EMPTY;
                for k in 0..3 {
                    b.lo[k] = apex[k].min(base[k] - s[k]);
                    b.hi[k] = apex[k].max(base[k] + s[k]);
                }
                b
            }
            Region::Union(parts) => {
                let mut b = Aabb::EMPTY;
                for r in parts {
                    let q = r.aabb();
                    if q.is_empty() {
                        continue;
                    }
                    for k in 0..3 {
                        b.lo[k] = b.lo[k].min(q.lo[k]);
                        b.hi[k] = b.hi[k].max(q.hi[k]);
                    }
                }
                b
            }
            Region::Intersection(parts) => {
                let mut b = Aabb::INFINITE;
                for r in parts {
                    let q = r.aabb();
                    for k in 0..3 {
                        b.lo[k] = b.lo[k].max(q.lo[k]);
                        b.hi[k] = b.hi[k].min(q.hi[k]);
                    }
                }
                if b.is_empty() {
                    Aabb::EMPTY
                } else {
                    b
                }
            }
            Region::Not(_) | Region::Everywhere => Aabb::INFINITE,
            Region::Nowhere => Aabb::EMPTY,
        }
    }

    /// Checks the parameters (finite coordinates, radius ≥ 0, at least one part).
    pub fn validate(&self) -> Result<()> {
        let finite = |v: &Vec3, what: &'static str| -> Result<()> {
            match v.iter().find(|x| !x.is_finite()) {
                Some(&x) => Err(MorphoError::BadValue { what, value: x }),
                None => Ok(()),
            }
        };
        let radius = |r: f64| -> Result<()> {
            if r.is_finite() && r >= 0.0 {
                Ok(())
            } else {
                Err(MorphoError::BadValue {
                    what: "region radius (µm, ≥ 0)",
                    value: r,
                })
            }
        };
        match self {
            Region::Sphere { center, radius: r } => {
                finite(center, "sphere centre (µm)")?;
                radius(*r)
            }
            Region::Rectangle { lo, hi } => {
                finite(lo, "rectangle corner (µm)")?;
                finite(hi, "rectangle corner (µm)")
            }
            Region::Cylinder { p1, p2, radius: r } => {
                finite(p1, "cylinder end (µm)")?;
                finite(p2, "cylinder end (µm)")?;
                radius(*r)
            }
            Region::Cone {
                apex,
                base,
                radius: r,
            } => {
                finite(apex, "cone apex (µm)")?;
                finite(base, "cone base (µm)")?;
                radius(*r)
            }
            Region::Union(parts) | Region::Intersection(parts) => {
                if parts.is_empty() {
                    return Err(MorphoError::Growth(
                        "a union or intersection needs at least one part".into(),
                    ));
                }
                parts.iter().try_for_each(Region::validate)
            }
            Region::Not(r) => r.validate(),
            Region::Everywhere | Region::Nowhere => Ok(()),
        }
    }

    /// The region moved by `offset` (µm). `Not`, `Everywhere`, `Nowhere` keep their meaning.
    pub fn translated(&self, o: &Vec3) -> Region {
        let t = |v: &Vec3| [v[0] + o[0], v[1] + o[1], v[2] + o[2]];
        match self {
            Region::Sphere { center, radius } => Region::Sphere {
                center: t(center),
                radius: *radius,
            },
            Region::Rectangle { lo, hi } => Region::Rectangle {
                lo: t(lo),
                hi: t(hi),
            },
            Region::Cylinder { p1, p2, radius } => Region::Cylinder {
                p1: t(p1),
                p2: t(p2),
                radius: *radius,
            },
            Region::Cone { apex, base, radius } => Region::Cone {
                apex: t(apex),
                base: t(base),
                radius: *radius,
            },
            Region::Union(p) => Region::Union(p.iter().map(|r| r.translated(o)).collect()),
            Region::Intersection(p) => {
                Region::Intersection(p.iter().map(|r| r.translated(o)).collect())
            }
            Region::Not(r) => Region::Not(Box::new(r.translated(o))),
            Region::Everywhere => Region::Everywhere,
            Region::Nowhere => Region::Nowhere,
        }
    }
}

/// A region written as data: a shape, a set operation, or the name of another region.
#[derive(Debug, Clone, PartialEq)]
pub enum RegionSpec {
    /// Another region of the library, by name.
    Named(String),
    /// A shape, `Everywhere` or `Nowhere` (no names inside).
    Shape(Region),
    /// Union of the parts.
    Union(Vec<RegionSpec>),
    /// Intersection of the parts.
    Intersection(Vec<RegionSpec>),
    /// Complement of the part.
    Not(Box<RegionSpec>),
}

/// Named regions that may refer to each other.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionLibrary {
    named: HashMap<String, RegionSpec>,
}

impl RegionLibrary {
    /// An empty library.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a named region.
    pub fn insert(&mut self, name: &str, spec: RegionSpec) {
        self.named.insert(name.to_string(), spec);
    }

    /// Number of named regions.
    pub fn len(&self) -> usize {
        self.named.len()
    }

    /// True when no region is named.
    pub fn is_empty(&self) -> bool {
        self.named.is_empty()
    }

    /// Resolves a spec into a region. Unknown names and cycles of names (any length) are
    /// errors that name the regions involved.
    pub fn resolve(&self, spec: &RegionSpec) -> Result<Region> {
        let mut stack = Vec::new();
        self.resolve_in(spec, &mut stack)
    }

    /// Resolves the region called `name`.
    pub fn get(&self, name: &str) -> Result<Region> {
        self.resolve(&RegionSpec::Named(name.to_string()))
    }

    /// Resolves every named region (finds every unknown name and cycle up front).
    pub fn check_all(&self) -> Result<()> {
        let mut names: Vec<&String> = self.named.keys().collect();
        names.sort();
        for n in names {
            self.get(n)?;
        }
        Ok(())
    }

    fn resolve_in(&self, spec: &RegionSpec, stack: &mut Vec<String>) -> Result<Region> {
        Ok(match spec {
            RegionSpec::Named(name) => {
                if let Some(pos) = stack.iter().position(|s| s == name) {
                    let mut cycle: Vec<String> = stack[pos..].to_vec();
                    cycle.push(name.clone());
                    return Err(MorphoError::Growth(format!(
                        "region cycle: {}",
                        cycle.join(" -> ")
                    )));
                }
                let Some(inner) = self.named.get(name) else {
                    let mut known: Vec<&String> = self.named.keys().collect();
                    known.sort();
                    return Err(MorphoError::Growth(format!(
                        "unknown region {name:?} (known: {known:?})"
                    )));
                };
                stack.push(name.clone());
                let r = self.resolve_in(inner, stack);
                stack.pop();
                r?
            }
            RegionSpec::Shape(r) => {
                r.validate()?;
                r.clone()
            }
            RegionSpec::Union(parts) | RegionSpec::Intersection(parts) => {
                if parts.is_empty() {
                    return Err(MorphoError::Growth(
                        "a union or intersection needs at least one part".into(),
                    ));
                }
                let rs = parts
                    .iter()
                    .map(|p| self.resolve_in(p, stack))
                    .collect::<Result<Vec<_>>>()?;
                if matches!(spec, RegionSpec::Union(_)) {
                    Region::Union(rs)
                } else {
                    Region::Intersection(rs)
                }
            }
            RegionSpec::Not(p) => Region::Not(Box::new(self.resolve_in(p, stack)?)),
        })
    }
}

fn finite_box(region: &Region) -> Result<Aabb> {
    let b = region.aabb();
    if !b.is_finite() {
        return Err(MorphoError::Growth(
            "cannot sample a region with an infinite bounding box (intersect it with a shape)"
                .into(),
        ));
    }
    Ok(b)
}

/// Most points one sampling call may draw (about 2.4 GB of coordinates).
const MAX_DRAWS: f64 = 1e8;

/// Uniform random points in `region` at `density` (points per µm³): `round(density · V_box)`
/// uniform draws in the bounding box, kept when inside. Errors on an infinite box or a
/// density that is negative, not finite, or would draw more than 10⁸ points.
pub fn sample_points<R: Rng + ?Sized>(
    region: &Region,
    density_per_um3: f64,
    rng: &mut R,
) -> Result<Vec<Vec3>> {
    if !(density_per_um3.is_finite() && density_per_um3 >= 0.0) {
        return Err(MorphoError::BadValue {
            what: "carrier point density (µm⁻³, ≥ 0)",
            value: density_per_um3,
        });
    }
    let b = finite_box(region)?;
    if b.is_empty() {
        return Ok(Vec::new());
    }
    let n = (density_per_um3 * b.volume()).round();
    if n > MAX_DRAWS {
        return Err(MorphoError::Growth(format!(
            "density {density_per_um3} µm⁻³ over a box of {} µm³ would draw {n} points (limit 1e8)",
            b.volume()
        )));
    }
    let mut out = Vec::new();
    for _ in 0..n as u64 {
        let p = uniform_in(&b, rng);
        if region.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

fn uniform_in<R: Rng + ?Sized>(b: &Aabb, rng: &mut R) -> Vec3 {
    let mut p = [0.0; 3];
    for (k, pk) in p.iter_mut().enumerate() {
        let u: f64 = rng.gen();
        *pk = b.lo[k] + u * (b.hi[k] - b.lo[k]);
    }
    p
}

/// One uniform random point in `region` (rejection sampling; gives up after 10⁶ tries).
pub fn sample_point<R: Rng + ?Sized>(region: &Region, rng: &mut R) -> Result<Vec3> {
    let b = finite_box(region)?;
    if !b.is_empty() {
        for _ in 0..1_000_000 {
            let p = uniform_in(&b, rng);
            if region.contains(&p) {
                return Ok(p);
            }
        }
    }
    Err(MorphoError::Growth(
        "no point of the region found in 10⁶ uniform draws over its bounding box (empty region?)"
            .into(),
    ))
}

/// Points of a cubic lattice with spacing s = density^(−1/3) (µm) inside `region`. The
/// lattice is anchored at the box's lower corner plus s/2 on every axis, so a box whose sides
/// are multiples of s holds exactly density × volume points.
pub fn lattice_points(region: &Region, density_per_um3: f64) -> Result<Vec<Vec3>> {
    if !(density_per_um3.is_finite() && density_per_um3 > 0.0) {
        return Err(MorphoError::BadValue {
            what: "lattice density (µm⁻³, > 0)",
            value: density_per_um3,
        });
    }
    let b = finite_box(region)?;
    if b.is_empty() {
        return Ok(Vec::new());
    }
    let s = density_per_um3.powf(-1.0 / 3.0);
    let counts: Vec<f64> = (0..3)
        .map(|k| ((b.hi[k] - b.lo[k]) / s).floor() + 1.0)
        .collect();
    if counts.iter().product::<f64>() > MAX_DRAWS {
        return Err(MorphoError::Growth(format!(
            "a lattice of spacing {s} µm over the region's box would have more than 1e8 points"
        )));
    }
    let mut out = Vec::new();
    let n = counts.iter().map(|&c| c as u64).collect::<Vec<_>>();
    for i in 0..n[0] {
        for j in 0..n[1] {
            for k in 0..n[2] {
                let p = [
                    b.lo[0] + (i as f64 + 0.5) * s,
                    b.lo[1] + (j as f64 + 0.5) * s,
                    b.lo[2] + (k as f64 + 0.5) * s,
                ];
                if b.contains(&p) && region.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    Ok(out)
}
