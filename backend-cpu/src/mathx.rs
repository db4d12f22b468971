//! Lane functions the standard library lacks: erf, erfc, exprelr, NEURON's GHK factor and a
//! small random generator.

use crate::ions::{FARADAY, GAS_CONSTANT};

/// erf(x): Maclaurin series for |x| < 2.5, else 1 − erfc(x).
pub(crate) fn erf(x: f64) -> f64 {
    if x.abs() < 2.5 {
        // erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
        let mut term = x;
        let mut sum = x;
        let x2 = x * x;
        for n in 1..200 {
            term *= -x2 / n as f64;
            let add = term / (2 * n + 1) as f64;
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        x.signum() * (1.0 - erfc(x.abs()))
    }
}

/// erfc(x): continued fraction for x ≥ 2.5, else 1 − erf(x).
pub(crate) fn erfc(x: f64) -> f64 {
    if x < 2.5 {
        return 1.0 - erf(x);
    }
    // erfc x = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) evaluated bottom-up.
    let mut f = x;
    for k in (1..60).rev() {
        f = x + (k as f64 / 2.0) / f;
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

/// x/(exp(x) − 1), 1 at 0.
pub(crate) fn exprelr(x: f64) -> f64 {
    if x.abs() < 1e-6 {
        1.0 - x / 2.0
    } else {
        x / x.exp_m1()
    }
}

/// NEURON's `nrn_ghk(v, ci, co, z)`: `1e-3·z·F·(ci·efun(−a) − co·efun(a))` with
/// `a = z·v/(RT/F)`, `efun(a) = a/(exp(a) − 1)`; v in mV, concentrations in mM.
pub(crate) fn ghk(v: f64, ci: f64, co: f64, z: f64, celsius: f64) -> f64 {
    let ktf = 1000.0 * GAS_CONSTANT * (celsius + 273.15) / FARADAY;
    let a = z * v / ktf;
    let efun = |y: f64| exprelr(y);
    1e-3 * z * FARADAY * (ci * efun(-a) - co * efun(a))
}

/// xorshift64* uniform on [0, 1).
pub(crate) fn uniform(s: &mut u64) -> f64 {
    let mut x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

/// Standard normal (Box–Muller).
pub(crate) fn normal(s: &mut u64) -> f64 {
    let u1 = 1.0 - uniform(s);
    let u2 = uniform(s);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Poisson draw of mean `m` (Knuth's product method; normal approximation above 500).
pub(crate) fn poisson(s: &mut u64, m: f64) -> f64 {
    if m.is_nan() || m <= 0.0 {
        return 0.0;
    }
    if m > 500.0 {
        return (m + m.sqrt() * normal(s)).round().max(0.0);
    }
    let l = (-m).exp();
    let mut k = 0.0;
    let mut p = 1.0;
    loop {
        p *= uniform(s);
        if p <= l {
            return k;
        }
        k += 1.0;
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The key of a counter-based stream identified by up to three numbers (RANDOM `setids`).
pub(crate) fn stream_key(ids: &[f64; 3]) -> u64 {
    ids.iter()
        .fold(0x5851_F42D_4C95_7F2D, |h, x| splitmix(h ^ x.to_bits()))
}

/// Next uniform on [0, 1) of a counter-based stream `(key, counter)`.
pub(crate) fn stream_uniform(st: &mut (u64, u64)) -> f64 {
    let x = splitmix(st.0 ^ splitmix(st.1));
    st.1 = st.1.wrapping_add(1);
    (x >> 11) as f64 / (1u64 << 53) as f64
}
