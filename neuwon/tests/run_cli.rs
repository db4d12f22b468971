//! `neuwon run`: output files and their headers, and bad input answered with a located error,
//! exit status 1 and no output files.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn neuwon() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuwon"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("neuwon-run-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn run_writes_traces_and_spikes_with_units_in_headers() {
    let out = scratch("ok");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ball_and_stick_syn.toml");
    let o = neuwon()
        .arg("run")
        .arg(&example)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary.starts_with("ball_and_stick_syn: 25 compartments, 2400 steps"),
        "{summary}"
    );
    let traces = std::fs::read_to_string(out.join("traces.csv")).unwrap();
    let mut lines = traces.lines();
    assert_eq!(
        lines.next().unwrap(),
        "t_ms,v_soma_mV,v_dend0.5_mV,v_dend_syn_mV,i_syn_nA,g_syn_uS"
    );
    assert_eq!(lines.next().unwrap(), "0,-65,-65,-65,0,0");
    assert_eq!(traces.lines().count(), 2402);
    // Two somatic spikes (NEURON's default run: 10.793581 and 34.029147 ms).
    let spikes = std::fs::read_to_string(out.join("spikes.csv")).unwrap();
    assert!(spikes.starts_with("cell,index,t_ms\nbs,0,"), "{spikes}");
    let t: Vec<f64> = spikes
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(t.len(), 2);
    assert!(
        (t[0] - 10.793581).abs() < 1e-5 && (t[1] - 34.029147).abs() < 1e-5,
        "{t:?}"
    );
    assert!(std::fs::metadata(out.join("traces.png")).unwrap().len() > 10_000);
}

fn bad(name: &str, model: &str) -> (String, PathBuf) {
    let dir = scratch(name);
    let file = dir.join("m.toml");
    std::fs::write(&file, model).unwrap();
    let out = dir.join("out");
    let o = neuwon()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.join("traces.csv").exists() && !out.join("spikes.csv").exists());
    (String::from_utf8_lossy(&o.stderr).into_owned(), file)
}

const BASE: &str = "[simulation]\ntstop = 1\n\n[[cell]]\nname = \"c\"\n\n[[cell.section]]\nname = \"soma\"\nlength = 20\ndiam = 20\n\n";

#[test]
fn unknown_mechanisms_parameters_and_units_are_located_errors() {
    let (e, f) = bad(
        "mech",
        &format!("{BASE}[[cell.mechanism]]\nname = \"hhh\"\n"),
    );
    assert_eq!(
        e.trim(),
        format!("{}:12:1: error: unknown mechanism `hhh`; the library has hh, pas, IClamp, SEClamp, ExpSyn, Exp2Syn, and `mod_files` can add more", f.display())
    );
    let (e, f) = bad(
        "param",
        &format!("{BASE}[[cell.mechanism]]\nname = \"hh\"\nparameters = {{ gnabarr = 0.1 }}\n"),
    );
    assert_eq!(
        e.trim(),
        format!(
            "{}:14:26: error: mechanism `hh` has no parameter `gnabarr`",
            f.display()
        )
    );
    let (e, f) = bad(
        "unit",
        &format!(
            "{BASE}[[cell.mechanism]]\nname = \"pas\"\nparameters = {{ g = \"1e-4 mS/cm2\" }}\n"
        ),
    );
    assert_eq!(
        e.trim(),
        format!("{}:14:20: error: `pas.g` is in (S/cm2); write the value in those units, found \"mS/cm2\"", f.display())
    );
    let (e, _) = bad(
        "loc",
        &format!("{BASE}[[stimulus]]\nmechanism = \"IClamp\"\nat = \"dend(0.5)\"\n"),
    );
    assert!(e.contains("no section `dend`"), "{e}");
    let (e, _) = bad("syntax", "[simulation\n");
    assert!(e.contains("m.toml:1:"), "{e}");
}

/// A leak written by the user, equal to `pas`.
const LEAK: &str = "NEURON { SUFFIX myleak NONSPECIFIC_CURRENT i RANGE g, e }
UNITS { (mV) = (millivolt) (mA) = (milliamp) }
PARAMETER { g = 0.001 (S/cm2) e = -70 (mV) }
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT { i = g*(v - e) }
";

fn traces(dir: &Path, model: &str) -> String {
    let file = dir.join("m.toml");
    std::fs::write(&file, model).unwrap();
    let out = dir.join("out");
    let o = neuwon()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out.join("traces.csv")).unwrap()
}

#[test]
fn user_mod_files_run_without_a_c_compiler() {
    let dir = scratch("modfile");
    std::fs::write(dir.join("leak.mod"), LEAK).unwrap();
    let model = |mech: &str, files: &str| {
        format!("{files}{BASE}[[cell.mechanism]]\nname = \"{mech}\"\nparameters = {{ g = 1e-4, e = -70 }}\n\n[[stimulus]]\nmechanism = \"IClamp\"\nat = \"soma(0.5)\"\nparameters = {{ del = 0.1, dur = 0.5, amp = 0.1 }}\n\n[[probe]]\nname = \"v\"\nat = \"soma(0.5)\"\n")
    };
    let ours = traces(&dir, &model("myleak", "mod_files = [\"leak.mod\"]\n"));
    let shipped = traces(&dir, &model("pas", ""));
    // The shipped pas may run on the engine's native fast path, which reproduces the
    // interpreter to rounding (1e-9 relative is the fast path's contract).
    assert_eq!(ours.lines().count(), shipped.lines().count());
    for (a, b) in ours.lines().zip(shipped.lines()).skip(1) {
        for (x, y) in a.split(',').zip(b.split(',')) {
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{a} vs {b}");
        }
    }
    assert!(ours.lines().nth(20).unwrap() != "0.5,-65");
}

#[test]
fn a_mod_file_that_does_not_compile_is_reported_with_its_own_location() {
    let dir = scratch("badmod");
    std::fs::write(
        dir.join("bad.mod"),
        LEAK.replace("i = g*(v - e)", "i = g*(v - e"),
    )
    .unwrap();
    let (e, f) = bad(
        "badmod2",
        &format!(
            "mod_files = [\"{}\"]\n{BASE}",
            dir.join("bad.mod").display()
        ),
    );
    assert!(
        e.starts_with(&format!("{}:1:14: error: `", f.display())),
        "{e}"
    );
    assert!(e.contains("bad.mod:5:"), "{e}");
}

#[test]
fn sizes_that_would_exhaust_memory_are_refused() {
    let (e, _) = bad(
        "huge-nseg",
        &BASE.replace("diam = 20\n", "diam = 20\nnseg = 2000000000\n"),
    );
    assert!(
        e.contains("compartments in all is more than this build handles"),
        "{e}"
    );
    let (e, _) = bad(
        "huge-steps",
        &format!(
            "{}[[probe]]\nat = \"soma(0.5)\"\n",
            BASE.replace("tstop = 1", "tstop = 1e9\ndt = 1e-3")
        ),
    );
    assert!(e.contains("would record"), "{e}");
}

#[test]
fn an_artificial_cell_drives_a_synapse_through_a_connection() {
    let dir = scratch("artificial");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../backend-cpu/tests/data");
    let model = format!(
        "mod_files = [\"{}\", \"{}\"]\n{}",
        data.join("ticker.mod").display(),
        data.join("counter.mod").display(),
        BASE.replace("tstop = 1", "tstop = 20")
            + "[[cell.mechanism]]\nname = \"pas\"\n\n\
               [[cell.synapse]]\nname = \"gen\"\nmechanism = \"Ticker\"\nat = \"soma(0.5)\"\n\
               parameters = { start = 2, interval = 4, number = 3 }\n\n\
               [[cell.synapse]]\nname = \"count\"\nmechanism = \"Counter\"\nat = \"soma(0.5)\"\n\n\
               [[connection]]\nsource = \"c[0].gen\"\ntarget = \"c[0].count\"\nweight = 0.5\ndelay = 1\n\n\
               [[event]]\ntarget = \"c[0].count\"\ntimes = [15, 16]\nweight = 2\n\n\
               [[probe]]\nname = \"n\"\nat = \"c[0].count\"\nvariable = \"last_count\"\n\
               [[probe]]\nname = \"total\"\nat = \"c[0].count\"\nvariable = \"total\"\n",
    );
    let traces = traces(&dir, &model);
    let last = traces.lines().last().unwrap();
    // Three ticker events (n = 11, 12, 13 on their connection), then two timed events on
    // their own connection (n = 11, 12); total = 3 × 0.5 + 2 × 2.
    assert!(last.starts_with("20,12,5.5"), "{last}");
    let spikes = std::fs::read_to_string(dir.join("out/spikes.csv")).unwrap();
    assert_eq!(
        spikes,
        "cell,index,t_ms\nc.gen,0,2\nc.gen,0,6\nc.gen,0,10\n"
    );
}
