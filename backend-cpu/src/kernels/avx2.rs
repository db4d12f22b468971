//! `hh`'s state update written with AVX2 + FMA intrinsics, for CPUs without AVX-512: the
//! scheme of `avx512.rs` four compartments at a time. Each compartment's rates are interpolated
//! as two rows (rates 0–3 and 4–5), transposed in registers (4×4 and 2×4), then `cnexp` with a
//! fused multiply–add `exp` (2^k put together from its bits); two passes over blocks of 32
//! compartments so the dependency chains of many groups overlap.
//!
//! Same arithmetic as the AVX-512 kernel (the same unfused interpolation and update, the same
//! fused `exp`); `backend-cpu/tests/fast_path.rs` checks it against the interpreter.

use std::arch::x86_64::*;

use super::{HhTable, Row};

/// Advances the states of the first multiple of four compartments of the slices (the caller
/// does the rest): [`super::hh_states`].
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn hh_states(
    table: &HhTable,
    dt: f64,
    v: &[f64],
    m: &mut [f64],
    h: &mut [f64],
    n: &mut [f64],
) {
    let n4 = v.len().min(m.len()).min(h.len()).min(n.len()) / 4 * 4;
    let rows: &[Row] = &table.rows;
    if rows.is_empty() || rows.len() > i32::MAX as usize {
        return;
    }
    let last = _mm_set1_epi32((rows.len() - 1) as i32);
    let from = _mm256_set1_pd(table.from);
    let tscale = _mm256_set1_pd(table.tscale);
    let top = _mm256_set1_pd(rows.len() as f64);
    let zero = _mm256_setzero_pd();
    let neg_dt = _mm256_set1_pd(-dt);
    let one = _mm256_set1_pd(1.0);
    let (vp, mp, hp, np) = (v.as_ptr(), m.as_mut_ptr(), h.as_mut_ptr(), n.as_mut_ptr());
    let rp = rows.as_ptr();
    let mut th_lanes = [0.0f64; 4];
    let mut k_lanes = [0i32; 4];
    // Pass A: the rates and −dt/τ of GROUPS groups of four; pass B: the updates.
    const GROUPS: usize = 8;
    let mut scratch = [[zero; 6]; GROUPS];
    let mut base = 0;
    while base < n4 {
        let groups = ((n4 - base) / 4).min(GROUPS);
        for (g, out) in scratch.iter_mut().enumerate().take(groups) {
            let at = base + 4 * g;
            // Every table index below is clamped to 0..=last < rows.len() (a NaN v gives
            // index 0, as the scalar code).
            // SAFETY: at + 4 ≤ n4 ≤ v.len().
            let vv = unsafe { _mm256_loadu_pd(vp.add(at)) };
            // max/min return their second operand when the first is NaN: a NaN v lands on 0.
            let x = _mm256_mul_pd(_mm256_sub_pd(vv, from), tscale);
            let x = _mm256_min_pd(_mm256_max_pd(x, zero), top);
            let k = _mm_min_epi32(_mm256_cvttpd_epi32(x), last);
            let th = _mm256_sub_pd(x, _mm256_cvtepi32_pd(k));
            // SAFETY: both arrays hold four lanes of the stored width.
            unsafe {
                _mm256_storeu_pd(th_lanes.as_mut_ptr(), th);
                _mm_storeu_si128(k_lanes.as_mut_ptr().cast(), k);
            }
            let mut lo = [zero; 4];
            let mut hi = [zero; 4];
            for c in 0..4 {
                // SAFETY: 0 ≤ k_lanes[c] ≤ last < rows.len(); a row has 16 lanes.
                let (t0, t1, d0, d1) = unsafe {
                    let row = (*rp.add(k_lanes[c].max(0) as usize)).0.as_ptr();
                    (
                        _mm256_load_pd(row),
                        _mm256_load_pd(row.add(4)),
                        _mm256_load_pd(row.add(8)),
                        _mm256_load_pd(row.add(12)),
                    )
                };
                let thc = _mm256_set1_pd(th_lanes[c]);
                lo[c] = _mm256_add_pd(t0, _mm256_mul_pd(thc, d0));
                hi[c] = _mm256_add_pd(t1, _mm256_mul_pd(thc, d1));
            }
            let [minf, mtau, hinf, htau] = transpose4(&lo);
            let [ninf, ntau] = transpose2(&hi);
            *out = [
                minf,
                _mm256_div_pd(neg_dt, mtau),
                hinf,
                _mm256_div_pd(neg_dt, htau),
                ninf,
                _mm256_div_pd(neg_dt, ntau),
            ];
        }
        for (g, rates) in scratch.iter().enumerate().take(groups) {
            let at = base + 4 * g;
            // SAFETY: at + 4 ≤ n4 ≤ the length of m, h and n.
            unsafe {
                cnexp(mp.add(at), rates[0], rates[1], one);
                cnexp(hp.add(at), rates[2], rates[3], one);
                cnexp(np.add(at), rates[4], rates[5], one);
            }
        }
        base += 4 * groups;
    }
}

/// out[j] lane c = r[c] lane j, j < 4.
#[target_feature(enable = "avx2")]
#[inline]
fn transpose4(r: &[__m256d; 4]) -> [__m256d; 4] {
    let t0 = _mm256_unpacklo_pd(r[0], r[1]); // r0₀ r1₀ r0₂ r1₂
    let t1 = _mm256_unpackhi_pd(r[0], r[1]); // r0₁ r1₁ r0₃ r1₃
    let t2 = _mm256_unpacklo_pd(r[2], r[3]);
    let t3 = _mm256_unpackhi_pd(r[2], r[3]);
    [
        _mm256_permute2f128_pd::<0x20>(t0, t2),
        _mm256_permute2f128_pd::<0x20>(t1, t3),
        _mm256_permute2f128_pd::<0x31>(t0, t2),
        _mm256_permute2f128_pd::<0x31>(t1, t3),
    ]
}

/// out[j] lane c = r[c] lane j, j < 2.
#[target_feature(enable = "avx2")]
#[inline]
fn transpose2(r: &[__m256d; 4]) -> [__m256d; 2] {
    let t0 = _mm256_unpacklo_pd(r[0], r[1]);
    let t1 = _mm256_unpackhi_pd(r[0], r[1]);
    let t2 = _mm256_unpacklo_pd(r[2], r[3]);
    let t3 = _mm256_unpackhi_pd(r[2], r[3]);
    [
        _mm256_permute2f128_pd::<0x20>(t0, t2),
        _mm256_permute2f128_pd::<0x20>(t1, t3),
    ]
}

/// x ← x + (1 − e^{−dt/τ})(x∞ − x) on four states at `x`, given −dt/τ.
///
/// # Safety
/// `x` must be valid for reading and writing four `f64`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn cnexp(x: *mut f64, inf: __m256d, neg_dt_over_tau: __m256d, one: __m256d) {
    // SAFETY: the caller's.
    let xv = unsafe { _mm256_loadu_pd(x) };
    let e = exp(neg_dt_over_tau);
    let xn = _mm256_add_pd(
        xv,
        _mm256_mul_pd(_mm256_sub_pd(one, e), _mm256_sub_pd(inf, xv)),
    );
    // SAFETY: the caller's.
    unsafe { _mm256_storeu_pd(x, xn) };
}

/// e^x as the AVX-512 kernel's (clamped to |x| ≤ 700, Cody–Waite reduction, degree-13 Taylor
/// polynomial by Horner with fused multiply–adds), 2^k from its bits as the scalar one.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn exp(x: __m256d) -> __m256d {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    // NaN stays NaN: the second operand is returned when one is NaN.
    let x = _mm256_max_pd(_mm256_set1_pd(-700.0), x);
    let x = _mm256_min_pd(_mm256_set1_pd(700.0), x);
    let shift = _mm256_set1_pd(SHIFT);
    let t = _mm256_fmadd_pd(x, _mm256_set1_pd(std::f64::consts::LOG2_E), shift);
    let k = _mm256_sub_pd(t, shift);
    let r = _mm256_fnmadd_pd(k, _mm256_set1_pd(LN2_HI), x);
    let r = _mm256_fnmadd_pd(k, _mm256_set1_pd(LN2_LO), r);
    let mut p = _mm256_set1_pd(super::EXP_TAYLOR[0]);
    for &c in &super::EXP_TAYLOR[1..] {
        p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(c));
    }
    // 2^k: k + 1023 in the exponent field (|k| ≤ 1010 after the clamp).
    let ki = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(shift));
    let bits = _mm256_slli_epi64::<52>(_mm256_add_epi64(ki, _mm256_set1_epi64x(1023)));
    _mm256_mul_pd(p, _mm256_castsi256_pd(bits))
}
