//! `tree_bench` prints one JSON line with the peers' fields, and refuses bad arguments with a
//! message and exit status 2.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn tree_bench(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_tree_bench"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The number after `"key":` in a one-line JSON object.
fn field(json: &str, key: &str) -> f64 {
    let pat = format!("\"{key}\":");
    let rest = &json[json
        .find(&pat)
        .unwrap_or_else(|| panic!("no {key} in {json}"))
        + pat.len()..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].parse().unwrap()
}

#[test]
fn one_json_line_with_the_peers_fields() {
    for extra in [
        &[][..],
        &["--floor"][..],
        &["--profile", "--threads", "2"][..],
    ] {
        let mut args = vec!["2:3:2", "--tstop", "5"];
        args.extend_from_slice(extra);
        let (code, out, err) = tree_bench(&args);
        assert_eq!(code, 0, "{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "{out}");
        let j = lines[0];
        assert!(j.starts_with('{') && j.ends_with('}'));
        // 2 cells × 7 sections × 3 segments; 5 ms at 0.025 ms.
        assert_eq!(field(j, "ncomp"), 42.0);
        assert_eq!(field(j, "steps"), 200.0);
        for key in [
            "wall_s",
            "cpu_s",
            "ns_per_comp_step",
            "cpu_ns_per_comp_step",
            "peak_rss_kib",
        ] {
            assert!(field(j, key) > 0.0, "{key} in {j}");
        }
        // The clamp starts at 1 ms: the root spikes once in 5 ms, as NEURON's.
        assert_eq!(field(j, "spikes"), 1.0, "{j}");
        if extra.contains(&"--profile") {
            assert!(
                j.contains("\"profile_cpu_ns_per_comp_step\":{\"events\":"),
                "{j}"
            );
        }
    }
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    for args in [
        &[][..],
        &["N1e9"][..],
        &["N1e3", "--threads", "0"][..],
        &["N1e3", "--bogus"][..],
    ] {
        let (code, out, err) = tree_bench(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(err.starts_with("tree_bench: "), "{err}");
    }
}
