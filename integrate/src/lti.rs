//! Exact propagators for linear time-invariant systems x' = A·x + B·u with input u held constant
//! over each step (Rotter & Diesmann 1999).
//!
//! One step of length h is x ← Φ·x + Γ·u with Φ = e^{A h} and Γ = h·φ₁(A h)·B, both read off the
//! exponential of the augmented matrix [[A, B], [0, 0]]·h, so no inverse of A is ever formed and
//! degenerate time constants cost nothing special.

use crate::error::{check_finite, check_len, check_positive, Result};
use crate::expm::{expm, Mat};

/// The exact one-step propagator of x' = A x + B u for a fixed step.
#[derive(Debug, Clone)]
pub struct LtiPropagator {
    n: usize,
    m: usize,
    /// Φ = e^{A h}, n×n.
    phi: Mat,
    /// Γ = h φ₁(A h) B, n×m, row-major.
    gamma: Vec<f64>,
}

impl LtiPropagator {
    /// Build for state matrix `a` (n×n, units 1/time), input matrix `b` (n×m row-major, units
    /// state/(input·time)) and step `h` (same time unit as `a`, e.g. ms).
    pub fn new(a: &Mat, b: &[f64], m: usize, h: f64) -> Result<Self> {
        check_positive("step h", h)?;
        let n = a.n();
        check_len("input matrix B (n*m)", n * m, b.len())?;
        check_finite("input matrix B", b)?;
        let mut aug = Mat::zeros(n + m);
        for i in 0..n {
            for j in 0..n {
                aug.set(i, j, a.get(i, j) * h);
            }
            for k in 0..m {
                aug.set(i, n + k, b[i * m + k] * h);
            }
        }
        let e = expm(&aug)?;
        let mut phi = Mat::zeros(n);
        let mut gamma = vec![0.0; n * m];
        for i in 0..n {
            for j in 0..n {
                phi.set(i, j, e.get(i, j));
            }
            for k in 0..m {
                gamma[i * m + k] = e.get(i, n + k);
            }
        }
        Ok(LtiPropagator { n, m, phi, gamma })
    }

    /// Φ = e^{A h}.
    pub fn phi(&self) -> &Mat {
        &self.phi
    }

    /// Γ = h φ₁(A h) B, n×m row-major.
    pub fn gamma(&self) -> &[f64] {
        &self.gamma
    }

    /// Advance `x` (length n) by one step with constant input `u` (length m); `scratch` has
    /// length n. Does not allocate.
    pub fn step(&self, x: &mut [f64], u: &[f64], scratch: &mut [f64]) -> Result<()> {
        check_len("state x", self.n, x.len())?;
        check_len("input u", self.m, u.len())?;
        check_len("scratch", self.n, scratch.len())?;
        self.phi.matvec(x, scratch)?;
        for (i, xi) in x.iter_mut().enumerate() {
            let g = &self.gamma[i * self.m..(i + 1) * self.m];
            *xi = scratch[i] + g.iter().zip(u).map(|(a, b)| a * b).sum::<f64>();
        }
        Ok(())
    }
}
