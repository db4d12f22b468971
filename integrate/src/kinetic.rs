//! Linear kinetic schemes x' = A(u)·x (Markov channel models) and their exact propagators,
//! tabulated over the input u with a polynomial per bin (NEUWON's LTI method).
//!
//! Time in ms, rates in 1/ms, voltage inputs in mV, concentration inputs in mM; states are
//! occupancies (dimensionless).

use crate::error::{check_len, check_positive, Error, Result};
use crate::expm::{expm, Mat};
use std::time::Instant;

/// Exponential Euler ("cnexp") step for a state with x' = c₀ + c₁·x, both frozen over the step
/// `h` (ms; c₀ in units of x per ms, c₁ in 1/ms): x ← −c₀/c₁ + (x + c₀/c₁)·e^{c₁h}, evaluated as
/// x + h·φ₁(c₁h)·(c₀ + c₁x) so that c₁ = 0 gives x + c₀h. Exact under voltage clamp.
pub fn exp_euler(x: f64, c0: f64, c1: f64, h: f64) -> f64 {
    x + h * crate::expm::phi1(c1 * h) * (c0 + c1 * x)
}

/// Largest number of states a table supports (stack scratch in the step kernel).
pub const MAX_STATES: usize = 64;

/// Fills A(u) (1/ms) for inputs `u`.
type MatrixFn = dyn Fn(&[f64], &mut Mat) + Send + Sync;

/// A linear kinetic scheme x' = A(u)·x with 1 or 2 inputs.
pub struct KineticScheme {
    n: usize,
    n_inputs: usize,
    conserve: Option<f64>,
    matrix: Box<MatrixFn>,
}

impl std::fmt::Debug for KineticScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KineticScheme")
            .field("n", &self.n)
            .field("n_inputs", &self.n_inputs)
            .field("conserve", &self.conserve)
            .finish()
    }
}

/// A first-order reaction `from → to` with a rate (1/ms) depending on the inputs.
pub type Rate = Box<dyn Fn(&[f64]) -> f64 + Send + Sync>;

impl KineticScheme {
    /// From a closure that fills A(u) (1/ms); `conserve` is the CONSERVE total S (usually 1)
    /// if the scheme conserves occupancy (zero column sums).
    pub fn from_matrix(
        n: usize,
        n_inputs: usize,
        conserve: Option<f64>,
        matrix: impl Fn(&[f64], &mut Mat) + Send + Sync + 'static,
    ) -> Result<Self> {
        if n == 0 || n > MAX_STATES {
            return Err(Error::InvalidValue {
                what: "number of states",
                value: n as f64,
                reason: "must be in 1..=64",
            });
        }
        if !(1..=2).contains(&n_inputs) {
            return Err(Error::InvalidValue {
                what: "number of inputs",
                value: n_inputs as f64,
                reason: "must be 1 or 2",
            });
        }
        Ok(KineticScheme {
            n,
            n_inputs,
            conserve,
            matrix: Box::new(matrix),
        })
    }

    /// From reversible reactions `(a, b, forward a→b, backward b→a)` between state indices;
    /// closed (occupancy-conserving) with total `conserve`.
    pub fn from_reactions(
        n: usize,
        n_inputs: usize,
        conserve: Option<f64>,
        reactions: Vec<(usize, usize, Rate, Rate)>,
    ) -> Result<Self> {
        for (a, b, _, _) in &reactions {
            if *a >= n || *b >= n || a == b {
                return Err(Error::InvalidValue {
                    what: "reaction state index",
                    value: (*a.max(b)) as f64,
                    reason: "must be distinct states < n",
                });
            }
        }
        Self::from_matrix(n, n_inputs, conserve, move |u, m| {
            for i in 0..m.n() {
                for j in 0..m.n() {
                    m.set(i, j, 0.0);
                }
            }
            for (a, b, f, r) in &reactions {
                let kf = f(u);
                let kb = r(u);
                m.add_to(*b, *a, kf);
                m.add_to(*a, *a, -kf);
                m.add_to(*a, *b, kb);
                m.add_to(*b, *b, -kb);
            }
        })
    }

    /// From a derivative function `f(u, x, dx)` assumed linear in x: A(u) is built column by
    /// column from f at unit vectors. Linearity is checked at each of `probe_inputs` with a
    /// pseudo-random x: |f(u, 2x) − 2f(u, x)| ≤ 1e-12 (absolute), else `Err(NonLinear)`.
    pub fn from_derivative(
        n: usize,
        n_inputs: usize,
        conserve: Option<f64>,
        f: impl Fn(&[f64], &[f64], &mut [f64]) + Send + Sync + 'static,
        probe_inputs: &[Vec<f64>],
    ) -> Result<Self> {
        let mut rng = SplitMix(0x5eed);
        let mut x = vec![0.0; n];
        let mut x2 = vec![0.0; n];
        let mut d1 = vec![0.0; n];
        let mut d2 = vec![0.0; n];
        for u in probe_inputs {
            check_len("probe input", n_inputs, u.len())?;
            for (a, b) in x.iter_mut().zip(x2.iter_mut()) {
                *a = rng.next_f64();
                *b = 2.0 * *a;
            }
            f(u, &x, &mut d1);
            f(u, &x2, &mut d2);
            let dev = d1
                .iter()
                .zip(&d2)
                .map(|(a, b)| (2.0 * a - b).abs())
                .fold(0.0, f64::max);
            if dev.is_nan() || dev > 1e-12 {
                return Err(Error::NonLinear { deviation: dev });
            }
        }
        Self::from_matrix(n, n_inputs, conserve, move |u, m| {
            let n = m.n();
            let mut e = vec![0.0; n];
            let mut d = vec![0.0; n];
            for j in 0..n {
                e.iter_mut().for_each(|v| *v = 0.0);
                e[j] = 1.0;
                f(u, &e, &mut d);
                for (i, di) in d.iter().enumerate() {
                    m.set(i, j, *di);
                }
            }
        })
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.n
    }

    /// Number of inputs (1 or 2).
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// CONSERVE total, if any.
    pub fn conserve(&self) -> Option<f64> {
        self.conserve
    }

    /// A(u) in 1/ms.
    pub fn matrix(&self, u: &[f64]) -> Result<Mat> {
        check_len("inputs u", self.n_inputs, u.len())?;
        let mut m = Mat::zeros(self.n);
        (self.matrix)(u, &mut m);
        crate::error::check_finite("kinetic matrix A(u)", m.as_slice())?;
        Ok(m)
    }

    /// Exact propagator Φ(u) = expm(A(u)·dt) for a step `dt` (ms) at constant u; for a
    /// conserving scheme every column is renormalised to sum exactly 1.
    pub fn propagator(&self, u: &[f64], dt: f64) -> Result<Mat> {
        check_positive("dt", dt)?;
        let mut a = self.matrix(u)?;
        a.scale(dt);
        let mut p = expm(&a)?;
        if self.conserve.is_some() {
            let n = self.n;
            for k in 0..n {
                let s: f64 = (0..n).map(|j| p.get(j, k)).sum();
                if s > 0.0 {
                    for j in 0..n {
                        p.set(j, k, p.get(j, k) / s);
                    }
                }
            }
        }
        Ok(p)
    }

    /// Steady state at inputs u: Φ(u) over one hour (3.6·10⁶ ms) applied to the uniform state
    /// S/n (S = the CONSERVE total, 1 if none).
    pub fn steady_state(&self, u: &[f64]) -> Result<Vec<f64>> {
        let p = self.propagator(u, 3.6e6)?;
        let s = self.conserve.unwrap_or(1.0);
        let x0 = vec![s / self.n as f64; self.n];
        let mut x = vec![0.0; self.n];
        p.matvec(&x0, &mut x)?;
        Ok(x)
    }
}

/// An input axis of a kinetic table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputAxis {
    /// Linear bins on [min, max] (e.g. voltage, mV; NEUWON uses [−100, 100]).
    Linear {
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
    /// Logarithmic bins on [0, max] (e.g. concentration, mM; NEUWON uses [0, 1000]).
    Log {
        /// Upper end.
        max: f64,
    },
}

/// An axis with its bin count and (for log axes) offset s.
#[derive(Debug, Clone, Copy, PartialEq)]
struct AxisMap {
    axis: InputAxis,
    bins: usize,
    /// Log offset s (unused for linear axes).
    offset: f64,
}

impl AxisMap {
    /// Continuous bin coordinate b ∈ [0, B] (unclamped).
    #[inline]
    fn coord(&self, u: f64) -> f64 {
        let b = self.bins as f64;
        match self.axis {
            InputAxis::Linear { min, max } => (u - min) * b / (max - min),
            InputAxis::Log { max } => {
                let s = self.offset;
                let u = u.max(0.0);
                ((u + s).log2() - s.log2()) * b / ((max + s).log2() - s.log2())
            }
        }
    }

    /// Inverse of `coord`.
    fn input(&self, b: f64) -> f64 {
        let nb = self.bins as f64;
        match self.axis {
            InputAxis::Linear { min, max } => min + b * (max - min) / nb,
            InputAxis::Log { max } => {
                let s = self.offset;
                let l = s.log2() + b * ((max + s).log2() - s.log2()) / nb;
                (l.exp2() - s).max(0.0)
            }
        }
    }

    /// (bin, ξ) with clamping at both ends.
    #[inline]
    fn locate(&self, u: f64) -> (usize, f64) {
        let b = self.coord(u);
        if b.is_nan() || b < 0.0 {
            return (0, 0.0);
        }
        let last = self.bins - 1;
        if b >= self.bins as f64 {
            return (last, 1.0);
        }
        let f = b.floor();
        (f as usize, b - f)
    }
}

/// A tabulated propagator: per bin, a polynomial in the local coordinate(s) for every entry.
#[derive(Debug, Clone)]
pub struct KineticTable {
    n: usize,
    dt: f64,
    axes: Vec<AxisMap>,
    /// Monomial exponents (a, b): ξ₁^a ξ₂^b.
    terms: Vec<[u8; 2]>,
    /// [bin][column k][row j][term].
    coef: Vec<f64>,
    conserve: Option<f64>,
    max_pow: [u8; 2],
}

/// What a table build measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TableReport {
    /// Bins per input axis.
    pub bins: Vec<usize>,
    /// Monomial exponents used.
    pub terms: Vec<[u8; 2]>,
    /// Log-axis offsets chosen (1 for linear axes).
    pub offsets: Vec<f64>,
    /// Largest entry error on the fitting samples.
    pub train_max_error: f64,
    /// Largest entry error on fresh random samples (uniform in bin coordinates).
    pub fresh_max_error: f64,
    /// Number of fresh samples.
    pub fresh_samples: usize,
    /// Table memory, bytes.
    pub memory_bytes: usize,
    /// Wall-clock build time, seconds.
    pub build_seconds: f64,
    /// Cost-model multiplies per instance and step: n²·terms + n² (+ n for renormalisation).
    pub cost_multiplies: usize,
}

/// Deterministic SplitMix64 generator for sampling (reproducible builds).
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Total-degree monomial set for `dims` inputs and degree `deg`, ordered by degree.
fn total_degree_terms(dims: usize, deg: usize) -> Vec<[u8; 2]> {
    let mut t = Vec::new();
    for total in 0..=deg {
        if dims == 1 {
            t.push([total as u8, 0]);
        } else {
            for a in (0..=total).rev() {
                t.push([a as u8, (total - a) as u8]);
            }
        }
    }
    t
}

/// Least squares by Householder QR: x is ns×t (row-major, destroyed), y is ns×r (row-major,
/// destroyed); returns t×r coefficients.
fn lstsq(x: &mut [f64], ns: usize, t: usize, y: &mut [f64], r: usize) -> Result<Vec<f64>> {
    for c in 0..t {
        let norm = (c..ns).map(|i| x[i * t + c].powi(2)).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Err(Error::Singular("least-squares fit"));
        }
        let alpha = if x[c * t + c] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (c..ns).map(|i| x[i * t + c]).collect();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|a| a * a).sum();
        if vv == 0.0 {
            continue;
        }
        for col in c..t {
            let dot: f64 = (c..ns).map(|i| v[i - c] * x[i * t + col]).sum();
            let f = 2.0 * dot / vv;
            for i in c..ns {
                x[i * t + col] -= f * v[i - c];
            }
        }
        for col in 0..r {
            let dot: f64 = (c..ns).map(|i| v[i - c] * y[i * r + col]).sum();
            let f = 2.0 * dot / vv;
            for i in c..ns {
                y[i * r + col] -= f * v[i - c];
            }
        }
    }
    let mut out = vec![0.0; t * r];
    for col in 0..r {
        for i in (0..t).rev() {
            let mut s = y[i * r + col];
            for k in i + 1..t {
                s -= x[i * t + k] * out[k * r + col];
            }
            out[i * r + col] = s / x[i * t + i];
        }
    }
    Ok(out)
}

impl KineticTable {
    /// Build a table with a fixed layout: `bins` per axis, total-degree `degree` polynomials,
    /// log offsets `offsets` (ignored for linear axes). Returns the table and, per bin, the
    /// (max, RMS) entry error on the fitting samples.
    pub fn with_layout(
        scheme: &KineticScheme,
        dt: f64,
        axes: &[InputAxis],
        bins: &[usize],
        degree: usize,
        offsets: &[f64],
    ) -> Result<(Self, Vec<(f64, f64)>)> {
        check_positive("dt", dt)?;
        let d = scheme.n_inputs;
        check_len("axes", d, axes.len())?;
        check_len("bins", d, bins.len())?;
        check_len("offsets", d, offsets.len())?;
        let mut maps = Vec::with_capacity(d);
        for q in 0..d {
            if bins[q] == 0 {
                return Err(Error::InvalidValue {
                    what: "bins",
                    value: 0.0,
                    reason: "must be >= 1",
                });
            }
            match axes[q] {
                InputAxis::Linear { min, max } => {
                    if !(min.is_finite() && max.is_finite() && max > min) {
                        return Err(Error::InvalidValue {
                            what: "linear axis max",
                            value: max,
                            reason: "need finite min < max",
                        });
                    }
                }
                InputAxis::Log { max } => {
                    check_positive("log axis max", max)?;
                    check_positive("log axis offset", offsets[q])?;
                }
            }
            maps.push(AxisMap {
                axis: axes[q],
                bins: bins[q],
                offset: offsets[q],
            });
        }
        if degree > 10 {
            return Err(Error::InvalidValue {
                what: "polynomial degree",
                value: degree as f64,
                reason: "must be <= 10",
            });
        }
        let terms = total_degree_terms(d, degree);
        let nt = terms.len();
        let n = scheme.n;
        let nn = n * n;
        let nbins: usize = bins.iter().product();
        let sub = ((10 * nt) as f64).powf(1.0 / d as f64).ceil() as usize;
        let ns = sub.pow(d as u32);
        let mut coef = vec![0.0; nbins * nn * nt];
        let mut errs = Vec::with_capacity(nbins);
        let mut rng = SplitMix(0x7ab1e ^ (nbins as u64) ^ ((degree as u64) << 32));
        let mut xi = vec![[0.0f64; 2]; ns];
        let mut targets = vec![0.0; ns * nn];
        for bin in 0..nbins {
            let bidx = [bin % bins[0], if d == 2 { bin / bins[0] } else { 0 }];
            for (s, xs) in xi.iter_mut().enumerate() {
                let cell = [s % sub, s / sub];
                let mut u = [0.0; 2];
                for q in 0..d {
                    let loc = (cell[q] as f64 + rng.next_f64()) / sub as f64;
                    xs[q] = loc;
                    u[q] = maps[q].input(bidx[q] as f64 + loc);
                }
                let p = scheme.propagator(&u[..d], dt)?;
                // Column-major entry order (k, j) to match the table layout.
                for k in 0..n {
                    for j in 0..n {
                        targets[s * nn + k * n + j] = p.get(j, k);
                    }
                }
            }
            let mut design = vec![0.0; ns * nt];
            for s in 0..ns {
                for (t, e) in terms.iter().enumerate() {
                    design[s * nt + t] = xi[s][0].powi(e[0] as i32) * xi[s][1].powi(e[1] as i32);
                }
            }
            let design_copy = design.clone();
            let mut y = targets.clone();
            let c = lstsq(&mut design, ns, nt, &mut y, nn)?;
            // Store as [k][j][term]; c is nt × nn with column index k*n + j.
            let base = bin * nn * nt;
            for e in 0..nn {
                for t in 0..nt {
                    coef[base + e * nt + t] = c[t * nn + e];
                }
            }
            let (mut emax, mut esq) = (0.0f64, 0.0f64);
            for s in 0..ns {
                for e in 0..nn {
                    let fit: f64 = (0..nt)
                        .map(|t| design_copy[s * nt + t] * c[t * nn + e])
                        .sum();
                    let err = (fit - targets[s * nn + e]).abs();
                    emax = emax.max(err);
                    esq += err * err;
                }
            }
            errs.push((emax, (esq / (ns * nn) as f64).sqrt()));
        }
        let max_pow = [
            terms.iter().map(|t| t[0]).max().unwrap_or(0),
            terms.iter().map(|t| t[1]).max().unwrap_or(0),
        ];
        Ok((
            KineticTable {
                n,
                dt,
                axes: maps,
                terms,
                coef,
                conserve: scheme.conserve,
                max_pow,
            },
            errs,
        ))
    }

    /// Choose bins and polynomial degree to meet `target` (max entry error, e.g. 1e-4) on fresh
    /// samples at the least cost-model cost, following NEUWON's optimiser (see module docs of
    /// the spec §4.4): per degree 1..=5, grow the bins from 10 (or 20×20) until the training
    /// error is ≤ target/2, shrink by ×0.9 while it stays so; among degrees pick the least
    /// n²·terms cost whose table fits in 4 MiB (else the smallest table).
    pub fn build(
        scheme: &KineticScheme,
        dt: f64,
        axes: &[InputAxis],
        target: f64,
    ) -> Result<(Self, TableReport)> {
        check_positive("target", target)?;
        let start = Instant::now();
        let d = scheme.n_inputs;
        check_len("axes", d, axes.len())?;
        let internal = 0.5 * target;
        let mut best: Option<(usize, KineticTable, f64)> = None;
        let mut best_err = f64::INFINITY;
        let n = scheme.n;
        for degree in 1..=5usize {
            let attempt = Self::optimise_bins(scheme, dt, axes, degree, internal);
            let (table, err) = match attempt {
                Ok(v) => v,
                Err(Error::TableTargetNotMet { achieved, .. }) => {
                    best_err = best_err.min(achieved);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let nt = table.terms.len();
            let bytes = table.coef.len() * 8;
            let mut cost = n * n * (nt + 1);
            if bytes > 4 << 20 {
                cost = cost.saturating_mul(4);
            }
            let better = match &best {
                None => true,
                Some((c, t, _)) => cost < *c || (cost == *c && bytes < t.coef.len() * 8),
            };
            if better {
                best = Some((cost, table, err));
            }
        }
        let (cost, table, train) = best.ok_or(Error::TableTargetNotMet {
            target,
            achieved: best_err,
            reason: "no degree 1..=5 reached the target within 100000 bins",
        })?;
        Self::finish(scheme, table, train, cost, start)
    }

    /// Like [`KineticTable::build`] but with the polynomial degree fixed (bins optimised).
    pub fn build_with_degree(
        scheme: &KineticScheme,
        dt: f64,
        axes: &[InputAxis],
        degree: usize,
        target: f64,
    ) -> Result<(Self, TableReport)> {
        check_positive("target", target)?;
        check_len("axes", scheme.n_inputs, axes.len())?;
        let start = Instant::now();
        let (table, train) = Self::optimise_bins(scheme, dt, axes, degree, 0.5 * target)?;
        let n = scheme.n;
        let cost = n * n * (table.terms.len() + 1);
        Self::finish(scheme, table, train, cost, start)
    }

    fn finish(
        scheme: &KineticScheme,
        table: KineticTable,
        train: f64,
        cost: usize,
        start: Instant,
    ) -> Result<(Self, TableReport)> {
        let fresh_samples = 10_000;
        let fresh = table.fresh_error(scheme, fresh_samples, 0xf4e5)?;
        let report = TableReport {
            bins: table.axes.iter().map(|a| a.bins).collect(),
            terms: table.terms.clone(),
            offsets: table.axes.iter().map(|a| a.offset).collect(),
            train_max_error: train,
            fresh_max_error: fresh,
            fresh_samples,
            memory_bytes: table.memory_bytes(),
            build_seconds: start.elapsed().as_secs_f64(),
            cost_multiplies: cost,
        };
        Ok((table, report))
    }

    fn optimise_bins(
        scheme: &KineticScheme,
        dt: f64,
        axes: &[InputAxis],
        degree: usize,
        target: f64,
    ) -> Result<(KineticTable, f64)> {
        let d = scheme.n_inputs;
        let max_bins = 100_000usize;
        let mut offsets = vec![1.0; d];
        let mut bins = if d == 1 { vec![10usize] } else { vec![20, 20] };
        let max_of = |e: &[(f64, f64)]| e.iter().map(|x| x.0).fold(0.0, f64::max);
        // Log offset: divide by 10 while bin 0 has the worst RMS error (1-input log axes).
        if d == 1 {
            if let InputAxis::Log { .. } = axes[0] {
                for _ in 0..6 {
                    let (_, e) = Self::with_layout(scheme, dt, axes, &bins, degree, &offsets)?;
                    let worst = e.iter().enumerate().fold((0, 0.0), |acc, (i, x)| {
                        if x.1 > acc.1 {
                            (i, x.1)
                        } else {
                            acc
                        }
                    });
                    if worst.0 == 0 {
                        offsets[0] /= 10.0;
                    } else {
                        break;
                    }
                }
            }
        }
        let (mut table, errs) = Self::with_layout(scheme, dt, axes, &bins, degree, &offsets)?;
        let mut err = max_of(&errs);
        // Grow.
        let mut guard = 0;
        while err > target {
            guard += 1;
            if guard > 60 || bins.iter().product::<usize>() > max_bins {
                return Err(Error::TableTargetNotMet {
                    target,
                    achieved: err,
                    reason: "bin growth limit",
                });
            }
            if d == 1 {
                let f = 1.5f64.max(1.7f64.powf((err / target).log10()));
                bins[0] = ((bins[0] as f64 * f).ceil() as usize).max(bins[0] + 1);
                let (t, e) = Self::with_layout(scheme, dt, axes, &bins, degree, &offsets)?;
                table = t;
                err = max_of(&e);
            } else {
                let grow = |b: usize| ((b as f64) * 1.5).ceil() as usize;
                let b0 = [grow(bins[0]), bins[1]];
                let b1 = [bins[0], grow(bins[1])];
                let (t0, e0) = Self::with_layout(scheme, dt, axes, &b0, degree, &offsets)?;
                let (t1, e1) = Self::with_layout(scheme, dt, axes, &b1, degree, &offsets)?;
                let (m0, m1) = (max_of(&e0), max_of(&e1));
                if (m0 - m1).abs() <= 0.25 * m0.max(m1) {
                    bins = vec![grow(bins[0]), grow(bins[1])];
                    let (t, e) = Self::with_layout(scheme, dt, axes, &bins, degree, &offsets)?;
                    table = t;
                    err = max_of(&e);
                } else if m0 < m1 {
                    bins = b0.to_vec();
                    table = t0;
                    err = m0;
                } else {
                    bins = b1.to_vec();
                    table = t1;
                    err = m1;
                }
            }
        }
        // Shrink ×0.9 per axis while the target still holds.
        for q in 0..d {
            loop {
                let nb = ((bins[q] as f64) * 0.9).floor() as usize;
                if nb < 1 || nb == bins[q] {
                    break;
                }
                let mut b2 = bins.clone();
                b2[q] = nb;
                let (t, e) = Self::with_layout(scheme, dt, axes, &b2, degree, &offsets)?;
                let m = max_of(&e);
                if m <= target {
                    bins = b2;
                    table = t;
                    err = m;
                } else {
                    break;
                }
            }
        }
        Ok((table, err))
    }

    /// Largest entry error of the tabulated propagator against the exact one on `samples`
    /// fresh inputs drawn uniformly in bin coordinates.
    pub fn fresh_error(&self, scheme: &KineticScheme, samples: usize, seed: u64) -> Result<f64> {
        let mut rng = SplitMix(seed);
        let d = self.axes.len();
        let mut worst = 0.0f64;
        for _ in 0..samples {
            let mut u = [0.0; 2];
            for (uq, ax) in u.iter_mut().zip(&self.axes) {
                let b = rng.next_f64() * ax.bins as f64;
                *uq = ax.input(b);
            }
            let exact = scheme.propagator(&u[..d], self.dt)?;
            let tab = self.propagator_at(&u[..d])?;
            worst = worst.max(exact.max_abs_diff(&tab));
        }
        Ok(worst)
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.n
    }

    /// The step (ms) the table was built for.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Bytes of coefficients.
    pub fn memory_bytes(&self) -> usize {
        self.coef.len() * 8
    }

    /// Bins per axis.
    pub fn bins(&self) -> Vec<usize> {
        self.axes.iter().map(|a| a.bins).collect()
    }

    #[inline]
    fn basis(&self, u: &[f64], out: &mut [f64; 64]) -> usize {
        let (b0, x0) = self.axes[0].locate(u[0]);
        let (bin, x1) = if self.axes.len() == 2 {
            let (b1, x1) = self.axes[1].locate(u[1]);
            (b0 + self.axes[0].bins * b1, x1)
        } else {
            (b0, 0.0)
        };
        let mut p0 = [1.0f64; 16];
        let mut p1 = [1.0f64; 16];
        for k in 1..=(self.max_pow[0] as usize).min(15) {
            p0[k] = p0[k - 1] * x0;
        }
        for k in 1..=(self.max_pow[1] as usize).min(15) {
            p1[k] = p1[k - 1] * x1;
        }
        for (t, e) in self.terms.iter().enumerate() {
            out[t] = p0[e[0] as usize] * p1[e[1] as usize];
        }
        bin
    }

    /// The tabulated propagator at inputs u (for testing and inspection).
    pub fn propagator_at(&self, u: &[f64]) -> Result<Mat> {
        check_len("inputs u", self.axes.len(), u.len())?;
        let mut basis = [0.0; 64];
        let bin = self.basis(u, &mut basis);
        let (n, nt) = (self.n, self.terms.len());
        let mut m = Mat::zeros(n);
        let base = bin * n * n * nt;
        for k in 0..n {
            for j in 0..n {
                let c = &self.coef[base + (k * n + j) * nt..base + (k * n + j + 1) * nt];
                m.set(j, k, c.iter().zip(&basis[..nt]).map(|(a, b)| a * b).sum());
            }
        }
        Ok(m)
    }

    /// Advance many instances by one step: `u` holds each instance's inputs (instances ×
    /// n_inputs, row-major; mV or mM), `x` their states (instances × n_states, row-major).
    /// Conserving schemes are rescaled to their total. Does not allocate.
    pub fn advance(&self, u: &[f64], x: &mut [f64]) -> Result<()> {
        let (n, d) = (self.n, self.axes.len());
        let inst = x.len() / n;
        check_len("x (instances*n_states)", inst * n, x.len())?;
        check_len("u (instances*n_inputs)", inst * d, u.len())?;
        let nt = self.terms.len();
        let mut basis = [0.0; 64];
        let mut out = [0.0f64; MAX_STATES];
        for (ui, xi) in u.chunks_exact(d).zip(x.chunks_exact_mut(n)) {
            let bin = self.basis(ui, &mut basis);
            let tab = &self.coef[bin * n * n * nt..(bin + 1) * n * n * nt];
            out[..n].iter_mut().for_each(|o| *o = 0.0);
            for (k, xk) in xi.iter().enumerate() {
                let col = &tab[k * n * nt..(k + 1) * n * nt];
                for (j, o) in out[..n].iter_mut().enumerate() {
                    let c = &col[j * nt..(j + 1) * nt];
                    let mut e = 0.0;
                    for t in 0..nt {
                        e += c[t] * basis[t];
                    }
                    *o += e * xk;
                }
            }
            match self.conserve {
                Some(s) => {
                    let sum: f64 = out[..n].iter().sum();
                    let f = if sum != 0.0 { s / sum } else { 1.0 };
                    for (a, b) in xi.iter_mut().zip(&out[..n]) {
                        *a = b * f;
                    }
                }
                None => xi.copy_from_slice(&out[..n]),
            }
        }
        Ok(())
    }
}
