//! Bad input returns `Err`, never panics.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use integrate::*;

#[test]
fn tree_rejects_bad_input() {
    // Parent after child.
    let e = CableTree::new(&[None, Some(2), Some(0)], &[1.0; 3], &[1.0; 3], &[1.0; 3]);
    assert!(matches!(e, Err(Error::NotParentOrdered { index: 1, .. })));
    // Cells interleaved: compartment 2 refers back into the first cell after a new root.
    let e = CableTree::new(&[None, None, Some(0)], &[1.0; 3], &[1.0; 3], &[1.0; 3]);
    assert!(matches!(e, Err(Error::NotParentOrdered { index: 2, .. })));
    // Non-root first compartment.
    let e = CableTree::new(&[Some(0)], &[1.0], &[1.0], &[1.0]);
    assert!(matches!(e, Err(Error::NotParentOrdered { .. })));
    // NaN, negative, mismatched lengths.
    let e = CableTree::new(&[None, Some(0)], &[1.0, f64::NAN], &[1.0; 2], &[1.0; 2]);
    assert!(matches!(e, Err(Error::NonFinite { .. })));
    let e = CableTree::new(&[None, Some(0)], &[1.0, -1.0], &[1.0; 2], &[1.0; 2]);
    assert!(matches!(e, Err(Error::InvalidValue { .. })));
    let e = CableTree::new(&[None, Some(0)], &[1.0; 2], &[1.0; 3], &[1.0; 2]);
    assert!(matches!(e, Err(Error::DimensionMismatch { .. })));
    let e = CableTree::new(&[None, Some(0)], &[1.0; 2], &[1.0, 0.0], &[1.0; 2]);
    assert!(matches!(e, Err(Error::InvalidValue { .. })));
}

#[test]
fn builder_rejects_bad_geometry() {
    let mut b = CableBuilder::new();
    assert!(b.add_section(None, 100.0, -1.0, 10, 100.0, 1.0).is_err());
    assert!(b.add_section(None, f64::NAN, 1.0, 10, 100.0, 1.0).is_err());
    assert!(b.add_section(None, 100.0, 1.0, 0, 100.0, 1.0).is_err());
    assert!(matches!(
        b.add_section(Some(SectionId(7)), 100.0, 1.0, 1, 100.0, 1.0),
        Err(Error::UnknownSection(7))
    ));
    let s = b.add_section(None, 100.0, 1.0, 4, 100.0, 1.0).unwrap();
    let built = b.build().unwrap();
    assert!(built.node_at(s, 1.5).is_err());
    assert!(built.node_at(SectionId(3), 0.5).is_err());
}

#[test]
fn solvers_reject_bad_steps_and_lengths() {
    let tree = integrate::tree::uniform_chain(5, 0.01, 0.1, 1.0).unwrap();
    let mut h = Hines::new(&tree);
    let mut v = vec![0.0; 5];
    let g = vec![0.0; 5];
    assert!(h.step(Scheme::BackwardEuler, 0.0, &mut v, &g, &g).is_err());
    assert!(h
        .step(Scheme::BackwardEuler, f64::NAN, &mut v, &g, &g)
        .is_err());
    assert!(h
        .step(Scheme::BackwardEuler, 0.1, &mut v, &g[..4], &g)
        .is_err());
    let bad = vec![0.0, f64::NAN, 0.0, 0.0, 0.0];
    assert!(matches!(
        h.step(Scheme::CrankNicolson, 0.1, &mut v, &g, &bad),
        Err(Error::NonFinite { index: 1, .. })
    ));
    assert!(ExactCable::new(&tree, -1.0, Split::Strang, NEUWON_PRUNE).is_err());
    assert!(ExactCable::new(&tree, 0.1, Split::Strang, 0.0).is_err());
    let mut ex = ExactCable::new(&tree, 0.1, Split::Strang, NEUWON_PRUNE).unwrap();
    let mut v = vec![0.0; 5];
    let m = Membrane {
        g_us: &g,
        ge_na: &g,
        i_na: &g[..3],
    };
    assert!(matches!(
        ex.step(&mut v, m, None),
        Err(Error::DimensionMismatch { .. })
    ));
    let m = Membrane {
        g_us: &g,
        ge_na: &bad,
        i_na: &g,
    };
    assert!(matches!(
        ex.step(&mut v, m, None),
        Err(Error::NonFinite { .. })
    ));
    // Tree solve: not parent-ordered.
    let mut d = vec![1.0; 3];
    let mut r = vec![1.0; 3];
    assert!(solve_tree(&[ROOT, 2, 0], &mut d, &[0.0; 3], &[0.0; 3], &mut r).is_err());
}

#[test]
fn dense_and_kinetic_reject_bad_input() {
    assert!(Mat::from_row_major(2, vec![1.0; 3]).is_err());
    assert!(Mat::from_row_major(1, vec![f64::INFINITY]).is_err());
    let sing = Mat::from_rows(&[vec![1.0, 2.0], vec![2.0, 4.0]]).unwrap();
    assert!(matches!(
        sing.solve(&Mat::identity(2)),
        Err(Error::Singular(_))
    ));
    let a = Mat::identity(2);
    assert!(LtiPropagator::new(&a, &[1.0], 1, 0.1).is_err());
    assert!(LtiPropagator::new(&a, &[1.0, 1.0], 1, 0.0).is_err());
    let s = integrate::testing::models::hh_m_gate().unwrap();
    assert!(s.propagator(&[1.0, 2.0], 0.1).is_err());
    assert!(s.propagator(&[f64::NAN], 0.1).is_err());
    let axes = [InputAxis::Linear { min: 1.0, max: 1.0 }];
    assert!(KineticTable::with_layout(&s, 0.1, &axes, &[10], 3, &[1.0]).is_err());
    assert!(KineticScheme::from_matrix(0, 1, None, |_, _| {}).is_err());
    assert!(KineticScheme::from_matrix(2, 3, None, |_, _| {}).is_err());
}

#[test]
fn exact_propagator_rejects_zero_area_nodes() {
    let mut b = CableBuilder::new();
    b.add_section(None, 100.0, 1.0, 5, 100.0, 1.0).unwrap();
    let built = b.build_neuron_compat().unwrap();
    assert_eq!(built.tree.len(), 7);
    assert!(matches!(
        ExactCable::new(&built.tree, 0.025, Split::Strang, NEUWON_PRUNE),
        Err(Error::InvalidValue { .. })
    ));
    // Hines accepts them.
    let mut h = Hines::new(&built.tree);
    let n = built.tree.len();
    let mut v = vec![-65.0; n];
    h.step(
        Scheme::BackwardEuler,
        0.025,
        &mut v,
        &vec![0.0; n],
        &vec![0.0; n],
    )
    .unwrap();
    assert!(v.iter().all(|x| (x + 65.0).abs() < 1e-12));
}
