//! `backend_cpu::conform` without the corpus: protocol errors name their field, the
//! single-compartment step against its closed form, event delivery and output events of an
//! artificial cell, the CSV number format; with the corpus (when present): the number format
//! reproduces the references' text, and no protocol, however damaged, panics.
#![allow(clippy::unwrap_used)]

use backend_cpu::conform::{self, fmt_g, Protocol, Table};
use backend_cpu::{library, CompileOptions, Compiled, Error};
use serde_json::{json, Value};

#[allow(dead_code)]
mod common;
use common::shared;

fn density_protocol() -> Value {
    json!({
        "protocol": "density",
        "mechanism": "pas",
        "geometry": {"nseg": 1, "L_um": 20.0, "diam_um": 20.0, "cm_uF_per_cm2": 1.0,
                     "area_um2": 1256.637061},
        "celsius": 34.0,
        "parameters_changed": {"g": 0.001},
        "passive": null,
        "v_init_mV": -65.0,
        "clamp": null,
        "events": null,
        "tstop_ms": 10.0,
        "dt_ms": {"ref": 0.025, "fine": 0.0025},
        "recorded": [{"name": "t", "units": "ms"}, {"name": "v", "units": "mV"},
                     {"name": "i", "units": "mA/cm2"}],
        "drivers": [],
        "stochastic": false,
        "dt_max_abs_diff": {"v": 0.0}
    })
}

fn field_of(e: Error) -> String {
    match e {
        Error::Protocol { field, .. } => field,
        other => panic!("expected a protocol error, got {other}"),
    }
}

fn parse_err(v: &Value) -> String {
    field_of(Protocol::parse(&v.to_string()).unwrap_err())
}

#[test]
fn malformed_protocols_name_the_field() {
    assert!(Protocol::parse(&density_protocol().to_string()).is_ok());
    let e = Protocol::parse("{\"protocol\": ").unwrap_err();
    assert_eq!(field_of(e), "(document)");
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("protocol", Box::new(|p| p["protocol"] = json!("bursting"))),
        ("celsius", Box::new(|p| p["celsius"] = json!("warm"))),
        (
            "celsius",
            Box::new(|p| {
                p.as_object_mut().unwrap().remove("celsius");
            }),
        ),
        (
            "geometry.diam_um",
            Box::new(|p| p["geometry"]["diam_um"] = json!(-1.0)),
        ),
        ("geometry", Box::new(|p| p["geometry"] = Value::Null)),
        ("v_init_mV", Box::new(|p| p["v_init_mV"] = json!([1]))),
        ("dt_ms.ref", Box::new(|p| p["dt_ms"]["ref"] = json!(0.0))),
        ("tstop_ms", Box::new(|p| p["tstop_ms"] = json!(1e12))),
        ("recorded[1]", Box::new(|p| p["recorded"][1] = json!(5))),
        (
            "recorded[2].name",
            Box::new(|p| p["recorded"][2]["name"] = json!("x[")),
        ),
        (
            "drivers[0]",
            Box::new(|p| p["drivers"] = json!(["refdrive_zz"])),
        ),
        (
            "parameters_changed.g",
            Box::new(|p| p["parameters_changed"]["g"] = json!("big")),
        ),
        (
            "clamp.command_mV[1].v_mV",
            Box::new(|p| {
                p["clamp"] = json!({"type": "SEClamp", "rs_MOhm": 0.001,
                    "command_mV": [{"from_ms": 0, "v_mV": -80}, {"from_ms": 10, "v_mV": "hi"}]})
            }),
        ),
        (
            "clamp.command_mV[1].from_ms",
            Box::new(|p| {
                p["clamp"] = json!({"rs_MOhm": 0.001,
                    "command_mV": [{"from_ms": 10, "v_mV": -80}, {"from_ms": 5, "v_mV": 0}]})
            }),
        ),
        (
            "clamp.type",
            Box::new(|p| p["clamp"] = json!({"type": "IClamp"})),
        ),
        (
            "events.times_ms[1]",
            Box::new(|p| p["events"] = json!({"times_ms": [1, null], "weight": 1})),
        ),
        (
            "events.weight",
            Box::new(|p| p["events"] = json!({"times_ms": []})),
        ),
        ("stochastic", Box::new(|p| p["stochastic"] = json!("no"))),
        (
            "dt_max_abs_diff.v",
            Box::new(|p| p["dt_max_abs_diff"]["v"] = json!("?")),
        ),
    ];
    for (want, mutate) in cases {
        let mut p = density_protocol();
        mutate(&mut p);
        assert_eq!(parse_err(&p), want, "{p}");
    }
}

#[test]
fn run_errors_name_the_field() {
    let pas = library::compile("pas", CompileOptions::default()).unwrap();
    let mut p = density_protocol();
    p["recorded"][2]["name"] = json!("zz");
    let proto = Protocol::parse(&p.to_string()).unwrap();
    let e = conform::run(&pas, &proto, proto.dt_ms, CompileOptions::default()).unwrap_err();
    assert_eq!(field_of(e), "recorded[2].name");
    let mut p = density_protocol();
    p["parameters_changed"] = json!({"gbar": 1.0});
    let proto = Protocol::parse(&p.to_string()).unwrap();
    let e = conform::run(&pas, &proto, proto.dt_ms, CompileOptions::default()).unwrap_err();
    assert_eq!(field_of(e), "parameters_changed.gbar");
    // A point process under a density protocol.
    let syn = library::compile("ExpSyn", CompileOptions::default()).unwrap();
    let proto = Protocol::parse(&density_protocol().to_string()).unwrap();
    let e = conform::run(&syn, &proto, proto.dt_ms, CompileOptions::default()).unwrap_err();
    assert_eq!(field_of(e), "protocol");
}

/// `pas` alone, no clamp: backward Euler gives v_n = e + (v_0 − e)·ρⁿ with
/// ρ = 1/(1 + g·dt/(cm·1e-3)), and i_n = g·(v_n − e) (the current of the step from v_n).
#[test]
fn leak_relaxes_as_backward_euler_closed_form() {
    let pas = library::compile("pas", CompileOptions::default()).unwrap();
    let proto = Protocol::parse(&density_protocol().to_string()).unwrap();
    let tr = conform::run(&pas, &proto, proto.dt_ms, CompileOptions::default()).unwrap();
    let (g, e, v0, dt, cm): (f64, f64, f64, f64, f64) = (0.001, -70.0, -65.0, 0.025, 1.0);
    let rho = 1.0 / (1.0 + g * dt / (cm * 1e-3));
    assert_eq!(tr.columns, ["t", "v", "i"]);
    assert_eq!(tr.rows.len(), 401);
    for (n, r) in tr.rows.iter().enumerate() {
        let v = e + (v0 - e) * rho.powi(n as i32);
        assert!((r[0] - n as f64 * dt).abs() < 1e-9, "t row {n}");
        assert!((r[1] - v).abs() < 1e-12, "v row {n}: {} vs {v}", r[1]);
        let vprev = e + (v0 - e) * rho.powi(n.saturating_sub(1) as i32);
        assert!((r[2] - g * (vprev - e)).abs() < 1e-15, "i row {n}");
    }
}

const COUNTER: &str = "
NEURON { ARTIFICIAL_CELL Counter RANGE n, last }
ASSIGNED { n last }
INITIAL { n = 0 last = -1 }
NET_RECEIVE (w) {
    if (flag == 0) {
        n = n + w
        last = t
        net_send(0.5, 1)
    } else {
        net_event(t)
    }
}
";

/// An artificial cell receives the protocol's events at their own times; its self-events
/// arrive 0.5 ms later and emit output events; its states change only at events.
#[test]
fn artificial_cell_events_and_output_events() {
    let m = library::lower("Counter.mod", COUNTER, true).unwrap();
    let c = Compiled::new(&m, CompileOptions::default()).unwrap();
    let p = json!({
        "protocol": "artificial", "geometry": null, "celsius": 34.0, "v_init_mV": null,
        "events": {"times_ms": [5.0, 10.0, 12.0, 30.0], "weight": 0.5},
        "tstop_ms": 40.0, "dt_ms": {"ref": 0.025},
        "recorded": [{"name": "t"}, {"name": "n"}, {"name": "last"}]
    });
    let proto = Protocol::parse(&p.to_string()).unwrap();
    let tr = conform::run(&c, &proto, proto.dt_ms, CompileOptions::default()).unwrap();
    assert_eq!(tr.spikes_ms, [5.5, 10.5, 12.5, 30.5]);
    // Row k is after the step from (k−1)·dt; the event at 5 ms is handled in the step that
    // starts at 5 ms (row 201).
    assert_eq!(tr.rows[200][1], 0.0);
    assert_eq!(tr.rows[201][1], 0.5);
    assert_eq!(tr.rows[201][2], 5.0);
    assert_eq!(tr.rows.last().unwrap()[1], 2.0);
}

#[test]
fn numbers_print_as_c_percent_9g() {
    for (x, s) in [
        (0.0, "0"),
        (-0.0, "-0"),
        (100.0, "100"),
        (0.025, "0.025"),
        (-79.99999975, "-79.9999998"),
        (5e-5, "5e-05"),
        (-1.722815514e-5, "-1.72281551e-05"),
        (123456789.0, "123456789"),
        (1234567890.0, "1.23456789e+09"),
        (0.0001, "0.0001"),
        (f64::NAN, "nan"),
    ] {
        assert_eq!(fmt_g(x, 9), s, "{x}");
    }
}

/// Formatting the references' own numbers gives their text back (every 50th row of every
/// reference).
#[test]
fn number_format_reproduces_the_references() {
    let dir = shared().join("nmodl/corpus");
    let Ok(origins) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: no corpus at {}", dir.display());
        return;
    };
    let mut n = 0;
    for o in origins.flatten() {
        for f in std::fs::read_dir(o.path()).unwrap().flatten() {
            let p = f.path();
            if !p.to_string_lossy().ends_with(".ref.csv") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for line in text.lines().skip(1).step_by(50) {
                for tok in line.split(',') {
                    let x: f64 = tok.parse().unwrap();
                    // NEURON's accumulated `t` is printed from a value off by ~1e-11.
                    if fmt_g(x, 9) != tok {
                        panic!("{}: {tok} printed as {}", p.display(), fmt_g(x, 9));
                    }
                    n += 1;
                }
            }
        }
    }
    eprintln!("{n} numbers of the references reprinted identically");
}

/// Every corpus protocol parses; damaged copies (each top-level field removed, nulled or
/// given the wrong type) give errors or run, never panic; a mechanism run under every other
/// protocol kind errors or runs, never panics.
#[test]
fn damaged_corpus_protocols_never_panic() {
    let dir = shared().join("nmodl/corpus");
    let Ok(origins) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: no corpus at {}", dir.display());
        return;
    };
    let mut protos = Vec::new();
    for o in origins.flatten() {
        for f in std::fs::read_dir(o.path()).unwrap().flatten() {
            let p = f.path();
            if p.to_string_lossy().ends_with(".protocol.json") {
                protos.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    protos.sort();
    let mut parsed = Vec::new();
    for t in &protos {
        parsed.push(Protocol::parse(t).unwrap());
    }
    // One example of each kind, damaged every way.
    let mechs: Vec<Compiled> = ["pas", "ExpSyn", "IClamp", "hh"]
        .iter()
        .map(|n| library::compile(n, CompileOptions::default()).unwrap())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut tried = 0;
    for (t, p) in protos.iter().zip(&parsed) {
        if !seen.insert(p.kind.name()) {
            continue;
        }
        let v: Value = serde_json::from_str(t).unwrap();
        let keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        for k in &keys {
            for bad in [Value::Null, json!("x"), json!(-1), json!([]), json!({})] {
                let mut d = v.clone();
                d[k.as_str()] = bad;
                if let Ok(p) = Protocol::parse(&d.to_string()) {
                    for m in &mechs {
                        let mut q = p.clone();
                        q.tstop_ms = q.tstop_ms.min(1.0);
                        let _ = conform::run(m, &q, q.dt_ms, CompileOptions::default());
                    }
                }
                tried += 1;
            }
            let mut d = v.clone();
            d.as_object_mut().unwrap().remove(k);
            let _ = Protocol::parse(&d.to_string());
        }
        // Truncated text.
        for cut in (0..t.len()).step_by(97) {
            if let Some(s) = t.get(..cut) {
                let _ = Protocol::parse(s);
            }
        }
    }
    eprintln!(
        "{} corpus protocols parse; {tried} damaged variants handled",
        parsed.len()
    );
    let _ = Table::default();
}

/// The tiers on hand-made tables: a difference within the references' 9-digit printing is
/// named as such; tier 2 uses `dt_max_abs_diff`; a missing column fails both tiers.
#[test]
fn tiers_on_hand_made_tables() {
    let p = Protocol::parse(&density_protocol().to_string()).unwrap();
    let mk = |x: &[f64]| conform::Trace {
        columns: vec!["t".into(), "v".into()],
        units: vec!["ms".into(), "mV".into()],
        rows: x
            .iter()
            .enumerate()
            .map(|(k, v)| vec![k as f64, *v])
            .collect(),
        spikes_ms: Vec::new(),
    };
    let table = |x: &[f64]| Table {
        columns: vec!["t".into(), "v".into()],
        rows: x
            .iter()
            .enumerate()
            .map(|(k, v)| vec![k as f64, *v])
            .collect(),
    };
    let reference = table(&[40.0, 40.0000001, 40.0000002]);
    // Off by 4.6e-8: above tier 1's bound (1e-6·2e-7 + 1e-9·40 ≈ 4e-8), within the printing's
    // 5e-8 and tier 2's bound (1e-8·40 with D_v = 0).
    let near = mk(&[40.000000046, 40.0000001, 40.0000002]);
    let v = conform::compare(&p, &near, &reference, Some(&reference), None);
    assert!(!v.tier1.pass && v.tier1.worst.contains("printing"), "{v:?}");
    assert!(v.tier2.pass, "{v:?}");
    // Off by 1e-6: fails both, and is beyond the printing.
    let far = mk(&[40.000001, 40.0000001, 40.0000002]);
    let v = conform::compare(&p, &far, &reference, Some(&reference), None);
    assert!(
        !v.tier1.pass && !v.tier2.pass && !v.tier1.worst.contains("printing"),
        "{v:?}"
    );
    // An exact match passes tier 1 (and so tier 2).
    let v = conform::compare(
        &p,
        &mk(&[40.0, 40.0000001, 40.0000002]),
        &reference,
        None,
        None,
    );
    assert!(v.tier1.pass && v.tier2.pass);
    // A column the run lacks.
    let mut short = mk(&[40.0, 40.0, 40.0]);
    short.columns[1] = "w".into();
    let v = conform::compare(&p, &short, &reference, Some(&reference), None);
    assert!(!v.tier1.pass && !v.tier2.pass && v.tier1.worst.contains("not produced"));
}
