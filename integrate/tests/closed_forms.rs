//! Spec §7 closed forms T1–T6 and T9 against the exact methods (and Hines where stated).
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

mod common;
use integrate::testing::*;
use integrate::*;

fn single(c: f64, area: f64) -> CableTree {
    CableTree::new(&[None], &[c], &[0.0], &[area]).unwrap()
}

/// T1: soma d = 20 µm, C = 12.566 pF, G = 1e-10 S; every split with exact relaxation.
#[test]
fn t1_single_compartment_exact_for_any_dt() {
    let area = std::f64::consts::PI * 20.0 * 20.0; // µm²
    let c = 1.0 * area * 1e-5; // nF
    let g = 1e-4; // µS  (= 1e-10 S)
    let tau = c / g;
    assert!((tau - 125.66).abs() < 0.01);
    let (e, i, v0) = (1.0, 2e-5, 0.0); // mV, nA, mV
    let tree = single(c, area);
    let mut worst = 0.0f64;
    for &frac in &[1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0] {
        let dt = frac * tau;
        let steps = 50;
        for split in [Split::LieExact, Split::Strang] {
            let mut ex = ExactCable::new(&tree, dt, split, NEUWON_PRUNE).unwrap();
            let mut v = [v0];
            let mut total_int = 0.0;
            let mut iv = [0.0];
            for _ in 0..steps {
                let m = Membrane {
                    g_us: &[g],
                    ge_na: &[g * e],
                    i_na: &[i],
                };
                ex.step(&mut v, m, Some(&mut iv)).unwrap();
                total_int += iv[0];
            }
            let t = steps as f64 * dt;
            let v_ref = single_compartment_v(c, g, e, i, v0, t);
            let int_ref = single_compartment_int(c, g, e, i, v0, t);
            let rv = ((v[0] - v_ref) / v_ref).abs();
            let ri = ((total_int - int_ref) / int_ref).abs();
            worst = worst.max(rv).max(ri);
            assert!(rv < 1e-12, "V rel err {rv:e} at dt = {frac}·τ, {split:?}");
            assert!(ri < 1e-12, "∫V rel err {ri:e} at dt = {frac}·τ, {split:?}");
        }
    }
    println!("T1 worst relative error {worst:e}");
}

/// NEUWON's own "time constant" test (§3.6): 1000 steps of τ/1000 reach 1 − 1/e, compat mode.
#[test]
fn neuwon_time_constant_compat() {
    let area = std::f64::consts::PI * 20.0 * 20.0;
    let c = area * 1e-5;
    let g = 1e-4;
    let tau = c / g;
    let tree = single(c, area);
    let mut ex = ExactCable::new(&tree, tau / 1000.0, Split::NeuwonCompat, NEUWON_PRUNE).unwrap();
    let mut v = [0.0];
    for _ in 0..1000 {
        let m = Membrane {
            g_us: &[g],
            ge_na: &[g * 1.0],
            i_na: &[0.0],
        };
        ex.step(&mut v, m, None).unwrap();
    }
    let want = 1.0 - (-1.0f64).exp();
    assert!(((v[0] - want) / want).abs() < 1e-12, "{}", v[0]);
}

/// NEUWON's "current injection" test (§3.6): soma d = 10 µm, 1 nA for 2 ms, C·ΔV = 2e-12 C.
#[test]
fn neuwon_current_injection_compat() {
    let area = std::f64::consts::PI * 10.0 * 10.0;
    let c = area * 1e-5;
    let tree = single(c, area);
    let dt = 0.01;
    let mut ex = ExactCable::new(&tree, dt, Split::NeuwonCompat, NEUWON_PRUNE).unwrap();
    let mut v = [-70.0];
    for k in 0..600 {
        let t = k as f64 * dt;
        let i = if (3.0..5.0 - 1e-9).contains(&(t + 1e-9)) {
            1.0
        } else {
            0.0
        };
        if k == 300 {
            assert_eq!(v[0], -70.0, "voltage changed during rest");
        }
        let m = Membrane {
            g_us: &[0.0],
            ge_na: &[0.0],
            i_na: &[i],
        };
        ex.step(&mut v, m, None).unwrap();
    }
    // ΔV (mV) · C (nF) = charge in pC; 2e-12 C = 2 pC.
    let q = (v[0] + 70.0) * c;
    assert!((q - 2.0).abs() < 1e-10, "charge {q} pC");
}

fn random_tree(n: usize, seed: u64) -> CableTree {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    common::random_cell(&mut rng, n, 0.005..0.05, 0.005..0.1, 100.0)
}

/// T2: no leak → Σ C·V invariant over 10⁴ steps (1e-12 relative) and equilibrium = weighted mean.
#[test]
fn t2_charge_conservation() {
    use rand::{Rng, SeedableRng};
    let tree = random_tree(60, 7);
    let n = tree.len();
    let c = tree.capacitance_nf().to_vec();
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let v0: Vec<f64> = (0..n).map(|_| rng.gen_range(-80.0..-40.0)).collect();
    let q0: f64 = v0.iter().zip(&c).map(|(v, c)| v * c).sum();
    let ctot: f64 = c.iter().sum();
    let zero = vec![0.0; n];
    for split in [Split::NeuwonCompat, Split::LieExact, Split::Strang] {
        let mut ex = ExactCable::new(&tree, 0.025, split, NEUWON_PRUNE).unwrap();
        let mut v = v0.clone();
        for _ in 0..10_000 {
            let m = Membrane {
                g_us: &zero,
                ge_na: &zero,
                i_na: &zero,
            };
            ex.step(&mut v, m, None).unwrap();
        }
        let q: f64 = v.iter().zip(&c).map(|(v, c)| v * c).sum();
        let rel = ((q - q0) / q0).abs();
        println!("T2 {split:?}: relative charge drift {rel:e}");
        assert!(rel < 1e-12, "{split:?}: drift {rel:e}");
        // Equilibrium: one step of 10⁵ ms reaches the charge-weighted mean.
        let mut long = ExactCable::new(&tree, 1e5, split, NEUWON_PRUNE).unwrap();
        let m = Membrane {
            g_us: &zero,
            ge_na: &zero,
            i_na: &zero,
        };
        long.step(&mut v, m, None).unwrap();
        let eq = q0 / ctot;
        for x in &v {
            assert!(((x - eq) / eq).abs() < 1e-12, "{x} vs {eq}");
        }
    }
    for scheme in [Scheme::BackwardEuler, Scheme::CrankNicolson] {
        let mut h = Hines::new(&tree);
        let mut v = v0.clone();
        for _ in 0..10_000 {
            h.step(scheme, 0.025, &mut v, &zero, &zero).unwrap();
        }
        let q: f64 = v.iter().zip(&c).map(|(v, c)| v * c).sum();
        let rel = ((q - q0) / q0).abs();
        println!("T2 {scheme:?}: relative charge drift {rel:e}");
        assert!(rel < 1e-12, "{scheme:?}: drift {rel:e}");
    }
}

/// T3: two equal compartments with leak (all splits exact because G/C is uniform), and two
/// unequal ones without leak (relaxation rate ga(1/C1 + 1/C2) toward the weighted mean).
#[test]
fn t3_two_compartments() {
    let (c, g, ga) = (0.02, 0.001, 0.01);
    let tree = CableTree::new(&[None, Some(0)], &[c, c], &[0.0, ga], &[1.0, 1.0]).unwrap();
    let zero = [0.0, 0.0];
    for split in [Split::NeuwonCompat, Split::LieExact, Split::Strang] {
        for &dt in &[0.01, 0.3, 5.0] {
            let mut ex = ExactCable::new(&tree, dt, split, NEUWON_PRUNE).unwrap();
            let mut v = [1.0, 0.0];
            let steps = 40;
            for _ in 0..steps {
                let m = Membrane {
                    g_us: &[g, g],
                    ge_na: &zero,
                    i_na: &zero,
                };
                ex.step(&mut v, m, None).unwrap();
            }
            let (r1, r2) = two_compartments(c, g, ga, steps as f64 * dt);
            assert!(((v[0] - r1) / r1).abs() < 1e-10, "{split:?} dt {dt}");
            assert!(
                ((v[1] - r2) / r2).abs() < 1e-10,
                "{split:?} dt {dt}: {} vs {r2}",
                v[1]
            );
        }
    }
    // Unequal capacitances, no leak.
    let (c1, c2) = (0.01, 0.04);
    let tree = CableTree::new(&[None, Some(0)], &[c1, c2], &[0.0, ga], &[1.0, 1.0]).unwrap();
    let mut ex = ExactCable::new(&tree, 0.1, Split::Strang, NEUWON_PRUNE).unwrap();
    let mut v = [1.0, 0.0];
    for _ in 0..30 {
        let m = Membrane {
            g_us: &zero,
            ge_na: &zero,
            i_na: &zero,
        };
        ex.step(&mut v, m, None).unwrap();
    }
    let mean = c1 / (c1 + c2);
    let rate = ga * (1.0 / c1 + 1.0 / c2);
    let d0 = 1.0; // initial difference V1 − V2
    let d = d0 * (-rate * 3.0).exp();
    let want1 = mean + d * c2 / (c1 + c2);
    let want2 = mean - d * c1 / (c1 + c2);
    assert!(((v[0] - want1) / want1).abs() < 1e-10);
    assert!(((v[1] - want2) / want2).abs() < 1e-10);
}

/// T4: the propagator (with uniform leak) maps each chain eigenvector to e^{μ_n h} times itself.
#[test]
fn t4_chain_eigenvalues() {
    let nc = 40;
    let (c, g, ga) = (0.03, 0.002, 0.05);
    let tree = integrate::tree::uniform_chain(nc, c, ga, 1.0).unwrap();
    let h = 0.2;
    let gv = vec![g; nc];
    let zero = vec![0.0; nc];
    let mut worst = 0.0f64;
    for split in [Split::NeuwonCompat, Split::Strang] {
        let mut ex = ExactCable::new(&tree, h, split, NEUWON_PRUNE).unwrap();
        for mode in 0..nc {
            let mut v: Vec<f64> = (0..nc).map(|i| chain_eigenvector(nc, mode, i)).collect();
            let v0 = v.clone();
            let m = Membrane {
                g_us: &gv,
                ge_na: &zero,
                i_na: &zero,
            };
            ex.step(&mut v, m, None).unwrap();
            let lam = (chain_eigenvalue(nc, mode, c, g, ga) * h).exp();
            for i in 0..nc {
                worst = worst.max((v[i] - lam * v0[i]).abs());
            }
        }
    }
    println!("T4 eigen residual {worst:e}");
    assert!(worst < 1e-12, "{worst:e}");
}

/// T4: discrete steady state of a long chain decays by ρ per compartment (Hines at dt → ∞).
#[test]
fn t4_chain_steady_state_ratio() {
    let nc = 400;
    let (c, g, ga) = (0.03, 0.002, 0.05);
    let tree = integrate::tree::uniform_chain(nc, c, ga, 1.0).unwrap();
    let mut h = Hines::new(&tree);
    let gv = vec![g; nc];
    let mut j = vec![0.0; nc];
    j[0] = 1.0;
    let mut v = vec![0.0; nc];
    h.step(Scheme::BackwardEuler, 1e12, &mut v, &gv, &j)
        .unwrap();
    let rho = chain_decay_ratio(g, ga);
    for i in 1..30 {
        let r = v[i] / v[i - 1];
        assert!((r - rho).abs() < 1e-10, "i {i}: {r} vs {rho}");
    }
}

fn sealed_cable(len_um: f64, d_um: f64, intervals: usize) -> BuiltCable {
    let mut b = CableBuilder::new();
    b.add_section(None, len_um, d_um, intervals, 100.0, 1.0)
        .unwrap();
    b.build().unwrap()
}

/// T5: sealed finite cable steady state: V(λ)/V(0) and R_in = R∞·coth(ℓ/λ), O(Δx²) convergence.
#[test]
fn t5_cable_steady_state() {
    let (rm, ra, d) = (20000.0, 100.0, 1.0); // Ω·cm², Ω·cm, µm
    let lambda = length_constant_um(rm, ra, d);
    let len = 3.0 * lambda;
    let rinf = r_inf_mohm(rm, ra, d);
    let rin_exact = rinf / (len / lambda).tanh();
    let ratio_exact = ((len - lambda) / lambda).cosh() / (len / lambda).cosh();
    let mut errs = Vec::new();
    for &per_lambda in &[10usize, 20, 40] {
        let built = sealed_cable(len, d, 3 * per_lambda);
        let tree = &built.tree;
        let g = tree.membrane_conductance_us(1.0 / rm);
        let mut j = vec![0.0; tree.len()];
        j[0] = 0.1; // nA
        let mut v = vec![0.0; tree.len()];
        Hines::new(tree)
            .step(Scheme::BackwardEuler, 1e12, &mut v, &g, &j)
            .unwrap();
        let rin = v[0] / 0.1 * 1e-3 * 1e3; // mV/nA = MΩ
        let at_lambda = built.node_at(SectionId(0), 1.0 / 3.0).unwrap();
        let ratio = v[at_lambda] / v[0];
        println!(
            "T5 Δx = λ/{per_lambda}: R_in {rin} vs {rin_exact}, V(λ)/V0 {ratio} vs {ratio_exact}"
        );
        assert!((ratio - ratio_exact).abs() < 1e-3);
        assert!(((rin - rin_exact) / rin_exact).abs() < 2e-3);
        errs.push(((ratio - ratio_exact).abs(), (rin - rin_exact).abs()));
    }
    let slope_v = (errs[0].0 / errs[2].0).log2() / 2.0;
    let slope_r = (errs[0].1 / errs[2].1).log2() / 2.0;
    println!("T5 spatial order: V(λ)/V0 {slope_v}, R_in {slope_r}");
    assert!((slope_v - 2.0).abs() < 0.1, "spatial order {slope_v}");
    assert!((slope_r - 2.0).abs() < 0.1, "spatial order {slope_r}");
}

/// T6: semi-infinite cable (sealed end at the injection site): V(X, T) = I₀ r_i λ/2 ·
/// [e^{−X} erfc(X/2√T − √T) − e^{X} erfc(X/2√T + √T)], within 1 % for Δx = λ/20.
#[test]
fn t6_cable_time_course() {
    let (rm, ra, d, cm) = (20000.0, 100.0, 1.0, 1.0);
    let lambda = length_constant_um(rm, ra, d);
    let tau = rm * cm * 1e-3; // Ω·cm² · µF/cm² = µs·1e... → ms: 20000·1e-6 s = 20 ms
    let per = 20;
    let len = 8.0 * lambda;
    let built = sealed_cable(len, d, 8 * per);
    let tree = &built.tree;
    let n = tree.len();
    let g = tree.membrane_conductance_us(1.0 / rm);
    assert!(((tree.capacitance_nf()[1] / g[1]) - tau).abs() < 1e-9);
    let i0 = 0.1;
    let rinf = r_inf_mohm(rm, ra, d); // = r_i λ, MΩ
    let dt = 0.01;
    let mut ex = ExactCable::new(tree, dt, Split::Strang, NEUWON_PRUNE).unwrap();
    let zero = vec![0.0; n];
    let mut inj = vec![0.0; n];
    inj[0] = i0;
    let mut v = vec![0.0; n];
    let mut worst = 0.0f64;
    let steps = (3.0 * tau / dt).round() as usize;
    for k in 1..=steps {
        let m = Membrane {
            g_us: &g,
            ge_na: &zero,
            i_na: &inj,
        };
        ex.step(&mut v, m, None).unwrap();
        let t = k as f64 * dt / tau;
        if t >= 0.05 && k % 50 == 0 {
            for &x in &[0.0, 0.5, 1.0] {
                let node = built.node_at(SectionId(0), x * lambda / len).unwrap();
                let want = i0 * rinf / 2.0 * infinite_cable_step_shape(x, t);
                // At the injection site: relative to the local value. Away from it the early
                // front is tiny (V(1, 0.05) is 0.1 % of its final value), so there the error is
                // measured relative to the steady-state value I₀R∞e^{−X} at that X.
                let scale = if x == 0.0 {
                    want.abs()
                } else {
                    i0 * rinf * (-x).exp()
                };
                let rel = (v[node] - want).abs() / scale;
                worst = worst.max(rel);
            }
        }
    }
    println!("T6 worst relative error {worst:e}");
    assert!(worst < 0.01, "{worst}");
}

/// T9: exponential synaptic current into a passive membrane: augmented expm vs closed form,
/// including the degenerate τ_s = τ_m(1 ± 1e-9) and τ_s = τ_m.
#[test]
fn t9_exponential_synapse() {
    let (tau_m, c) = (10.0, 0.2);
    let mut worst = 0.0f64;
    for &ratio in &[0.2, 0.5, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 3.0] {
        let tau_s = tau_m * ratio;
        for &h in &[0.01, 0.1, 1.0, 10.0] {
            // x = (V, I); V' = −V/τm + I/C, I' = −I/τs.
            let a =
                Mat::from_rows(&[vec![-1.0 / tau_m, 1.0 / c], vec![0.0, -1.0 / tau_s]]).unwrap();
            let p = LtiPropagator::new(&a, &[0.0, 0.0], 1, h).unwrap();
            let phi = p.phi();
            let checks = [
                (phi.get(0, 0), (-h / tau_m).exp()),
                (phi.get(1, 1), (-h / tau_s).exp()),
                (phi.get(0, 1), synapse_pvi(tau_m, tau_s, c, h)),
            ];
            for (got, want) in checks {
                let rel = ((got - want) / want).abs();
                worst = worst.max(rel);
                assert!(rel < 1e-12, "τs/τm {ratio}, h {h}: {got} vs {want}");
            }
            assert_eq!(phi.get(1, 0), 0.0);
        }
    }
    println!("T9 worst relative error {worst:e}");
}

/// The augmented-matrix route for a constant input: x' = A x + b u matches A⁻¹(e^{Ah} − I) b.
#[test]
fn lti_constant_input_matches_closed_form() {
    let a = Mat::from_rows(&[vec![-0.5, 0.2], vec![0.1, -0.3]]).unwrap();
    let b = [1.0, 0.5];
    let h = 0.7;
    let p = LtiPropagator::new(&a, &b, 1, h).unwrap();
    let mut ah = a.clone();
    ah.scale(h);
    let mut e = expm(&ah).unwrap();
    for i in 0..2 {
        e.add_to(i, i, -1.0);
    }
    let bm = Mat::from_rows(&[vec![b[0], 0.0], vec![b[1], 0.0]]).unwrap();
    let g = a.solve(&e.matmul(&bm)).unwrap();
    for i in 0..2 {
        assert!((p.gamma()[i] - g.get(i, 0)).abs() < 1e-14);
    }
}

/// expm against closed forms: diagonal, nilpotent, rotation and a large-norm case.
#[test]
fn expm_closed_forms() {
    let d = Mat::from_rows(&[vec![-3.0, 0.0], vec![0.0, 2.0]]).unwrap();
    let e = expm(&d).unwrap();
    assert!((e.get(0, 0) - (-3.0f64).exp()).abs() < 1e-15);
    assert!(((e.get(1, 1) - 2.0f64.exp()) / 2.0f64.exp()).abs() < 1e-15);
    let nil = Mat::from_rows(&[vec![0.0, 5.0], vec![0.0, 0.0]]).unwrap();
    let e = expm(&nil).unwrap();
    assert!((e.get(0, 1) - 5.0).abs() < 1e-14 && (e.get(0, 0) - 1.0).abs() < 1e-15);
    let th = 40.0;
    let rot = Mat::from_rows(&[vec![0.0, -th], vec![th, 0.0]]).unwrap();
    let e = expm(&rot).unwrap();
    assert!((e.get(0, 0) - th.cos()).abs() < 1e-12, "{}", e.get(0, 0));
    assert!((e.get(1, 0) - th.sin()).abs() < 1e-12);
    // Stiff decay: e^{−1000} underflows cleanly, not NaN.
    let s = Mat::from_rows(&[vec![-1000.0]]).unwrap();
    assert!(expm(&s).unwrap().get(0, 0) < 1e-300);
    // φ functions.
    assert!((phi1(1e-10) - 1.0).abs() < 1e-10);
    assert!((phi2(0.0) - 0.5).abs() < 1e-16);
    assert!((phi2(2.0) - (2.0f64.exp() - 3.0) / 4.0).abs() < 1e-15);
    assert!((phi2(0.05) - ((0.05f64).exp() - 1.05) / 0.0025).abs() < 1e-12);
}

/// NEUWON's "length constant" set-up (§3.6): a 3000 µm cable, leak G = area/R_m (R_m in
/// Ω·µm²), the middle node clamped at 1 mV for 10 ms; the voltage one λ away should be e⁻¹
/// within the listed tolerance, λ = √(R_m·d/(4·R_a)).
///
/// Asserted: Hines BE with a clamp conductance meets every tolerance (the set-up is right).
/// NOT met, reported only: the exact method in NEUWON compat mode with the clamp applied by
/// resetting the middle voltage before each step gives V(λ) = 0.06–0.26, because the clamped
/// node (h·g_axial/C up to 60) drains within each step and a once-per-step reset is a much
/// weaker clamp; NEUWON's exact clamping protocol is not in the spec.
#[test]
fn neuwon_length_constant_setup() {
    // (d µm, R_m Ω·µm², ℓ_max µm, dt ms, relative tolerance)
    let cases = [
        (1.0, 4e11, 2.0, 0.01, 0.05),
        (0.9, 2e11, 10.0, 0.025, 0.15),
        (5.0, 9e11, 5.0, 0.025, 0.20),
        (5.0, 5e10, 5.0, 0.025, 0.20),
        (2.0, 3e11, 20.0, 0.1, 0.25),
    ];
    for (d, rm, lmax, dt, tol) in cases {
        let len: f64 = 3000.0;
        let intervals = (len / lmax).ceil() as usize;
        let intervals = intervals + intervals % 2; // a node exactly in the middle
        let mut b = CableBuilder::new();
        let s = b.add_section(None, len, d, intervals, 100.0, 1.0).unwrap();
        let built = b.build().unwrap();
        let tree = &built.tree;
        let n = tree.len();
        // G (µS) = area (µm²) / R_m (Ω·µm²) · 1e6.
        let g: Vec<f64> = tree.area_um2().iter().map(|a| a / rm * 1e6).collect();
        let zero = vec![0.0; n];
        let ra_ohm_um = 100.0 * 1e4;
        let lambda = (rm * d / (4.0 * ra_ohm_um)).sqrt();
        let mid = built.node_at(s, 0.5).unwrap();
        let probe = built.node_at(s, 0.5 + lambda / len).unwrap();
        let mut ex = ExactCable::new(tree, dt, Split::NeuwonCompat, NEUWON_PRUNE).unwrap();
        let mut v = vec![0.0; n];
        for _ in 0..(10.0 / dt).round() as usize {
            v[mid] = 1.0;
            let m = Membrane {
                g_us: &g,
                ge_na: &zero,
                i_na: &zero,
            };
            ex.step(&mut v, m, None).unwrap();
        }
        v[mid] = 1.0;
        // Cross-check of the set-up: Hines BE with a 1e6 µS clamp conductance at the middle.
        let mut gc = g.clone();
        gc[mid] += 1e6;
        let mut jc = zero.clone();
        jc[mid] = 1e6;
        let mut vh = vec![0.0; n];
        let mut hs = Hines::new(tree);
        for _ in 0..(10.0 / dt).round() as usize {
            hs.step(Scheme::BackwardEuler, dt, &mut vh, &gc, &jc)
                .unwrap();
        }
        let want = (-1.0f64).exp();
        let rel = (v[probe] - want).abs() / want;
        let rel_h = (vh[probe] - want).abs() / want;
        println!(
            "length constant d {d}: Hines V(λ) = {:.4} (rel {rel_h:.3} ≤ {tol}); exact compat with reset clamp {:.4} (rel {rel:.3})",
            vh[probe], v[probe]
        );
        // The (5 µm, 9e11) case has λ = 1061 µm, so the sealed ends sit 1.4 λ away and the
        // infinite-cable value e⁻¹ does not apply (the sealed finite cable gives ≈ 0.50).
        if 0.5 * len / lambda >= 3.0 {
            assert!(rel_h <= tol, "d {d}: {rel_h}");
        }
    }
}
