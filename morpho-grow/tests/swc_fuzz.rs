//! The SWC reader never panics: random bytes, random token soup, mutations and truncations
//! of valid files all end in `Ok` or a located `MorphoError::Swc`.
#![allow(clippy::unwrap_used)]

use morpho_grow::swc::{parse_swc, SwcOptions};
use morpho_grow::*;
use proptest::prelude::*;

const PR907: &str = "1  1 0 0 0 5 -1\n2  1 10 0 0 3 1\n3  1 15 0 0 4 2\n4  1 20 0 0 2 3\n5  1 -8 -6 0 3 1\n6  1 -8 6 0 4 1\n7  1 -16 12 0 2 6\n8  3 30 0 0 1 4\n9  3 -16 -12 0 1 5\n10  3 -24 18 0 1 7\n11 3 0 5 0 1 1\n12 3 0 15 0 1 11\n13 3 10 3 0 1 2\n14 3 10 15 0 1 13\n";
const THREE: &str = "# three-point soma\n1 1 3 4 5 6 -1\n2 1 3 -2 5 6 1\n3 1 3 10 5 6 1\n4 2 3 4 11 0.5 1\n5 2 3 4 31 0.5 4\n6 3 9 4 5 1 1\n7 3 29 4 5 1 6\n8 3 39 4 5 1 7\n9 3 39 14 5 1 7\n";

/// Parse with every option combination; check the outcome is well formed.
fn check(text: &str) {
    let lines = text.lines().count();
    for (a, b) in [(false, false), (true, false), (false, true), (true, true)] {
        let opts = SwcOptions {
            allow_multiple_roots: a,
            require_parent_first: b,
        };
        match parse_swc(text, "f.swc", opts) {
            Ok(m) => {
                assert_eq!(m.section_samples.len(), m.morphology.len());
                for s in m.morphology.sections() {
                    assert!(
                        s.points().len() >= 2 && s.length_um() > 0.0 && s.length_um().is_finite()
                    );
                    if let Some(att) = s.parent() {
                        assert!(att.parent.index() < m.morphology.len());
                    }
                }
                let nseg = nseg_uniform(&m.morphology, 3);
                let d = Discretisation::new(
                    &m.morphology,
                    &nseg,
                    &CableParams::uniform(&m.morphology, 100.0, 1.0),
                )
                .unwrap();
                assert!(d
                    .nodes()
                    .iter()
                    .all(|n| n.area_um2.is_finite() && n.r_axial_mohm.is_finite()));
            }
            Err(MorphoError::Swc {
                line, file, kind, ..
            }) => {
                assert_eq!(file, "f.swc");
                assert!(line <= lines.max(1), "line {line} of {lines}");
                assert!(line >= 1 || kind == SwcErrorKind::Empty);
            }
            Err(e) => panic!("unlocated error {e:?}"),
        }
    }
}

#[test]
fn every_truncation_of_small_files() {
    for text in [PR907, THREE] {
        for cut in 0..=text.len() {
            check(&text[..cut]);
        }
    }
}

#[test]
fn every_line_truncation_of_a_real_file() {
    let text = include_str!("data/allen_483108201_sections.swc");
    let ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
    for &e in ends.iter().step_by(7) {
        let part = &text[..e];
        // only the default options here (the full check is quadratic on 4780 lines)
        match parse_swc(part, "f.swc", SwcOptions::default()) {
            Ok(_) => {}
            Err(MorphoError::Swc { line, .. }) => assert!(line <= part.lines().count()),
            Err(e) => panic!("{e:?}"),
        }
    }
}

#[test]
fn deep_unbranched_chain_is_fine() {
    let mut t = String::from("1 1 0 0 0 5 -1\n");
    for i in 2..=50_000 {
        t.push_str(&format!("{i} 3 0 {} 0 1 {}\n", i * 2, i - 1));
    }
    let m = parse_swc(&t, "deep.swc", SwcOptions::default()).unwrap();
    assert_eq!(m.morphology.len(), 2);
    assert_eq!(m.morphology.sections()[1].points().len(), 49_999);
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        (-3i64..12).prop_map(|v| v.to_string()),
        (-50.0f64..50.0).prop_map(|v| format!("{v:.2}")),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("1e400".to_string()),
        Just("abc".to_string()),
        Just("#".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soup(lines in proptest::collection::vec(proptest::collection::vec(token(), 5..9), 0..14)) {
        let text: String = lines.iter().map(|l| l.join(" ") + "\n").collect();
        check(&text);
    }

    #[test]
    fn plausible_trees(parents in proptest::collection::vec((0usize..12, 1u32..6, -20.0f64..20.0, -20.0f64..20.0, 0.1f64..4.0), 1..14)) {
        // ids 1..n, parent drawn among all ids (so forward references, cycles and duplicates
        // of position occur), random types and positions
        let mut text = String::from("1 1 0 0 0 5 -1\n");
        for (i, (p, t, x, y, r)) in parents.iter().enumerate() {
            let id = i + 2;
            let parent = (p % (parents.len() + 1)) + 1;
            text.push_str(&format!("{id} {t} {x} {y} 0 {r} {parent}\n"));
        }
        check(&text);
    }

    #[test]
    fn mutated_valid_files(ops in proptest::collection::vec((0usize..4, 0usize..20, 0usize..20, token()), 1..6)) {
        for base in [PR907, THREE] {
            let mut lines: Vec<String> = base.lines().map(String::from).collect();
            for (op, a, b, tok) in &ops {
                let n = lines.len().max(1);
                match op {
                    0 => { let k = a % n; if let Some(l) = lines.get_mut(k) {
                            let mut t: Vec<String> = l.split_whitespace().map(String::from).collect();
                            if !t.is_empty() { let j = b % t.len(); t[j] = tok.clone(); }
                            *l = t.join(" "); } }
                    1 => { if !lines.is_empty() { lines.remove(a % n); } }
                    2 => { if let Some(l) = lines.get(a % n).cloned() { lines.insert(b % n, l); } }
                    _ => { if lines.len() > 1 { let (i, j) = (a % n, b % n); lines.swap(i, j); } }
                }
            }
            check(&(lines.join("\n") + "\n"));
        }
    }
}
