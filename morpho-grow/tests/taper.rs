//! V10 of `shared/specs/morpho-grow.md`: diameter rules on closed-form cases. The table rows
//! are the four TREES rows the spec quotes (the full GPL-3 table is not shipped).

#![allow(clippy::unwrap_used)]

use morpho_grow::{Forest, GrowNode, Taper, TaperTable};

fn table() -> TaperTable {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/taper_sample_rows.txt"
    ))
    .unwrap();
    TaperTable::parse(&text, "taper_sample_rows.txt").unwrap()
}

/// A straight unbranched path along x of `len` µm with a node every `step` µm.
fn path(len: f64, step: f64) -> Forest {
    let mut f = Forest::new();
    f.add_root([0.0; 3], 10.0, 0, 1);
    let n = (len / step).round() as usize;
    for k in 1..=n {
        let s = k as f64 * step;
        f.nodes.push(GrowNode {
            coords: [s, 0.0, 0.0],
            parent: Some(k as u32 - 1),
            neuron: 0,
            diameter: 1.0,
            path_len: s,
            n_children: u32::from(k < n),
            kind: 3,
            is_carrier: true,
        });
    }
    f.nodes[0].n_children = 1;
    f
}

#[test]
fn trees_quadratic_on_a_104_um_path_is_row_104() {
    let mut f = path(104.0, 8.0);
    let t = Taper::TreesQuadratic {
        table: table(),
        scale: 0.5,
        offset_um: 0.5,
    };
    t.apply(&mut f, 0).unwrap();
    assert_eq!(f.nodes[0].diameter, 10.0, "the soma keeps its diameter");
    let (p0, p1, p2) = (6.7336e-4, -1.8507e-1, 12.386);
    let mut last = f64::INFINITY;
    for n in &f.nodes[1..] {
        let s = n.path_len;
        let want = 0.5 * (p0 * s * s + p1 * s + p2) + 0.5;
        assert!((n.diameter - want).abs() < 1e-12, "s = {s}");
        assert!(n.diameter > 0.0 && n.diameter <= last);
        last = n.diameter;
    }
}

#[test]
fn distance_to_tips_default_is_linear_in_the_distance() {
    let mut f = path(120.0, 10.0);
    Taper::distance_to_tips().apply(&mut f, 0).unwrap();
    for n in &f.nodes[1..] {
        let l = 120.0 - n.path_len;
        assert!((n.diameter - (0.01 * l + 1e-6)).abs() < 1e-12);
    }
}

#[test]
fn distance_to_tips_averages_over_the_tips_below() {
    // a Y: root → a (10 µm) → b (20 µm further) and a → c (40 µm further)
    let mut f = Forest::new();
    f.add_root([0.0; 3], 10.0, 0, 1);
    let mk = |parent: u32, x: f64, y: f64, pl: f64| GrowNode {
        coords: [x, y, 0.0],
        parent: Some(parent),
        neuron: 0,
        diameter: 1.0,
        path_len: pl,
        n_children: 0,
        kind: 3,
        is_carrier: true,
    };
    f.nodes.push(mk(0, 10.0, 0.0, 10.0));
    f.nodes.push(mk(1, 30.0, 0.0, 30.0));
    f.nodes.push(mk(1, 10.0, 40.0, 50.0));
    let q = [1e-4, 0.02, 0.3];
    Taper::DistanceToTips { q }.apply(&mut f, 0).unwrap();
    let poly = |l: f64| q[0] * l * l + q[1] * l + q[2];
    assert!((f.nodes[1].diameter - 0.5 * (poly(20.0) + poly(40.0))).abs() < 1e-12);
    assert!((f.nodes[2].diameter - poly(0.0)).abs() < 1e-12);
}

#[test]
fn normalized_quadratic_interpolates_with_the_correct_weights() {
    // a single path of length 200 µm lies between the rows ℓ = 104 and ℓ = 320
    let mut f = path(200.0, 20.0);
    let t = Taper::NormalizedQuadratic {
        table: table(),
        scale: 0.2,
        minimum_diameter_um: 1.0,
    };
    t.apply(&mut f, 0).unwrap();
    let (lo, hi) = (
        [104.0, 6.7336e-4, -1.8507e-1, 12.386],
        [320.0, 1.2493e-4, -1.0515e-1, 21.257],
    );
    let w_lo = (320.0 - 200.0) / (320.0 - 104.0); // the nearer row (104) weighs more
    assert!(w_lo > 0.5);
    let norm = |r: [f64; 4], u: f64| r[1] * r[0] * r[0] * u * u + r[2] * r[0] * u + r[3];
    for n in &f.nodes[1..] {
        let u = n.path_len / 200.0;
        let poly = w_lo * norm(lo, u) + (1.0 - w_lo) * norm(hi, u);
        let want = (0.2 * poly + 1.0).max(1.0);
        assert!((n.diameter - want).abs() < 1e-12, "u = {u}");
    }
}

#[test]
fn bad_tables_are_located_errors() {
    let e = TaperTable::parse("ell P0 P1 P2\n8 1 2 3\n16 1 2\n", "t.txt").unwrap_err();
    assert!(e.to_string().starts_with("t.txt:3:"), "{e}");
    assert!(TaperTable::parse("8 1 2 3\n8 1 2 3\n", "t.txt").is_err());
    assert!(TaperTable::parse("", "t.txt").is_err());
}
