//! Segment-count rules (SPEC §6) and the "mechanism inserted per section" rule (SPEC §8).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use reduce::cylinder::{default_nseg, proportional_nseg, round_half_even};
use reduce::{
    reduce, CableTree, Geometry, ReduceOptions, Section, SectionKind, Segment, SegmentPolicy,
};

fn seg(values: &[(&str, f64)]) -> Segment {
    Segment {
        cm_uf_cm2: 1.0,
        g_pas_s_cm2: 1e-4,
        e_pas_mv: -70.0,
        values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    }
}

fn sec(
    name: &str,
    kind: SectionKind,
    parent: Option<usize>,
    l: f64,
    d: f64,
    segs: Vec<Segment>,
) -> Section {
    Section {
        name: name.into(),
        kind,
        parent,
        parent_x: if parent == Some(0) { 0.5 } else { 1.0 },
        length_um: l,
        geometry: Geometry::Cylinder { diam_um: d },
        ra_ohm_cm: 100.0,
        segments: segs,
    }
}

#[test]
fn python_rounding_and_default_rule() {
    assert_eq!(round_half_even(2.5), 2.0);
    assert_eq!(round_half_even(3.5), 4.0);
    assert_eq!(round_half_even(0.5), 0.0);
    assert_eq!(round_half_even(2.6), 3.0);
    // SPEC §6 examples: L = 1.9229 → 19, L = 0.0585 → 1.
    assert_eq!(default_nseg(1.922939), 19);
    assert_eq!(default_nseg(0.058458), 1);
    assert_eq!(default_nseg(0.2), 3);
    // Proportional: 10 over L = (1, 2, 0.5) → 2.857, 5.714, 1.429 → 3, 6, 1.
    assert_eq!(proportional_nseg(&[1.0, 2.0, 0.5], 10), vec![3, 6, 1]);
    // Ties go to even, and never below 1.
    assert_eq!(proportional_nseg(&[1.0, 1.0], 5), vec![2, 2]);
    assert_eq!(proportional_nseg(&[1.0, 1e-6], 3), vec![3, 1]);
}

fn two_stems() -> CableTree {
    CableTree {
        sections: vec![
            sec("soma", SectionKind::Soma, None, 20.0, 20.0, vec![seg(&[])]),
            sec(
                "apic",
                SectionKind::Apical,
                Some(0),
                800.0,
                2.0,
                vec![seg(&[]); 41],
            ),
            sec(
                "dend",
                SectionKind::Basal,
                Some(0),
                300.0,
                1.0,
                vec![seg(&[]); 15],
            ),
        ],
    }
}

#[test]
fn total_and_fraction_policies() {
    let t = two_stems();
    let nsegs = |p: SegmentPolicy| -> Vec<usize> {
        let o = ReduceOptions {
            segments: p,
            ..Default::default()
        };
        reduce(&t, &[], &o)
            .unwrap()
            .cylinders
            .iter()
            .map(|c| c.nseg)
            .collect()
    };
    let default = nsegs(SegmentPolicy::Default);
    let l: Vec<f64> = reduce(&t, &[], &ReduceOptions::default())
        .unwrap()
        .cylinders
        .iter()
        .map(|c| c.electrotonic_length)
        .collect();
    assert_eq!(
        default,
        l.iter().map(|&x| default_nseg(x)).collect::<Vec<_>>()
    );
    // Absolute total N: N − 1 segments in proportion to L.
    assert_eq!(nsegs(SegmentPolicy::Total(21)), proportional_nseg(&l, 20));
    assert_eq!(
        nsegs(SegmentPolicy::from_manual(21.0)),
        proportional_nseg(&l, 20)
    );
    // Fraction 1 of 56 original dendritic segments: default total is smaller → N = 56.
    assert!(default.iter().sum::<usize>() < 56);
    assert_eq!(
        nsegs(SegmentPolicy::Fraction(1.0)),
        proportional_nseg(&l, 55)
    );
    // A small fraction leaves the default rule.
    assert_eq!(nsegs(SegmentPolicy::Fraction(0.01)), default);
    assert_eq!(SegmentPolicy::from_manual(-1.0), SegmentPolicy::Default);
}

#[test]
fn a_mechanism_present_anywhere_on_a_cylinder_is_present_everywhere() {
    // Channel only on the proximal half of one long stem; the distal cylinder segments
    // receive no original segment that has it.
    let mut segs = vec![seg(&[("gbar_x", 0.02)]); 10];
    segs.extend(vec![seg(&[]); 31]);
    let t = CableTree {
        sections: vec![
            sec("soma", SectionKind::Soma, None, 20.0, 20.0, vec![seg(&[])]),
            sec("apic", SectionKind::Apical, Some(0), 1500.0, 2.0, segs),
        ],
    };
    let r = reduce(&t, &[], &ReduceOptions::default()).unwrap();
    let cyl = &r.tree.sections[r.cylinders[0].section];
    assert_eq!(cyl.segments[0].values.get("gbar_x"), Some(&0.02));
    let last = cyl.segments.last().unwrap();
    assert_eq!(
        last.values.get("gbar_x"),
        None,
        "no default given: left unset"
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("gbar_x")),
        "{:?}",
        r.warnings
    );
    let with_default = ReduceOptions {
        defaults: BTreeMap::from([("gbar_x".to_string(), 0.5)]),
        ..Default::default()
    };
    let r = reduce(&t, &[], &with_default).unwrap();
    let cyl = &r.tree.sections[r.cylinders[0].section];
    assert_eq!(
        cyl.segments.last().unwrap().values.get("gbar_x"),
        Some(&0.5)
    );
    assert_eq!(cyl.segments[0].values.get("gbar_x"), Some(&0.02));
}
