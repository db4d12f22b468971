//! The most accurate mode at NEURON's default dt (0.025 ms) and the models' default nseg:
//! NEUWON's exact propagator (`method = "exact"`: zero-area nodes eliminated, Strang split,
//! staggered with the mechanisms), against the converged references of `shared/reference`
//! (copied into `tests/data`), compared with how far NEURON's default run is from them.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use neuwon::model::{Method, Model};
use neuwon::run::build;

mod common;
use common::{csv, csv_text};

/// Runs an example with `method` (and optionally another dt).
fn run(example: &str, method: Method, dt: Option<f64>) -> (Vec<String>, backend_cpu::Recording) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(example);
    let mut model = Model::load(&path).unwrap();
    model.simulation.method = method;
    if let Some(dt) = dt {
        model.simulation.dt_ms = dt;
    }
    let mut built = build(&model).unwrap();
    let rec = built.run(|_| {}).unwrap();
    (built.probe_headers, rec)
}

/// Upward 0 mV crossings, linearly interpolated between samples (the references' rule).
fn crossings(t: &[f64], v: &[f64]) -> Vec<f64> {
    (1..v.len())
        .filter(|&k| v[k - 1] < 0.0 && v[k] >= 0.0)
        .map(|k| t[k - 1] + (t[k] - t[k - 1]) * (0.0 - v[k - 1]) / (v[k] - v[k - 1]))
        .collect()
}

/// Spike times of `variant` in a `variant,index,t_ms` table.
fn spikes(table: &str, variant: &str) -> Vec<f64> {
    let (_, rows) = csv_text(table);
    let v: Vec<f64> = rows
        .iter()
        .filter(|r| r[0] == variant)
        .map(|r| r[2].parse().unwrap())
        .collect();
    assert!(!v.is_empty(), "{variant} not in {table}");
    v
}

#[test]
fn passive_y_exact_at_dt_0025_matches_neuron_at_dt_0001() {
    // A passive tree with constant inputs is integrated exactly in time; the probes are all
    // at zero-area nodes (trunk(0), the branch point, the tips), recovered from their
    // neighbours. What is left is NEURON's own backward-Euler error at dt = 0.001.
    let (_, exact) = run("passive_y.toml", Method::Exact, None);
    let (_, fine) = csv("passive_y_neuron_dt0.001.csv");
    let (_, default) = csv("passive_y_neuron_dt0.025.csv");
    assert_eq!(exact.t_ms.len(), fine.len());
    for p in 0..4 {
        let (mut d_ours, mut d_neuron) = (0.0f64, 0.0f64);
        for (k, row) in fine.iter().enumerate() {
            assert!((exact.t_ms[k] - row[0]).abs() < 1e-9);
            d_ours = d_ours.max((exact.series[p][k] - row[p + 1]).abs());
            d_neuron = d_neuron.max((default[k][p + 1] - row[p + 1]).abs());
        }
        println!(
            "passive_y probe {p}: exact (dt 0.025) vs NEURON dt 0.001: {d_ours:.2e} mV; \
             NEURON dt 0.025 vs dt 0.001: {d_neuron:.2e} mV"
        );
        assert!(d_ours < 0.1 * d_neuron, "probe {p}: {d_ours} vs {d_neuron}");
    }
}

#[test]
fn hh_soma_exact_spike_times_are_over_10x_closer_than_neurons_default() {
    let converged = spikes("hh_soma_spikes.csv", "neuron_cvode_tol1e-9");
    let neuron = spikes("hh_soma_spikes.csv", "neuron_dt0.025");
    let (_, rec) = run("hh_soma.toml", Method::Exact, None);
    let ours = crossings(&rec.t_ms, &rec.series[0]);
    assert_eq!(ours.len(), converged.len());
    for k in 0..ours.len() {
        let (e, en) = (
            (ours[k] - converged[k]).abs(),
            (neuron[k] - converged[k]).abs(),
        );
        println!("hh_soma spike {k}: exact off by {e:.4} ms, NEURON default by {en:.4} ms");
        assert!(10.0 * e <= en, "spike {k}: {e} vs {en}");
    }
}

/// (velocity error ratio, arrival error ratio) of `method` on hh_axon against NEURON's default,
/// both relative to the converged reference.
fn hh_axon_ratios(method: Method) -> (f64, f64) {
    let (head, rows) = csv_text("hh_axon_arrivals.csv");
    let get = |variant: &str, col: &str| -> f64 {
        let c = head.iter().position(|h| h == col).unwrap();
        rows.iter().find(|r| r[0] == variant).unwrap()[c]
            .parse()
            .unwrap()
    };
    let conv = "neuron_so2_dt0.0005_nseg2505";
    let (v_conv, a_conv) = (
        get(conv, "velocity_m_per_s"),
        get(conv, "arrival_x1.000000_ms"),
    );
    let (v_neu, a_neu) = (
        get("neuron_dt0.025_nseg501", "velocity_m_per_s"),
        get("neuron_dt0.025_nseg501", "arrival_x1.000000_ms"),
    );
    let (_, rec) = run("hh_axon.toml", method, None);
    // Probes: x = 0, 0.250499, 0.5, 0.749501, 1; velocity between the 2nd and 4th.
    let first = |p: usize| crossings(&rec.t_ms, &rec.series[p])[0];
    let velocity = 4990.02e-6 / ((first(3) - first(1)) * 1e-3);
    let (ev, en_v) = (
        (velocity - v_conv).abs() / v_conv,
        (v_neu - v_conv).abs() / v_conv,
    );
    let (ea, en_a) = ((first(4) - a_conv).abs(), (a_neu - a_conv).abs());
    println!(
        "hh_axon {method:?}: velocity {velocity:.6} m/s ({:.3} % off; NEURON default {:.3} %, \
         ratio {:.2}); arrival at x = 1 {:.4} ms ({ea:.4} ms late; NEURON {en_a:.4}, ratio {:.2})",
        100.0 * ev,
        100.0 * en_v,
        en_v / ev,
        first(4),
        en_a / ea
    );
    (en_v / ev, en_a / ea)
}

#[test]
fn hh_axon_exact_velocity_and_arrival_are_4x_closer_than_neurons_default() {
    let (rv, ra) = hh_axon_ratios(Method::Exact);
    assert!(rv >= 4.0 && ra >= 4.0, "{rv} {ra}");
}

/// Ratios of (NEURON default error) / (our error) for the two spikes of ball_and_stick_syn.
fn ball_and_stick_ratios(method: Method) -> Vec<f64> {
    let conv = spikes("ball_and_stick_syn_spikes.csv", "neuron_dt0.001_nsegx5");
    let neuron = spikes("ball_and_stick_syn_spikes.csv", "neuron_dt0.025");
    let (_, rec) = run("ball_and_stick_syn.toml", method, None);
    let ours = crossings(&rec.t_ms, &rec.series[0]);
    assert_eq!(ours.len(), 2);
    let ratio: Vec<f64> = (0..2)
        .map(|k| (neuron[k] - conv[k]).abs() / (ours[k] - conv[k]).abs())
        .collect();
    println!(
        "ball_and_stick_syn {method:?}: spikes {ours:?}, closer than NEURON's default by {ratio:?}"
    );
    ratio
}

#[test]
fn crank_nicolson_figures_for_comparison() {
    // The table of the closing note: Crank–Nicolson (NEURON's secondorder = 2) at dt 0.025
    // comes close to but not over 4× on hh_axon and ball_and_stick_syn.
    let (rv, ra) = hh_axon_ratios(Method::CrankNicolson);
    assert!(rv > 3.5 && ra > 3.5, "{rv} {ra}");
    let r = ball_and_stick_ratios(Method::CrankNicolson);
    assert!(r[0] > 3.5 && r[1] > 3.0, "{r:?}");
}

#[test]
fn ball_and_stick_exact_spike_times() {
    // Converged: NEURON at dt 0.001 with nseg ×5. The first spike is over 4× closer than
    // NEURON's default; the second (a slow approach to threshold after one strong EPSP) only
    // about 2.3×: the target of 4× is not reached there.
    let ratio = ball_and_stick_ratios(Method::Exact);
    assert!(ratio[0] >= 4.0, "{ratio:?}");
    assert!(ratio[1] >= 2.0, "{ratio:?}");
}

#[test]
fn exact_converges_at_second_order_on_ball_and_stick() {
    // Spike times at dt, dt/2 and dt/4: successive differences shrink about 4× per halving.
    let t: Vec<f64> = [0.025, 0.0125, 0.00625]
        .iter()
        .map(|&dt| {
            let (_, rec) = run("ball_and_stick_syn.toml", Method::Exact, Some(dt));
            crossings(&rec.t_ms, &rec.series[0])[0]
        })
        .collect();
    let q = (t[0] - t[1]) / (t[1] - t[2]);
    println!("ball_and_stick_syn exact first spike {t:?}: difference ratio {q:.2}");
    assert!((3.0..5.0).contains(&q), "{q}");
}
