//! `neuwon nmodl conform` end to end: a leak under the voltage-clamp protocol against its
//! steady state, malformed protocols (exit 2, field named), and corpus files (skipped when
//! `$NEUWON_SHARED/nmodl` is absent) with `--check`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuwon"))
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("neuwon-conform-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn shared() -> PathBuf {
    std::env::var_os("NEUWON_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")))
}

const LEAK: &str = "NEURON { SUFFIX leak NONSPECIFIC_CURRENT i RANGE g, e }
PARAMETER { g = 0.001 (S/cm2) e = -70 (mV) }
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT { i = g*(v - e) }
";

fn protocol(v2: &str) -> String {
    format!(
        r#"{{"protocol": "density", "mechanism": "leak",
  "geometry": {{"L_um": 20.0, "diam_um": 20.0, "cm_uF_per_cm2": 1.0, "area_um2": 1256.637061}},
  "celsius": 34.0, "parameters_changed": {{}}, "v_init_mV": -80.0,
  "clamp": {{"type": "SEClamp", "rs_MOhm": 0.001, "command_mV": [
     {{"from_ms": 0.0, "v_mV": -80.0}}, {{"from_ms": 10.0, "v_mV": {v2}}}]}},
  "events": null, "tstop_ms": 20.0, "dt_ms": {{"ref": 0.025, "fine": 0.0025}},
  "recorded": [{{"name": "t", "units": "ms"}}, {{"name": "v", "units": "mV"}},
               {{"name": "i", "units": "mA/cm2"}}, {{"name": "i_clamp", "units": "nA"}}]}}"#
    )
}

/// At steady state under the clamp the electrode carries the leak: i_clamp (nA) =
/// g·(v − e)·area·1e-2 and v = command − i_clamp·rs.
#[test]
fn leak_under_clamp_reaches_the_closed_form_steady_state() {
    let d = dir();
    let m = d.join("leak.mod");
    std::fs::write(&m, LEAK).unwrap();
    let p = d.join("leak.protocol.json");
    std::fs::write(&p, protocol("-40.0")).unwrap();
    let out_csv = d.join("leak.csv");
    let out = bin()
        .args(["nmodl", "conform"])
        .arg(&m)
        .arg("--protocol")
        .arg(&p)
        .arg("--out")
        .arg(&out_csv)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,v,i,i_clamp"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 801);
    let last = rows.last().unwrap();
    let (g, e, area, rs) = (1e-3, -70.0, 1256.637061, 0.001);
    // Solve i_c = g (v − e) area/100 with v = −40 − i_c rs.
    let k = g * area * 1e-2;
    let ic = k * (-40.0 - e) / (1.0 + k * rs);
    let v = -40.0 - ic * rs;
    assert!((last[3] - ic).abs() < 1e-7 * ic.abs(), "{last:?} vs {ic}");
    assert!((last[1] - v).abs() < 1e-7, "{last:?} vs {v}");
    assert!((last[2] - g * (v - e)).abs() < 1e-9);
}

#[test]
fn malformed_protocol_exits_2_naming_the_field() {
    let d = dir();
    let m = d.join("leak2.mod");
    std::fs::write(&m, LEAK).unwrap();
    let p = d.join("bad.protocol.json");
    std::fs::write(&p, protocol("\"high\"")).unwrap();
    let out = bin()
        .args(["nmodl", "conform"])
        .arg(&m)
        .arg("--protocol")
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("clamp.command_mV[1].v_mV"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // A recorded variable the mechanism lacks.
    std::fs::write(&p, protocol("-40.0").replace("\"i\"", "\"ik\"")).unwrap();
    let out = bin()
        .args(["nmodl", "conform"])
        .arg(&m)
        .arg("--protocol")
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("recorded[2].name"), "{err}");
}

/// Corpus files: the CSV has the reference's header and row count, and `--check` passes; an
/// ARTIFICIAL_CELL's output events match NEURON's.
#[test]
fn corpus_files_conform_with_check() {
    let c = shared().join("nmodl/corpus");
    let ih = c.join("bluepyopt/Ih.mod");
    if !ih.exists() {
        eprintln!("SKIPPED: no {}", ih.display());
        return;
    }
    let out_csv = dir().join("Ih.csv");
    let out = bin()
        .args(["nmodl", "conform", "--check"])
        .arg(&ih)
        .arg("--protocol")
        .arg(c.join("bluepyopt/Ih.protocol.json"))
        .arg("--out")
        .arg(&out_csv)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("tier 1 (vs ref.csv, same scheme): pass"),
        "{err}"
    );
    let ours = std::fs::read_to_string(&out_csv).unwrap();
    let reference = std::fs::read_to_string(c.join("bluepyopt/Ih.ref.csv")).unwrap();
    assert_eq!(ours.lines().next(), reference.lines().next());
    assert_eq!(ours.lines().count(), reference.lines().count());

    // The fine run: dt = 0.0025 ms, every 10th row, lines up with fine.csv to its printing.
    let out = bin()
        .args([
            "nmodl", "conform", "--dt", "0.0025", "--every", "10", "--out", "-",
        ])
        .arg(&ih)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let ours = String::from_utf8_lossy(&out.stdout).to_string();
    let fine = std::fs::read_to_string(c.join("bluepyopt/Ih.fine.csv")).unwrap();
    assert_eq!(ours.lines().count(), fine.lines().count());
    for (a, b) in ours.lines().zip(fine.lines()).skip(1) {
        for (x, y) in a.split(',').zip(b.split(',')) {
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!((x - y).abs() <= 1e-8 * y.abs().max(1.0), "{a} vs {b}");
        }
    }

    let f = c.join("nrn/intfire4.mod");
    let spikes = dir().join("intfire4.spikes.txt");
    let out = bin()
        .args(["nmodl", "conform", "--check", "--out", "-"])
        .arg(&f)
        .arg("--spikes")
        .arg(&spikes)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours: Vec<f64> = std::fs::read_to_string(&spikes)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    // `{"ref": [t, …], "fine": [t, …]}`
    let json = std::fs::read_to_string(c.join("nrn/intfire4.spikes.json")).unwrap();
    let list = json
        .split("\"ref\"")
        .nth(1)
        .and_then(|s| s.split('[').nth(1))
        .and_then(|s| s.split(']').next())
        .unwrap();
    let want: Vec<f64> = list
        .split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| x.trim().parse().unwrap())
        .collect();
    assert_eq!(ours.len(), want.len());
    assert!(!want.is_empty());
    for (a, b) in ours.iter().zip(&want) {
        assert!((a - b).abs() < 1e-9, "{ours:?} vs {want:?}");
    }
}
