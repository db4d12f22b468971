//! The equivalent cylinder of one stem subtree (SPEC §4–§7).
//!
//! For a uniform sealed-end cylinder of electrotonic length `L` with input impedance `Z0`,
//! the transfer impedance to electrotonic position `X` is `Z0 cosh(q(L−X)) / cosh(qL)` with
//! `q = sqrt(1 + jωτ)`, and `Z0 = (2/π) sqrt(Rm Ra) d^(−3/2) coth(qL) / q`.

use num_complex::Complex64;

/// Bisection steps used by the reference (and by us, to reproduce it).
const MAX_ITER: usize = 50;
/// Absolute tolerance on impedance moduli in the bisections, Ω.
const TOL_OHM: f64 = 0.001;
/// Upper bound of the electrotonic length search.
const L_MAX: f64 = 10.0;

/// Cable parameters of a stem (taken from its root section at x = 0.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CableParams {
    /// Specific membrane resistance `1/g_pas`, Ω·cm².
    pub rm_ohm_cm2: f64,
    /// Axial resistivity, Ω·cm.
    pub ra_ohm_cm: f64,
    /// Specific capacitance, µF/cm².
    pub cm_uf_cm2: f64,
    /// Reduction frequency, Hz.
    pub freq_hz: f64,
}

impl CableParams {
    /// `q = sqrt(1 + j ω Rm Cm 1e-6)` (principal root).
    pub fn q(&self) -> Complex64 {
        let omega = 2.0 * std::f64::consts::PI * self.freq_hz;
        Complex64::new(1.0, omega * self.rm_ohm_cm2 * self.cm_uf_cm2 * 1e-6).sqrt()
    }
}

/// `|Z_in / cosh(q L)|`, the modulus of the transfer impedance to the far end.
fn far_end_modulus(z_in: Complex64, q: Complex64, l: f64) -> f64 {
    (z_in / (q * l).cosh()).norm()
}

/// Electrotonic length `L ∈ [0, 10]` with `|Z_in / cosh(qL)| = |Z_min|` by the reference's
/// bisection (start 5, at most 50 halvings, stop within 0.001 Ω).
pub fn electrotonic_length(z_in: Complex64, z_min: Complex64, q: Complex64) -> f64 {
    let target = z_min.norm();
    let (mut lo, mut hi) = (0.0, L_MAX);
    let mut l = L_MAX / 2.0;
    for _ in 0..MAX_ITER {
        let m = far_end_modulus(z_in, q, l);
        if (target - m).abs() <= TOL_OHM {
            break;
        }
        if target > m {
            hi = l;
            l = (lo + l) / 2.0;
        } else {
            lo = l;
            l = (hi + l) / 2.0;
        }
    }
    l
}

/// Diameter (µm) of the cylinder of electrotonic length `l` whose input impedance is `z_in` (Ω).
pub fn diameter_um(p: &CableParams, z_in: Complex64, l: f64) -> f64 {
    let q = p.q();
    let coth = (q * l).cosh() / (q * l).sinh();
    let z = (2.0 / std::f64::consts::PI) * (p.rm_ohm_cm2 * p.ra_ohm_cm).sqrt() * coth / (q * z_in);
    1e4 * z.norm().powf(2.0 / 3.0)
}

/// DC space constant (µm) of a cylinder of diameter `diam_um`.
pub fn lambda_um(p: &CableParams, diam_um: f64) -> f64 {
    let d_cm = diam_um * 1e-4;
    1e4 * (p.rm_ohm_cm2 * d_cm / (4.0 * p.ra_ohm_cm)).sqrt()
}

/// Default segment count: one per ~0.1 λ, odd: `2⌊5L⌋ + 1`.
pub fn default_nseg(l: f64) -> usize {
    let k = (l * 10.0 / 2.0).floor();
    if k.is_finite() && k >= 0.0 {
        2 * (k as usize) + 1
    } else {
        1
    }
}

/// Relative position `X/L ∈ [0, 1]` on the cylinder whose transfer impedance modulus to the
/// 0-end equals `|z_p|` (reference bisection: start `L/2`, ≤ 50 halvings, 0.001 Ω).
pub fn map_point(z_in: Complex64, q: Complex64, l: f64, z_p: Complex64) -> f64 {
    let target = z_p.norm();
    let denom = (q * l).cosh();
    let (mut lo, mut hi) = (0.0, l);
    let mut x = l / 2.0;
    for _ in 0..MAX_ITER {
        let m = (z_in * (q * (l - x)).cosh() / denom).norm();
        if (target - m).abs() <= TOL_OHM {
            break;
        }
        if target > m {
            hi = x;
            x = (lo + x) / 2.0;
        } else {
            lo = x;
            x = (hi + x) / 2.0;
        }
    }
    let rel = if l > 0.0 { x / l } else { 0.0 };
    if rel > 1.0 {
        0.999999
    } else {
        rel.max(0.0)
    }
}

/// Proportional segment counts: `max(1, round(L_i / ΣL · total))`, Python (banker's) rounding.
pub fn proportional_nseg(ls: &[f64], total: usize) -> Vec<usize> {
    let sum: f64 = ls.iter().sum();
    ls.iter()
        .map(|l| {
            let v = if sum > 0.0 {
                l / sum * total as f64
            } else {
                0.0
            };
            (round_half_even(v) as usize).max(1)
        })
        .collect()
}

/// Round to nearest, ties to even (Python's `round`).
pub fn round_half_even(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 {
        2.0 * (v / 2.0).round()
    } else {
        r
    }
}
