//! Discretisation against closed forms and NEURON's numbers from shared/reference and
//! shared/reduce (copied into tests/data).
#![allow(clippy::unwrap_used)]

use morpho_grow::*;
use std::collections::HashMap;
use std::f64::consts::PI;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

/// R of a cylinder in MΩ: 4·Ra·ℓ/(π d²) · 1e-2 (Ra Ω·cm, ℓ and d µm).
fn r_cyl(ra: f64, len: f64, d: f64) -> f64 {
    4.0 * ra * len / (PI * d * d) * 1e-2
}

#[test]
fn cylinder_area_and_ri_closed_forms() {
    let mut m = Morphology::new();
    let s = m.add_cylinder(SampleType::Basal, None, 100.0, 2.0).unwrap();
    let d = Discretisation::new(&m, &[4], &CableParams::uniform(&m, 150.0, 1.0)).unwrap();
    let sn = d.section_nodes(0, s).unwrap();
    assert_eq!(d.nodes().len(), 6);
    for i in 0..4 {
        let n = &d.nodes()[(sn.first_centre + i) as usize];
        assert!(close(n.area_um2, PI * 2.0 * 25.0, 1e-12));
        let expect = if i == 0 {
            r_cyl(150.0, 12.5, 2.0)
        } else {
            r_cyl(150.0, 25.0, 2.0)
        };
        assert!(
            close(n.r_axial_mohm, expect, 1e-12),
            "{} vs {}",
            n.r_axial_mohm,
            expect
        );
        assert!(close(n.x, (i as f64 + 0.5) / 4.0, 1e-15));
        // capacitance nF = cm·area·1e-5
        assert!(close(n.capacitance_nf(), PI * 50.0 * 1e-5, 1e-12));
    }
    let end = &d.nodes()[sn.end as usize];
    assert_eq!(end.kind, NodeKind::End1);
    assert_eq!(end.area_um2, 0.0);
    assert!(close(end.r_axial_mohm, r_cyl(150.0, 12.5, 2.0), 1e-12));
    // a hand number: 4·150·12.5/(π·4)·1e-2 = 5.968310365946075 MΩ
    assert!(close(end.r_axial_mohm, 5.968_310_365_946_075, 1e-12));
    assert!(close(end.g_axial_us(), 1.0 / 5.968_310_365_946_075, 1e-12));
    let root = &d.nodes()[sn.start as usize];
    assert_eq!(
        (root.kind, root.parent, root.area_um2),
        (NodeKind::End0, None, 0.0)
    );
}

#[test]
fn frustum_area_and_ri_closed_forms() {
    // d from 4 to 2 over 30 µm, one segment and three segments.
    let (l, d0, d1, ra) = (30.0, 4.0, 2.0, 100.0);
    let mut m = Morphology::new();
    m.add_frustum(SampleType::Apical, None, l, d0, d1).unwrap();
    let lateral =
        |a: f64, b: f64, h: f64| PI * (a + b) / 2.0 * (h * h + (a - b).powi(2) / 4.0).sqrt();
    let dia = |s: f64| d0 + (d1 - d0) * s / l;
    // ∫dx/d² over a linear piece = h/(d_a·d_b)
    let rint = |s0: f64, s1: f64| 4.0 * ra / PI * 1e-2 * (s1 - s0) / (dia(s0) * dia(s1));
    let one = Discretisation::new(&m, &[1], &CableParams::uniform(&m, ra, 1.0)).unwrap();
    assert!(close(one.nodes()[1].area_um2, lateral(d0, d1, l), 1e-12));
    assert!(close(one.nodes()[1].r_axial_mohm, rint(0.0, 15.0), 1e-12));
    assert!(close(one.nodes()[2].r_axial_mohm, rint(15.0, 30.0), 1e-12));
    let three = Discretisation::new(&m, &[3], &CableParams::uniform(&m, ra, 1.0)).unwrap();
    for i in 0..3 {
        let s0 = 10.0 * i as f64;
        assert!(close(
            three.nodes()[1 + i].area_um2,
            lateral(dia(s0), dia(s0 + 10.0), 10.0),
            1e-12
        ));
    }
    assert!(close(three.nodes()[2].r_axial_mohm, rint(5.0, 15.0), 1e-12));
    // total area is independent of nseg
    assert!(close(three.total_area_um2(), lateral(d0, d1, l), 1e-12));
}

#[test]
fn piecewise_points_split_across_segments() {
    // Two cylinders end to end (d 2 then d 1, 10 µm each) with a diameter step at 10 µm, as
    // 3-D points; 3 segments cut at 20/3 and 40/3.
    let pts = vec![
        Point3::new(0.0, 0.0, 0.0, 2.0),
        Point3::new(10.0, 0.0, 0.0, 2.0),
        Point3::new(10.0, 0.0, 0.0, 1.0),
        Point3::new(20.0, 0.0, 0.0, 1.0),
    ];
    let mut m = Morphology::new();
    m.add_points(SampleType::Basal, None, pts).unwrap();
    assert!(close(m.sections()[0].length_um(), 20.0, 1e-15));
    let d = Discretisation::new(&m, &[3], &CableParams::uniform(&m, 100.0, 1.0)).unwrap();
    let seg = 20.0 / 3.0;
    let annulus = PI * (1.0 - 0.25);
    assert!(close(d.nodes()[1].area_um2, PI * 2.0 * seg, 1e-12));
    assert!(close(
        d.nodes()[2].area_um2,
        PI * 2.0 * (10.0 - seg) + annulus + PI * (2.0 * seg - 10.0),
        1e-12
    ));
    assert!(close(d.nodes()[3].area_um2, PI * seg, 1e-12));
    // node 2's path: 10/3 µm of d=2 from the centre of seg 0 to the boundary, then
    // 10 - 20/3 = 10/3 µm of d=2 and 10/3 µm... : from 10/3 to 10 (d 2) and 10 to 10 (d 1)
    let r2 = 4.0 * 100.0 / PI * 1e-2 * ((10.0 - seg / 2.0) / 4.0 + (seg * 1.5 - 10.0) / 1.0);
    assert!(close(d.nodes()[2].r_axial_mohm, r2, 1e-12));
}

#[test]
fn hh_soma_layout_and_area() {
    // reference/hh_soma/model.md: L = diam = 20 µm, nseg 1, area π·20·20 = 1256.637 µm².
    let mut m = Morphology::new();
    let soma = m.add_cylinder(SampleType::Soma, None, 20.0, 20.0).unwrap();
    let d = Discretisation::new(&m, &[1], &CableParams::uniform(&m, 100.0, 1.0)).unwrap();
    assert_eq!(d.nodes().len(), 3);
    let c = d.node_at(0, soma, 0.5).unwrap() as usize;
    assert!((d.nodes()[c].area_um2 - 1256.637).abs() < 5e-4);
    assert_eq!(d.nodes().iter().filter(|n| n.area_um2 > 0.0).count(), 1);
    assert_eq!(m.sections()[0].name(), "soma[0]");
}

#[test]
fn hh_axon_positions_and_end_resistance() {
    // reference/hh_axon/model.md: L 10000, d 1, Ra 100, nseg 501/1503/2505; recordings at
    // x = 0.250499 / 0.5 / 0.749501 are centres of segments 125/250/375 of 501 and remain centres.
    let mut m = Morphology::new();
    let ax = m
        .add_cylinder(SampleType::Axon, None, 10000.0, 1.0)
        .unwrap();
    for (nseg, factor) in [(501u32, 1u32), (1503, 3), (2505, 5)] {
        let d = Discretisation::new(&m, &[nseg], &CableParams::uniform(&m, 100.0, 1.0)).unwrap();
        assert_eq!(d.nodes().len(), nseg as usize + 2);
        let sn = d.section_nodes(0, ax).unwrap();
        for (x, seg501) in [(0.250499, 125u32), (0.5, 250), (0.749501, 375)] {
            let node = d.node_at(0, ax, x).unwrap();
            assert_eq!(
                node - sn.first_centre,
                seg501 * factor + (factor - 1) / 2,
                "x={x} nseg={nseg}"
            );
            assert!((d.nodes()[node as usize].x - x).abs() < 1e-6);
        }
        // x = 0 is the zero-area root node, joined to centre 0 by half a segment
        let n0 = d.node_at(0, ax, 0.0).unwrap();
        assert_eq!(d.nodes()[n0 as usize].kind, NodeKind::End0);
        let c0 = &d.nodes()[sn.first_centre as usize];
        assert_eq!(c0.parent, Some(n0));
        assert!(close(
            c0.r_axial_mohm,
            r_cyl(100.0, 10000.0 / nseg as f64 / 2.0, 1.0),
            1e-12
        ));
        assert_eq!(
            d.nodes()[d.node_at(0, ax, 1.0).unwrap() as usize].kind,
            NodeKind::End1
        );
    }
}

/// DC voltage (mV) at every node for a current (nA) into `inj`, with leak g (S/cm²) on the
/// membrane: tree Gaussian elimination, children after parents.
fn dc_solve(d: &Discretisation, g_s_per_cm2: f64, inj: usize, i_na: f64) -> Vec<f64> {
    let n = d.nodes().len();
    let mut diag = vec![0.0; n];
    let mut rhs = vec![0.0; n];
    let mut off = vec![0.0; n];
    for (k, node) in d.nodes().iter().enumerate() {
        // µS: g[S/cm²]·area[µm²]·1e-8 cm²/µm² · 1e6 µS/S
        diag[k] += g_s_per_cm2 * node.area_um2 * 1e-2;
        if let Some(p) = node.parent {
            let ga = node.g_axial_us();
            diag[k] += ga;
            diag[p as usize] += ga;
            off[k] = -ga;
        }
    }
    rhs[inj] = i_na;
    for k in (0..n).rev() {
        if let Some(p) = d.nodes()[k].parent {
            let f = off[k] / diag[k];
            diag[p as usize] -= f * off[k];
            rhs[p as usize] -= f * rhs[k];
        }
    }
    let mut v = vec![0.0; n];
    for k in 0..n {
        let up = d.nodes()[k].parent.map_or(0.0, |p| off[k] * v[p as usize]);
        v[k] = (rhs[k] - up) / diag[k];
    }
    v
}

fn passive_y() -> (Morphology, [SectionId; 3]) {
    let mut m = Morphology::new();
    let trunk = m.add_cylinder(SampleType::Basal, None, 200.0, 2.0).unwrap();
    let c1 = m
        .add_cylinder(SampleType::Basal, Some((trunk, 1.0)), 150.0, 1.0)
        .unwrap();
    let c2 = m
        .add_cylinder(SampleType::Basal, Some((trunk, 1.0)), 300.0, 0.5)
        .unwrap();
    (m, [trunk, c1, c2])
}

#[test]
fn passive_y_layout_and_steady_state() {
    // reference/passive_y/model.md: 67 segments + 4 zero-area nodes; steady state for 0.05 nA
    // at the c1 tip: analytic 31.42972 / 23.16152 / 22.26497 / 16.75790 mV, NEURON default
    // (nseg 21/15/31) at t = 105 ms 31.43024 / 23.16174 / 22.26516 / 16.75808 mV.
    let (m, [trunk, c1, c2]) = passive_y();
    let d = Discretisation::new(&m, &[21, 15, 31], &CableParams::uniform(&m, 100.0, 1.0)).unwrap();
    assert_eq!(d.nodes().iter().filter(|n| !n.is_end_node()).count(), 67);
    assert_eq!(d.nodes().iter().filter(|n| n.is_end_node()).count(), 4);
    let bp = d.node_at(0, trunk, 1.0).unwrap();
    assert_eq!(d.node_at(0, c1, 0.0).unwrap(), bp);
    assert_eq!(d.node_at(0, c2, 0.0).unwrap(), bp);
    let tip = d.node_at(0, c1, 1.0).unwrap() as usize;
    let v = dc_solve(&d, 1e-4, tip, 0.05);
    let sites = [
        (tip, 31.42972, 31.43024),
        (bp as usize, 23.16152, 23.16174),
        (
            d.node_at(0, trunk, 0.0).unwrap() as usize,
            22.26497,
            22.26516,
        ),
        (d.node_at(0, c2, 1.0).unwrap() as usize, 16.75790, 16.75808),
    ];
    for (node, analytic, neuron) in sites {
        // vs analytic: discretisation error only; vs NEURON: NEURON is 10 τm into the step, so
        // it sits ≈ e^-10·ΔV ≈ 1.4e-3 mV below its own DC value.
        assert!(
            (v[node] - analytic).abs() < 2e-3,
            "{} vs {analytic}",
            v[node]
        );
        let below = v[node] - neuron;
        assert!(below > 0.0 && below < 2e-3, "{} vs {neuron}", v[node]);
        println!(
            "passive_y node {node}: dc {:.5} analytic {analytic} NEURON(t=105) {neuron}",
            v[node]
        );
    }
    // input resistance at the tip: analytic 628.594 MΩ
    assert!((v[tip] / 0.05 - 628.594).abs() < 0.05);
}

#[test]
fn ball_and_stick_and_ring10_layout() {
    // reference/ball_and_stick_syn/model.md: soma 20×20 nseg 1, dend 500×2 nseg 21 (105),
    // dend(0) on soma(1); synapse at x = 16.5/21 = centre of segment 16 (of 21) / 82 (of 105).
    let mut m = Morphology::new();
    let soma = m.add_cylinder(SampleType::Soma, None, 20.0, 20.0).unwrap();
    let dend = m
        .add_cylinder(SampleType::Basal, Some((soma, 1.0)), 500.0, 2.0)
        .unwrap();
    for (nseg, seg) in [(21u32, 16u32), (105, 82)] {
        let d = Discretisation::new(&m, &[1, nseg], &CableParams::uniform(&m, 100.0, 1.0)).unwrap();
        assert_eq!(d.nodes().len(), 1 + nseg as usize + 3);
        let sn = d.section_nodes(0, dend).unwrap();
        assert_eq!(
            d.node_at(0, dend, 16.5 / 21.0).unwrap(),
            sn.first_centre + seg
        );
        assert_eq!(sn.start, d.node_at(0, soma, 1.0).unwrap());
        // soma centre → soma(1) end: half the soma; soma(1) → dend centre 0: half a dend segment
        let end = &d.nodes()[sn.start as usize];
        assert!(close(end.r_axial_mohm, r_cyl(100.0, 10.0, 20.0), 1e-12));
        assert!(close(
            d.nodes()[sn.first_centre as usize].r_axial_mohm,
            r_cyl(100.0, 250.0 / nseg as f64, 2.0),
            1e-12
        ));
    }
    // ring10: 10 identical cells, soma 20×20 nseg 1 + dend 200×1 nseg 9; synapse dend(0.5) =
    // centre of segment 4 of 9; "10 compartments per cell".
    let mut cell = Morphology::new();
    let soma = cell
        .add_cylinder(SampleType::Soma, None, 20.0, 20.0)
        .unwrap();
    let dend = cell
        .add_cylinder(SampleType::Basal, Some((soma, 1.0)), 200.0, 1.0)
        .unwrap();
    let params = CableParams::uniform(&cell, 100.0, 1.0);
    let one = Discretisation::new(&cell, &[1, 9], &params).unwrap();
    let mut ring = Discretisation::default();
    for _ in 0..10 {
        ring.append(&one);
    }
    assert_eq!(ring.cell_count(), 10);
    assert_eq!(
        ring.nodes().iter().filter(|n| n.area_um2 > 0.0).count(),
        100
    );
    assert_eq!(
        ring.nodes().iter().filter(|n| n.parent.is_none()).count(),
        10
    );
    for (k, n) in ring.nodes().iter().enumerate() {
        if let Some(p) = n.parent {
            assert!((p as usize) < k);
            assert_eq!(ring.nodes()[p as usize].cell, n.cell);
        }
    }
    for c in 0..10u32 {
        let syn = ring.node_at(c, dend, 0.5).unwrap();
        assert_eq!(syn, ring.section_nodes(c, dend).unwrap().first_centre + 4);
        assert_eq!(ring.nodes()[syn as usize].cell, c);
        assert_eq!(ring.nodes()[syn as usize].x, 4.5 / 9.0);
    }
    // push_cell gives the same as append
    let mut r2 = Discretisation::default();
    for _ in 0..10 {
        r2.push_cell(&cell, &[1, 9], &params).unwrap();
    }
    assert_eq!(r2, ring);
}

#[test]
fn lookup_edge_cases() {
    let mut m = Morphology::new();
    let a = m.add_cylinder(SampleType::Basal, None, 100.0, 1.0).unwrap();
    let b = m
        .add_cylinder(SampleType::Basal, Some((a, 0.3)), 50.0, 1.0)
        .unwrap();
    let c = m
        .add_cylinder(SampleType::Basal, Some((b, 0.0)), 50.0, 1.0)
        .unwrap();
    let d = Discretisation::new(&m, &[4, 2, 1], &CableParams::uniform(&m, 100.0, 1.0)).unwrap();
    let sa = d.section_nodes(0, a).unwrap();
    // boundaries go to the distal segment: 0.25 → seg 1, 0.5 → seg 2; 1-1e-12 → last
    assert_eq!(d.node_at(0, a, 0.25).unwrap(), sa.first_centre + 1);
    assert_eq!(d.node_at(0, a, 0.5).unwrap(), sa.first_centre + 2);
    assert_eq!(d.node_at(0, a, 1.0 - 1e-12).unwrap(), sa.first_centre + 3);
    assert_eq!(d.node_at(0, a, 1e-12).unwrap(), sa.first_centre);
    assert_eq!(d.node_at(0, a, 0.0).unwrap(), sa.start);
    // b attached at a(0.3) → centre of a's segment 1; b(0) is that node
    assert_eq!(d.node_at(0, b, 0.0).unwrap(), sa.first_centre + 1);
    // c attached at b(0) → whatever b(0) is: a's segment 1 centre
    assert_eq!(d.node_at(0, c, 0.0).unwrap(), sa.first_centre + 1);
    assert!(matches!(
        d.node_at(0, a, 1.5),
        Err(MorphoError::BadX { .. })
    ));
    assert!(matches!(
        d.node_at(0, a, f64::NAN),
        Err(MorphoError::BadX { .. })
    ));
    assert_eq!(d.node_at(0, a, -0.0).unwrap(), sa.start);
    assert!(matches!(
        d.node_at(0, SectionId(9), 0.5),
        Err(MorphoError::UnknownSection { .. })
    ));
    assert!(matches!(
        d.node_at(3, a, 0.5),
        Err(MorphoError::UnknownCell { index: 3, count: 1 })
    ));
}

#[test]
fn builder_rejects_bad_geometry() {
    let mut m = Morphology::new();
    for (l, d) in [
        (0.0, 1.0),
        (-1.0, 1.0),
        (f64::NAN, 1.0),
        (1.0, 0.0),
        (1.0, f64::INFINITY),
        (1.0, -2.0),
    ] {
        assert!(
            matches!(
                m.add_cylinder(SampleType::Basal, None, l, d),
                Err(MorphoError::BadValue { .. })
            ),
            "{l} {d}"
        );
    }
    let s = m.add_cylinder(SampleType::Soma, None, 10.0, 10.0).unwrap();
    assert!(matches!(
        m.add_cylinder(SampleType::Basal, Some((s, 1.01)), 1.0, 1.0),
        Err(MorphoError::BadX { .. })
    ));
    assert!(matches!(
        m.add_cylinder(SampleType::Basal, Some((s, -0.1)), 1.0, 1.0),
        Err(MorphoError::BadX { .. })
    ));
    assert!(matches!(
        m.add_cylinder(SampleType::Basal, Some((SectionId(7), 0.5)), 1.0, 1.0),
        Err(MorphoError::UnknownSection { index: 7, count: 1 })
    ));
    assert!(matches!(
        m.add_frustum(SampleType::Basal, None, 1.0, 1.0, 0.0),
        Err(MorphoError::BadValue { .. })
    ));
    let p = Point3::new(1.0, 1.0, 1.0, 1.0);
    assert!(matches!(
        m.add_points(SampleType::Basal, None, vec![p]),
        Err(MorphoError::DegenerateSection { .. })
    ));
    assert!(matches!(
        m.add_points(SampleType::Basal, None, vec![p, p]),
        Err(MorphoError::DegenerateSection { .. })
    ));
    let q = Point3::new(f64::NAN, 0.0, 0.0, 1.0);
    assert!(matches!(
        m.add_points(SampleType::Basal, None, vec![p, q]),
        Err(MorphoError::BadValue { .. })
    ));
    // names
    let d0 = m
        .add_cylinder(SampleType::Basal, Some((s, 0.5)), 10.0, 1.0)
        .unwrap();
    let d1 = m
        .add_cylinder(SampleType::Basal, Some((s, 0.5)), 10.0, 1.0)
        .unwrap();
    let ax = m
        .add_cylinder(SampleType::Axon, Some((s, 0.0)), 10.0, 1.0)
        .unwrap();
    let o = m
        .add_cylinder(SampleType::Other(7), Some((s, 0.0)), 10.0, 1.0)
        .unwrap();
    let names: Vec<_> = [s, d0, d1, ax, o]
        .iter()
        .map(|i| m.section(*i).unwrap().name().to_string())
        .collect();
    assert_eq!(
        names,
        ["soma[0]", "dend[0]", "dend[1]", "axon[0]", "type7[0]"]
    );
    assert!(matches!(
        m.set_name(d1, "dend[0]"),
        Err(MorphoError::DuplicateName(_))
    ));
    m.set_name(d1, "oblique").unwrap();
    assert_eq!(m.find("oblique"), Some(d1));
    // the child starts where it is attached
    let p0 = m.section(d0).unwrap().points()[0];
    assert_eq!((p0.x, p0.y, p0.z), (5.0, 0.0, 0.0));
    // nseg / params list checks
    let params = CableParams::uniform(&m, 100.0, 1.0);
    assert!(matches!(
        Discretisation::new(&m, &[1], &params),
        Err(MorphoError::LengthMismatch { .. })
    ));
    assert!(matches!(
        Discretisation::new(&m, &[1, 0, 1, 1, 1], &params),
        Err(MorphoError::ZeroNseg { section: 1 })
    ));
}

#[test]
fn d_lambda_and_max_length_by_hand() {
    // λ_f(100 Hz) = 1e5·√(d/(4π·100·Ra·cm)), Ra 100, cm 1: d=2 → 398.942 µm, d=1 → 282.095,
    // d=0.5 → 199.471; nseg = int((L/(0.1 λ)+0.9)/2)·2+1:
    // trunk 200/39.894=5.013 → int(2.957)=2 → 5; c1 150/28.209=5.317 → 3 → 7;
    // c2 300/19.947=15.04 → 7 → 15; hh_axon 10000/28.209=354.5 → 177 → 355.
    let (m, _) = passive_y();
    let p = CableParams::uniform(&m, 100.0, 1.0);
    assert!(close(
        lambda_f_um(&m.sections()[0], p[0], 100.0).unwrap(),
        398.942_280_4,
        1e-8
    ));
    assert_eq!(nseg_d_lambda(&m, &p, 0.1, 100.0).unwrap(), vec![5, 7, 15]);
    let mut ax = Morphology::new();
    ax.add_cylinder(SampleType::Axon, None, 10000.0, 1.0)
        .unwrap();
    assert_eq!(
        nseg_d_lambda(&ax, &CableParams::uniform(&ax, 100.0, 1.0), 0.1, 100.0).unwrap(),
        vec![355]
    );
    // a short soma gets 1
    let mut s = Morphology::new();
    s.add_cylinder(SampleType::Soma, None, 20.0, 20.0).unwrap();
    assert_eq!(
        nseg_d_lambda(&s, &CableParams::uniform(&s, 100.0, 1.0), 0.1, 100.0).unwrap(),
        vec![1]
    );
    // tapered: 3-D points use the piecewise mean diameter. Frustum 4→2 over 300 µm as 2 points:
    // Σ Δx/√(d1+d2) = 300/√6; lam = that·√2·1e-5·√(4π·100·100) → λ_f = L/lam
    let mut t = Morphology::new();
    t.add_frustum(SampleType::Basal, None, 300.0, 4.0, 2.0)
        .unwrap();
    let k = 2f64.sqrt() * 1e-5 * (4.0 * PI * 100.0 * 100.0f64).sqrt();
    let lam = 300.0 / (300.0 / 6f64.sqrt() * k);
    assert!(close(
        lambda_f_um(
            &t.sections()[0],
            CableParams::uniform(&t, 100.0, 1.0)[0],
            100.0
        )
        .unwrap(),
        lam,
        1e-12
    ));
    // lam = 1e5·√(3/(4π·1e4)) = 488.603 → 300/48.86 = 6.14 → int(3.52)=3 → 7
    assert_eq!(
        nseg_d_lambda(&t, &CableParams::uniform(&t, 100.0, 1.0), 0.1, 100.0).unwrap(),
        vec![7]
    );
    // maximum compartment length
    assert_eq!(nseg_max_length(&m, 20.0).unwrap(), vec![10, 8, 15]);
    assert_eq!(nseg_max_length(&m, 1000.0).unwrap(), vec![1, 1, 1]);
    assert_eq!(nseg_max(&[5, 7, 15], &[10, 8, 15]), vec![10, 8, 15]);
    assert!(nseg_max_length(&m, 0.0).is_err());
    assert!(nseg_d_lambda(&m, &p, -0.1, 100.0).is_err());
    assert!(nseg_d_lambda(&m, &p, 0.1, f64::NAN).is_err());
}

// ---- NEURON per-segment areas of two real cells (reduce/*/sections.csv, full_segments.csv) ----

struct Sample {
    p: Point3,
}

fn read_samples(text: &str) -> HashMap<i64, Sample> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<f64> = line
            .split_whitespace()
            .map(|t| t.parse().unwrap())
            .collect();
        out.insert(
            f[0] as i64,
            Sample {
                p: Point3::new(f[2], f[3], f[4], 2.0 * f[5]),
            },
        );
    }
    out
}

/// Build NEURON's sections from the section table (each section = its own run of samples,
/// attached at parent(parent_x)) with NEURON's nseg. With `root`, only that section (made a
/// root) and its descendants.
fn build_neuron_cell(
    swc: &str,
    sections_csv: &str,
    root: Option<&str>,
) -> (
    Morphology,
    HashMap<String, SectionId>,
    Vec<u32>,
    Vec<Vec<String>>,
) {
    let samples = read_samples(swc);
    let rows: Vec<Vec<String>> = sections_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let mut m = Morphology::new();
    let mut ids: HashMap<String, SectionId> = HashMap::new();
    let mut nseg = Vec::new();
    let mut pending: Vec<&Vec<String>> = rows.iter().collect();
    if let Some(r) = root {
        // keep the root and sections whose ancestry reaches it
        let parent_of: HashMap<&str, &str> = rows
            .iter()
            .map(|r| (r[0].as_str(), r[2].as_str()))
            .collect();
        pending.retain(|row| {
            let mut cur = row[0].as_str();
            loop {
                if cur == r {
                    return true;
                }
                match parent_of.get(cur) {
                    Some(p) if !p.is_empty() => cur = p,
                    _ => return false,
                }
            }
        });
    }
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|r| {
            let parent = if r[2].is_empty() || Some(r[0].as_str()) == root {
                None
            } else if let Some(p) = ids.get(&r[2]) {
                Some((*p, r[3].parse::<f64>().unwrap()))
            } else {
                return true;
            };
            let (a, b): (i64, i64) = (r[7].parse().unwrap(), r[8].parse().unwrap());
            let pts: Vec<Point3> = (a..=b).map(|i| samples[&i].p).collect();
            let kind = SampleType::from_code(r[1].parse().unwrap());
            let id = m.add_points(kind, parent, pts).unwrap();
            m.set_name(id, &format!("tmp{}", id.0)).unwrap();
            ids.insert(r[0].clone(), id);
            nseg.push(r[5].parse::<u32>().unwrap());
            false
        });
        assert!(pending.len() < before, "unresolvable parents");
    }
    (m, ids, nseg, rows)
}

/// Build the whole cell, discretise with NEURON's nseg, and compare every segment's area
/// with NEURON's.
fn compare_cell(
    swc: &str,
    sections_csv: &str,
    areas_csv: &str,
    expect_sections: usize,
    expect_segments: usize,
) -> (f64, f64, f64) {
    let (m, ids, nseg, rows) = build_neuron_cell(swc, sections_csv, None);
    assert_eq!(m.len(), expect_sections);
    // section L and area vs NEURON's table
    for r in &rows {
        let s = m.section(ids[&r[0]]).unwrap();
        assert!(
            (s.length_um() - r[4].parse::<f64>().unwrap()).abs() < 1e-3,
            "{} L {} vs {}",
            r[0],
            s.length_um(),
            r[4]
        );
        assert!(
            close(s.area_um2(), r[9].parse().unwrap(), 1e-4),
            "{} area {} vs {}",
            r[0],
            s.area_um2(),
            r[9]
        );
    }
    let d = Discretisation::new(&m, &nseg, &CableParams::uniform(&m, 100.0, 1.0)).unwrap();
    let mut worst = 0.0f64;
    let mut count = 0;
    let (mut ours, mut neuron) = (0.0, 0.0);
    for line in areas_csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let x: f64 = f[1].parse().unwrap();
        let a: f64 = f[2].parse().unwrap();
        let node = d.node_at(0, ids[f[0]], x).unwrap() as usize;
        let got = d.nodes()[node].area_um2;
        worst = worst.max((got - a).abs() / a);
        ours += got;
        neuron += a;
        count += 1;
    }
    assert_eq!(count, expect_segments);
    assert_eq!(
        d.nodes().iter().filter(|n| !n.is_end_node()).count(),
        expect_segments
    );
    (worst, ours, neuron)
}

#[test]
fn hay_l5pc_segment_areas_match_neuron() {
    let (worst, ours, neuron) = compare_cell(
        include_str!("data/hay_l5pc_sections.swc"),
        include_str!("data/hay_l5pc_sections.csv"),
        include_str!("data/hay_l5pc_segment_areas.csv"),
        196,
        642,
    );
    println!("hay: worst per-segment relative area error {worst:.3e}; total {ours:.3} vs NEURON {neuron:.3}");
    assert!(worst < 1e-3);
    assert!(close(ours, 31192.170, 1e-6));
}

#[test]
fn allen_segment_areas_match_neuron() {
    let (worst, ours, neuron) = compare_cell(
        include_str!("data/allen_483108201_sections.swc"),
        include_str!("data/allen_483108201_sections.csv"),
        include_str!("data/allen_483108201_segment_areas.csv"),
        113,
        285,
    );
    println!("allen: worst per-segment relative area error {worst:.3e}; total {ours:.3} vs NEURON {neuron:.3}");
    assert!(worst < 1e-3);
    assert!(close(ours, 6586.452, 1e-6));
}

/// NEURON's DC input resistance of every isolated passive subtree (reduce/*/reduced_f0/
/// subtrees.csv: `Impedance` at the root section's 0-end, on NEURON's own discretisation, Rm
/// uniform in the subtree) against ours: this checks `ri` on real tapered 3-D sections.
fn compare_subtree_impedance(swc: &str, sections_csv: &str, imp_csv: &str) -> f64 {
    let mut worst = 0.0f64;
    for line in imp_csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (root, rm, ra): (&str, f64, f64) = (f[1], f[2].parse().unwrap(), f[3].parse().unwrap());
        let (zin, zmin): (f64, f64) = (
            f[6].parse::<f64>().unwrap() * 1e-6,
            f[9].parse::<f64>().unwrap() * 1e-6,
        );
        let (m, ids, nseg, _) = build_neuron_cell(swc, sections_csv, Some(root));
        let d = Discretisation::new(&m, &nseg, &CableParams::uniform(&m, ra, 1.0)).unwrap();
        let r0 = d.node_at(0, ids[root], 0.0).unwrap() as usize;
        let v = dc_solve(&d, 1.0 / rm, r0, 1.0); // 1 nA → mV = MΩ
        let tips_min = m
            .ids()
            .map(|s| v[d.node_at(0, s, 1.0).unwrap() as usize])
            .fold(f64::INFINITY, f64::min);
        let (e_in, e_min) = ((v[r0] - zin).abs() / zin, (tips_min - zmin).abs() / zmin);
        println!("subtree {root}: Zin {:.4} vs NEURON {zin:.4} MΩ ({e_in:.1e}); Zmin {tips_min:.4} vs {zmin:.4} ({e_min:.1e})", v[r0]);
        worst = worst.max(e_in).max(e_min);
    }
    worst
}

#[test]
fn hay_subtree_input_resistance_matches_neuron() {
    let worst = compare_subtree_impedance(
        include_str!("data/hay_l5pc_sections.swc"),
        include_str!("data/hay_l5pc_sections.csv"),
        include_str!("data/hay_l5pc_subtree_impedance_f0.csv"),
    );
    println!("hay: worst relative impedance error {worst:.2e}");
    // limited by the 4-decimal coordinates of the SWC dump
    assert!(worst < 1e-5);
}

#[test]
fn allen_subtree_input_resistance_matches_neuron() {
    let worst = compare_subtree_impedance(
        include_str!("data/allen_483108201_sections.swc"),
        include_str!("data/allen_483108201_sections.csv"),
        include_str!("data/allen_483108201_subtree_impedance_f0.csv"),
    );
    println!("allen: worst relative impedance error {worst:.2e}");
    assert!(worst < 1e-5);
}

#[test]
fn trees_are_contiguous_even_when_built_interleaved() {
    // root A, root B, then a child of A: A's tree must still be contiguous
    let mut m = Morphology::new();
    let a = m.add_cylinder(SampleType::Soma, None, 10.0, 10.0).unwrap();
    let b = m.add_cylinder(SampleType::Soma, None, 10.0, 10.0).unwrap();
    let c = m
        .add_cylinder(SampleType::Basal, Some((a, 1.0)), 50.0, 1.0)
        .unwrap();
    let d = Discretisation::new(&m, &[1, 1, 2], &CableParams::uniform(&m, 100.0, 1.0)).unwrap();
    let roots: Vec<usize> = d
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| n.parent.is_none())
        .map(|(i, _)| i)
        .collect();
    // A: End0, centre, End1, then c: 2 centres + End1 → 6 nodes; B starts at 6
    assert_eq!(roots, vec![0, 6]);
    assert_eq!(d.node_at(0, c, 0.0).unwrap(), d.node_at(0, a, 1.0).unwrap());
    assert_eq!(d.section_nodes(0, b).unwrap().start, 6);
    for (k, n) in d.nodes().iter().enumerate() {
        if let Some(p) = n.parent {
            assert!((p as usize) < k);
        }
    }
    assert_eq!(d.capacitances_nf().len(), 9);
    assert_eq!(d.axial_conductances_us()[0], 0.0);
    assert_eq!(d.cell_sections(0).unwrap().len(), 3);
}
