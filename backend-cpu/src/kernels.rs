//! Native kernels over raw arrays, shared by the engine's fast path and the `benches` floor:
//! `hh`'s state update through NEURON's TABLE ([`HhTable`], [`hh_states`]) and the Hines
//! elimination done one tree height at a time ([`eliminate`]).
//!
//! Each is compiled for AVX-512, AVX2 + FMA and the target's baseline; the caller passes the
//! level ([`crate::simd::simd`] picks the best the CPU has, capped by the user). The AVX-512
//! and AVX2 state updates are written with intrinsics (`kernels/avx512.rs`, `kernels/avx2.rs`):
//! eight (four) compartments at a time, each compartment's six rates interpolated as one row
//! and transposed in registers, then `cnexp` with a fused multiply–add `exp`. The baseline and
//! the last few compartments use portable loops: the lookup scalar (gathers are slower here),
//! `cnexp` vectorised by LLVM.
//! All levels agree to rounding (`tests/fast_path.rs` checks each against the interpreter).

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use crate::simd::Simd;

/// A root in a parent array (no parent): [`integrate::ROOT`].
pub const NO_PARENT: u32 = integrate::ROOT;

/// Compartments per chunk of the portable state update (its scratch stays in L1).
const CHUNK: usize = 256;

/// One point of the table, as two 64-byte halves: the six values at point k (lanes 0–5), then
/// their differences to point k + 1 (lanes 8–13).
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug)]
struct Row([f64; 16]);

/// `hh`'s rates tabulated over v as NEURON's `TABLE … FROM from TO to WITH with`: minf, mtau,
/// hinf, htau, ninf, ntau (τ in ms) at `with + 1` evenly spaced voltages, interpolated
/// linearly in between and clamped to the end points outside.
#[derive(Clone, Debug)]
pub struct HhTable {
    rows: Vec<Row>,
    from: f64,
    /// with / (to − from).
    tscale: f64,
}

impl HhTable {
    /// The table from the six rates' values at `with + 1` points from `from` to `to` mV
    /// (`values` in the order minf, mtau, hinf, htau, ninf, ntau); `None` unless every array
    /// has the same length of at least 2 and `to > from`.
    pub fn new(from: f64, to: f64, values: [&[f64]; 6]) -> Option<HhTable> {
        let points = values[0].len();
        if points < 2
            || values.iter().any(|x| x.len() != points)
            || to.partial_cmp(&from) != Some(std::cmp::Ordering::Greater)
        {
            return None;
        }
        let with = points - 1;
        let mut rows = vec![Row([0.0; 16]); with];
        for (slot, vals) in values.iter().enumerate() {
            for (k, row) in rows.iter_mut().enumerate() {
                row.0[slot] = vals[k];
                row.0[slot + 8] = vals[k + 1] - vals[k];
            }
        }
        Some(HhTable {
            rows,
            from,
            tscale: with as f64 / (to - from),
        })
    }

    /// The six rates at `v` (mV), interpolated as the kernels do.
    pub fn rates(&self, v: f64) -> [f64; 6] {
        let (k, th) = self.point(v);
        let row = &self.rows[k].0;
        std::array::from_fn(|j| row[j] + th * row[j + 8])
    }

    /// The interval and the fraction within it of `v`: `(v − from)·scale` clamped to
    /// `[0, with]` (NaN to 0), the last point as the end of the last interval.
    #[inline(always)]
    fn point(&self, v: f64) -> (usize, f64) {
        let with = self.rows.len();
        let xi = ((v - self.from) * self.tscale).max(0.0).min(with as f64);
        let k = (xi as u32).min(with as u32 - 1) as usize;
        (k, xi - k as f64)
    }
}

/// Advances `hh`'s gates `m`, `h`, `n` over `dt` (ms) with the membrane potentials `v` (mV),
/// compartment by compartment: NEURON's TABLE lookup of the rates, then `cnexp`,
/// x ← x + (1 − e^{−dt/τ})(x∞ − x). Works on the common length of the four slices.
pub fn hh_states(
    level: Simd,
    table: &HhTable,
    dt: f64,
    v: &[f64],
    m: &mut [f64],
    h: &mut [f64],
    n: &mut [f64],
) {
    let len = v.len().min(m.len()).min(h.len()).min(n.len());
    let mut lo = 0;
    // The intrinsics kernels take whole groups of their width.
    #[cfg(target_arch = "x86_64")]
    {
        type Wide = unsafe fn(&HhTable, f64, &[f64], &mut [f64], &mut [f64], &mut [f64]);
        let wide: Option<(usize, Wide)> = match level {
            Simd::Avx512 => Some((8, avx512::hh_states)),
            Simd::Avx2 => Some((4, avx2::hh_states)),
            Simd::Baseline => None,
        };
        if let Some((width, kernel)) = wide {
            lo = len / width * width;
            let (v, m, h, n) = (&v[..lo], &mut m[..lo], &mut h[..lo], &mut n[..lo]);
            // SAFETY: `level` is Avx512 (Avx2) only where the CPU has AVX-512F and DQ (AVX2
            // and FMA): `crate::simd::simd` checks.
            unsafe { kernel(table, dt, v, m, h, n) };
        }
    }
    // The rest (fewer than eight), or everything at the baseline.
    while lo < len {
        let hi = (lo + CHUNK).min(len);
        let (v, m, h, n) = (&v[lo..hi], &mut m[lo..hi], &mut h[lo..hi], &mut n[lo..hi]);
        states_chunk(table, dt, v, m, h, n);
        lo = hi;
    }
}

/// At most [`CHUNK`] compartments: the lookups into scratch arrays (scalar), then `cnexp`
/// (vectorised).
#[inline(always)]
fn states_chunk(t: &HhTable, dt: f64, v: &[f64], m: &mut [f64], h: &mut [f64], n: &mut [f64]) {
    let len = v.len().min(CHUNK).min(m.len()).min(h.len()).min(n.len());
    let mut r = [[0.0; CHUNK]; 6];
    for (i, &vi) in v[..len].iter().enumerate() {
        let (k, th) = t.point(vi);
        let row = &t.rows[k].0;
        for j in 0..6 {
            r[j][i] = row[j] + th * row[j + 8];
        }
    }
    cnexp(&mut m[..len], &r[0][..len], &r[1][..len], dt);
    cnexp(&mut h[..len], &r[2][..len], &r[3][..len], dt);
    cnexp(&mut n[..len], &r[4][..len], &r[5][..len], dt);
}

/// cnexp: x + (1 − e^{−dt/τ})(x∞ − x). Separate slices as arguments, so LLVM knows they do
/// not overlap and vectorises.
#[inline(always)]
fn cnexp(x: &mut [f64], inf: &[f64], tau: &[f64], dt: f64) {
    let n = x.len();
    let (inf, tau) = (&inf[..n], &tau[..n]);
    for i in 0..n {
        x[i] += (1.0 - exp(-dt / tau[i])) * (inf[i] - x[i]);
    }
}

/// Hines elimination of a tree stored by height ([`integrate::eliminate_by_height`], whose
/// pivot inversion LLVM vectorises), compiled for AVX-512, AVX2 or the baseline as `level`
/// says.
pub fn eliminate(
    level: Simd,
    levels: &[u32],
    parent: &[u32],
    a: &[f64],
    d: &mut [f64],
    rhs: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    match level {
        // SAFETY: the CPU has AVX-512F where `level` says so (`crate::simd::simd` checks).
        Simd::Avx512 => return unsafe { eliminate_avx512(levels, parent, a, d, rhs) },
        // SAFETY: likewise for AVX2.
        Simd::Avx2 => return unsafe { eliminate_avx2(levels, parent, a, d, rhs) },
        Simd::Baseline => {}
    }
    let _ = level;
    integrate::eliminate_by_height(levels, parent, a, d, rhs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2")]
fn eliminate_avx512(levels: &[u32], parent: &[u32], a: &[f64], d: &mut [f64], rhs: &mut [f64]) {
    integrate::eliminate_by_height(levels, parent, a, d, rhs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn eliminate_avx2(levels: &[u32], parent: &[u32], a: &[f64], d: &mut [f64], rhs: &mut [f64]) {
    integrate::eliminate_by_height(levels, parent, a, d, rhs)
}

/// The coefficients of e^r's degree-13 Taylor polynomial, highest degree first (1/13!, …,
/// 1/2, 1, 1), for Horner's scheme in every `exp` of the kernels.
const EXP_TAYLOR: [f64; 14] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// e^x to within about 1 ulp of the C library's for |x| ≤ 700 (Cody–Waite reduction by ln 2,
/// degree-13 Taylor polynomial on |r| ≤ ln2/2, 2^k put together from its bits); clamped to
/// that range, so e^x underflows to about 1e-304 instead of 0. No calls and no branches, so
/// loops over it vectorise. NaN gives NaN.
#[inline(always)]
pub(crate) fn exp(x: f64) -> f64 {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // 1.5 · 2^52: adding it rounds to an integer held in the low bits of the mantissa.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-700.0, 700.0);
    let t = x * LOG2E + SHIFT;
    let k = t - SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = EXP_TAYLOR[0];
    for &c in &EXP_TAYLOR[1..] {
        p = p * r + c;
    }
    // 2^k: k + 1023 in the exponent field (|k| ≤ 1010 after the clamp).
    let bits = (t.to_bits().wrapping_sub(SHIFT.to_bits()) as i64 + 1023) << 52;
    p * f64::from_bits(bits as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_the_library() {
        let mut worst: f64 = 0.0;
        for k in -199_000..=199_000 {
            let x = k as f64 * 3.5e-3 + 1e-7;
            let (a, b) = (exp(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 4.5e-16, "worst relative error {worst}");
        assert!(exp(f64::NAN).is_nan());
        assert!(exp(-1e6) < 1e-300 && exp(-1e6) >= 0.0);
        assert_eq!(exp(0.0), 1.0);
    }

    /// A made-up table (3 points over −100…100 mV) interpolates and clamps as NEURON's.
    #[test]
    fn table_interpolates_and_clamps() {
        let vals: [Vec<f64>; 6] = std::array::from_fn(|j| vec![j as f64, 10.0 + j as f64, 30.0]);
        let t = HhTable::new(-100.0, 100.0, std::array::from_fn(|j| vals[j].as_slice())).unwrap();
        assert_eq!(t.rates(-200.0)[1], 1.0);
        assert_eq!(t.rates(f64::NAN)[1], 1.0);
        assert_eq!(t.rates(-50.0)[1], 6.0);
        assert_eq!(t.rates(0.0)[1], 11.0);
        assert_eq!(t.rates(50.0)[1], 20.5);
        assert_eq!(t.rates(1e9)[1], 30.0);
        assert!(HhTable::new(0.0, 1.0, [&[1.0][..]; 6]).is_none());
        assert!(HhTable::new(1.0, 1.0, [&[1.0, 2.0][..]; 6]).is_none());
    }

    /// Every level the CPU has gives the closed form of cnexp with the interpolated rates,
    /// including the scalar tail after the last full group of eight.
    #[test]
    fn hh_states_match_the_closed_form_at_every_level() {
        let pts = 201;
        let v_of = |k: usize| -100.0 + k as f64;
        let vals: [Vec<f64>; 6] = std::array::from_fn(|j| {
            (0..pts)
                .map(|k| {
                    let x = v_of(k);
                    if j % 2 == 0 {
                        1.0 / (1.0 + (-(x + 40.0 + 10.0 * j as f64) / 7.0).exp())
                    } else {
                        0.2 + 5.0 / (1.0 + (x / 30.0).powi(2))
                    }
                })
                .collect()
        });
        let t = HhTable::new(-100.0, 100.0, std::array::from_fn(|j| vals[j].as_slice())).unwrap();
        let n = 29;
        let v: Vec<f64> = (0..n).map(|i| -130.0 + 9.7 * i as f64).collect();
        let dt = 0.025;
        for level in [Simd::Baseline, Simd::Avx2, Simd::Avx512] {
            if level > crate::simd::detected() {
                eprintln!("kernels: this CPU has no {level:?}; that level is not checked");
                continue;
            }
            let (mut m, mut h, mut nn) = (vec![0.1; n], vec![0.5; n], vec![0.9; n]);
            hh_states(level, &t, dt, &v, &mut m, &mut h, &mut nn);
            for i in 0..n {
                let r = t.rates(v[i]);
                for (x, x0, inf, tau) in [
                    (m[i], 0.1, r[0], r[1]),
                    (h[i], 0.5, r[2], r[3]),
                    (nn[i], 0.9, r[4], r[5]),
                ] {
                    let want = x0 + (1.0 - (-dt / tau).exp()) * (inf - x0);
                    assert!(
                        (x - want).abs() <= 1e-14,
                        "{level:?} compartment {i}: {x} vs {want}"
                    );
                }
            }
        }
    }

    /// A branched tree stored by height, eliminated and substituted, against a dense solve of
    /// the same symmetric system (diagonal d, off-diagonal −a between child and parent).
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn elimination_by_height_solves_the_tree() {
        // Positions by height: leaves 0–3, then 4 (parent of 0, 1), 5 (parent of 2, 3),
        // 6 (parent of 4), 7 the root (parent of 5, 6).
        let parent = [4, 4, 5, 5, 6, 7, 7, NO_PARENT];
        let levels = [0, 4, 6, 7, 8];
        let n = parent.len();
        let a: Vec<f64> = (0..n).map(|i| 0.5 + 0.1 * i as f64).collect();
        let d: Vec<f64> = (0..n).map(|i| 3.0 + 0.2 * i as f64).collect();
        let rhs0: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
        let mut dense = vec![vec![0.0; n]; n];
        for i in 0..n {
            dense[i][i] = d[i];
            if parent[i] != NO_PARENT {
                let p = parent[i] as usize;
                dense[i][p] = -a[i];
                dense[p][i] = -a[i];
            }
        }
        // Dense Gauss–Jordan for the reference.
        let mut m: Vec<Vec<f64>> = dense
            .iter()
            .zip(&rhs0)
            .map(|(r, b)| {
                let mut r = r.clone();
                r.push(*b);
                r
            })
            .collect();
        for c in 0..n {
            let piv = m[c][c];
            for k in 0..=n {
                m[c][k] /= piv;
            }
            for r in 0..n {
                if r != c {
                    let f = m[r][c];
                    for k in 0..=n {
                        m[r][k] -= f * m[c][k];
                    }
                }
            }
        }
        for level in [Simd::Baseline, Simd::Avx2, Simd::Avx512] {
            if level > crate::simd::detected() {
                continue;
            }
            let (mut dd, mut rhs) = (d.clone(), rhs0.clone());
            eliminate(level, &levels, &parent, &a, &mut dd, &mut rhs);
            let mut x = vec![0.0; n];
            for i in (0..n).rev() {
                x[i] = match parent[i] {
                    NO_PARENT => rhs[i] / dd[i],
                    p => (rhs[i] + a[i] * x[p as usize]) * dd[i],
                };
            }
            for i in 0..n {
                assert!(
                    (x[i] - m[i][n]).abs() < 1e-14,
                    "{level:?} {i}: {} vs {}",
                    x[i],
                    m[i][n]
                );
            }
        }
    }
}
