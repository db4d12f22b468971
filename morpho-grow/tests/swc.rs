//! SWC reader/writer: located errors, soma forms, NEURON-compatible sectioning, round trips.
#![allow(clippy::unwrap_used)]

use morpho_grow::swc::{parse_swc, write_swc, SomaForm, SwcOptions};
use morpho_grow::*;
use std::f64::consts::PI;

fn read(text: &str) -> Result<morpho_grow::swc::SwcMorphology> {
    parse_swc(text, "t.swc", SwcOptions::default())
}

fn err_at(text: &str, opts: SwcOptions) -> (usize, SwcErrorKind, String) {
    match parse_swc(text, "cell.swc", opts) {
        Err(e @ MorphoError::Swc { .. }) => {
            let shown = e.to_string();
            let MorphoError::Swc {
                line, kind, file, ..
            } = e
            else {
                unreachable!()
            };
            assert_eq!(file, "cell.swc");
            assert!(shown.starts_with(&format!("cell.swc:{line}: ")), "{shown}");
            (line, kind, shown)
        }
        other => panic!("expected an SWC error, got {other:?}"),
    }
}

const BALL: &str = "# a ball with one dendrite\n\n1 1 0 0 0 5 -1\n2 3 0 10 0 1 1\n3 3 0 20 0 1 2\n";

#[test]
fn tolerates_comments_blank_lines_whitespace_crlf() {
    let text = "  # header\r\n\r\n1\t1  0 0 0   5 -1   # soma\r\n   \r\n2 3 0 10 0 1 1\r\n3 3 0 20 0 1 2 #tip\n\n";
    let m = read(text).unwrap();
    assert_eq!(m.morphology.len(), 2);
    assert_eq!(m, read(BALL).unwrap());
}

#[test]
fn located_errors() {
    let d = SwcOptions::default();
    let (l, k, msg) = err_at("1 1 0 0 0 5 -1\n# c\n2 3 0 abc 0 1 1\n", d);
    assert_eq!((l, k), (3, SwcErrorKind::MalformedNumber));
    assert!(
        msg.contains("column 4 (y)") && msg.contains("\"abc\""),
        "{msg}"
    );
    assert_eq!(
        err_at("1 1 0 0 0 5 -1\n2 3 0 NaN 0 1 1\n", d).1,
        SwcErrorKind::MalformedNumber
    );
    assert_eq!(
        err_at("1 1 0 0 0 5 -1\n2 3 0 inf 0 1 1\n", d).1,
        SwcErrorKind::MalformedNumber
    );
    assert_eq!(err_at("1 1 0 0 0 5 -1\n2.0 3 0 1 0 1 1\n", d).0, 2);
    let (l, k, msg) = err_at("1 1 0 0 0 5 -1\n2 3 0 1 0 1\n", d);
    assert_eq!((l, k), (2, SwcErrorKind::ColumnCount));
    assert!(msg.contains("expected 7 columns") && msg.contains("found 6"));
    assert_eq!(
        err_at("1 1 0 0 0 5 -1\n2 3 0 1 0 1 1 9\n", d).1,
        SwcErrorKind::ColumnCount
    );
    let (l, k, msg) = err_at("1 1 0 0 0 5 -1\n2 3 0 10 0 1 1\n\n2 3 0 20 0 1 1\n", d);
    assert_eq!((l, k), (4, SwcErrorKind::DuplicateId));
    assert!(msg.contains("first defined on line 2"), "{msg}");
    let (l, k, msg) = err_at("1 1 0 0 0 5 -1\n2 3 0 10 0 1 7\n", d);
    assert_eq!((l, k), (2, SwcErrorKind::MissingParent));
    assert!(msg.contains("parent 7"));
    assert_eq!(
        err_at("1 1 0 0 0 5 -1\n2 3 0 10 0 1 -5\n", d).1,
        SwcErrorKind::MissingParent
    );
    // cycle 3 → 4 → 5 → 3 hanging beside a valid root; reported at its first line (3)
    let (l, k, _) = err_at(
        "1 1 0 0 0 5 -1\n2 3 0 1 0 1 1\n3 3 0 2 0 1 5\n4 3 0 3 0 1 3\n5 3 0 4 0 1 4\n",
        d,
    );
    assert_eq!((l, k), (3, SwcErrorKind::Cycle));
    assert_eq!(
        err_at("1 1 0 0 0 5 -1\n2 3 0 1 0 1 2\n", d),
        (
            2,
            SwcErrorKind::Cycle,
            "cell.swc:2: sample 2 is its own parent".into()
        )
    );
    let (l, k, msg) = err_at("1 1 0 0 0 5 -1\n2 3 0 1 0 1 1\n3 1 50 0 0 5 -1\n", d);
    assert_eq!((l, k), (3, SwcErrorKind::MultipleRoots));
    assert!(msg.contains("first root is on line 1"));
    assert_eq!(
        err_at("1 1 0 0 0 0 -1\n", d).1,
        SwcErrorKind::NonPositiveRadius
    );
    assert_eq!(err_at("1 1 0 0 0 5 -1\n2 3 0 1 0 -0.5 1\n", d).0, 2);
    assert_eq!(
        err_at("1 -1 0 0 0 5 -1\n", d),
        (
            1,
            SwcErrorKind::BadType,
            "cell.swc:1: type code -1 is not a non-negative integer".into()
        )
    );
    assert_eq!(err_at("-3 1 0 0 0 5 -1\n", d).1, SwcErrorKind::BadId);
    assert_eq!(
        err_at("# only comments\n\n", d),
        (
            0,
            SwcErrorKind::Empty,
            "cell.swc:0: no sample lines found".into()
        )
    );
    // a zero-length branching section cannot be dropped
    let (l, k, _) = err_at("1 1 0 0 0 5 -1\n2 3 0 10 0 1 1\n3 3 0 10 0 1 2\n4 3 0 10 0 1 2\n5 3 5 20 0 1 3\n6 3 -5 20 0 1 4\n", d);
    assert_eq!((l, k), (2, SwcErrorKind::ZeroLengthSection));
}

#[test]
fn order_multiple_roots_and_custom_types() {
    // children before parents: accepted by default, same result as the ordered file
    let shuffled = "3 3 0 20 0 1 2\n2 3 0 10 0 1 1\n1 1 0 0 0 5 -1\n";
    let a = read(shuffled).unwrap();
    assert_eq!(a.morphology, read(BALL).unwrap().morphology);
    let strict = SwcOptions {
        require_parent_first: true,
        ..Default::default()
    };
    let (l, k, msg) = err_at(shuffled, strict);
    assert_eq!((l, k), (1, SwcErrorKind::ParentAfterChild));
    assert!(msg.contains("line 2"));
    // two cells in one file
    let two = "1 1 0 0 0 5 -1\n2 3 0 10 0 1 1\n3 3 0 20 0 1 2\n10 1 100 0 0 4 -1\n11 2 100 10 0 0.5 10\n12 2 100 30 0 0.5 11\n";
    let opts = SwcOptions {
        allow_multiple_roots: true,
        ..Default::default()
    };
    let m = parse_swc(two, "two.swc", opts).unwrap();
    assert_eq!(
        m.soma_forms,
        vec![SomaForm::SinglePoint, SomaForm::SinglePoint]
    );
    let names: Vec<_> = m
        .morphology
        .sections()
        .iter()
        .map(|s| s.name().to_string())
        .collect();
    assert_eq!(names, ["soma[0]", "dend[0]", "soma[1]", "axon[0]"]);
    // custom type: accepted, warned once with its line
    let t = "1 1 0 0 0 5 -1\n2 7 0 10 0 1 1\n3 7 0 20 0 1 2\n";
    let m = read(t).unwrap();
    assert_eq!(m.warnings.len(), 1);
    assert_eq!(m.warnings[0].line, 2);
    assert_eq!(m.morphology.sections()[1].kind(), SampleType::Other(7));
    assert_eq!(m.morphology.sections()[1].name(), "type7[0]");
}

#[test]
fn single_point_soma_is_a_cylinder_length_diameter() {
    let m = read(BALL).unwrap();
    assert_eq!(m.soma_forms, vec![SomaForm::SinglePoint]);
    let soma = &m.morphology.sections()[0];
    assert_eq!(soma.kind(), SampleType::Soma);
    assert!((soma.length_um() - 10.0).abs() < 1e-12);
    // area of the sphere of radius 5: 4πr² = π·d·L with d = L = 10
    assert!((soma.area_um2() - 4.0 * PI * 25.0).abs() < 1e-9);
    let dend = &m.morphology.sections()[1];
    assert_eq!(
        dend.parent(),
        Some(Attachment {
            parent: SectionId(0),
            x: 0.5
        })
    );
    // the dendrite starts at its own first sample (a wire to the soma centre)
    assert_eq!(dend.points().len(), 2);
    assert_eq!((dend.points()[0].y, dend.length_um()), (10.0, 10.0));
    assert_eq!(m.section_samples, vec![vec![1], vec![2, 3]]);
}

#[test]
fn three_point_neuromorpho_soma() {
    let t = "1 1 3 4 5 6 -1\n2 1 3 -2 5 6 1\n3 1 3 10 5 6 1\n4 2 3 4 11 0.5 1\n5 2 3 4 31 0.5 4\n6 3 9 4 5 1 1\n7 3 29 4 5 1 6\n";
    let m = read(t).unwrap();
    assert_eq!(m.soma_forms, vec![SomaForm::ThreePoint]);
    let s = &m.morphology.sections()[0];
    assert_eq!(s.points().len(), 3);
    assert!((s.length_um() - 12.0).abs() < 1e-12);
    assert!((s.area_um2() - 4.0 * PI * 36.0).abs() < 1e-9);
    assert_eq!(m.section_samples[0], vec![2, 1, 3]);
    for sec in &m.morphology.sections()[1..] {
        assert_eq!(sec.parent().unwrap().x, 0.5);
        assert!((sec.length_um() - 20.0).abs() < 1e-12);
    }
    // not the convention (shifted along x) → multi-point soma sections
    let t2 = "1 1 0 0 0 6 -1\n2 1 -6 0 0 6 1\n3 1 6 0 0 6 1\n";
    assert_eq!(read(t2).unwrap().soma_forms, vec![SomaForm::MultiPoint]);
}

#[test]
fn multi_point_soma_matches_neuron_import3d_cases() {
    // The test case of NEURON PR #907 (Import3d "dendrites at ends and in interior of
    // multisection soma") and NEURON's printed result for it.
    let t = "1 1 0 0 0 5 -1\n2 1 10 0 0 3 1\n3 1 15 0 0 4 2\n4 1 20 0 0 2 3\n5 1 -8 -6 0 3 1\n6 1 -8 6 0 4 1\n7 1 -16 12 0 2 6\n8 3 30 0 0 1 4\n9 3 -16 -12 0 1 5\n10 3 -24 18 0 1 7\n11 3 0 5 0 1 1\n12 3 0 15 0 1 11\n13 3 10 3 0 1 2\n14 3 10 15 0 1 13\n15 3 15 4 0 1 3\n16 3 15 15 0 1 15\n17 3 -8 10 0 1 6\n18 3 -8 15 0 1 17\n";
    let m = read(t).unwrap();
    assert_eq!(m.soma_forms, vec![SomaForm::MultiPoint]);
    let by_first = |id: i64| {
        let k = m.section_samples.iter().position(|v| v[0] == id).unwrap();
        &m.morphology.sections()[k]
    };
    let idx =
        |id: i64| SectionId(m.section_samples.iter().position(|v| v[0] == id).unwrap() as u32);
    let soma0 = by_first(1);
    assert_eq!(soma0.points().len(), 4); // NEURON: soma[0] L=20, 4 points
    assert!((soma0.length_um() - 20.0).abs() < 1e-12);
    // NEURON soma[1]: parent soma[0](0), points (0,0,0,d10) (-8,-6,0,d6), L=10
    let s1 = by_first(5);
    assert_eq!(
        s1.parent(),
        Some(Attachment {
            parent: idx(1),
            x: 0.0
        })
    );
    assert_eq!(s1.points()[0], Point3::new(0.0, 0.0, 0.0, 10.0));
    assert!((s1.length_um() - 10.0).abs() < 1e-12);
    // NEURON dend[0]: parent soma[0](1), points (20,0,0,d2) (30,0,0,d2), L=10
    let d0 = by_first(8);
    assert_eq!(
        d0.parent(),
        Some(Attachment {
            parent: idx(1),
            x: 1.0
        })
    );
    assert_eq!(d0.points()[0], Point3::new(20.0, 0.0, 0.0, 2.0));
    assert!((d0.length_um() - 10.0).abs() < 1e-12);
    // NEURON dend[1]: parent soma[1](1), L=10
    let d1 = by_first(9);
    assert_eq!(
        d1.parent(),
        Some(Attachment {
            parent: idx(5),
            x: 1.0
        })
    );
    assert!((d1.length_um() - 10.0).abs() < 1e-12);
    // NEURON dend[3]: wire to the root sample, parent soma[0](0), L=10
    let d3 = by_first(11);
    assert_eq!(
        d3.parent(),
        Some(Attachment {
            parent: idx(1),
            x: 0.0
        })
    );
    assert!((d3.length_um() - 10.0).abs() < 1e-12);
    // NEURON dend[4], dend[5]: wires from interior soma samples, parent soma[0](0.5), L=12, 11
    for (id, l) in [(13, 12.0), (15, 11.0)] {
        let d = by_first(id);
        assert_eq!(
            d.parent(),
            Some(Attachment {
                parent: idx(1),
                x: 0.5
            })
        );
        assert!((d.length_um() - l).abs() < 1e-12);
    }
    // NEURON dend[6] (off sample 6): L=5 through a wire; dend[2]: L=10 at the soma end.
    assert!((by_first(17).length_um() - 5.0).abs() < 1e-12);
    assert!((by_first(10).length_um() - 10.0).abs() < 1e-12);
    // Known divergence (SWC.md): NEURON splits samples 1-6-7 into soma[2] + soma[3];
    // we keep one soma section 1(prepended)-6-7 because sample 6 has one soma child.
    assert_eq!(by_first(6).points().len(), 3);
}

#[test]
fn dendrite_branches_start_at_the_parent_point() {
    // a Y of basal samples off a single-point soma
    let t =
        "1 1 0 0 0 5 -1\n2 3 0 10 0 2 1\n3 3 0 20 0 1.5 2\n4 3 5 30 0 0.5 3\n5 3 -5 30 0 0.7 3\n";
    let m = read(t).unwrap();
    let secs = m.morphology.sections();
    assert_eq!(secs.len(), 4);
    assert_eq!(
        m.section_samples,
        vec![vec![1], vec![2, 3], vec![4], vec![5]]
    );
    for (k, d) in [(2usize, 1.0), (3, 1.4)] {
        let s = &secs[k];
        assert_eq!(
            s.parent(),
            Some(Attachment {
                parent: SectionId(1),
                x: 1.0
            })
        );
        // first point: the parent sample with the parent's diameter
        assert_eq!(s.points()[0], Point3::new(0.0, 20.0, 0.0, 3.0));
        assert_eq!(s.points()[1].diam, d);
        assert!((s.length_um() - 125f64.sqrt()).abs() < 1e-12);
    }
    // a type change also ends a section
    let t = "1 1 0 0 0 5 -1\n2 3 0 10 0 2 1\n3 3 0 20 0 1.5 2\n4 4 0 30 0 1 3\n5 4 0 40 0 1 4\n";
    let m = read(t).unwrap();
    assert_eq!(m.section_samples, vec![vec![1], vec![2, 3], vec![4, 5]]);
    assert_eq!(m.morphology.sections()[2].name(), "apic[0]");
}

#[test]
fn hay_sections_reproduce_neuron_sectioning() {
    // The Hay L5PC dump: every NEURON section is a contiguous sample run (sections.csv lists
    // first/last sample ids, parent and parent_x). Reading it must produce the same runs and
    // attachments (soma children at soma(0.5), others at parent(1)).
    let m = read(include_str!("data/hay_l5pc_sections.swc")).unwrap();
    assert_eq!(m.soma_forms, vec![SomaForm::MultiPoint]);
    let csv = include_str!("data/hay_l5pc_sections.csv");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    // NEURON has 196 sections; the template's axon[1] continues axon[0] without a branch, and
    // an SWC run without a branch or type change is one section, so we read 195: axon[0]
    // (samples 22-24) and axon[1] (119-121, sections.csv) come back as one section.
    assert_eq!(rows.len(), 196);
    assert_eq!(m.morphology.len(), 195);
    let merged = m.section_samples.iter().find(|v| v[0] == 22).unwrap();
    assert_eq!(merged, &vec![22, 23, 24, 119, 120, 121]);
    let rows: Vec<Vec<&str>> = rows
        .into_iter()
        .filter(|r| !r[0].starts_with("axon"))
        .collect();
    let first_of = |name: &str| {
        rows.iter().find(|r| r[0] == name).unwrap()[7]
            .parse::<i64>()
            .unwrap()
    };
    for r in &rows {
        let (a, b): (i64, i64) = (r[7].parse().unwrap(), r[8].parse().unwrap());
        let k = m.section_samples.iter().position(|v| v[0] == a).unwrap();
        assert_eq!(
            m.section_samples[k],
            (a..=b).collect::<Vec<_>>(),
            "{}",
            r[0]
        );
        let sec = &m.morphology.sections()[k];
        assert_eq!(sec.kind().code().to_string(), r[1]);
        match sec.parent() {
            None => assert!(r[2].is_empty()),
            Some(att) => {
                assert_eq!(m.section_samples[att.parent.index()][0], first_of(r[2]));
                assert_eq!(att.x, r[3].parse::<f64>().unwrap());
            }
        }
    }
}

#[test]
fn write_then_read_round_trips() {
    for text in [
        include_str!("data/hay_l5pc_sections.swc"),
        include_str!("data/allen_483108201_sections.swc"),
        BALL,
        "1 1 3 4 5 6 -1\n2 1 3 -2 5 6 1\n3 1 3 10 5 6 1\n4 2 3 4 11 0.5 1\n5 2 3 4 31 0.5 4\n",
        "1 3 0 0 0 1 -1\n2 3 0 10 0 1 1\n3 3 5 20 0 1 2\n4 3 -5 20 0 1 2\n5 3 0 -10 0 1 1\n",
    ] {
        let a = read(text).unwrap();
        let written = write_swc(&a.morphology);
        let b = read(&written).unwrap();
        assert_eq!(a.morphology.len(), b.morphology.len());
        for (x, y) in a.morphology.sections().iter().zip(b.morphology.sections()) {
            assert_eq!(x.parent(), y.parent(), "{}", x.name());
            assert_eq!(x.kind(), y.kind());
            assert_eq!(x.name(), y.name());
            if a.soma_forms[0] == SomaForm::MultiPoint || x.kind() != SampleType::Soma {
                assert_eq!(x.points(), y.points(), "{}", x.name());
            } else {
                // a single/three-point soma comes back as a 3-sample chain: same geometry
                assert!((x.length_um() - y.length_um()).abs() < 1e-12);
                assert!((x.area_um2() - y.area_um2()).abs() < 1e-9);
            }
        }
        // and a second write is identical text
        assert_eq!(write_swc(&b.morphology), written);
    }
}

#[test]
fn builder_morphology_written_as_swc() {
    let mut m = Morphology::new();
    let soma = m.add_cylinder(SampleType::Soma, None, 20.0, 20.0).unwrap();
    let d = m
        .add_cylinder(SampleType::Basal, Some((soma, 1.0)), 200.0, 1.0)
        .unwrap();
    m.add_frustum(SampleType::Basal, Some((d, 1.0)), 50.0, 1.0, 0.5)
        .unwrap();
    m.add_cylinder(SampleType::Basal, Some((d, 1.0)), 30.0, 1.0)
        .unwrap();
    let text = write_swc(&m);
    let r = read(&text).unwrap();
    assert_eq!(r.soma_forms, vec![SomaForm::MultiPoint]);
    assert_eq!(r.morphology.len(), 4);
    for (x, y) in m.sections().iter().zip(r.morphology.sections()) {
        assert_eq!(x.parent(), y.parent());
        assert!((x.area_um2() - y.area_um2()).abs() < 1e-9);
        assert!((x.length_um() - y.length_um()).abs() < 1e-12);
    }
}

#[test]
fn hay_read_as_swc_has_neuron_length_plus_dendritic_links() {
    // NEURON's sections of the dump have total L 12657.567 µm and area 31192.170 µm²
    // (reduce/hay_l5pc/swc_check.txt). Read as an SWC in NEURON mode, every branch off a
    // non-soma parent additionally starts at its parent sample (Import3d rule), so the totals
    // must grow by exactly those parent→first-sample frusta; branches off the soma (wires) add
    // nothing. The link geometry is computed here from the raw samples.
    let text = include_str!("data/hay_l5pc_sections.swc");
    let m = read(text).unwrap();
    let mut samples = std::collections::HashMap::new();
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<f64> = l.split_whitespace().map(|t| t.parse().unwrap()).collect();
        samples.insert(f[0] as i64, f);
    }
    let (mut link_l, mut link_a) = (0.0, 0.0);
    for f in samples.values() {
        let Some(p) = samples.get(&(f[6] as i64)) else {
            continue;
        };
        let same_section = m.section_samples.iter().any(|v| {
            v.windows(2)
                .any(|w| w[0] == p[0] as i64 && w[1] == f[0] as i64)
        });
        if same_section || p[1] == 1.0 {
            continue;
        }
        let h = ((f[2] - p[2]).powi(2) + (f[3] - p[3]).powi(2) + (f[4] - p[4]).powi(2)).sqrt();
        link_l += h;
        link_a += PI * (f[5] + p[5]) * (h * h + (f[5] - p[5]).powi(2)).sqrt();
    }
    let (l, a) = (
        m.morphology.total_length_um(),
        m.morphology.total_area_um2(),
    );
    println!(
        "hay as SWC: L {l:.3} = 12657.567 + {link_l:.3}; area {a:.3} = 31192.170 + {link_a:.3}"
    );
    assert!((l - (12657.567 + link_l)).abs() < 2e-3);
    assert!((a - (31192.170 + link_a)).abs() < 5e-3);
    // In this dump a child's first sample sits exactly on its parent's last sample, so the
    // links have zero length and add only the annuli of the diameter steps (≈ 115 µm²).
    assert!(link_l < 1e-9 && link_a > 100.0);
}
