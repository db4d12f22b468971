//! Bad input gives typed errors, random trees never panic, and trees that satisfy Rall's
//! equivalent-cylinder conditions are reduced to that cylinder (same diameter, electrotonic
//! length and therefore membrane area), as equations (1)–(3) of SPEC §5 imply.

use proptest::prelude::*;
use reduce::{
    reduce, CableTree, Geometry, ReduceError, ReduceOptions, Section, SectionKind, Segment, Synapse,
};

fn seg(g: f64) -> Segment {
    Segment {
        cm_uf_cm2: 1.0,
        g_pas_s_cm2: g,
        e_pas_mv: -70.0,
        ..Default::default()
    }
}

fn sec(
    name: &str,
    kind: SectionKind,
    parent: Option<usize>,
    l: f64,
    d: f64,
    nseg: usize,
) -> Section {
    Section {
        name: name.into(),
        kind,
        parent,
        parent_x: if parent == Some(0) { 0.5 } else { 1.0 },
        length_um: l,
        geometry: Geometry::Cylinder { diam_um: d },
        ra_ohm_cm: 100.0,
        segments: vec![seg(1e-4); nseg],
    }
}

fn small() -> CableTree {
    CableTree {
        sections: vec![
            sec("soma", SectionKind::Soma, None, 20.0, 20.0, 1),
            sec("dend[0]", SectionKind::Basal, Some(0), 100.0, 2.0, 5),
            sec("dend[1]", SectionKind::Basal, Some(1), 100.0, 1.0, 5),
        ],
    }
}

fn err(tree: &CableTree) -> ReduceError {
    reduce(tree, &[], &ReduceOptions::default()).expect_err("must fail")
}

#[test]
fn typed_errors_for_bad_trees() {
    let mut t = small();
    t.sections[2].parent = Some(7);
    assert!(matches!(
        err(&t),
        ReduceError::MissingParent {
            section: 2,
            parent: 7,
            ..
        }
    ));

    let mut t = small();
    t.sections[1].parent = Some(2);
    assert!(matches!(err(&t), ReduceError::Cycle { .. }));

    for (field, v) in [
        ("length_um", 0.0),
        ("length_um", -3.0),
        ("length_um", f64::NAN),
    ] {
        let mut t = small();
        t.sections[2].length_um = v;
        match err(&t) {
            ReduceError::InvalidField {
                section: 2,
                field: f,
                ..
            } => assert_eq!(f, field),
            e => panic!("{e}"),
        }
    }
    for v in [0.0, -1.0, f64::INFINITY] {
        let mut t = small();
        t.sections[1].geometry = Geometry::Cylinder { diam_um: v };
        assert!(matches!(
            err(&t),
            ReduceError::InvalidField { section: 1, .. }
        ));
    }
    let mut t = small();
    t.sections[2].segments[3].g_pas_s_cm2 = f64::NAN;
    let e = err(&t);
    assert!(e.to_string().contains("segments[3].g_pas_s_cm2"), "{e}");

    let mut t = small();
    t.sections[0].kind = SectionKind::Basal;
    assert!(matches!(err(&t), ReduceError::Root(_)));

    let mut t = small();
    t.sections[1].segments.clear();
    assert!(matches!(
        err(&t),
        ReduceError::NoSegments { section: 1, .. }
    ));

    let mut t = small();
    t.sections[1].segments = vec![seg(0.0); 5];
    t.sections[2].segments = vec![seg(0.0); 5];
    assert!(matches!(
        err(&t),
        ReduceError::Degenerate { section: 1, .. }
    ));

    assert!(matches!(err(&CableTree::default()), ReduceError::Empty));
}

#[test]
fn typed_errors_for_bad_synapses_and_options() {
    let t = small();
    let syn = |section, x| Synapse {
        section,
        x,
        kind: "Exp2Syn".into(),
        params: vec![("e".into(), 0.0)],
    };
    let opts = ReduceOptions::default();
    for s in [syn(9, 0.5), syn(1, 1.5), syn(1, f64::NAN)] {
        assert!(matches!(
            reduce(&t, &[s], &opts),
            Err(ReduceError::InvalidSynapse { synapse: 0, .. })
        ));
    }
    let bad = ReduceOptions {
        frequency_hz: -1.0,
        ..Default::default()
    };
    assert!(matches!(
        reduce(&t, &[], &bad),
        Err(ReduceError::InvalidOption { .. })
    ));
}

#[test]
fn identical_synapses_in_one_segment_merge_and_keep_their_identity() {
    let t = small();
    let syn = |x: f64, e: f64| Synapse {
        section: if x < 0.2 { 1 } else { 2 },
        x,
        kind: "Exp2Syn".into(),
        params: vec![("e".into(), e), ("tau1".into(), 0.3), ("tau2".into(), 1.8)],
    };
    let syns = [syn(0.5, 0.0), syn(0.5, 0.0), syn(0.5, -80.0), syn(0.1, 0.0)];
    let r = reduce(&t, &syns, &ReduceOptions::default()).expect("reduce");
    let m = &r.synapse_map;
    assert_eq!(
        m[0].target, m[1].target,
        "same place, same parameters: merged"
    );
    assert_ne!(m[0].target, m[2].target, "different reversal: not merged");
    assert_eq!(r.synapses[m[0].target].members[..2], [0, 1]);
    // A proximal synapse maps closer to the soma than a distal one.
    assert!(m[3].x_mapped < m[0].x_mapped);
}

fn arb_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => 0.1f64..300.0,
        1 => Just(0.0),
        1 => Just(-1.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
    ]
}

fn arb_geometry() -> impl Strategy<Value = Geometry> {
    prop_oneof![
        arb_value().prop_map(|d| Geometry::Cylinder { diam_um: d / 50.0 }),
        prop::collection::vec((arb_value(), arb_value()), 0..6).prop_map(|pts| {
            let mut arc = 0.0;
            Geometry::Profile(
                pts.into_iter()
                    .map(|(step, d)| {
                        arc += step / 10.0;
                        reduce::ProfilePoint {
                            arc_um: arc,
                            diam_um: d / 50.0,
                        }
                    })
                    .collect(),
            )
        }),
    ]
}

fn arb_section(n: usize) -> impl Strategy<Value = Section> {
    (
        0..n + 2,
        prop::bool::weighted(0.1),
        0usize..5,
        arb_value(),
        arb_geometry(),
        0usize..5,
        prop_oneof![9 => 1e-6f64..1e-3, 1 => arb_value()],
        0.0f64..=1.0,
    )
        .prop_map(|(p, root, kind, l, geometry, nseg, g, x)| Section {
            name: "s".into(),
            kind: [
                SectionKind::Soma,
                SectionKind::Axon,
                SectionKind::Basal,
                SectionKind::Apical,
                SectionKind::Dendrite,
            ][kind],
            parent: (!root).then_some(p),
            parent_x: x,
            length_um: l,
            geometry,
            ra_ohm_cm: 100.0,
            segments: vec![seg(g); nseg],
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Arbitrary (often invalid) trees: an answer, never a panic.
    #[test]
    fn random_trees_never_panic(
        secs in (1usize..10).prop_flat_map(|n| prop::collection::vec(arb_section(n), n)),
        f in prop_oneof![Just(0.0), 0.0f64..100.0, Just(f64::NAN)],
        syns in prop::collection::vec((0usize..12, -0.5f64..1.5, 0.0f64..2.0), 0..5),
        total in prop_oneof![Just(-1.0), 0.0f64..1.5, 1.0f64..200.0, 1e6f64..1e12],
    ) {
        // The public geometry helpers take unvalidated sections too.
        for sec in &secs {
            let g = reduce::discretise::section_geometry(sec);
            prop_assert_eq!(g.len(), sec.nseg());
            let _ = sec.mid_segment();
        }
        let tree = CableTree { sections: secs };
        let _ = tree.total_area_um2();
        let syns: Vec<Synapse> = syns
            .into_iter()
            .map(|(section, x, e)| Synapse { section, x, kind: "S".into(), params: vec![("e".into(), e.floor())] })
            .collect();
        let opts = ReduceOptions {
            frequency_hz: f,
            segments: reduce::SegmentPolicy::from_manual(total),
            ..Default::default()
        };
        if let Ok(r) = reduce(&tree, &syns, &opts) {
            prop_assert_eq!(r.synapse_map.len(), syns.len());
            let members: usize = r.synapses.iter().map(|s| s.members.len()).sum();
            prop_assert_eq!(members, syns.len());
            for c in &r.cylinders {
                prop_assert!(c.length_um.is_finite() && c.length_um > 0.0);
                prop_assert!(c.diam_um.is_finite() && c.diam_um > 0.0);
            }
        }
    }

    /// A symmetric binary tree obeying Rall's 3/2 rule with equal electrotonic lengths at every
    /// level is equivalent to one cylinder of the root's diameter; the reduction must find it,
    /// which preserves the membrane area.
    #[test]
    fn rall_trees_reduce_to_their_equivalent_cylinder(
        levels in 1usize..4,
        d0 in 0.5f64..6.0,
        x_per_level in 0.1f64..0.5,
        g in 2e-5f64..2e-4,
        f in prop_oneof![Just(0.0), 1.0f64..40.0],
    ) {
        let ra = 100.0;
        let rm = 1.0 / g;
        let lambda = |d: f64| 1e4 * (rm * d * 1e-4 / (4.0 * ra)).sqrt();
        let mut sections = vec![sec("soma", SectionKind::Soma, None, 20.0, 20.0, 1)];
        let mut frontier = vec![0usize];
        let mut d = d0;
        let mut area_tree = 0.0;
        for level in 0..levels {
            let l = x_per_level * lambda(d);
            let copies = if level == 0 { 1 } else { 2 };
            let mut next = Vec::new();
            for &p in &frontier {
                for _ in 0..copies {
                    let mut s = sec("d", SectionKind::Basal, Some(p), l, d, 51);
                    s.segments = vec![seg(g); 51];
                    s.ra_ohm_cm = ra;
                    sections.push(s);
                    area_tree += std::f64::consts::PI * d * l;
                    next.push(sections.len() - 1);
                }
            }
            frontier = next;
            d /= 2f64.powf(2.0 / 3.0);
        }
        let tree = CableTree { sections };
        let opts = ReduceOptions { frequency_hz: f, ..Default::default() };
        let r = reduce(&tree, &[], &opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(r.cylinders.len(), 1);
        let c = &r.cylinders[0];
        let l_total = x_per_level * levels as f64;
        let area_cyl = std::f64::consts::PI * c.diam_um * c.length_um;
        prop_assert!((c.diam_um / d0 - 1.0).abs() < 2e-3, "diam {} vs {}", c.diam_um, d0);
        prop_assert!((c.electrotonic_length / l_total - 1.0).abs() < 2e-3, "L {} vs {}", c.electrotonic_length, l_total);
        prop_assert!((area_cyl / area_tree - 1.0).abs() < 3e-3, "area {} vs {}", area_cyl, area_tree);
        let area_red: f64 = reduce::discretise::section_geometry(&r.tree.sections[c.section]).iter().map(|s| s.area_um2).sum();
        prop_assert!((area_red / area_cyl - 1.0).abs() < 1e-12);
    }
}
