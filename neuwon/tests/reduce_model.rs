//! `neuwon reduce`: reduced model files run under `neuwon run` with the same inputs and give
//! close somatic voltages; located errors for cells the reduction cannot take.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use neuwon::model::Model;
use neuwon::reduce::{reduce_model, ReduceSettings};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{name}.toml"))
}

/// Soma voltage (first probe) and spike times of a model.
fn simulate(model: &Model) -> (Vec<f64>, Vec<f64>) {
    let mut built = neuwon::run::build(model)
        .map_err(|e| e.to_string())
        .unwrap();
    let rec = built.run(|_| {}).unwrap();
    (
        rec.series[0].clone(),
        rec.spikes.iter().map(|s| s.1).collect(),
    )
}

fn rms(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

/// RMS difference over the samples (every `dt_ms`) outside [−3, +15] ms around any spike of
/// either trace (the reference's subthreshold measure).
fn rms_subthreshold(a: &[f64], b: &[f64], spikes: &[f64], dt_ms: f64) -> f64 {
    let keep: Vec<usize> = (0..a.len())
        .filter(|&i| {
            let t = i as f64 * dt_ms;
            !spikes.iter().any(|s| t >= s - 3.0 && t <= s + 15.0)
        })
        .collect();
    assert!(keep.len() > a.len() / 4, "too few subthreshold samples");
    let x: Vec<f64> = keep.iter().map(|&i| a[i]).collect();
    let y: Vec<f64> = keep.iter().map(|&i| b[i]).collect();
    rms(&x, &y)
}

#[test]
fn ball_and_stick_reduces_to_its_own_dendrite_and_fires_alike() {
    let full = Model::load(&example("ball_and_stick_syn")).unwrap();
    let red = reduce_model(&full, &ReduceSettings::default()).unwrap();
    // One uniform dendrite is its own equivalent cylinder (up to the compartmental
    // discretisation of its 21 segments).
    let c = &red.reductions[0].1.cylinders[0];
    assert!((c.diam_um - 2.0).abs() < 2e-3 * 2.0, "diam {}", c.diam_um);
    assert!(
        (c.length_um - 500.0).abs() < 2e-3 * 500.0,
        "length {}",
        c.length_um
    );
    let reduced = Model::parse(&red.toml, Path::new("reduced.toml")).unwrap();
    let (vf, sf) = simulate(&full);
    let (vr, sr) = simulate(&reduced);
    assert_eq!(sf.len(), 2, "full model spikes");
    assert_eq!(sr.len(), sf.len(), "same spike count");
    for (a, b) in sf.iter().zip(&sr) {
        assert!((a - b).abs() < 0.1, "spike at {a} vs {b} ms");
    }
    let e = rms(&vf, &vr);
    assert!(e < 0.5, "soma voltage RMS difference {e} mV");
}

/// A soma with hh and a branched passive tree (Rall's 3/2 rule at the apical bifurcation),
/// 12 synapses driven by events.
const BRANCHED: &str = r#"
title = "branched"
[simulation]
tstop = 80
v_init = -65
[[cell]]
name = "c"
Ra = 150
cm = 1
[[cell.section]]
name = "soma"
type = "soma"
length = 20
diam = 20
[[cell.section]]
name = "trunk"
type = "apic"
parent = "soma(1)"
length = 150
diam = 3
nseg = 7
[[cell.section]]
name = "tuft1"
type = "apic"
parent = "trunk(1)"
length = 300
diam = 1.8899
nseg = 11
[[cell.section]]
name = "tuft2"
type = "apic"
parent = "trunk(1)"
length = 300
diam = 1.8899
nseg = 11
[[cell.section]]
name = "basal"
type = "dend"
parent = "soma(0)"
length = 200
diam = 1.2
nseg = 9
[[cell.mechanism]]
name = "hh"
where = ["soma"]
[[cell.mechanism]]
name = "pas"
where = ["apic", "dend"]
parameters = { g = 5e-5, e = -65 }
[[cell.synapse]]
name = "s0"
mechanism = "Exp2Syn"
at = "tuft1(0.95)"
parameters = { tau1 = 0.5, tau2 = 5, e = 0 }
[[cell.synapse]]
name = "s1"
mechanism = "Exp2Syn"
at = "tuft2(0.95)"
parameters = { tau1 = 0.5, tau2 = 5, e = 0 }
[[cell.synapse]]
name = "s2"
mechanism = "Exp2Syn"
at = "tuft1(0.5)"
parameters = { tau1 = 0.5, tau2 = 5, e = 0 }
[[cell.synapse]]
name = "s3"
mechanism = "Exp2Syn"
at = "tuft2(0.5)"
parameters = { tau1 = 0.5, tau2 = 5, e = 0 }
[[cell.synapse]]
name = "s4"
mechanism = "Exp2Syn"
at = "trunk(0.5)"
parameters = { tau1 = 0.5, tau2 = 5, e = 0 }
[[cell.synapse]]
name = "s5"
mechanism = "Exp2Syn"
at = "trunk(0.5)"
parameters = { tau1 = 1, tau2 = 8, e = -80 }
[[cell.synapse]]
name = "s6"
mechanism = "Exp2Syn"
at = "basal(0.5)"
parameters = { tau1 = 0.5, tau2 = 5, e = 0 }
[[cell.synapse]]
name = "s7"
mechanism = "Exp2Syn"
at = "basal(0.9)"
parameters = { tau1 = 0.5, tau2 = 5, e = 0 }
[[event]]
target = "c[0].s0"
times = [5, 15, 40]
weight = 0.01
[[event]]
target = "c[0].s1"
times = [6, 16, 41]
weight = 0.01
[[event]]
target = "c[0].s2"
times = [7, 17]
weight = 0.008
[[event]]
target = "c[0].s3"
times = [8, 42]
weight = 0.008
[[event]]
target = "c[0].s4"
times = [9, 43, 60]
weight = 0.006
[[event]]
target = "c[0].s5"
times = [20, 61]
weight = 0.004
[[event]]
target = "c[0].s6"
times = [10, 44, 62]
weight = 0.01
[[event]]
target = "c[0].s7"
times = [11, 45, 63]
weight = 0.01
[[probe]]
name = "v_soma"
at = "c[0].soma(0.5)"
[[probe]]
name = "v_tuft"
at = "c[0].tuft1(0.95)"
"#;

#[test]
fn branched_cell_reduces_merges_synapses_and_runs() {
    let full = Model::parse(BRANCHED, Path::new("branched.toml")).unwrap();
    for f in [0.0, 8.0] {
        let settings = ReduceSettings {
            frequency_hz: f,
            ..Default::default()
        };
        let red = reduce_model(&full, &settings).unwrap();
        let r = &red.reductions[0].1;
        assert_eq!(r.cylinders.len(), 2, "apical and basal stems");
        assert_eq!(r.cylinders[0].name, "apic[0]");
        // s0/s1 (symmetric tips) and s2/s3 land together; s4 and s5 differ in kinetics.
        let target = |k: usize| r.synapse_map[k].target;
        assert_eq!(target(0), target(1), "tips of the two tuft branches merge");
        assert_ne!(target(4), target(5), "different kinetics never merge");
        let reduced = Model::parse(&red.toml, Path::new("reduced.toml")).unwrap();
        let n_syn = reduced.cells[0].synapses.len();
        assert!(n_syn < 8, "{n_syn} synapses after merging");
        // Every event of the full model is delivered in the reduced one.
        let count = |m: &Model| m.events.iter().map(|e| e.times_ms.len()).sum::<usize>();
        assert_eq!(count(&reduced), count(&full));
        let (vf, sf) = simulate(&full);
        let (vr, sr) = simulate(&reduced);
        assert_eq!(sf.len(), 3, "{f} Hz: full model spikes {sf:?}");
        assert_eq!(sf.len(), sr.len(), "{f} Hz: spike count {sf:?} vs {sr:?}");
        for (a, b) in sf.iter().zip(&sr) {
            assert!((a - b).abs() < 0.5, "{f} Hz: spike at {a} vs {b} ms");
        }
        let all: Vec<f64> = sf.iter().chain(&sr).copied().collect();
        let e = rms_subthreshold(&vf, &vr, &all, 0.025);
        eprintln!(
            "{f} Hz: subthreshold soma RMS full vs reduced {e:.3} mV, spikes {sf:?} vs {sr:?}"
        );
        assert!(
            e < 0.5,
            "{f} Hz: subthreshold soma voltage RMS difference {e} mV"
        );
    }
}

#[test]
fn a_cell_without_soma_is_a_located_error() {
    let m = Model::load(&example("passive_y")).unwrap();
    let e = reduce_model(&m, &ReduceSettings::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("passive_y.toml:"), "{e}");
    assert!(e.contains("soma"), "{e}");
}

#[test]
fn cli_reduce_then_run() {
    let dir = std::env::temp_dir().join(format!("neuwon-reduce-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("bs_reduced.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_neuwon"))
        .args(["reduce"])
        .arg(example("ball_and_stick_syn"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("1 cylinders"), "{text}");
    let o = Command::new(env!("CARGO_BIN_EXE_neuwon"))
        .arg("run")
        .arg(&out)
        .arg("--out")
        .arg(dir.join("run"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let spikes = std::fs::read_to_string(dir.join("run/spikes.csv")).unwrap();
    assert_eq!(spikes.lines().count(), 3, "header + 2 spikes: {spikes}");
    // Bad input: a located error and exit status 1.
    let o = Command::new(env!("CARGO_BIN_EXE_neuwon"))
        .args(["reduce"])
        .arg(example("passive_y"))
        .arg("--out")
        .arg(dir.join("y.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("error"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Hay L5PC morphology from SWC (`morpho-grow/tests/data`), passive, reduced at 0 Hz:
/// 9 stems become 9 cylinders, and the soma input resistance of the reduced model, simulated
/// by `neuwon run`, is that of the full one within the method's accuracy (NEURON's pair on
/// the same cell: 78.640 vs 78.756 MΩ, +0.15 %).
#[test]
fn swc_cell_reduces_and_keeps_its_input_resistance() {
    let swc = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../morpho-grow/tests/data/hay_l5pc_sections.swc");
    let text = format!(
        r#"
[simulation]
tstop = 300
dt = 0.1
v_init = -70
[[cell]]
name = "hay"
morphology = "{}"
Ra = 100
cm = 1
[cell.discretisation]
max_length = 40
[[cell.mechanism]]
name = "pas"
parameters = {{ g = 5e-5, e = -70 }}
[[stimulus]]
mechanism = "IClamp"
at = "hay[0].soma[0](0.5)"
parameters = {{ del = 0, dur = 1000, amp = 0.1 }}
[[probe]]
name = "v_soma"
at = "hay[0].soma[0](0.5)"
"#,
        swc.display()
    );
    let full = Model::parse(&text, Path::new("hay_passive.toml")).unwrap();
    let red = reduce_model(&full, &ReduceSettings::default()).unwrap();
    let r = &red.reductions[0].1;
    assert_eq!(r.cylinders.len(), 9, "1 apical + 8 basal stems");
    assert_eq!(r.cylinders[0].name, "apic[0]");
    let reduced = Model::parse(&red.toml, Path::new("reduced.toml")).unwrap();
    let (vf, _) = simulate(&full);
    let (vr, _) = simulate(&reduced);
    let rin = |v: &[f64]| (v.last().unwrap() + 70.0) / 0.1; // MΩ
    let (a, b) = (rin(&vf), rin(&vr));
    eprintln!("Hay (passive, SWC): soma input resistance full {a:.3} MΩ, reduced {b:.3} MΩ");
    assert!((b / a - 1.0).abs() < 0.01, "full {a} MΩ vs reduced {b} MΩ");
}
