//! Dense matrix exponential (scaling and squaring with the degree-13 Padé approximant, after
//! Higham 2005), the scalar functions φ₁ and φ₂ evaluated without cancellation, and a small
//! row-major dense matrix type with an LU solver.

use crate::error::{check_finite, check_len, Error, Result};

/// A dense square matrix of `f64`, row-major. Units are those of whatever it represents.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat {
    n: usize,
    data: Vec<f64>,
}

impl Mat {
    /// The n×n zero matrix.
    pub fn zeros(n: usize) -> Self {
        Mat {
            n,
            data: vec![0.0; n * n],
        }
    }

    /// The n×n identity matrix.
    pub fn identity(n: usize) -> Self {
        let mut m = Mat::zeros(n);
        for i in 0..n {
            m.data[i * n + i] = 1.0;
        }
        m
    }

    /// Build from row-major data of length n². Errors on a length mismatch or non-finite entry.
    pub fn from_row_major(n: usize, data: Vec<f64>) -> Result<Self> {
        check_len("matrix data (n*n)", n * n, data.len())?;
        check_finite("matrix data", &data)?;
        Ok(Mat { n, data })
    }

    /// Build from rows; all rows must have the same length as the number of rows.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let n = rows.len();
        let mut data = Vec::with_capacity(n * n);
        for r in rows {
            check_len("matrix row", n, r.len())?;
            data.extend_from_slice(r);
        }
        Mat::from_row_major(n, data)
    }

    /// Dimension n.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Entry (i, j). Panics if out of range (indices are programmer input, not user data).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }

    /// Set entry (i, j).
    pub fn set(&mut self, i: usize, j: usize, x: f64) {
        self.data[i * self.n + j] = x;
    }

    /// Add `x` to entry (i, j).
    pub fn add_to(&mut self, i: usize, j: usize, x: f64) {
        self.data[i * self.n + j] += x;
    }

    /// Row-major entries.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Multiply every entry by `s`.
    pub fn scale(&mut self, s: f64) {
        self.data.iter_mut().for_each(|x| *x *= s);
    }

    /// Matrix product `self · b`.
    pub fn matmul(&self, b: &Mat) -> Mat {
        let n = self.n;
        let mut c = Mat::zeros(n);
        for i in 0..n {
            let crow = &mut c.data[i * n..(i + 1) * n];
            for k in 0..n {
                let a = self.data[i * n + k];
                if a == 0.0 {
                    continue;
                }
                let brow = &b.data[k * n..(k + 1) * n];
                for (cj, bj) in crow.iter_mut().zip(brow) {
                    *cj += a * bj;
                }
            }
        }
        c
    }

    /// Matrix–vector product `y = self · x`.
    pub fn matvec(&self, x: &[f64], y: &mut [f64]) -> Result<()> {
        check_len("matvec x", self.n, x.len())?;
        check_len("matvec y", self.n, y.len())?;
        for (i, yi) in y.iter_mut().enumerate() {
            let row = &self.data[i * self.n..(i + 1) * self.n];
            *yi = row.iter().zip(x).map(|(a, b)| a * b).sum();
        }
        Ok(())
    }

    /// Maximum absolute column sum (the induced 1-norm).
    pub fn norm1(&self) -> f64 {
        let n = self.n;
        (0..n)
            .map(|j| (0..n).map(|i| self.data[i * n + j].abs()).sum::<f64>())
            .fold(0.0, f64::max)
    }

    /// Largest absolute entry-wise difference to `other` (same dimension assumed; returns
    /// infinity on a mismatch).
    pub fn max_abs_diff(&self, other: &Mat) -> f64 {
        if self.n != other.n {
            return f64::INFINITY;
        }
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }

    fn axpy_into(&mut self, a: f64, x: &Mat) {
        for (s, v) in self.data.iter_mut().zip(&x.data) {
            *s += a * v;
        }
    }

    /// Solve `self · X = B` for X by LU with partial pivoting. Errors if singular.
    pub fn solve(&self, b: &Mat) -> Result<Mat> {
        check_len("solve right-hand side", self.n, b.n)?;
        let n = self.n;
        let mut lu = self.data.clone();
        let mut x = b.data.clone();
        for k in 0..n {
            let (mut piv, mut best) = (k, lu[k * n + k].abs());
            for i in k + 1..n {
                let v = lu[i * n + k].abs();
                if v > best {
                    piv = i;
                    best = v;
                }
            }
            if best == 0.0 || !best.is_finite() {
                return Err(Error::Singular("dense LU"));
            }
            if piv != k {
                for j in 0..n {
                    lu.swap(k * n + j, piv * n + j);
                    x.swap(k * n + j, piv * n + j);
                }
            }
            let d = lu[k * n + k];
            for i in k + 1..n {
                let f = lu[i * n + k] / d;
                if f == 0.0 {
                    continue;
                }
                lu[i * n + k] = f;
                for j in k + 1..n {
                    lu[i * n + j] -= f * lu[k * n + j];
                }
                for j in 0..n {
                    x[i * n + j] -= f * x[k * n + j];
                }
            }
        }
        for k in (0..n).rev() {
            let d = lu[k * n + k];
            for j in 0..n {
                let mut s = x[k * n + j];
                for i in k + 1..n {
                    s -= lu[k * n + i] * x[i * n + j];
                }
                x[k * n + j] = s / d;
            }
        }
        Ok(Mat { n, data: x })
    }
}

/// Padé(13) coefficients b_0..b_13 (Higham 2005, Table 10.4 of "Functions of Matrices").
const PADE13: [f64; 14] = [
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
];
/// θ₁₃: the largest 1-norm for which Padé(13) without scaling meets double precision.
const THETA13: f64 = 5.371920351148152;

/// Matrix exponential e^A by scaling and squaring with the [13/13] Padé approximant.
///
/// Errors if A has non-finite entries or the Padé denominator is singular (which does not happen
/// for finite A after scaling).
pub fn expm(a: &Mat) -> Result<Mat> {
    check_finite("expm argument", &a.data)?;
    let n = a.n;
    if n == 0 {
        return Ok(Mat::zeros(0));
    }
    let norm = a.norm1();
    let s = if norm > THETA13 {
        (norm / THETA13).log2().ceil().max(0.0) as i32
    } else {
        0
    };
    let mut x = a.clone();
    x.scale(0.5f64.powi(s));
    let b = &PADE13;
    let ident = Mat::identity(n);
    let x2 = x.matmul(&x);
    let x4 = x2.matmul(&x2);
    let x6 = x4.matmul(&x2);
    // U = X·[X6(b13 X6 + b11 X4 + b9 X2) + b7 X6 + b5 X4 + b3 X2 + b1 I]
    let mut t = Mat::zeros(n);
    t.axpy_into(b[13], &x6);
    t.axpy_into(b[11], &x4);
    t.axpy_into(b[9], &x2);
    let mut u_inner = x6.matmul(&t);
    u_inner.axpy_into(b[7], &x6);
    u_inner.axpy_into(b[5], &x4);
    u_inner.axpy_into(b[3], &x2);
    u_inner.axpy_into(b[1], &ident);
    let u = x.matmul(&u_inner);
    // V = X6(b12 X6 + b10 X4 + b8 X2) + b6 X6 + b4 X4 + b2 X2 + b0 I
    let mut t = Mat::zeros(n);
    t.axpy_into(b[12], &x6);
    t.axpy_into(b[10], &x4);
    t.axpy_into(b[8], &x2);
    let mut v = x6.matmul(&t);
    v.axpy_into(b[6], &x6);
    v.axpy_into(b[4], &x4);
    v.axpy_into(b[2], &x2);
    v.axpy_into(b[0], &ident);
    let mut num = v.clone();
    num.axpy_into(1.0, &u);
    let mut den = v;
    den.axpy_into(-1.0, &u);
    let mut r = den.solve(&num)?;
    for _ in 0..s {
        r = r.matmul(&r);
    }
    Ok(r)
}

/// φ₁(z) = (e^z − 1)/z, with φ₁(0) = 1, accurate for all z (uses `expm1`).
pub fn phi1(z: f64) -> f64 {
    if z == 0.0 {
        1.0
    } else {
        z.exp_m1() / z
    }
}

/// φ₂(z) = (e^z − 1 − z)/z², with φ₂(0) = ½, accurate for all z (Taylor series near 0).
pub fn phi2(z: f64) -> f64 {
    if z.abs() < 0.1 {
        // Σ_{k≥0} z^k/(k+2)!, 12 terms: truncation < 0.1^12/14! ≈ 1e-23.
        let mut term = 0.5;
        let mut sum = 0.5;
        for k in 1..12 {
            term *= z / (k as f64 + 2.0);
            sum += term;
        }
        sum
    } else {
        (z.exp_m1() - z) / (z * z)
    }
}
