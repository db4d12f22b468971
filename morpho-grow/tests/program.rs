//! Growth programs and the growth spec: the example spec grows, V5 (determinism across runs
//! and thread counts), V8 (SWC validity and byte-identical round trip), per-segment-type
//! defaults, competitive versus independent growth, and located spec errors.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use morpho_grow::swc::{parse_samples, parse_swc, write_samples, SwcOptions};
use morpho_grow::{forest_to_swc, ExportOptions, GrowthSpec};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/grow/pyramidal.toml")
}

fn grow_in_pool(threads: usize, seed: u64) -> String {
    let spec = GrowthSpec::read(&example()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let grown = pool.install(|| spec.program.run(seed)).unwrap();
    forest_to_swc(&grown.forest, ExportOptions::default())
}

#[test]
fn example_spec_grows_somas_dendrites_apicals_and_axons() {
    let spec = GrowthSpec::read(&example()).unwrap();
    assert_eq!(spec.seed, Some(1));
    let ty = &spec.program.types[0];
    assert_eq!(ty.growth.len(), 3);
    // defaults merged: the dendrite step took balancing_factor and diameter from
    // [defaults.dendrite]; the apical step's own diameter wins over nothing
    assert_eq!(ty.growth[0].params.balancing_factor, 0.5);
    assert_eq!(ty.growth[0].diameter, 1.5);
    assert_eq!(ty.growth[2].params.balancing_factor, 0.0);
    assert!(ty.growth[2].params.extend_before_bifurcate);
    assert!((ty.growth[2].params.extension_angle - 45f64.to_radians()).abs() < 1e-15);
    let grown = spec.program.run(1).unwrap();
    assert_eq!(grown.somas.len(), 2);
    let kinds = |k: u32| grown.forest.nodes.iter().filter(|n| n.kind == k).count();
    assert_eq!(kinds(1), 2);
    assert!(
        kinds(3) > 100 && kinds(4) > 20 && kinds(2) > 10,
        "{:?}",
        grown.steps
    );
    // apical points of each neuron stay in its soma-relative column
    for n in grown
        .forest
        .nodes
        .iter()
        .filter(|n| n.kind == 4 && n.is_carrier)
    {
        let s = grown.somas[n.neuron as usize];
        let (dx, dz) = (n.coords[0] - s[0], n.coords[2] - s[2]);
        assert!((dx * dx + dz * dz).sqrt() <= 40.0 + 1e-9);
    }
    // independent apical runs: each neuron sampled its own points
    assert!(grown.steps[1].sampled > 0);
}

#[test]
fn v5_growth_is_bit_identical_across_runs_and_thread_counts() {
    let a = grow_in_pool(1, 7);
    assert_eq!(a, grow_in_pool(1, 7));
    assert_eq!(a, grow_in_pool(4, 7));
    assert_ne!(a, grow_in_pool(1, 8), "the seed matters");
}

#[test]
fn v8_swc_is_valid_and_round_trips_byte_for_byte() {
    let text = grow_in_pool(2, 3);
    let samples = parse_samples(&text, "grown.swc").unwrap();
    assert_eq!(write_samples(&samples), text);
    let mut roots = 0;
    for (i, s) in samples.iter().enumerate() {
        assert_eq!(s.id, i as i64 + 1, "ids are consecutive from 1");
        assert!(s.parent == -1 || (1..s.id).contains(&s.parent));
        assert!(s.radius > 0.0);
        assert!(s.x.is_finite() && s.y.is_finite() && s.z.is_finite());
        if s.parent == -1 {
            roots += 1;
            assert_eq!(s.kind, 1, "every root is a soma");
        } else {
            assert_ne!(s.kind, 1, "one soma sample per neuron");
        }
    }
    assert_eq!(roots, 2);
    // the SWC reader accepts it (a forest: parents first, no cycles)
    let m = parse_swc(
        &text,
        "grown.swc",
        SwcOptions {
            allow_multiple_roots: true,
            require_parent_first: true,
        },
    )
    .unwrap();
    assert!(m.morphology.len() > 10);
}

#[test]
fn competitive_steps_share_points_and_independent_steps_do_not() {
    let text = |competitive: bool| {
        format!(
            r#"
[regions]
ball = {{ sphere = {{ center = [0, 0, 0], radius = 100 }} }}
[[neuron]]
name = "n"
[neuron.soma]
at = [[-30, 0, 0], [30, 0, 0]]
diameter = 10
[[neuron.grow]]
segment_type = "dendrite"
region = "ball"
carrier_point_density = 1e-3
diameter = 1
competitive = {competitive}
"#
        )
    };
    let shared = GrowthSpec::parse(&text(true), Path::new("c.toml"))
        .unwrap()
        .program
        .run(5)
        .unwrap();
    let own = GrowthSpec::parse(&text(false), Path::new("c.toml"))
        .unwrap()
        .program
        .run(5)
        .unwrap();
    // shared: one point set, each point used once; independent: one set per neuron
    assert_eq!(shared.steps[0].connected, shared.steps[0].sampled);
    assert_eq!(shared.forest.nodes.len(), 2 + shared.steps[0].sampled);
    let n0 = own.forest.nodes.iter().filter(|n| n.neuron == 0).count();
    let n1 = own.forest.nodes.iter().filter(|n| n.neuron == 1).count();
    let s = shared.steps[0].sampled as f64;
    assert!(
        n0 as f64 > 0.7 * s && n1 as f64 > 0.7 * s,
        "{n0} {n1} of ~{s}"
    );
}

fn spec_err(text: &str) -> String {
    GrowthSpec::parse(text, Path::new("bad.toml"))
        .unwrap_err()
        .to_string()
}

const SOMA: &str = r#"
[[neuron]]
name = "n"
[neuron.soma]
at = [[0, 0, 0]]
diameter = 10
"#;

#[test]
fn spec_errors_name_file_line_and_field() {
    let e = spec_err(&format!("{SOMA}bogus = 1\n"));
    assert!(e.starts_with("bad.toml:") && e.contains("bogus"), "{e}");
    let e = spec_err(&format!(
        "[regions]\na = \"b\"\nb = {{ union = [\"c\"] }}\nc = \"a\"\n{SOMA}"
    ));
    assert!(
        e.starts_with("bad.toml:2:5: regions.a") && e.contains("cycle"),
        "{e}"
    );
    let e = spec_err(&format!(
        "[regions]\nr = {{ sphere = {{ center = [0, 0], radius = 1 }} }}\n{SOMA}"
    ));
    assert!(
        e.starts_with("bad.toml:2:5: regions.r") && e.contains("[x, y, z]"),
        "{e}"
    );
    let e = spec_err(&format!(
        "{SOMA}[[neuron.grow]]\nsegment_type = \"dendrite\"\nregion = {{ sphere = {{ center = [0, 0, 0], radius = 10 }} }}\ncarrier_point_density = 0.01\ndiameter = 1\nbalancing_factor = -2\n"
    ));
    assert!(
        e.starts_with("bad.toml:7:1:") && e.contains("grow[0]") && e.contains("balancing_factor"),
        "{e}"
    );
    let e = spec_err(&format!(
        "{SOMA}[[neuron.grow]]\nsegment_type = \"dendrite\"\nregion = \"nowhere_known\"\ncarrier_point_density = 0.01\ndiameter = 1\n"
    ));
    assert!(
        e.contains("bad.toml:9:10: neuron[0] (n).grow[0].region") && e.contains("unknown region"),
        "{e}"
    );
    let e = spec_err(&format!(
        "{SOMA}[[neuron.grow]]\nsegment_type = \"dendrite\"\nregion = \"everywhere\"\ncarrier_point_density = 0.01\ndiameter = 1\nextension_angle = \"ninety\"\n"
    ));
    assert!(e.contains("extension_angle") && e.contains("deg"), "{e}");
    let e = spec_err(&format!(
        "{SOMA}[[neuron.grow]]\nsegment_type = \"glia\"\nregion = \"everywhere\"\ncarrier_point_density = 0.01\ndiameter = 1\n"
    ));
    assert!(e.contains("unknown segment type \"glia\""), "{e}");
    // sampling an infinite region is an error at run time, not a panic
    let spec = GrowthSpec::parse(
        &format!("{SOMA}[[neuron.grow]]\nsegment_type = \"dendrite\"\nregion = \"everywhere\"\ncarrier_point_density = 0.01\ndiameter = 1\n"),
        Path::new("inf.toml"),
    )
    .unwrap();
    let e = spec.program.run(1).unwrap_err().to_string();
    assert!(e.contains("infinite bounding box"), "{e}");
}

#[test]
fn the_documented_spec_parses_and_grows() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("GROW.md")).unwrap();
    let start = doc.find("```toml\n").unwrap() + 8;
    let len = doc[start..].find("```").unwrap();
    let spec = GrowthSpec::parse(&doc[start..start + len], Path::new("GROW.md")).unwrap();
    let step = &spec.program.types[0].growth[0];
    assert!((step.params.extension_angle - 60f64.to_radians()).abs() < 1e-15);
    let grown = spec.program.run(1).unwrap();
    assert_eq!(grown.somas.len(), 3);
    assert!(grown.forest.nodes.len() > 3);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 120, ..Default::default() })]

    /// Mangled specs give errors (or small programs), never panics.
    #[test]
    fn mangled_specs_never_panic(cut in 0usize..3000, len in 0usize..40, junk in "[ -~\n]{0,12}") {
        let text = std::fs::read_to_string(example()).unwrap();
        let mut chars: Vec<char> = text.chars().collect();
        let at = cut.min(chars.len());
        let end = (at + len).min(chars.len());
        chars.splice(at..end, junk.chars());
        let mangled: String = chars.into_iter().collect();
        if let Ok(spec) = GrowthSpec::parse(&mangled, Path::new("m.toml")) {
            // run only small programs (a mangled density could ask for 10⁸ points)
            let small = spec.program.types.iter().all(|t| {
                matches!(t.soma.placement, morpho_grow::SomaPlacement::Number(n) if n <= 4)
                    && t.growth.iter().all(|g| g.carrier_point_density <= 1e-4)
            });
            if small {
                let _ = spec.program.run(1);
            }
        }
    }
}
