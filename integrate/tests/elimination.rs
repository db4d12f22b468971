//! Zero-area node elimination (`graph::Elimination`) and the exact propagator on the reduced
//! graph: on NEURON-layout trees with branch points, the graph propagator equals the dense
//! matrix exponential of the Schur complement of the full conductance Laplacian (computed here
//! independently, by dense Gaussian elimination), and a passive run of the exact method
//! converges to the Hines solution of the full tree as dt → 0.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use integrate::*;

/// Soma (3 segments) with two dendrites at x = 1, one of which branches again at its end.
fn neuron_y() -> BuiltCable {
    let mut b = CableBuilder::new();
    let soma = b.add_section(None, 20.0, 20.0, 3, 100.0, 1.0).unwrap();
    let d1 = b
        .add_section(Some(soma), 200.0, 2.0, 7, 100.0, 1.0)
        .unwrap();
    b.add_section(Some(soma), 150.0, 1.5, 5, 100.0, 1.0)
        .unwrap();
    b.add_section(Some(d1), 100.0, 1.0, 4, 100.0, 1.0).unwrap();
    b.add_section(Some(d1), 120.0, 0.8, 3, 100.0, 1.0).unwrap();
    b.build_neuron_compat().unwrap()
}

/// Dense Schur complement of the Laplacian onto the capacitive nodes: K_kk − K_kz K_zz⁻¹ K_zk.
fn schur(tree: &CableTree, kept: &[usize]) -> Vec<Vec<f64>> {
    let n = tree.len();
    let mut k = vec![vec![0.0; n]; n];
    for (i, j, v) in tree.laplacian_triplets() {
        k[i][j] += v;
    }
    // Eliminate the zero-capacitance rows one by one (Gaussian elimination, any order).
    let zero: Vec<usize> = (0..n)
        .filter(|&i| tree.capacitance_nf()[i] == 0.0)
        .collect();
    for &z in &zero {
        let piv = k[z][z];
        for r in 0..n {
            if r == z || k[r][z] == 0.0 {
                continue;
            }
            let f = k[r][z] / piv;
            for c in 0..n {
                k[r][c] -= f * k[z][c];
            }
        }
    }
    kept.iter()
        .map(|&i| kept.iter().map(|&j| k[i][j]).collect())
        .collect()
}

#[test]
fn graph_propagator_equals_dense_expm_of_the_schur_complement() {
    let built = neuron_y();
    let tree = &built.tree;
    let el = Elimination::new(tree).unwrap();
    let kept = el.kept().to_vec();
    assert!(
        el.n_eliminated() >= 5,
        "root, branch points and tips are zero-area"
    );
    let s = schur(tree, &kept);
    let c = el.graph().capacitance_nf();
    let m = kept.len();
    let h = 0.0125;
    let mut a = Mat::zeros(m);
    for i in 0..m {
        for j in 0..m {
            a.add_to(i, j, -h * s[i][j] / c[i]);
        }
    }
    let dense = expm(&a).unwrap();
    let (p, _) = graph_propagators(el.graph(), h, 1e-14, false).unwrap();
    let p = p.to_dense();
    let mut worst: f64 = 0.0;
    for i in 0..m {
        for j in 0..m {
            worst = worst.max((p[[i, j]] - dense.get(i, j)).abs());
        }
    }
    assert!(worst < 1e-10, "max |P − expm| = {worst:e}");
}

#[test]
fn exact_method_on_the_reduced_graph_converges_to_hines_on_the_full_tree() {
    let built = neuron_y();
    let tree = &built.tree;
    let n = tree.len();
    let el = Elimination::new(tree).unwrap();
    // pas 1e-3 S/cm², e = −65 mV; current 0.05 nA into the zero-area tip of the last section.
    let g_full = tree.membrane_conductance_us(1e-3);
    let ge_full: Vec<f64> = g_full.iter().map(|g| g * -65.0).collect();
    let tip = *built.nodes[4].last().unwrap();
    assert_eq!(tree.capacitance_nf()[tip], 0.0);
    let mut inj = vec![0.0; n];
    inj[tip] = 0.05;
    // Hines on the full tree: current enters through the right-hand side (j = g·e + I).
    // Backward Euler: Crank–Nicolson's extrapolation never damps the initial inconsistency
    // of the algebraic (zero-area) nodes.
    let j_full: Vec<f64> = (0..n).map(|i| ge_full[i] + inj[i]).collect();
    let mut v_ref = vec![-70.0; n];
    let mut hines = Hines::new(tree);
    let (t_end, dt_ref) = (5.0, 1e-5);
    for _ in 0..(t_end / dt_ref) as usize {
        hines
            .step(Scheme::BackwardEuler, dt_ref, &mut v_ref, &g_full, &j_full)
            .unwrap();
    }
    // Exact (Strang, exact sources) on the reduced graph, at dt and dt/2.
    let mut routed = inj.clone();
    el.route_currents(&mut routed).unwrap();
    let kept = el.kept();
    let g: Vec<f64> = kept.iter().map(|&i| g_full[i]).collect();
    let ge: Vec<f64> = kept.iter().map(|&i| ge_full[i]).collect();
    let i_na: Vec<f64> = kept.iter().map(|&i| routed[i]).collect();
    let run = |dt: f64| -> Vec<f64> {
        let opts = ExactOptions {
            tol: 1e-14,
            exact_sources: true,
        };
        let mut ex = ExactCable::from_graph(el.graph(), dt, Split::Strang, opts).unwrap();
        let mut vr = vec![-70.0; kept.len()];
        for _ in 0..(t_end / dt).round() as usize {
            let m = Membrane {
                g_us: &g,
                ge_na: &ge,
                i_na: &i_na,
            };
            ex.step(&mut vr, m, None).unwrap();
        }
        let mut v = vec![f64::NAN; n];
        for (r, &i) in kept.iter().enumerate() {
            v[i] = vr[r];
        }
        el.recover_voltages(&mut v, &routed).unwrap();
        v
    };
    let err = |v: &[f64]| (0..n).map(|i| (v[i] - v_ref[i]).abs()).fold(0.0, f64::max);
    let (v, v_half) = (run(0.025), run(0.0125));
    let (e1, e2) = (err(&v), err(&v_half));
    // Second order (the split of the source from the membrane decay), small at dt = 0.025.
    assert!(e1 < 5e-3, "max |exact − Hines| = {e1:e} mV at dt 0.025");
    assert!(
        (3.5..4.5).contains(&(e1 / e2)),
        "error ratio dt/(dt/2) = {} ({e1:e}, {e2:e})",
        e1 / e2
    );
    // The tip (zero-area, recovered) is depolarised by its own current.
    assert!(v[tip] > v[built.nodes[4][1]]);
}
