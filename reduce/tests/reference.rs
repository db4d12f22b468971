//! Structure of the reduction against neuron_reduce's reference tables (SPEC §10):
//! Hay L5PC at 0, 8 and 38 Hz and the Allen cell 483108201 at 0 Hz.
//!
//! Two levels:
//! * the cable formulas (§4–§6) from the reference's own subtree impedances (`tests/data`,
//!   copied from `shared/reduce/*/reduced_f*/subtrees.csv`) must give the reference cylinders
//!   to 1e-9 relative;
//! * the whole pipeline from the cell (SWC + per-segment CSV, copied into `tests/data`
//!   from `shared/reduce`) must give the reference impedances, cylinders, segment counts,
//!   mapping of every original segment, every mapped mechanism value and every synapse target.
//!   The SWC stores radii with 4 decimals, which limits `Z` to ~7e-7 relative and the cylinders
//!   to ~3e-6 relative (worst: the 0.06-λ stem `dend[1]` of the Hay cell); see the tolerances.

#[allow(dead_code)]
mod common;

use common::*;
use reduce::{reduce, CableParams, Complex64, ReduceOptions, Reduction};

/// Tolerance on `|Z_in|`, `|Z_min|` computed from the SWC geometry (radii with 4 decimals).
const TOL_Z: f64 = 2e-6;
/// Tolerance on L, length and diameter computed from the SWC geometry.
const TOL_CYL: f64 = 1e-5;
/// Tolerance of the cable formulas given the reference impedances.
const TOL_FORMULA: f64 = 1e-9;
/// Tolerance on every mapped mechanism value (plain means of identical inputs).
const TOL_VALUE: f64 = 1e-12;

fn subtrees(rel_dir: &str) -> Table {
    Table::read(&data(&format!("{rel_dir}/subtrees.csv")))
}

#[test]
fn cylinders_from_reference_impedances() {
    for dir in [
        "hay_l5pc/reduced_f0",
        "hay_l5pc/reduced_f8",
        "hay_l5pc/reduced_f38",
        "allen_483108201/reduced_f0",
    ] {
        let st = subtrees(dir);
        let secs = Table::read(&data(&format!("{dir}/reduced_sections.csv")));
        assert!(st.rows.len() >= 9, "{dir}: {} cylinders", st.rows.len());
        for r in 0..st.rows.len() {
            let p = CableParams {
                rm_ohm_cm2: st.f(r, "Rm_ohm_cm2"),
                ra_ohm_cm: st.f(r, "Ra_ohm_cm"),
                cm_uf_cm2: st.f(r, "Cm_uF_cm2"),
                freq_hz: st.f(r, "freq_Hz"),
            };
            let zin = Complex64::new(st.f(r, "Zin_re_ohm"), st.f(r, "Zin_im_ohm"));
            let zmin = Complex64::new(st.f(r, "Zmin_re_ohm"), st.f(r, "Zmin_im_ohm"));
            let l = reduce::cylinder::electrotonic_length(zin, zmin, p.q());
            let d = reduce::cylinder::diameter_um(&p, zin, l);
            let lambda = reduce::cylinder::lambda_um(&p, d);
            let name = st.s(r, "reduced_section");
            let what = format!("{dir} {name}");
            assert!(
                rel(l, st.f(r, "L_electrotonic")) < TOL_FORMULA,
                "{what}: L {l}"
            );
            assert!(rel(d, st.f(r, "diam_um")) < TOL_FORMULA, "{what}: diam {d}");
            assert!(
                rel(lambda, st.f(r, "lambda_um")) < TOL_FORMULA,
                "{what}: λ {lambda}"
            );
            assert!(
                rel(lambda * l, st.f(r, "length_um")) < TOL_FORMULA,
                "{what}: length"
            );
            let sr = (0..secs.rows.len())
                .find(|&i| secs.s(i, "section") == name)
                .unwrap_or_else(|| panic!("{what}: not in reduced_sections.csv"));
            assert_eq!(
                reduce::cylinder::default_nseg(l),
                secs.f(sr, "nseg") as usize,
                "{what}: nseg"
            );
        }
    }
}

/// Runs the whole pipeline on `cell` at `freq`, checks it against `reduced_f{freq}` and
/// returns the reduction.
fn check_structure(cell_dir: &str, freq: u32, with_synapses: bool) -> (Reduction, Cell) {
    let dir = data(cell_dir);
    let cell = load_cell(&dir);
    let syns = if with_synapses {
        load_synapses(&dir, &cell)
    } else {
        Vec::new()
    };
    let opts = ReduceOptions {
        frequency_hz: f64::from(freq),
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    let red = reduce(&cell.tree, &syns, &opts).expect("reduction");
    let took = t0.elapsed().as_secs_f64();
    eprintln!("{cell_dir} at {freq} Hz: reduction took {took:.4} s");
    if !cfg!(debug_assertions) {
        assert!(took < 0.5, "reduction took {took} s (target < 0.5 s)");
    }
    let rdir = format!("{cell_dir}/reduced_f{freq}");
    let what = |c: &str| format!("{rdir} {c}");

    // Cylinders.
    let st = subtrees(&rdir);
    assert_eq!(red.cylinders.len(), st.rows.len(), "{rdir}: cylinder count");
    let mut worst_z: f64 = 0.0;
    let mut worst_cyl: f64 = 0.0;
    for (r, c) in red.cylinders.iter().enumerate() {
        assert_eq!(c.name, st.s(r, "reduced_section"));
        assert_eq!(cell.tree.sections[c.root].name, st.s(r, "root_section"));
        for (ours, col) in [
            (c.z_in_ohm.norm(), "Zin_abs_ohm"),
            (c.z_min_ohm.norm(), "Zmin_abs_ohm"),
        ] {
            let e = rel(ours, st.f(r, col));
            worst_z = worst_z.max(e);
            assert!(e < TOL_Z, "{}: {col} {ours} rel err {e:e}", what(&c.name));
        }
        for (ours, col) in [
            (c.electrotonic_length, "L_electrotonic"),
            (c.length_um, "length_um"),
            (c.diam_um, "diam_um"),
            (c.lambda_um, "lambda_um"),
            (c.params.rm_ohm_cm2, "Rm_ohm_cm2"),
        ] {
            let e = rel(ours, st.f(r, col));
            worst_cyl = worst_cyl.max(e);
            assert!(e < TOL_CYL, "{}: {col} {ours} rel err {e:e}", what(&c.name));
        }
    }
    eprintln!(
        "{rdir}: worst |Z| rel err {worst_z:.2e}, worst L/length/diam rel err {worst_cyl:.2e}"
    );

    // Sections and segment counts.
    let secs = Table::read(&data(&format!("{rdir}/reduced_sections.csv")));
    assert_eq!(red.tree.sections.len(), secs.rows.len(), "{rdir}: sections");
    for r in 0..secs.rows.len() {
        let name = secs.s(r, "section");
        let ours = red
            .tree
            .sections
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{}: missing", what(name)));
        assert_eq!(
            ours.nseg(),
            secs.f(r, "nseg") as usize,
            "{}: nseg",
            what(name)
        );
        assert!(
            rel(ours.length_um, secs.f(r, "L")) < TOL_CYL,
            "{}: L",
            what(name)
        );
    }

    // Every original segment lands in the reference's cylinder segment.
    let sm = Table::read(&dir.join(format!("reduced_f{freq}/segment_mapping.csv")));
    assert_eq!(
        red.segment_map.len(),
        sm.rows.len(),
        "{rdir}: mapped segments"
    );
    let mut flips = 0;
    for r in 0..sm.rows.len() {
        let (sec_name, x) = if sm.header.iter().any(|h| h == "orig_section") {
            (sm.s(r, "orig_section").to_string(), sm.f(r, "orig_x"))
        } else {
            (
                format!("{}[{}]", sm.s(r, "orig_kind"), sm.s(r, "orig_index")),
                sm.f(r, "orig_x"),
            )
        };
        let s = cell.index[&sec_name];
        let nseg = cell.tree.sections[s].nseg();
        let j = ((x * nseg as f64).floor() as usize).min(nseg - 1);
        let m = red
            .segment_map
            .iter()
            .find(|m| m.section == s && m.segment == j)
            .unwrap_or_else(|| panic!("{rdir}: {sec_name}({x}) not mapped"));
        let cyl = &red.cylinders[m.cylinder];
        let ref_x = sm.f(r, "x_mapped");
        let ref_k = ((ref_x * cyl.nseg as f64).floor() as usize).min(cyl.nseg - 1);
        assert!(
            (m.x_mapped - ref_x).abs() < 1e-4,
            "{rdir}: {sec_name}({x}) x {} vs {ref_x}",
            m.x_mapped
        );
        if m.reduced_segment != ref_k {
            flips += 1;
        }
    }
    assert_eq!(
        flips, 0,
        "{rdir}: original segments in a different cylinder segment"
    );

    // Every mapped value of every reduced segment (eca is computed by NEURON: skipped).
    let rs = Table::read(&data(&format!("{rdir}/reduced_segments.csv")));
    let mut compared = 0;
    for r in 0..rs.rows.len() {
        let name = rs.s(r, "section");
        let Some(c) = red.cylinders.iter().find(|c| c.name == name) else {
            continue;
        };
        let sec = &red.tree.sections[c.section];
        let k = sec.segment_index(rs.f(r, "x"));
        let seg = &sec.segments[k];
        for (col, h) in rs.header.iter().enumerate() {
            let cell_text = &rs.rows[r][col];
            let ours = match h.as_str() {
                "g_pas" => Some(seg.g_pas_s_cm2),
                "e_pas" => Some(seg.e_pas_mv),
                "cm" => Some(seg.cm_uf_cm2),
                "diam_um" => Some(c.diam_um),
                h if NOT_VALUES.contains(&h) => continue,
                h => seg.values.get(h).copied(),
            };
            let tol = if h == "diam_um" { TOL_CYL } else { TOL_VALUE };
            match (ours, cell_text.is_empty()) {
                (None, true) => {}
                (Some(v), false) => {
                    let want: f64 = cell_text.parse().expect("number");
                    assert!(
                        rel(v, want) <= tol,
                        "{}({}): {h} = {v}, reference {want}",
                        what(name),
                        rs.s(r, "x")
                    );
                    compared += 1;
                }
                (o, _) => panic!(
                    "{}({}): {h}: ours {o:?}, reference `{cell_text}`",
                    what(name),
                    rs.s(r, "x")
                ),
            }
        }
    }
    assert!(compared > 100, "{rdir}: only {compared} values compared");
    (red, cell)
}

fn check_synapses(red: &Reduction, cell: &Cell, freq: u32, merged: usize) {
    let t = Table::read(&data(&format!(
        "hay_l5pc/reduced_f{freq}/synapse_mapping.csv"
    )));
    assert_eq!(t.rows.len(), 10_000);
    assert_eq!(red.synapse_map.len(), 10_000);
    let mut same_segment = 0;
    let mut same_target = 0;
    for r in 0..t.rows.len() {
        let k = t.f(r, "syn_id") as usize;
        let m = &red.synapse_map[k];
        let target = &red.synapses[m.target];
        let sec = &red.tree.sections[target.section];
        let _ = cell;
        if sec.name == t.s(r, "reduced_section")
            && (target.x - t.f(r, "reduced_x_segment_centre")).abs() < 1e-12
        {
            same_segment += 1;
        }
        if m.target == t.f(r, "merged_target") as usize {
            same_target += 1;
        }
    }
    eprintln!("hay {freq} Hz: {same_segment}/10000 synapses on the reference segment, {same_target}/10000 same merged target, {} merged synapses", red.synapses.len());
    assert_eq!(same_segment, 10_000, "synapses on the reference segment");
    assert_eq!(
        same_target, 10_000,
        "synapses driving the reference's merged point process"
    );
    assert_eq!(red.synapses.len(), merged, "merged synapse count");
    let members: usize = red.synapses.iter().map(|s| s.members.len()).sum();
    assert_eq!(
        members, 10_000,
        "every original synapse is a member of one merged synapse"
    );
}

#[test]
fn hay_0hz() {
    let (red, cell) = check_structure("hay_l5pc", 0, true);
    assert_eq!(red.total_segments(), 50);
    check_synapses(&red, &cell, 0, 94);
}

#[test]
fn hay_8hz() {
    let (red, cell) = check_structure("hay_l5pc", 8, true);
    assert_eq!(red.total_segments(), 48);
    check_synapses(&red, &cell, 8, 90);
}

#[test]
fn hay_38hz() {
    let (red, cell) = check_structure("hay_l5pc", 38, true);
    assert_eq!(red.total_segments(), 48);
    check_synapses(&red, &cell, 38, 90);
}

#[test]
fn allen_0hz_with_orphans() {
    let (red, _) = check_structure("allen_483108201", 0, false);
    assert_eq!(red.total_segments(), 93);
    let orphans: usize = red.cylinders.iter().map(|c| c.orphan_segments).sum();
    assert_eq!(orphans, 21, "orphan cylinder segments");
    assert_eq!(red.cylinders[0].nseg, 61);
}
