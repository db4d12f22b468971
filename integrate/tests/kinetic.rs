//! T7, T8 and §8.5: exact kinetic propagators and tabulated propagators.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use integrate::testing::models;
use integrate::testing::*;
use integrate::*;

const V_AXIS: InputAxis = InputAxis::Linear {
    min: -100.0,
    max: 100.0,
};

/// T7: exact propagator of the HH m gate equals the closed form to 1e-13.
#[test]
fn t7_exact_two_state_closed_form() {
    let s = models::hh_m_gate().unwrap();
    let mut worst = 0.0f64;
    for k in 0..=400 {
        let v = -100.0 + 0.5 * k as f64;
        for &h in &[0.01, 0.1, 1.0] {
            let p = s.propagator(&[v], h).unwrap();
            let c = two_state_propagator(hh_m_alpha(v), hh_m_beta(v), h);
            for i in 0..2 {
                for j in 0..2 {
                    worst = worst.max((p.get(i, j) - c[i * 2 + j]).abs());
                }
            }
        }
    }
    println!("T7 exact vs closed form: {worst:e}");
    assert!(worst < 1e-13, "{worst:e}");
    assert!((hh_m_alpha(-40.0) - 1.0).abs() < 1e-15);
}

/// T7: tabulated propagator on [−100, 100] mV, dt 0.1 ms: max entry error ≤ 1e-4 on 10⁴ fresh
/// samples plus the removable singularity at −40 mV; conservation Σx = 1 to 1e-14.
#[test]
fn t7_table_meets_target_and_conserves() {
    let s = models::hh_m_gate().unwrap();
    let (table, rep) = KineticTable::build(&s, 0.1, &[V_AXIS], 1e-4).unwrap();
    println!("T7 table: {rep:?}");
    assert!(rep.fresh_max_error <= 1e-4, "{}", rep.fresh_max_error);
    let at = table.propagator_at(&[-40.0]).unwrap();
    let ex = s.propagator(&[-40.0], 0.1).unwrap();
    assert!(at.max_abs_diff(&ex) <= 1e-4);
    // Random states advanced at random voltages keep Σx = 1.
    let inst = 1000;
    let mut x = Vec::with_capacity(2 * inst);
    let mut u = Vec::with_capacity(inst);
    for i in 0..inst {
        let o = (i as f64 * 0.618).fract();
        x.extend_from_slice(&[1.0 - o, o]);
        u.push(-120.0 + 240.0 * (i as f64 * 0.377).fract());
    }
    for _ in 0..100 {
        table.advance(&u, &mut x).unwrap();
    }
    for st in x.chunks(2) {
        assert!((st[0] + st[1] - 1.0).abs() <= 1e-14);
        assert!(st[0] >= -1e-4 && st[1] >= -1e-4);
    }
}

/// T8: three-state chain: exact propagator vs eigen-decomposition to 1e-12, steady state
/// ∝ (k₋₁k₋₂, k₁k₋₂, k₁k₂).
#[test]
fn t8_three_state_chain() {
    let (k1, km1, k2, km2) = (0.7, 0.2, 1.3, 0.4);
    let s = models::three_state_chain(k1, km1, k2, km2).unwrap();
    let a = s.matrix(&[0.0]).unwrap();
    let b = k1 + km1 + k2 + km2;
    let c = k1 * k2 + km1 * km2 + k1 * km2;
    let disc = (b * b - 4.0 * c).sqrt();
    let mus = [0.0, (-b + disc) / 2.0, (-b - disc) / 2.0];
    // Eigenvectors: null vectors of (A − μI) from the cross product of two rows.
    let mut vecs = Mat::zeros(3);
    for (col, &mu) in mus.iter().enumerate() {
        let r = |i: usize| {
            [
                a.get(i, 0) - if i == 0 { mu } else { 0.0 },
                a.get(i, 1) - if i == 1 { mu } else { 0.0 },
                a.get(i, 2) - if i == 2 { mu } else { 0.0 },
            ]
        };
        let (r0, r2) = (r(0), r(2));
        let v = [
            r0[1] * r2[2] - r0[2] * r2[1],
            r0[2] * r2[0] - r0[0] * r2[2],
            r0[0] * r2[1] - r0[1] * r2[0],
        ];
        for i in 0..3 {
            vecs.set(i, col, v[i]);
        }
    }
    for &h in &[0.05, 0.5, 5.0] {
        let mut d = Mat::zeros(3);
        for i in 0..3 {
            d.set(i, i, (mus[i] * h).exp());
        }
        let vd = vecs.matmul(&d);
        // Φ = V D V⁻¹  ⇔  Φᵀ = V⁻ᵀ (V D)ᵀ: solve Vᵀ Φᵀ = (V D)ᵀ.
        let mut vt = Mat::zeros(3);
        let mut vdt = Mat::zeros(3);
        for i in 0..3 {
            for j in 0..3 {
                vt.set(i, j, vecs.get(j, i));
                vdt.set(i, j, vd.get(j, i));
            }
        }
        let phit = vt.solve(&vdt).unwrap();
        let p = s.propagator(&[0.0], h).unwrap();
        let mut worst = 0.0f64;
        for i in 0..3 {
            for j in 0..3 {
                worst = worst.max((p.get(i, j) - phit.get(j, i)).abs());
            }
        }
        println!("T8 h = {h}: {worst:e}");
        assert!(worst < 1e-12, "{worst:e}");
    }
    let ss = s.steady_state(&[0.0]).unwrap();
    let w = [km1 * km2, k1 * km2, k1 * k2];
    let tot: f64 = w.iter().sum();
    for i in 0..3 {
        assert!((ss[i] - w[i] / tot).abs() < 1e-12);
    }
}

/// Linearity check: a derivative that is not linear in x is rejected; a linear one builds the
/// same matrix as the reaction form.
#[test]
fn linearity_check() {
    let bad = KineticScheme::from_derivative(
        2,
        1,
        Some(1.0),
        |_u, x, dx| {
            dx[0] = -x[0] * x[0];
            dx[1] = x[0] * x[0];
        },
        &[vec![-65.0], vec![0.0], vec![30.0]],
    );
    assert!(matches!(bad, Err(Error::NonLinear { .. })));
    let good = KineticScheme::from_derivative(
        2,
        1,
        Some(1.0),
        |u, x, dx| {
            let (a, b) = (hh_m_alpha(u[0]), hh_m_beta(u[0]));
            dx[0] = -a * x[0] + b * x[1];
            dx[1] = a * x[0] - b * x[1];
        },
        &[vec![-65.0], vec![0.0], vec![30.0]],
    )
    .unwrap();
    let reference = models::hh_m_gate().unwrap();
    for v in [-80.0, -40.0, 12.5] {
        let d = good
            .matrix(&[v])
            .unwrap()
            .max_abs_diff(&reference.matrix(&[v]).unwrap());
        assert!(d < 1e-15);
    }
}

fn check_8_5(name: &str, s: &KineticScheme, axis: InputAxis) -> TableReport {
    let (_table, rep) = KineticTable::build(s, 0.1, &[axis], 1e-4).unwrap();
    println!("{name}: {rep:?}");
    assert!(
        rep.fresh_max_error <= 1e-4,
        "{name}: {}",
        rep.fresh_max_error
    );
    // Training estimate within ×1.5 above / ×4 below the fresh-sample error.
    assert!(
        rep.train_max_error <= 1.5 * rep.fresh_max_error,
        "{name}: train {} fresh {}",
        rep.train_max_error,
        rep.fresh_max_error
    );
    assert!(
        rep.train_max_error >= rep.fresh_max_error / 4.0,
        "{name}: train {} fresh {}",
        rep.train_max_error,
        rep.fresh_max_error
    );
    rep
}

/// §8.5 on AMPA13 (13 states, glutamate on a log axis [0, 1000] mM), 37 °C, dt 0.1 ms;
/// steady state at C = 0 is C0 = 1.
#[test]
fn ampa13_table_meets_8_5() {
    let s = models::ampa13(37.0).unwrap();
    let ss = s.steady_state(&[0.0]).unwrap();
    assert!((ss[0] - 1.0).abs() < 1e-6);
    assert!(ss[1..].iter().all(|x| x.abs() < 1e-6));
    check_8_5("ampa13", &s, InputAxis::Log { max: 1000.0 });
}

/// §8.5 on the six-state Nav1.3 (stand-in for NEUWON's Nav11), v on [−100, 100] mV, 37 °C.
#[test]
fn nav13_table_meets_8_5() {
    let s = models::nav13(37.0).unwrap();
    let ss = s.steady_state(&[-70.0]).unwrap();
    let a = s.matrix(&[-70.0]).unwrap();
    let mut r = vec![0.0; 6];
    a.matvec(&ss, &mut r).unwrap();
    assert!(r.iter().all(|x| x.abs() < 1e-12));
    assert!((ss.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    check_8_5("nav13", &s, V_AXIS);
}

/// A two-input scheme (voltage × concentration) with a fixed layout: the tensor-grid fit
/// reaches 1e-4 on fresh samples.
#[test]
fn two_input_table_fixed_layout() {
    let s = KineticScheme::from_reactions(
        2,
        2,
        Some(1.0),
        vec![(
            0,
            1,
            Box::new(|u: &[f64]| hh_m_alpha(u[0]) * (1.0 + u[1])),
            Box::new(|u: &[f64]| hh_m_beta(u[0])),
        )],
    )
    .unwrap();
    let axes = [V_AXIS, InputAxis::Log { max: 10.0 }];
    let (table, errs) =
        KineticTable::with_layout(&s, 0.1, &axes, &[40, 20], 3, &[1.0, 1.0]).unwrap();
    let train = errs.iter().map(|e| e.0).fold(0.0, f64::max);
    let fresh = table.fresh_error(&s, 2000, 9).unwrap();
    println!("2-input 40×20 cubic: train {train:e}, fresh {fresh:e}");
    assert!(fresh <= 1e-4 && train <= 1e-4);
}

/// §4.6: exponential Euler is exact for a frozen-voltage gate x' = α(1 − x) − βx, and reduces
/// to forward Euler's x + c₀h when c₁ = 0.
#[test]
fn exponential_euler_exact_under_clamp() {
    let v = -30.0;
    let (a, b) = (hh_m_alpha(v), hh_m_beta(v));
    let (c0, c1) = (a, -(a + b));
    let mut x = 0.05;
    for _ in 0..7 {
        x = exp_euler(x, c0, c1, 0.3);
    }
    let xinf = a / (a + b);
    let want = xinf + (0.05 - xinf) * (-(a + b) * 2.1f64).exp();
    assert!((x - want).abs() < 1e-14, "{x} vs {want}");
    assert_eq!(exp_euler(0.5, 2.0, 0.0, 0.25), 1.0);
}

/// The two-input optimiser (20×20 start, grow the better axis ×1.5, shrink ×0.9) on a
/// synthetic voltage × concentration scheme meets 1e-4 on fresh samples. (NEUWON's NMDA model,
/// the spec's 2-input case, is not in our corpus.)
#[test]
fn two_input_optimiser_meets_target() {
    let s = KineticScheme::from_reactions(
        2,
        2,
        Some(1.0),
        vec![(
            0,
            1,
            Box::new(|u: &[f64]| hh_m_alpha(u[0]) * (1.0 + u[1])),
            Box::new(|u: &[f64]| hh_m_beta(u[0])),
        )],
    )
    .unwrap();
    let axes = [V_AXIS, InputAxis::Log { max: 10.0 }];
    let (table, rep) = KineticTable::build_with_degree(&s, 0.1, &axes, 3, 1e-4).unwrap();
    println!("2-input optimiser: {rep:?}");
    assert!(rep.fresh_max_error <= 1e-4);
    assert_eq!(table.bins().len(), 2);
}
