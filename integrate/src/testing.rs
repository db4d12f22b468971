//! Closed-form solutions of the spec's analytic test cases (§7), as library functions so that
//! other crates can test against them too. Units as in the rest of the crate (mV, ms, nF, µS,
//! nA, µm, Ω·cm) unless a function says otherwise.

/// T1: single passive compartment with step input: V(t) for C (nF), G (µS), E (mV), I (nA),
/// V₀ (mV), t (ms). Requires G > 0.
pub fn single_compartment_v(c: f64, g: f64, e: f64, i: f64, v0: f64, t: f64) -> f64 {
    let vinf = e + i / g;
    vinf + (v0 - vinf) * (-t * g / c).exp()
}

/// T1: ∫₀^t V dt (mV·ms) for the single compartment of [`single_compartment_v`].
pub fn single_compartment_int(c: f64, g: f64, e: f64, i: f64, v0: f64, t: f64) -> f64 {
    let vinf = e + i / g;
    let tau = c / g;
    vinf * t - (v0 - vinf) * tau * (-t / tau).exp_m1()
}

/// T3: two equal compartments (C nF, leak g µS each, coupling ga µS, E = 0, V(0) = (1, 0) mV);
/// returns (V₁, V₂) at t (ms).
pub fn two_compartments(c: f64, g: f64, ga: f64, t: f64) -> (f64, f64) {
    let m1 = (-g / c * t).exp();
    let m2 = (-(g + 2.0 * ga) / c * t).exp();
    (0.5 * (m1 + m2), 0.5 * (m1 - m2))
}

/// T4: eigenvalue μ_n (1/ms) of a sealed chain of N equal compartments.
pub fn chain_eigenvalue(n_comp: usize, n: usize, c: f64, g: f64, ga: f64) -> f64 {
    let s = (n as f64 * std::f64::consts::PI / (2.0 * n_comp as f64)).sin();
    -(g + 4.0 * ga * s * s) / c
}

/// T4: eigenvector entry cos(nπ(i + ½)/N).
pub fn chain_eigenvector(n_comp: usize, n: usize, i: usize) -> f64 {
    (n as f64 * std::f64::consts::PI * (i as f64 + 0.5) / n_comp as f64).cos()
}

/// T4: steady-state decay ratio ρ = 1 + γ/2 − √(γ + γ²/4) per compartment, γ = g/ga.
pub fn chain_decay_ratio(g: f64, ga: f64) -> f64 {
    let gamma = g / ga;
    1.0 + gamma / 2.0 - (gamma + gamma * gamma / 4.0).sqrt()
}

/// T5: length constant λ (µm) for Rm (Ω·cm²), Ra (Ω·cm), d (µm).
pub fn length_constant_um(rm_ohm_cm2: f64, ra_ohm_cm: f64, d_um: f64) -> f64 {
    let d_cm = d_um * 1e-4;
    (rm_ohm_cm2 * d_cm / (4.0 * ra_ohm_cm)).sqrt() * 1e4
}

/// T5: semi-infinite cable input resistance R∞ (MΩ) = (2/π)√(Rm·Ra)·d^{−3/2}, d in cm.
pub fn r_inf_mohm(rm_ohm_cm2: f64, ra_ohm_cm: f64, d_um: f64) -> f64 {
    let d_cm = d_um * 1e-4;
    2.0 / std::f64::consts::PI * (rm_ohm_cm2 * ra_ohm_cm).sqrt() * d_cm.powf(-1.5) * 1e-6
}

/// T6: infinite cable, current step at x = 0: V(X, T)/(I₀ r_i λ/4) with X = x/λ, T = t/τ_m;
/// i.e. e^{−X} erfc(X/(2√T) − √T) − e^{X} erfc(X/(2√T) + √T).
pub fn infinite_cable_step_shape(x: f64, t: f64) -> f64 {
    let st = t.sqrt();
    let a = x / (2.0 * st);
    (-x).exp() * erfc(a - st) - x.exp() * erfc(a + st)
}

/// T7: HH m-gate opening rate α(v) (1/ms) at 6.3 °C, v in mV (limit 1 at v = −40).
pub fn hh_m_alpha(v: f64) -> f64 {
    let x = -(v + 40.0) / 10.0;
    if x.abs() < 1e-6 {
        // 0.1·(v+40)/(1 − e^{−(v+40)/10}) = x/(e^x − 1)·1 with x = −(v+40)/10.
        1.0 - x / 2.0
    } else {
        x / x.exp_m1()
    }
}

/// T7: HH m-gate closing rate β(v) = 4·e^{−(v+65)/18} (1/ms).
pub fn hh_m_beta(v: f64) -> f64 {
    4.0 * (-(v + 65.0) / 18.0).exp()
}

/// T7: two-state propagator Φ (row-major 2×2, states (C, O)) for rates α, β (1/ms), step h.
pub fn two_state_propagator(alpha: f64, beta: f64, h: f64) -> [f64; 4] {
    let k = alpha + beta;
    let e = (-k * h).exp();
    let one_m_e = -(-k * h).exp_m1();
    [
        (beta + alpha * e) / k,
        beta * one_m_e / k,
        alpha * one_m_e / k,
        (alpha + beta * e) / k,
    ]
}

/// T9: P_VI entry of the exponential-synapse propagator for τ_m, τ_s (ms), C (nF), h (ms),
/// evaluated stably (expm1), including τ_s = τ_m.
pub fn synapse_pvi(tau_m: f64, tau_s: f64, c: f64, h: f64) -> f64 {
    let d = 1.0 / tau_m - 1.0 / tau_s;
    // (τmτs/(τs−τm))(e^{−h/τs} − e^{−h/τm}) = e^{−h/τm}·(e^{h·d} − 1)/d.
    let f = if d == 0.0 { h } else { (h * d).exp_m1() / d };
    (-h / tau_m).exp() * f / c
}

/// Complementary error function, |relative error| < 1.2e-7 (Chebyshev fit, Numerical Recipes
/// §6.2 coefficients as published facts).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398
                                + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Kinetic schemes built by hand from published rate equations and constants (as facts), for
/// tests, reports and benchmarks.
pub mod models {
    use crate::error::Result;
    use crate::kinetic::{KineticScheme, Rate};

    fn rate(f: impl Fn(&[f64]) -> f64 + Send + Sync + 'static) -> Rate {
        Box::new(f)
    }

    /// T7: the HH m gate as a two-state scheme C ⇌ O (states [C, O]) with α(v), β(v) at 6.3 °C;
    /// input v (mV).
    pub fn hh_m_gate() -> Result<KineticScheme> {
        KineticScheme::from_reactions(
            2,
            1,
            Some(1.0),
            vec![(
                0,
                1,
                rate(|u| super::hh_m_alpha(u[0])),
                rate(|u| super::hh_m_beta(u[0])),
            )],
        )
    }

    /// T8: three-state chain C ⇌ O ⇌ I with constant rates k₁, k₋₁, k₂, k₋₂ (1/ms); the input
    /// is ignored.
    pub fn three_state_chain(k1: f64, km1: f64, k2: f64, km2: f64) -> Result<KineticScheme> {
        KineticScheme::from_reactions(
            3,
            1,
            Some(1.0),
            vec![
                (0, 1, rate(move |_| k1), rate(move |_| km1)),
                (1, 2, rate(move |_| k2), rate(move |_| km2)),
            ],
        )
    }

    /// AMPA receptor, 13 states (Lu, Balmer, Romero & Trussell 2017, via NEUWON's `ampa13`):
    /// states [C0, C1, C2, C3, C4, D1, D2, D3, D4, O1, O2, O3, O4]; input glutamate C (mM);
    /// rates in 1/ms (binding in 1/(mM·ms)) with Q10 = 2.4 referenced to 22 °C.
    pub fn ampa13(celsius: f64) -> Result<KineticScheme> {
        let q = 2.4f64.powf((celsius - 22.0) / 10.0);
        let rb = [800.0, 600.0, 400.0, 200.0];
        let ru = [30.0, 40.0, 60.0, 80.0];
        let rd = [0.25, 0.25, 1.0, 1.0];
        let rr = [0.05, 0.05, 0.022, 0.022];
        let ro = [3.0, 4.0, 4.0, 4.0];
        let rc = [1.5, 1.0, 1.0, 1.5];
        let mut reactions = Vec::new();
        for i in 0..4 {
            let (b, u) = (rb[i] * q, ru[i] * q);
            reactions.push((i, i + 1, rate(move |x| b * x[0].max(0.0)), rate(move |_| u)));
        }
        for i in 0..4 {
            let (d, r) = (rd[i] * q, rr[i] * q);
            reactions.push((i + 1, 5 + i, rate(move |_| d), rate(move |_| r)));
            let (o, c) = (ro[i] * q, rc[i] * q);
            reactions.push((i + 1, 9 + i, rate(move |_| o), rate(move |_| c)));
        }
        KineticScheme::from_reactions(13, 1, Some(1.0), reactions)
    }

    /// Balbi's six-state Nav1.3 model (NEUWON corpus `Nav13`, the same family as NEUWON's
    /// `Nav11` test model, which is not in our corpus): states [C1, C2, O1, O2, I1, I2]; input v
    /// (mV); Q10 = 3 referenced to 20 °C. Every rate is a sum of b/(1 + e^{(v − v½)/k}) terms.
    pub fn nav13(celsius: f64) -> Result<KineticScheme> {
        let q = 3f64.powf((celsius - 20.0) / 10.0);
        let r2 = |v: f64, b: f64, vv: f64, k: f64| b / (1.0 + ((v - vv) / k).exp());
        let r = move |terms: Vec<(f64, f64, f64)>| -> Rate {
            Box::new(move |u: &[f64]| {
                q * terms
                    .iter()
                    .map(|&(b, vv, k)| r2(u[0], b, vv, k))
                    .sum::<f64>()
            })
        };
        KineticScheme::from_reactions(
            6,
            1,
            Some(1.0),
            vec![
                (
                    0,
                    1,
                    r(vec![(8.0, -7.0, -9.0)]),
                    r(vec![(2.0, -37.0, 9.0), (8.0, -7.0, -9.0)]),
                ),
                (
                    1,
                    2,
                    r(vec![(8.0, -17.0, -9.0)]),
                    r(vec![(2.0, -47.0, 9.0), (8.0, -17.0, -9.0)]),
                ),
                (
                    1,
                    3,
                    r(vec![(0.13, -15.0, -5.0)]),
                    r(vec![(1.0, -40.0, 3.0), (0.2, -20.0, -3.0)]),
                ),
                (
                    2,
                    4,
                    r(vec![(2.0, -52.0, 13.0), (8.0, -22.0, -13.0)]),
                    r(vec![(0.00001, -52.0, 10.0)]),
                ),
                (
                    4,
                    0,
                    r(vec![(0.062, -70.0, 10.0)]),
                    r(vec![(0.09, -68.0, -8.0)]),
                ),
                (
                    4,
                    5,
                    r(vec![(0.0001, -90.0, -5.0)]),
                    r(vec![(0.0001, -90.0, 15.0)]),
                ),
            ],
        )
    }
}
