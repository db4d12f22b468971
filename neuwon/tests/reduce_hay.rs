//! The Hay et al. 2011 L5PC, full and reduced (Neuron_Reduce at 0 Hz), simulated by the
//! `backend-cpu` engine with the cell's own mechanisms read in place from
//! `$NEUWON_SHARED/reduce/hay_l5pc/mod/`, its 10 000 synapses and its 17 362 saved events,
//! against NEURON's somatic voltage (`hay_l5pc/soma_v.csv`).
//!
//! Long (the full model is 642 compartments × 20 000 steps with 10 000 synapses), hence
//! ignored by default:
//! `cargo test -p neuwon --release --test reduce_hay -- --ignored --nocapture`.
//!
//! The engine is driven directly (not through a model file) because the model file format sets
//! mechanism parameters per section, while the Hay cell's apical densities vary per segment,
//! and has no setting for ion reversal potentials (the cell uses ek = −85 mV); the latter is
//! done here by a four-line mechanism of our own that WRITEs `ek` at initialisation.

#![allow(clippy::unwrap_used, missing_docs)]

#[allow(dead_code)]
#[path = "../../reduce/tests/common/mod.rs"]
mod common;

use std::collections::HashMap;

use backend_cpu::{
    library, Cable, CompileOptions, Compiled, Detector, Engine, Method, Placement, Probe, Settings,
};
use reduce::impedance::Network;
use reduce::{CableTree, Geometry, ReduceOptions};

/// Our own helper mechanism: sets the reversal potential of `ion` where the cell sets it
/// (NEURON's `ek = -85` and the like); the engine has no other way to set it.
fn set_ion_source(ion: &str) -> String {
    format!(
        "NEURON {{ SUFFIX neuwon_set_e{ion} USEION {ion} WRITE e{ion} RANGE e0 }}\n\
         UNITS {{ (mV) = (millivolt) }}\n\
         PARAMETER {{ e0 = 0 (mV) }}\n\
         INITIAL {{ e{ion} = e0 }}\n"
    )
}

/// Simulation settings of a protocol.
struct Protocol {
    dt_ms: f64,
    tstop_ms: f64,
    celsius: f64,
    v_init_mv: f64,
    /// Keep every n-th sample (the reference traces are every 0.1 ms).
    sample_every: usize,
}

/// The Hay reference protocol (`hay_l5pc/README.md`).
const HAY: Protocol = Protocol {
    dt_ms: 0.025,
    tstop_ms: 500.0,
    celsius: 37.0,
    v_init_mv: -90.0,
    sample_every: 4,
};

/// Mechanism names: the stems of the `.mod` files of `dir` (each file's SUFFIX is its stem).
fn mechanisms(dir: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "mod"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    out.sort();
    out
}

/// (mechanism, parameter) of a `full_segments.csv` column such as `gIhbar_Ih` (the longest
/// mechanism name that ends the column name).
fn split_key(key: &str, mechs: &[String]) -> Option<(String, String)> {
    let mut best: Option<&String> = None;
    for m in mechs {
        if key.ends_with(&format!("_{m}")) && best.is_none_or(|b| m.len() > b.len()) {
            best = Some(m);
        }
    }
    best.map(|m| (m.clone(), key[..key.len() - m.len() - 1].to_string()))
}

/// A density placement: mechanism and its parameters (values as bits, so they hash).
type GroupKey = (String, Vec<(String, u64)>);

struct SynSite {
    section: usize,
    x: f64,
    params: Vec<(String, f64)>,
}

struct Run {
    v: Vec<f64>,
    spikes: Vec<f64>,
    wall_s: f64,
    cpu_s: f64,
    compartments: usize,
    placements: usize,
}

fn simulate(
    tree: &CableTree,
    sites: &[SynSite],
    events: &[(usize, f64, f64)],
    mods: &std::path::Path,
    proto: &Protocol,
) -> Run {
    let net = Network::whole_cell(tree).unwrap();
    let nodes = net.nodes();
    let soma = tree.validate().unwrap();
    let opts = CompileOptions { use_tables: true };
    let mechs = mechanisms(mods);
    let mut compiled: HashMap<String, Compiled> = HashMap::new();
    let mut compile = |name: &str| {
        if compiled.contains_key(name) {
            return;
        }
        let c = if let Some(ion) = name.strip_prefix("neuwon_set_e") {
            let ir = library::lower(&format!("{name}.mod"), &set_ion_source(ion), true).unwrap();
            Compiled::new(&ir, opts).unwrap()
        } else if name == "pas" || name == "Exp2Syn" {
            library::compile(name, opts).unwrap()
        } else {
            let path = mods.join(format!("{name}.mod"));
            let text = std::fs::read_to_string(&path).unwrap();
            let ir = library::lower(&path.display().to_string(), &text, true).unwrap();
            Compiled::new(&ir, opts).unwrap()
        };
        compiled.insert(name.to_string(), c);
    };
    let mut diam = vec![1.0; nodes.len()];
    // (mechanism, parameters as bits) → nodes
    let mut groups: HashMap<GroupKey, Vec<usize>> = HashMap::new();
    let mut add = |mech: &str, params: Vec<(String, f64)>, node: usize| {
        let key = (
            mech.to_string(),
            params
                .iter()
                .map(|(k, v)| (k.clone(), v.to_bits()))
                .collect(),
        );
        groups.entry(key).or_default().push(node);
    };
    for (si, s) in tree.sections.iter().enumerate() {
        let n = s.nseg();
        for (j, seg) in s.segments.iter().enumerate() {
            let node = net.node_at(si, (j as f64 + 0.5) / n as f64).unwrap();
            diam[node] = match &s.geometry {
                Geometry::Cylinder { diam_um } => *diam_um,
                Geometry::Profile(_) => {
                    nodes[node].area_um2 / (std::f64::consts::PI * s.length_um / n as f64)
                }
            };
            add(
                "pas",
                vec![("g".into(), seg.g_pas_s_cm2), ("e".into(), seg.e_pas_mv)],
                node,
            );
            let mut per: HashMap<String, Vec<(String, f64)>> = HashMap::new();
            for (k, v) in &seg.values {
                match k.as_str() {
                    "ena" | "ek" => add(&format!("neuwon_set_{k}"), vec![("e0".into(), *v)], node),
                    _ => {
                        let (m, p) = split_key(k, &mechs).unwrap_or_else(|| panic!("column {k}"));
                        per.entry(m).or_default().push((p, *v));
                    }
                }
            }
            for (m, mut p) in per {
                p.sort_by(|a, b| a.0.cmp(&b.0));
                add(&m, p, node);
            }
        }
    }
    // Helper mechanisms first, so that reversal potentials are set before anything reads them.
    let mut keys: Vec<_> = groups.keys().cloned().collect();
    keys.sort_by_key(|k| (!k.0.starts_with("neuwon_set_"), k.0.clone(), k.1.clone()));
    for k in &keys {
        compile(&k.0);
    }
    compile("Exp2Syn");
    let mut placements: Vec<Placement> = keys
        .iter()
        .map(|k| Placement {
            mechanism: compiled[&k.0].clone(),
            nodes: groups[k].clone(),
            parameters: k
                .1
                .iter()
                .map(|(n, b)| (n.clone(), f64::from_bits(*b)))
                .collect(),
        })
        .collect();
    // Synapses: one placement per parameter set.
    let mut syn_groups: HashMap<Vec<u64>, (usize, Vec<usize>)> = HashMap::new();
    let mut where_syn = Vec::with_capacity(sites.len());
    for s in sites {
        let node = net.node_at(s.section, s.x).unwrap();
        let key: Vec<u64> = s.params.iter().map(|p| p.1.to_bits()).collect();
        let next = placements.len() + syn_groups.len();
        let g = syn_groups.entry(key).or_insert((next, Vec::new()));
        g.1.push(node);
        where_syn.push((g.0, g.1.len() - 1));
    }
    let mut syn_list: Vec<_> = syn_groups.into_values().collect();
    syn_list.sort_by_key(|g| g.0);
    for (p, nodes_p) in syn_list {
        let site = where_syn.iter().position(|w| w.0 == p).unwrap();
        placements.push(Placement {
            mechanism: compiled["Exp2Syn"].clone(),
            nodes: nodes_p,
            parameters: sites[site].params.clone(),
        });
    }
    let cable = Cable {
        parent: nodes.iter().map(|n| n.parent).collect(),
        capacitance_nf: nodes
            .iter()
            .map(|n| n.area_um2 * n.cm_uf_cm2 * 1e-5)
            .collect(),
        axial_us: nodes.iter().map(|n| n.g_axial_us).collect(),
        area_um2: nodes.iter().map(|n| n.area_um2).collect(),
        diam_um: diam,
    };
    let soma_node = net.node_at(soma, 0.5).unwrap();
    let settings = Settings {
        dt_ms: proto.dt_ms,
        celsius: proto.celsius,
        v_init_mv: proto.v_init_mv,
        method: Method::BackwardEuler,
    };
    let n_placements = placements.len();
    let mut engine = Engine::new(
        &cable,
        placements,
        vec![Detector {
            node: soma_node,
            threshold_mv: -20.0,
            targets: vec![],
        }],
        vec![Probe::Voltage { node: soma_node }],
        settings,
    )
    .unwrap();
    for &(k, t, w) in events {
        let (p, i) = where_syn[k];
        engine.add_event(p, i, t, w).unwrap();
    }
    let start = std::time::Instant::now();
    let cpu0 = process_cpu_s();
    let rec = engine.run(proto.tstop_ms, |_| {}).unwrap();
    let wall_s = start.elapsed().as_secs_f64();
    let cpu_s = process_cpu_s() - cpu0;
    Run {
        v: rec.series[0]
            .iter()
            .step_by(proto.sample_every)
            .copied()
            .collect(),
        spikes: rec.spikes.iter().map(|s| s.1).collect(),
        wall_s,
        cpu_s,
        compartments: nodes.len(),
        placements: n_placements,
    }
}

/// CPU seconds used by this process so far (user + system, from `/proc/self/stat`; NaN where
/// unavailable).
fn process_cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// RMS difference outside [−3, +15] ms of any spike of either trace, from `t0` ms on
/// (samples every 0.1 ms).
fn rms_sub(a: &[f64], b: &[f64], spikes: &[f64], t0: f64) -> f64 {
    let mut s = 0.0;
    let mut n = 0usize;
    for i in 0..a.len().min(b.len()) {
        let t = i as f64 * 0.1;
        if t < t0 || spikes.iter().any(|&sp| t >= sp - 3.0 && t <= sp + 15.0) {
            continue;
        }
        s += (a[i] - b[i]).powi(2);
        n += 1;
    }
    (s / n.max(1) as f64).sqrt()
}

/// Upward crossings of −20 mV (samples every 0.1 ms).
fn crossings(v: &[f64]) -> Vec<f64> {
    (1..v.len())
        .filter(|&i| v[i - 1] < -20.0 && v[i] >= -20.0)
        .map(|i| i as f64 * 0.1)
        .collect()
}

struct Hay {
    dir: std::path::PathBuf,
    weight: Vec<f64>,
    cell: common::Cell,
    syns: Vec<reduce::Synapse>,
    events: Vec<(usize, f64, f64)>,
    soma_v: common::Table,
    mods: std::path::PathBuf,
}

fn hay(what: &str) -> Option<Hay> {
    let dir = common::shared_reduce(what)?.join("hay_l5pc");
    let cell = common::load_cell(&dir);
    let syns = common::load_synapses(&dir, &cell);
    let st = common::Table::read(&dir.join("synapses.csv"));
    let weight: Vec<f64> = (0..st.rows.len()).map(|r| st.f(r, "weight_uS")).collect();
    let events = read_events(&dir.join("events.csv"), &weight);
    Some(Hay {
        dir: dir.clone(),
        weight,
        cell,
        syns,
        events,
        soma_v: common::Table::read(&dir.join("soma_v.csv")),
        mods: dir.join("mod"),
    })
}

/// (synapse, time ms, weight µS) of every event of an `events.csv`.
fn read_events(path: &std::path::Path, weight: &[f64]) -> Vec<(usize, f64, f64)> {
    let ev = common::Table::read(path);
    (0..ev.rows.len())
        .map(|r| {
            let k = ev.f(r, "syn_id") as usize;
            (k, ev.f(r, "t_ms"), weight[k])
        })
        .collect()
}

impl Hay {
    fn neuron(&self, column: &str) -> Vec<f64> {
        (0..self.soma_v.rows.len())
            .map(|r| self.soma_v.f(r, column))
            .collect()
    }

    fn reduced(&self, freq: f64) -> Run {
        let opts = ReduceOptions {
            frequency_hz: freq,
            ..Default::default()
        };
        let red = reduce::reduce(&self.cell.tree, &self.syns, &opts).unwrap();
        let sites: Vec<SynSite> = red
            .synapses
            .iter()
            .map(|s| SynSite {
                section: s.section,
                x: s.x,
                params: s.params.clone(),
            })
            .collect();
        let events: Vec<(usize, f64, f64)> = self
            .events
            .iter()
            .map(|&(k, t, w)| (red.synapse_map[k].target, t, w))
            .collect();
        simulate(&red.tree, &sites, &events, &self.mods, &HAY)
    }

    fn full(&self) -> Run {
        let sites: Vec<SynSite> = self
            .syns
            .iter()
            .map(|s| SynSite {
                section: s.section,
                x: s.x,
                params: s.params.clone(),
            })
            .collect();
        simulate(&self.cell.tree, &sites, &self.events, &self.mods, &HAY)
    }
}

fn max_abs(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Our reduced Hay cell (0 and 8 Hz) against NEURON's reduced cell: the same spikes and the
/// same subthreshold voltage (NEURON's trace has 4 decimals).
#[test]
fn hay_reduced_against_neuron() {
    let Some(h) = hay("reduced Hay simulation") else {
        return;
    };
    for (freq, column) in [(0.0, "v_reduced_f0_mV"), (8.0, "v_reduced_f8_mV")] {
        let nv = h.neuron(column);
        let r = h.reduced(freq);
        let sp_n = crossings(&nv);
        let all: Vec<f64> = r.spikes.iter().chain(&sp_n).copied().collect();
        let rms = rms_sub(&r.v, &nv, &all, 0.0);
        eprintln!(
            "reduced ({freq} Hz): {} compartments, {} placements, {:.2} s wall; spikes ours {:?}, NEURON {:?}; subthreshold RMS vs NEURON {rms:.2e} mV, max |Δv| {:.2e} mV",
            r.compartments,
            r.placements,
            r.wall_s,
            r.spikes,
            sp_n,
            max_abs(&r.v, &nv)
        );
        assert_eq!(r.spikes.len(), sp_n.len(), "{freq} Hz: spike count");
        for (a, b) in r.spikes.iter().zip(&sp_n) {
            assert!((a - b).abs() < 0.2, "{freq} Hz: spike {a} vs NEURON {b} ms");
        }
        assert!(rms < 0.01, "{freq} Hz: subthreshold RMS {rms} mV vs NEURON");
    }
}

/// The full cell against NEURON (issue 9: subthreshold RMS ≤ 0.5 mV, same spike count), our
/// reduced against our full (within the reference's 1.3 mV in 150–500 ms), and the speed-up.
#[test]
#[ignore = "long: full Hay cell, 500 ms; run with --ignored"]
fn hay_full_against_neuron_and_reduced_against_full() {
    let Some(h) = hay("full Hay simulation") else {
        return;
    };
    let nv = h.neuron("v_full_mV");
    let f = h.full();
    let sp_n = crossings(&nv);
    let all: Vec<f64> = f.spikes.iter().chain(&sp_n).copied().collect();
    let rms = rms_sub(&f.v, &nv, &all, 0.0);
    eprintln!(
        "full: {} compartments, {} placements, {:.2} s wall; spikes ours {:?}, NEURON {:?}; subthreshold RMS vs NEURON {rms:.2e} mV, max |Δv| {:.2e} mV",
        f.compartments,
        f.placements,
        f.wall_s,
        f.spikes,
        sp_n,
        max_abs(&f.v, &nv)
    );
    assert_eq!(f.spikes.len(), sp_n.len(), "spike count");
    assert!(rms <= 0.5, "subthreshold RMS {rms} mV vs NEURON");
    let r = h.reduced(0.0);
    let all: Vec<f64> = f.spikes.iter().chain(&r.spikes).copied().collect();
    let rr = rms_sub(&r.v, &f.v, &all, 150.0);
    eprintln!(
        "ours reduced (0 Hz) vs ours full: subthreshold RMS 150-500 ms {rr:.3} mV (NEURON's pair: 1.28 mV); run wall {:.2} s vs {:.2} s ({:.1}x), CPU {:.2} s vs {:.2} s ({:.1}x) (NEURON: 20-34x CPU)",
        r.wall_s,
        f.wall_s,
        f.wall_s / r.wall_s,
        r.cpu_s,
        f.cpu_s,
        f.cpu_s / r.cpu_s
    );
    assert!(rr <= 1.3, "reduced vs full {rr} mV");

    // 38 Hz (upstream unit test 5's frequency) against NEURON's reduced 38 Hz trace.
    let nv = h.neuron("v_reduced_f38_mV");
    let r = h.reduced(38.0);
    let sp_n = crossings(&nv);
    let all: Vec<f64> = r.spikes.iter().chain(&sp_n).copied().collect();
    let rms = rms_sub(&r.v, &nv, &all, 0.0);
    eprintln!(
        "reduced (38 Hz): spikes ours {:?}, NEURON {:?}; subthreshold RMS vs NEURON {rms:.2e} mV",
        r.spikes, sp_n
    );
    assert_eq!(r.spikes.len(), sp_n.len(), "38 Hz: spike count");
    assert!(rms < 0.01, "38 Hz: subthreshold RMS {rms} mV vs NEURON");
}

/// The stronger drive (`hidrive_exc5Hz/`: 25 943 events): NEURON's full cell fires 10 spikes
/// and its reduced cell 11; ours must give the same spikes.
#[test]
#[ignore = "long: full Hay cell, 500 ms; run with --ignored"]
fn hay_high_drive_spikes_as_neuron() {
    let Some(mut h) = hay("Hay high-drive simulation") else {
        return;
    };
    let d = h.dir.join("hidrive_exc5Hz");
    h.events = read_events(&d.join("events.csv"), &h.weight);
    h.soma_v = common::Table::read(&d.join("soma_v.csv"));
    for (run, column) in [(h.reduced(0.0), "v_reduced_f0_mV"), (h.full(), "v_full_mV")] {
        let nv = h.neuron(column);
        let sp_n = crossings(&nv);
        let all: Vec<f64> = run.spikes.iter().chain(&sp_n).copied().collect();
        let rms = rms_sub(&run.v, &nv, &all, 0.0);
        eprintln!(
            "high drive, {column}: {} spikes ours, {} NEURON; max |Δt| {:.3} ms; subthreshold RMS {rms:.2e} mV; CPU {:.2} s",
            run.spikes.len(),
            sp_n.len(),
            run.spikes
                .iter()
                .zip(&sp_n)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max),
            run.cpu_s
        );
        assert_eq!(run.spikes.len(), sp_n.len(), "{column}: spike count");
        for (a, b) in run.spikes.iter().zip(&sp_n) {
            assert!((a - b).abs() < 0.2, "{column}: spike {a} vs NEURON {b} ms");
        }
    }
}

/// The Allen cell 483108201 (upstream unit test 9, passive dendrites, 21 orphan cylinder
/// segments), full and reduced at 0 Hz, during the input-free first 10 ms (34 °C, v_init =
/// e_pas, dt 0.1 ms) against NEURON 9's traces (`test9_unit_test/soma_v_test9.csv`, 6
/// decimals). NEURON's full and reduced traces differ by 7.6e-4 mV at 10 ms; ours must show
/// the same difference.
#[test]
fn allen_input_free_against_neuron() {
    let Some(shared) = common::shared_reduce("Allen simulation") else {
        return;
    };
    let dir = shared.join("allen_483108201");
    let cell = common::load_cell(&dir);
    let t = common::Table::read(&dir.join("test9_unit_test/soma_v_test9.csv"));
    let proto = Protocol {
        dt_ms: 0.1,
        tstop_ms: 10.0,
        celsius: 34.0,
        v_init_mv: -88.22792053222656,
        sample_every: 1,
    };
    let red = reduce::reduce(&cell.tree, &[], &ReduceOptions::default()).unwrap();
    let mods = dir.join("mod");
    let full = simulate(&cell.tree, &[], &[], &mods, &proto);
    let reduced = simulate(&red.tree, &[], &[], &mods, &proto);
    let col = |c: &str| -> Vec<f64> { (0..=100).map(|r| t.f(r, c)).collect() };
    let (nf, nr) = (col("neuron9_full_mV"), col("neuron9_reduced_mV"));
    assert_eq!(full.v.len(), 101);
    assert_eq!(reduced.v.len(), 101);
    let e_full = max_abs(&full.v, &nf);
    let e_red = max_abs(&reduced.v, &nr);
    // The reduction's own effect: (reduced − full), ours against NEURON's.
    let d_ours: Vec<f64> = reduced.v.iter().zip(&full.v).map(|(r, f)| r - f).collect();
    let d_neuron: Vec<f64> = nr.iter().zip(&nf).map(|(r, f)| r - f).collect();
    let e_diff = max_abs(&d_ours, &d_neuron);
    eprintln!(
        "Allen 0-10 ms: max |Δv| vs NEURON full {e_full:.2e} mV, reduced {e_red:.2e} mV; \
         (reduced − full) ours vs NEURON's {e_diff:.2e} mV (NEURON's difference at 10 ms {:.2e} mV)",
        d_neuron[100]
    );
    // Our engine drifts from NEURON by up to 7.6e-4 mV on this cell in 10 ms (3e-5 mV on the
    // Hay cell; a mechanism-level difference, not the reduction's), which also shifts the
    // difference a little: NEURON's 7.64e-4 mV effect is reproduced to better than 1e-4 mV.
    assert!(
        e_diff < 1e-4,
        "reduced − full differs from NEURON's by {e_diff} mV"
    );
    assert!(
        e_full < 1e-3 && e_red < 1e-3,
        "engine vs NEURON {e_full} / {e_red} mV"
    );
}
