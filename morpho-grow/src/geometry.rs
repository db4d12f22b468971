//! 3-D points and exact integrals over piecewise-linear frusta.
//!
//! A section's geometry is a polyline of [`Point3`]s; between consecutive points the diameter
//! varies linearly with the path (arc) length, i.e. each piece is a frustum. The integrals here
//! are exact for that shape:
//!
//! * lateral area of a frustum with end radii r₁, r₂ and axial length h:
//!   π·(r₁ + r₂)·√(h² + (r₁ − r₂)²) (NEURON treats pt3d sections as such frusta). The same
//!   formula at h = 0 gives the annulus π·|r₁² − r₂²| of a diameter step between two points at
//!   one position; we count it, as we believe NEURON's `area()` does — not checked against a
//!   NEURON number (the reference cells have no such step inside a section);
//! * axial resistance integral ∫ dx / d(x)² over a piece whose diameter goes linearly from d₁
//!   to d₂ over length h: h / (d₁·d₂) (exact: d/dx (−1/d) · h/(d₂ − d₁) integrates to it).

/// A 3-D sample of a section: centre position (µm) and diameter (µm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point3 {
    /// x coordinate, µm.
    pub x: f64,
    /// y coordinate, µm.
    pub y: f64,
    /// z coordinate, µm.
    pub z: f64,
    /// Diameter at this point, µm (NEURON's `diam3d`).
    pub diam: f64,
}

impl Point3 {
    /// A point at (x, y, z) µm with diameter `diam` µm.
    pub fn new(x: f64, y: f64, z: f64, diam: f64) -> Self {
        Self { x, y, z, diam }
    }

    /// Euclidean distance to `other`, µm.
    pub fn distance(&self, other: &Point3) -> f64 {
        let (dx, dy, dz) = (other.x - self.x, other.y - self.y, other.z - self.z);
        (dx * dx + dy * dy + dz * dz).sqrt()
    }
}

/// Cumulative path length (µm) at each point; first entry 0.
pub(crate) fn arc_lengths(points: &[Point3]) -> Vec<f64> {
    let mut arcs = Vec::with_capacity(points.len());
    let mut acc = 0.0;
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            if let Some(prev) = points.get(i - 1) {
                acc += prev.distance(p);
            }
        }
        arcs.push(acc);
    }
    arcs
}

/// The pieces of the polyline clipped to [a0, a1]: (length h, d at start, d at end), plus
/// zero-length pieces (h = 0) lying in [a0, a1) — or at a1 when `include_end`.
fn clipped_pieces<'a>(
    points: &'a [Point3],
    arcs: &'a [f64],
    a0: f64,
    a1: f64,
    include_end: bool,
) -> impl Iterator<Item = (f64, f64, f64)> + 'a {
    points
        .windows(2)
        .zip(arcs.windows(2))
        .filter_map(move |(p, a)| {
            let (pa, pb) = (p[0], p[1]);
            let (sa, sb) = (a[0], a[1]);
            let h = sb - sa;
            if h <= 0.0 {
                let inside = (sa >= a0 && sa < a1) || (include_end && sa == a1);
                return inside.then_some((0.0, pa.diam, pb.diam));
            }
            let lo = sa.max(a0);
            let hi = sb.min(a1);
            if hi <= lo {
                return None;
            }
            let d_at = |s: f64| pa.diam + (pb.diam - pa.diam) * (s - sa) / h;
            Some((hi - lo, d_at(lo), d_at(hi)))
        })
}

/// Lateral membrane area (µm²) of the part of the polyline with arc length in [a0, a1].
pub(crate) fn area_between(
    points: &[Point3],
    arcs: &[f64],
    a0: f64,
    a1: f64,
    include_end: bool,
) -> f64 {
    clipped_pieces(points, arcs, a0, a1, include_end)
        .map(|(h, d1, d2)| {
            let (r1, r2) = (0.5 * d1, 0.5 * d2);
            std::f64::consts::PI * (r1 + r2) * (h * h + (r1 - r2) * (r1 - r2)).sqrt()
        })
        .sum()
}

/// ∫ dx / d(x)² (µm⁻¹) over arc length [a0, a1].
pub(crate) fn inv_d2_between(points: &[Point3], arcs: &[f64], a0: f64, a1: f64) -> f64 {
    clipped_pieces(points, arcs, a0, a1, false)
        .filter(|(h, _, _)| *h > 0.0)
        .map(|(h, d1, d2)| h / (d1 * d2))
        .sum()
}

/// Position and diameter at arc length `s` (clamped to the polyline).
pub(crate) fn point_at_arc(points: &[Point3], arcs: &[f64], s: f64) -> Option<Point3> {
    let first = *points.first()?;
    let mut out = first;
    for (p, a) in points.windows(2).zip(arcs.windows(2)) {
        out = p[1];
        if s <= a[1] {
            let h = a[1] - a[0];
            if h <= 0.0 {
                continue;
            }
            let t = ((s - a[0]) / h).clamp(0.0, 1.0);
            let lerp = |u: f64, v: f64| u + (v - u) * t;
            return Some(Point3::new(
                lerp(p[0].x, p[1].x),
                lerp(p[0].y, p[1].y),
                lerp(p[0].z, p[1].z),
                lerp(p[0].diam, p[1].diam),
            ));
        }
    }
    Some(out)
}
