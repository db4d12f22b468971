//! The TOML model file: the shipped examples parse into the values their reference models
//! state, bad input gets a located error saying what was expected, and no input panics.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use neuwon::model::{Method, Model, Target};
use proptest::prelude::*;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn errors(text: &str) -> Vec<String> {
    match Model::parse(text, Path::new("m.toml")) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn every_example_parses() {
    let mut n = 0;
    for entry in std::fs::read_dir(examples()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Model::load(&path).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert_eq!(n, 5);
}

#[test]
fn examples_hold_their_reference_values() {
    let m = Model::load(&examples().join("hh_axon.toml")).unwrap();
    let axon = &m.cells[0].sections[0];
    assert_eq!(
        (axon.length_um, axon.diam_um, axon.nseg),
        (10_000.0, 1.0, Some(501))
    );
    assert_eq!(m.simulation.method, Method::BackwardEuler);
    assert_eq!(m.probes.len(), 5);
    assert_eq!(m.probes[1].name, "axon(0.250499):v");

    let m = Model::load(&examples().join("ball_and_stick_syn.toml")).unwrap();
    assert_eq!(m.events.len(), 2);
    assert_eq!(m.events[0].times_ms, vec![6.0, 8.0, 10.0]);
    assert!((m.events[1].weight_us - 0.02).abs() < 1e-15); // "20 nS"
    assert_eq!(m.cells[0].synapses[0].at.x, 0.7857143);
    assert_eq!(m.cells[0].sections[1].parent, Some(("soma".into(), 1.0)));

    let m = Model::load(&examples().join("ring10.toml")).unwrap();
    assert_eq!(m.cells[0].count, 10);
    assert_eq!(m.connections.len(), 10);
    assert_eq!(m.connections[9].target, ("ring".into(), 0, "syn".into()));
    assert_eq!(m.cells[0].ra_ohm_cm, 100.0);

    let m = Model::load(&examples().join("hh_soma.toml")).unwrap();
    let amp = &m.stimuli[0].parameters["amp"];
    assert_eq!((amp.value, amp.unit.as_deref()), (0.2, Some("nA")));
    assert!(matches!(&m.stimuli[0].at, Target::Location { location, .. } if location.x == 0.5));
}

const GOOD: &str = r#"[simulation]
tstop = 10

[[cell]]
name = "c"
count = 2

[[cell.section]]
name = "soma"
length = 20
diam = 20

[[cell.section]]
name = "dend"
parent = "soma(1)"
length = 100
diam = 1

[[cell.synapse]]
name = "syn"
mechanism = "ExpSyn"
at = "dend(0.5)"
"#;

#[test]
fn the_base_of_the_error_tests_is_valid() {
    Model::parse(GOOD, Path::new("m.toml")).unwrap();
}

#[test]
fn wrong_units_and_values_are_located() {
    let t = GOOD.replace("length = 100", "length = \"100 mV\"");
    assert_eq!(
        errors(&t),
        vec!["m.toml:16:10: error: cell `c` section `dend`: length: expected a length in µm, but \"mV\" is a voltage unit"]
    );
    let t = GOOD.replace("tstop = 10", "tstop = -1");
    assert_eq!(
        errors(&t),
        vec!["m.toml:2:9: error: simulation.tstop: expected a duration > 0, found -1 ms"]
    );
    let t = GOOD.replace("diam = 1\n", "diam = \"1 furlong\"\n");
    assert!(errors(&t)[0].starts_with(
        "m.toml:17:8: error: cell `c` section `dend`: diam: unknown unit \"furlong\""
    ));
    let t = GOOD.replace("count = 2", "count = 0");
    assert_eq!(
        errors(&t),
        vec!["m.toml:6:9: error: cell.count: expected a whole number ≥ 1, found 0"]
    );
}

#[test]
fn unknown_keys_and_syntax_errors_are_located() {
    let t = GOOD.replace("tstop = 10", "tstop = 10\nstep = 0.1");
    let e = errors(&t);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("m.toml:3:1: error: unknown field `step`"),
        "{}",
        e[0]
    );
    let e = errors("[simulation\ntstop = 1");
    assert!(e[0].starts_with("m.toml:1:"), "{}", e[0]);
}

#[test]
fn references_are_checked() {
    let t = GOOD.replace("parent = \"soma(1)\"", "parent = \"axon(1)\"");
    assert_eq!(
        errors(&t),
        vec!["m.toml:13:1: error: cell `c`: parent section `axon` of `dend` is not declared"]
    );
    let t = GOOD.replace("at = \"dend(0.5)\"", "at = \"dend(1.5)\"");
    assert_eq!(
        errors(&t),
        vec!["m.toml:22:6: error: expected `section(x)` with x between 0 and 1, such as `soma(0.5)`, found `dend(1.5)`"]
    );
    let t = format!("{GOOD}\n[[event]]\ntarget = \"c[2].syn\"\ntimes = [1]\nweight = 0.1\n");
    assert_eq!(
        errors(&t),
        vec!["m.toml:25:10: error: `c[2].syn`: cell `c` has 2 cop(ies), index 2 is out of range"]
    );
    let t = format!("{GOOD}\n[[probe]]\nat = \"d[0].soma(0.5)\"\n");
    assert_eq!(
        errors(&t),
        vec!["m.toml:25:6: error: `d[0].soma(0.5)`: no cell named `d`"]
    );
    let t = format!("{GOOD}\n[[probe]]\nat = \"soma(0.5)\"\n");
    assert!(errors(&t)[0].contains("name the cell copy, as in `c[0].soma(0.5)`"));
    let t = format!("{GOOD}\n[[connection]]\nsource = \"c[0]\"\ntarget = \"c[1].soma(0.5)\"\nweight = 1\ndelay = 0\n");
    let e = errors(&t);
    assert_eq!(
        e,
        vec![
            "m.toml:28:9: error: connection delay: expected a delay > 0, found 0 ms",
            "m.toml:26:10: error: `c[1].soma(0.5)`: expected a synapse (`cell[i].name`), found a location",
        ]
    );
}

#[test]
fn structure_problems_are_reported_together() {
    let t = GOOD.replace("name = \"dend\"", "name = \"soma\"").replace(
        "[simulation]\ntstop = 10",
        "[simulation]\ntstop = 10\nmethod = \"rk4\"",
    );
    let e = errors(&t);
    assert!(e.iter().any(|m| m.contains("simulation.method: expected \"backward-euler\", \"crank-nicolson\" or \"exact\", found \"rk4\"")), "{e:?}");
    assert!(
        e.iter()
            .any(|m| m.contains("section `soma` is declared twice")),
        "{e:?}"
    );
    let t = GOOD.replace("parent = \"soma(1)\"\n", "");
    assert!(errors(&t)
        .iter()
        .any(|m| m.contains("expected exactly one section without a parent, found 2")));
    let t = GOOD.replace(
        "[[cell.section]]\nname = \"soma\"\n",
        "[[cell.section]]\nname = \"soma\"\nparent = \"dend(0)\"\n",
    );
    assert!(errors(&t).iter().any(|m| m.contains("found 0")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_model_files_never_panic(
        which in 0..5usize,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6),
    ) {
        let names = ["hh_soma", "hh_axon", "passive_y", "ball_and_stick_syn", "ring10"];
        let mut bytes = std::fs::read(examples().join(format!("{}.toml", names[which]))).unwrap();
        for (at, b, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = b,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, b),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = Model::parse(&text, Path::new("fuzz.toml"));
    }
}

/// Replaces the `k`-th number in the text with `value`.
fn replace_number(text: &str, k: usize, value: &str) -> String {
    let bytes = text.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_number = (bytes[i].is_ascii_digit() || bytes[i] == b'-')
            && (i == 0
                || !(bytes[i - 1].is_ascii_alphanumeric()
                    || bytes[i - 1] == b'_'
                    || bytes[i - 1] == b'.'));
        if at_number {
            let mut j = i + 1;
            while j < bytes.len()
                && (bytes[j].is_ascii_digit() || matches!(bytes[j], b'.' | b'e' | b'-'))
            {
                j += 1;
            }
            starts.push((i, j));
            i = j;
        } else {
            i += 1;
        }
    }
    if starts.is_empty() {
        return text.to_string();
    }
    let (a, b) = starts[k % starts.len()];
    format!("{}{}{}", &text[..a], value, &text[b..])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Numbers replaced by odd values (0, negatives, huge, tiny, non-integers) either fail
    /// validation or build, never panic; a built model runs one step without panicking.
    #[test]
    fn odd_numbers_never_panic_in_build(
        which in 0..5usize,
        edits in proptest::collection::vec((any::<usize>(), prop::sample::select(vec![
            "0", "-1", "1e30", "1e-30", "0.5", "3", "2.5", "-0.0", "1e6", "7",
        ])), 1..4),
    ) {
        let names = ["hh_soma", "hh_axon", "passive_y", "ball_and_stick_syn", "ring10"];
        let mut text = std::fs::read_to_string(examples().join(format!("{}.toml", names[which]))).unwrap();
        for (k, v) in edits {
            text = replace_number(&text, k, v);
        }
        if let Ok(model) = Model::parse(&text, &examples().join("fuzz.toml")) {
            if let Ok(mut built) = neuwon::run::build(&model) {
                let _ = built.network.step();
            }
        }
    }
}
