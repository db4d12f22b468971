//! NEURON's compartmentalisation of a section: per-segment membrane area and the axial
//! resistances of the two half segments, integrated over the diameter profile.
//!
//! Between two profile points at arc distance `Δs` with diameters `d0`, `d1` the membrane is
//! the lateral surface of a conical frustum, `π (d0 + d1)/2 · sqrt(Δs² + ((d1 − d0)/2)²)`,
//! and the axial resistance is the exact integral of `4 Ra / (π d(s)²)` for a linear `d(s)`,
//! `4 Ra Δs / (π d0 d1)`. Segment and half-segment boundaries are interpolated linearly.

use crate::tree::{Geometry, ProfilePoint, Section};

/// Geometry of one segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentGeometry {
    /// Membrane area, µm².
    pub area_um2: f64,
    /// Axial resistance from the segment's 0-side boundary to its centre, Ω.
    pub r_left_ohm: f64,
    /// Axial resistance from the centre to the segment's 1-side boundary, Ω.
    pub r_right_ohm: f64,
}

/// Area and half-segment resistances of every segment of `sec` (length `nseg`). Never panics;
/// an invalid section (see [`crate::CableTree::validate`]) gives NaN or infinite values.
pub fn section_geometry(sec: &Section) -> Vec<SegmentGeometry> {
    let nseg = sec.nseg();
    let dx = sec.length_um / nseg as f64;
    // Resistance factor: 4 Ra/π · (µm / µm²) → Ω needs 1e4 (1 µm = 1e-4 cm).
    let rfac = 4.0 * sec.ra_ohm_cm / std::f64::consts::PI * 1e4;
    let mut out = Vec::with_capacity(nseg);
    match &sec.geometry {
        Geometry::Cylinder { diam_um } => {
            let d = *diam_um;
            let area = std::f64::consts::PI * d * dx;
            let r = rfac * (dx / 2.0) / (d * d);
            for _ in 0..nseg {
                out.push(SegmentGeometry {
                    area_um2: area,
                    r_left_ohm: r,
                    r_right_ohm: r,
                });
            }
        }
        Geometry::Profile(points) => {
            let scaled = scale_profile(points, sec.length_um);
            for i in 0..nseg {
                let a = i as f64 * dx;
                let m = (i as f64 + 0.5) * dx;
                let b = if i + 1 == nseg {
                    sec.length_um
                } else {
                    (i + 1) as f64 * dx
                };
                let (a1, r1) = integrate(&scaled, a, m);
                let (a2, r2) = integrate(&scaled, m, b);
                out.push(SegmentGeometry {
                    area_um2: a1 + a2,
                    r_left_ohm: rfac * r1,
                    r_right_ohm: rfac * r2,
                });
            }
        }
    }
    out
}

/// Profile with arc positions shifted to start at 0 and scaled to end at `length`.
fn scale_profile(points: &[ProfilePoint], length: f64) -> Vec<(f64, f64)> {
    let s0 = points.first().map_or(0.0, |p| p.arc_um);
    let span = points.last().map_or(0.0, |p| p.arc_um) - s0;
    let k = if span > 0.0 { length / span } else { 1.0 };
    points
        .iter()
        .map(|p| ((p.arc_um - s0) * k, p.diam_um))
        .collect()
}

/// Diameter at arc `s` by linear interpolation (clamped to the ends).
fn diam_at(p: &[(f64, f64)], s: f64) -> f64 {
    let Some(&(s_first, d_first)) = p.first() else {
        return f64::NAN;
    };
    if s <= s_first {
        return d_first;
    }
    for w in p.windows(2) {
        let (s0, d0) = w[0];
        let (s1, d1) = w[1];
        if s <= s1 {
            if s1 > s0 {
                return d0 + (d1 - d0) * (s - s0) / (s1 - s0);
            }
            return d1;
        }
    }
    p.last().map_or(f64::NAN, |q| q.1)
}

/// Lateral area (µm²) and `∫ ds / d²` (1/µm) over `[a, b]`.
fn integrate(p: &[(f64, f64)], a: f64, b: f64) -> (f64, f64) {
    // Knots: a, every profile point strictly inside (a, b), b.
    let mut knots: Vec<(f64, f64)> = vec![(a, diam_at(p, a))];
    for &(s, d) in p {
        if s > a && s < b {
            knots.push((s, d));
        }
    }
    knots.push((b, diam_at(p, b)));
    let mut area = 0.0;
    let mut rint = 0.0;
    for w in knots.windows(2) {
        let (s0, d0) = w[0];
        let (s1, d1) = w[1];
        let ds = s1 - s0;
        let dr = (d1 - d0) / 2.0;
        area += std::f64::consts::PI * (d0 + d1) / 2.0 * (ds * ds + dr * dr).sqrt();
        rint += ds / (d0 * d1);
    }
    (area, rint)
}
