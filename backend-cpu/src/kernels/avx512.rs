//! `hh`'s state update written with AVX-512 intrinsics: eight compartments at a time, the TABLE
//! lookup done as one 8-wide interpolation per compartment (its six rates side by side in a
//! table row) followed by an 8×8 transpose, so the rates never leave registers; then `cnexp`
//! with a fused multiply–add `exp` and `vscalefpd` for 2^k. Blocks of 64 compartments go
//! through two passes (rates and −dt/τ, then the exponentials), which lets the out-of-order
//! core overlap the long lookup → division → exp chains of many groups (measured: 3.2 → 2.6
//! ns per compartment-step on the AMD EPYC of `bench-results/`).
//!
//! Same arithmetic as the portable kernel up to the rounding of the fused operations in `exp`
//! (the interpolation and the `cnexp` update are the same unfused operations in the same
//! order); `backend-cpu/tests/fast_path.rs` checks both against the interpreter.

use std::arch::x86_64::*;

use super::{HhTable, Row};

/// Advances the states of the first multiple of eight compartments of the slices (the
/// caller does the rest): [`super::hh_states`].
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512DQ.
#[target_feature(enable = "avx512f,avx512dq")]
pub(super) unsafe fn hh_states(
    table: &HhTable,
    dt: f64,
    v: &[f64],
    m: &mut [f64],
    h: &mut [f64],
    n: &mut [f64],
) {
    let n8 = v.len().min(m.len()).min(h.len()).min(n.len()) / 8 * 8;
    let rows: &[Row] = &table.rows;
    if rows.is_empty() {
        return;
    }
    let last = _mm512_set1_epi64((rows.len() - 1) as i64);
    let from = _mm512_set1_pd(table.from);
    let tscale = _mm512_set1_pd(table.tscale);
    let top = _mm512_set1_pd(rows.len() as f64);
    let zero = _mm512_setzero_pd();
    let neg_dt = _mm512_set1_pd(-dt);
    let one = _mm512_set1_pd(1.0);
    let (vp, mp, hp, np) = (v.as_ptr(), m.as_mut_ptr(), h.as_mut_ptr(), n.as_mut_ptr());
    let rp = rows.as_ptr();
    let mut th_lanes = [0.0f64; 8];
    let mut k_lanes = [0i64; 8];
    // Two passes over blocks of GROUPS × 8 compartments, so that the long dependency chains
    // (lookup → division → exp) of many groups overlap instead of one group's at a time:
    // A. the rates (lookup, transpose, −dt/τ) into registers' worth of scratch;
    // B. the exponentials and the updates.
    const GROUPS: usize = 8;
    let mut scratch = [[zero; 6]; GROUPS];
    let mut base = 0;
    while base < n8 {
        let groups = ((n8 - base) / 8).min(GROUPS);
        for (g, out) in scratch.iter_mut().enumerate().take(groups) {
            let at = base + 8 * g;
            // Every table index below is clamped to 0..=last < rows.len() (a NaN v gives
            // index 0, as the scalar code).
            // SAFETY: at + 8 ≤ n8 ≤ v.len().
            let vv = unsafe { _mm512_loadu_pd(vp.add(at)) };
            // ((v − from)·scale) clamped to [0, with]: max/min return their second operand
            // when the first is NaN, so a NaN v lands on 0.
            let x = _mm512_mul_pd(_mm512_sub_pd(vv, from), tscale);
            let x = _mm512_min_pd(_mm512_max_pd(x, zero), top);
            let k = _mm512_min_epi64(_mm512_cvttpd_epi64(x), last);
            let th = _mm512_sub_pd(x, _mm512_cvtepi64_pd(k));
            // SAFETY: both arrays hold eight 8-byte lanes.
            unsafe {
                _mm512_storeu_pd(th_lanes.as_mut_ptr(), th);
                _mm512_storeu_si512(k_lanes.as_mut_ptr().cast(), k);
            }
            let mut r = [zero; 8];
            for c in 0..8 {
                // SAFETY: k_lanes[c] ≤ last < rows.len(); a row is 64-byte aligned, 16 lanes.
                let (t, d) = unsafe {
                    let row = &*rp.add(k_lanes[c] as usize);
                    (
                        _mm512_load_pd(row.0.as_ptr()),
                        _mm512_load_pd(row.0.as_ptr().add(8)),
                    )
                };
                r[c] = _mm512_add_pd(t, _mm512_mul_pd(_mm512_set1_pd(th_lanes[c]), d));
            }
            let [minf, mtau, hinf, htau, ninf, ntau] = transpose6(&r);
            *out = [
                minf,
                _mm512_div_pd(neg_dt, mtau),
                hinf,
                _mm512_div_pd(neg_dt, htau),
                ninf,
                _mm512_div_pd(neg_dt, ntau),
            ];
        }
        for (g, rates) in scratch.iter().enumerate().take(groups) {
            let at = base + 8 * g;
            // SAFETY: at + 8 ≤ n8 ≤ the length of m, h and n.
            unsafe {
                cnexp(mp.add(at), rates[0], rates[1], one);
                cnexp(hp.add(at), rates[2], rates[3], one);
                cnexp(np.add(at), rates[4], rates[5], one);
            }
        }
        base += 8 * groups;
    }
}

/// Rows `r[c]` (lane j: rate j of compartment c) to columns: out[j] lane c = r[c] lane j, for
/// j < 6.
#[target_feature(enable = "avx512f")]
#[inline]
fn transpose6(r: &[__m512d; 8]) -> [__m512d; 6] {
    // Pairs: [r0₀ r1₀ r0₂ r1₂ r0₄ r1₄ r0₆ r1₆] and [r0₁ r1₁ r0₃ r1₃ …].
    let t0 = _mm512_unpacklo_pd(r[0], r[1]);
    let t1 = _mm512_unpackhi_pd(r[0], r[1]);
    let t2 = _mm512_unpacklo_pd(r[2], r[3]);
    let t3 = _mm512_unpackhi_pd(r[2], r[3]);
    let t4 = _mm512_unpacklo_pd(r[4], r[5]);
    let t5 = _mm512_unpackhi_pd(r[4], r[5]);
    let t6 = _mm512_unpacklo_pd(r[6], r[7]);
    let t7 = _mm512_unpackhi_pd(r[6], r[7]);
    // 128-bit lanes: even lanes (rates 0 and 4, or 1 and 5) and odd lanes (2 and 6, 3 and 7).
    const EVEN: i32 = 0b10_00_10_00;
    const ODD: i32 = 0b11_01_11_01;
    let u0 = _mm512_shuffle_f64x2::<EVEN>(t0, t2); // rates 0, 4 of compartments 0–3
    let u1 = _mm512_shuffle_f64x2::<ODD>(t0, t2); // rates 2, 6
    let u2 = _mm512_shuffle_f64x2::<EVEN>(t1, t3); // rates 1, 5
    let u3 = _mm512_shuffle_f64x2::<ODD>(t1, t3); // rates 3, 7
    let u4 = _mm512_shuffle_f64x2::<EVEN>(t4, t6);
    let u5 = _mm512_shuffle_f64x2::<ODD>(t4, t6);
    let u6 = _mm512_shuffle_f64x2::<EVEN>(t5, t7);
    let u7 = _mm512_shuffle_f64x2::<ODD>(t5, t7);
    [
        _mm512_shuffle_f64x2::<EVEN>(u0, u4),
        _mm512_shuffle_f64x2::<EVEN>(u2, u6),
        _mm512_shuffle_f64x2::<EVEN>(u1, u5),
        _mm512_shuffle_f64x2::<EVEN>(u3, u7),
        _mm512_shuffle_f64x2::<ODD>(u0, u4),
        _mm512_shuffle_f64x2::<ODD>(u2, u6),
    ]
}

/// x ← x + (1 − e^{−dt/τ})(x∞ − x) on eight states at `x`, given −dt/τ.
///
/// # Safety
/// `x` must be valid for reading and writing eight `f64`.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn cnexp(x: *mut f64, inf: __m512d, neg_dt_over_tau: __m512d, one: __m512d) {
    // SAFETY: the caller's.
    let xv = unsafe { _mm512_loadu_pd(x) };
    let e = exp(neg_dt_over_tau);
    let xn = _mm512_add_pd(
        xv,
        _mm512_mul_pd(_mm512_sub_pd(one, e), _mm512_sub_pd(inf, xv)),
    );
    // SAFETY: the caller's.
    unsafe { _mm512_storeu_pd(x, xn) };
}

/// e^x as the scalar [`super::exp`] (clamped to |x| ≤ 700, Cody–Waite reduction, degree-13
/// Taylor polynomial), with fused multiply–adds and `vscalefpd` for the power of two.
#[target_feature(enable = "avx512f")]
#[inline]
fn exp(x: __m512d) -> __m512d {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    // NaN stays NaN: the second operand is returned when one is NaN.
    let x = _mm512_max_pd(_mm512_set1_pd(-700.0), x);
    let x = _mm512_min_pd(_mm512_set1_pd(700.0), x);
    let shift = _mm512_set1_pd(SHIFT);
    let t = _mm512_fmadd_pd(x, _mm512_set1_pd(std::f64::consts::LOG2_E), shift);
    let k = _mm512_sub_pd(t, shift);
    let r = _mm512_fnmadd_pd(k, _mm512_set1_pd(LN2_HI), x);
    let r = _mm512_fnmadd_pd(k, _mm512_set1_pd(LN2_LO), r);
    let mut p = _mm512_set1_pd(super::EXP_TAYLOR[0]);
    for &c in &super::EXP_TAYLOR[1..] {
        p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c));
    }
    _mm512_scalef_pd(p, k)
}
