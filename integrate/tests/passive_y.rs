//! The passive Y tree of `shared/reference/passive_y` (CSV copies in `tests/data/`).
//!
//! Model: trunk 200 µm × 2 µm, c1 150 µm × 1 µm and c2 300 µm × 0.5 µm attached to the trunk's
//! x = 1 end; Ra 100 Ω·cm, cm 1 µF/cm², pas g = 1e-4 S/cm², e = −65 mV; IClamp 0.05 nA at the c1
//! tip for 5 ≤ t < 105 ms (evaluated at mid-step, as NEURON's fixed step does); dt 0.025 ms.
//! Discretisation: vertex-centred with 21/15/31 intervals (68 nodes, as Arbor's 68 CVs), so the
//! four recording sites (trunk x = 0, branch point, c1 tip, c2 tip) are nodes.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use integrate::*;

struct Y {
    built: BuiltCable,
    sites: [usize; 4],
    stim: usize,
}

fn model(scale: usize) -> Y {
    model_with(scale, false)
}

fn model_with(scale: usize, neuron_grid: bool) -> Y {
    let mut b = CableBuilder::new();
    let trunk = b
        .add_section(None, 200.0, 2.0, 21 * scale, 100.0, 1.0)
        .unwrap();
    let c1 = b
        .add_section(Some(trunk), 150.0, 1.0, 15 * scale, 100.0, 1.0)
        .unwrap();
    let c2 = b
        .add_section(Some(trunk), 300.0, 0.5, 31 * scale, 100.0, 1.0)
        .unwrap();
    let built = if neuron_grid {
        b.build_neuron_compat().unwrap()
    } else {
        b.build().unwrap()
    };
    let sites = [
        built.node_at(trunk, 0.0).unwrap(),
        built.node_at(trunk, 1.0).unwrap(),
        built.node_at(c1, 1.0).unwrap(),
        built.node_at(c2, 1.0).unwrap(),
    ];
    Y {
        stim: sites[2],
        built,
        sites,
    }
}

fn read_csv(name: &str) -> Vec<[f64; 5]> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("t_ms,v_trunk0_mV"));
    lines
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|x| x.trim().parse().unwrap()).collect();
            [v[0], v[1], v[2], v[3], v[4]]
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Method {
    Hines(Scheme),
    Exact(Split, bool),
}

/// Simulate 150 ms at dt, returning rows (t, 4 voltages) every 0.025 ms.
fn simulate(y: &Y, method: Method, dt: f64) -> Vec<[f64; 5]> {
    let tree = &y.built.tree;
    let n = tree.len();
    let g = tree.membrane_conductance_us(1e-4);
    let ge: Vec<f64> = g.iter().map(|g| g * -65.0).collect();
    let mut inj = vec![0.0; n];
    let mut j = ge.clone();
    let mut v = vec![-65.0; n];
    let mut hines = Hines::new(tree);
    let mut exact = match method {
        Method::Exact(split, exact_sources) => Some(
            ExactCable::with_options(
                tree,
                dt,
                split,
                ExactOptions {
                    tol: NEUWON_PRUNE,
                    exact_sources,
                },
            )
            .unwrap(),
        ),
        Method::Hines(_) => None,
    };
    let steps = (150.0 / dt).round() as usize;
    let every = (0.025 / dt).round() as usize;
    let mut out = vec![[0.0, -65.0, -65.0, -65.0, -65.0]];
    for k in 0..steps {
        let tmid = (k as f64 + 0.5) * dt;
        let i = if (5.0..105.0).contains(&tmid) {
            0.05
        } else {
            0.0
        };
        inj[y.stim] = i;
        j[y.stim] = ge[y.stim] + i;
        match (method, exact.as_mut()) {
            (Method::Hines(s), _) => hines.step(s, dt, &mut v, &g, &j).unwrap(),
            (Method::Exact(..), Some(ex)) => {
                let m = Membrane {
                    g_us: &g,
                    ge_na: &ge,
                    i_na: &inj,
                };
                ex.step(&mut v, m, None).unwrap()
            }
            _ => unreachable!(),
        }
        if (k + 1) % every == 0 {
            let t = (k + 1) as f64 * dt;
            out.push([
                t,
                v[y.sites[0]],
                v[y.sites[1]],
                v[y.sites[2]],
                v[y.sites[3]],
            ]);
        }
    }
    out
}

fn distance_where(a: &[[f64; 5]], b: &[[f64; 5]], keep: impl Fn(f64) -> bool) -> f64 {
    let mut worst = 0.0f64;
    for (ra, rb) in a.iter().zip(b) {
        assert!(
            (ra[0] - rb[0]).abs() < 1e-9,
            "time grids differ: {} vs {}",
            ra[0],
            rb[0]
        );
        if !keep(ra[0]) {
            continue;
        }
        for c in 1..5 {
            worst = worst.max((ra[c] - rb[c]).abs());
        }
    }
    worst
}

/// Max-norm distance over all samples and the four sites (mV).
fn distance(a: &[[f64; 5]], b: &[[f64; 5]]) -> f64 {
    distance_where(a, b, |_| true)
}

/// Max-norm distance excluding the 1 ms after each stimulus switch (5 and 105 ms).
fn distance_smooth(a: &[[f64; 5]], b: &[[f64; 5]]) -> f64 {
    distance_where(a, b, |t| {
        !((5.0..6.0).contains(&t) || (105.0..106.0).contains(&t))
    })
}

struct Distances {
    neuron: f64,
    neuron_smooth: f64,
    arbor: f64,
}

fn references() -> (Vec<[f64; 5]>, Distances) {
    let converged = read_csv("passive_y_neuron_dt0.001_nsegx5.csv");
    let neuron = read_csv("passive_y_neuron_dt0.025.csv");
    let arbor = read_csv("passive_y_arbor_dt0.025.csv");
    let d = Distances {
        neuron: distance(&neuron, &converged),
        neuron_smooth: distance_smooth(&neuron, &converged),
        arbor: distance(&arbor, &converged),
    };
    println!(
        "NEURON dt 0.025 vs converged: {:.5} mV (away from switches {:.5}); Arbor dt 0.025: {:.5} mV",
        d.neuron, d.neuron_smooth, d.arbor
    );
    (converged, d)
}

/// NEUWON's exact method with the injected current routed through the exact source
/// propagator: within NEURON's own distance to the converged solution over the whole trace.
#[test]
fn exact_methods_within_neurons_distance() {
    let (converged, refd) = references();
    let y = model(1);
    for m in [
        Method::Exact(Split::Strang, true),
        Method::Exact(Split::LieExact, true),
    ] {
        let trace = simulate(&y, m, 0.025);
        let d = distance(&trace, &converged);
        let ds = distance_smooth(&trace, &converged);
        println!("{m:?}: {d:.5} mV (away from switches {ds:.5})");
        assert!(d <= refd.neuron, "{m:?}: {d} > {}", refd.neuron);
    }
}

/// Hines BE and CN at NEURON's dt on the 68-node grid. NOT within NEURON's own distance over
/// the whole trace: the first step after a stimulus switch at the stimulated tip costs BE
/// 0.23 mV and CN 0.38 mV against NEURON's 0.167 mV (NEURON's stimulated node has zero area;
/// ours is a half control volume). Asserted instead, as measured: CN away from the switches
/// within NEURON's distance there; BE away from the switches within 1.1× of it (0.0373 vs
/// 0.0350 mV: BE's own O(dt) error, which finer grids do not remove), and over the whole trace
/// within Arbor's distance (Arbor uses the same vertex-centred grid family).
#[test]
fn hines_against_neurons_distance() {
    let (converged, refd) = references();
    let y = model(1);
    for s in [Scheme::BackwardEuler, Scheme::CrankNicolson] {
        let trace = simulate(&y, Method::Hines(s), 0.025);
        let d = distance(&trace, &converged);
        let ds = distance_smooth(&trace, &converged);
        println!("{s:?}: {d:.5} mV (away from switches {ds:.5})");
        match s {
            Scheme::BackwardEuler => {
                assert!(
                    ds <= 1.1 * refd.neuron_smooth,
                    "BE {ds} vs {}",
                    refd.neuron_smooth
                );
                assert!(d <= refd.arbor, "BE {d} > Arbor {}", refd.arbor);
            }
            Scheme::CrankNicolson => {
                assert!(ds <= refd.neuron_smooth, "CN {ds} > {}", refd.neuron_smooth);
            }
        }
    }
}

/// Hines BE on NEURON's own discretisation (nseg 21/15/31 with zero-area end and branch nodes,
/// the IClamp on the c1 tip's zero-area node) reproduces NEURON's dt = 0.025 ms trace, and hence
/// lies within NEURON's distance to the converged solution (to the CSV's rounding).
#[test]
fn hines_be_on_neuron_grid_reproduces_neuron() {
    let (converged, refd) = references();
    let neuron = read_csv("passive_y_neuron_dt0.025.csv");
    let y = model_with(1, true);
    assert_eq!(y.built.tree.len(), 67 + 4);
    let trace = simulate(&y, Method::Hines(Scheme::BackwardEuler), 0.025);
    let to_neuron = distance(&trace, &neuron);
    let to_conv = distance(&trace, &converged);
    println!("BE on NEURON grid: {to_neuron:.2e} mV from NEURON's trace; {to_conv:.5} mV from converged (NEURON {:.5})", refd.neuron);
    assert!(to_neuron < 1e-6, "{to_neuron}");
    assert!(to_conv <= refd.neuron + 1e-6, "{to_conv}");
    // NEURON's converged reference itself: nseg ×5 at dt = 0.001 ms.
    let y5 = model_with(5, true);
    let fine = simulate(&y5, Method::Hines(Scheme::BackwardEuler), 0.001);
    let d5 = distance(&fine, &converged);
    println!("BE on NEURON grid ×5, dt 0.001: {d5:.2e} mV from NEURON's converged trace");
    assert!(d5 < 1e-6, "{d5}");
}

/// The splits of the spec that fold the injected current into the local relaxation (NEUWON,
/// Lie, Strang) carry a steady offset at the stimulated tip node, whose small capacitance makes
/// it stiff (h·g_axial/C ≈ 12 at dt = 0.025 ms). Reported, and guarded so a change is noticed.
#[test]
fn local_current_splits_offset_at_stiff_injection_site() {
    let (converged, refd) = references();
    let y = model(1);
    for split in [Split::NeuwonCompat, Split::LieExact, Split::Strang] {
        let trace = simulate(&y, Method::Exact(split, false), 0.025);
        let d = distance(&trace, &converged);
        let ds = distance_smooth(&trace, &converged);
        println!("{split:?} (current in local step): {d:.5} mV (away from switches {ds:.5})");
        assert!(d > refd.neuron && d < 3.0, "{split:?}: {d}");
    }
}

/// DC input resistance at the c1 tip from sealed-end cable theory, computed here independently,
/// checked against `model.md` (628.594 MΩ and the four ΔV) and then against the model.
#[test]
fn dc_input_resistance_matches_cable_theory() {
    let (ra, rm) = (100.0, 1e4); // Ω·cm, Ω·cm²
                                 // Per-cable λ (cm) and R∞ = r_i λ (Ω), r_i = 4Ra/(π d²) (Ω/cm).
    let cable = |len_um: f64, d_um: f64| {
        let d = d_um * 1e-4;
        let lambda = (rm * d / (4.0 * ra)).sqrt();
        let r_inf = 4.0 * ra / (std::f64::consts::PI * d * d) * lambda;
        (len_um * 1e-4 / lambda, r_inf)
    };
    let (lt, rt) = cable(200.0, 2.0);
    let (l1, r1) = cable(150.0, 1.0);
    let (l2, r2) = cable(300.0, 0.5);
    // Input conductances of the sealed trunk and c2 seen from the branch point.
    let g_load = lt.tanh() / rt + l2.tanh() / r2;
    let b = g_load * r1;
    let g_in = (b + l1.tanh()) / (1.0 + b * l1.tanh()) / r1;
    let r_in_mohm = 1.0 / g_in * 1e-6;
    let dv_tip = 0.05 * r_in_mohm; // nA · MΩ = mV
    let dv_bp = dv_tip / (l1.cosh() + b * l1.sinh());
    let dv_trunk0 = dv_bp / lt.cosh();
    let dv_c2 = dv_bp / l2.cosh();
    assert!((r_in_mohm - 628.594).abs() < 1e-3, "{r_in_mohm}");
    for (got, want) in [
        (dv_tip, 31.42972),
        (dv_bp, 23.16152),
        (dv_trunk0, 22.26497),
        (dv_c2, 16.75790),
    ] {
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
    // The discretised model at DC (Hines with dt → ∞), default and 5× finer.
    for scale in [1, 5] {
        let y = model(scale);
        let tree = &y.built.tree;
        let g = tree.membrane_conductance_us(1e-4);
        let mut j = vec![0.0; tree.len()];
        j[y.stim] = 0.05;
        let mut v = vec![0.0; tree.len()];
        Hines::new(tree)
            .step(Scheme::BackwardEuler, 1e12, &mut v, &g, &j)
            .unwrap();
        let r_model = v[y.stim] / 0.05;
        let rel = (r_model / r_in_mohm - 1.0).abs();
        println!(
            "scale {scale}: R_in model {r_model:.4} MΩ vs analytic {r_in_mohm:.4} (rel {rel:.2e}); ΔV sites {:.5} {:.5} {:.5} {:.5}",
            v[y.sites[0]], v[y.sites[1]], v[y.sites[2]], v[y.sites[3]]
        );
        // NEURON's default discretisation is off by 1.7e-5 at the tip; ours by O(Δx²).
        let tol = if scale == 1 { 2e-4 } else { 1e-5 };
        assert!(rel < tol, "scale {scale}: {rel:e}");
        for (site, want) in [(0, dv_trunk0), (1, dv_bp), (2, dv_tip), (3, dv_c2)] {
            assert!(
                (v[y.sites[site]] - want).abs() < 40.0 * tol * want,
                "site {site}"
            );
        }
    }
}
