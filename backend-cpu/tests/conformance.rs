//! Density-protocol conformance against NEURON 9.0.2 (the corpus references): the recorded
//! membrane potential of each step drives the mechanism (currents at `v_n`, `t_n + dt/2`;
//! states advanced with `v_{n+1}`, `t_{n+1}`, NEURON's fixed-step order) and the recorded
//! states and currents are compared with ours. Files with concentration drivers or
//! non-numeric parameter changes are skipped. Reads `$NEUWON_SHARED/nmodl/corpus` in place.
//! `NEUWON_CONFORMANCE_DEBUG=<part of a path>` prints the first rows of that file side by side.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use std::path::Path;

use backend_cpu::{CompileOptions, Compiled, Env, EventLog, IonPools};
use serde_json::Value;

mod common;
use common::{mod_files, shared};

fn read_csv(p: &Path) -> Option<(Vec<String>, Vec<Vec<f64>>)> {
    let text = std::fs::read_to_string(p).ok()?;
    let mut lines = text.lines();
    let head: Vec<String> = lines.next()?.split(',').map(str::to_string).collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|x| x.trim().parse::<f64>().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    Some((head, rows))
}

/// Largest |ours − NEURON| over the run, relative to the column's largest |value|, per
/// compared column; `None` when the file is skipped.
fn compare(modp: &Path) -> Option<Result<Vec<(String, f64)>, String>> {
    compare_with(modp, None)
}

/// As [`compare`], running `ours` instead of the corpus file's mechanism when given.
fn compare_with(
    modp: &Path,
    ours: Option<&Compiled>,
) -> Option<Result<Vec<(String, f64)>, String>> {
    let stem = modp.with_extension("");
    let proto: Value =
        serde_json::from_str(&std::fs::read_to_string(stem.with_extension("protocol.json")).ok()?)
            .ok()?;
    if proto["protocol"] != "density" || proto["stochastic"] == true {
        return None;
    }
    let driver_names: Vec<String> = proto["drivers"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let (head, rows) = read_csv(&stem.with_extension("ref.csv"))?;
    let owned;
    let c = match ours {
        Some(c) => c,
        None => {
            let (_, out) = nmodl::compile_file(modp, &Default::default()).ok()?;
            let m = out.mechanism?;
            owned = match Compiled::new(&m, CompileOptions::default()) {
                Ok(c) => c,
                Err(e) => return Some(Err(e.to_string())),
            };
            &owned
        }
    };
    let mut ions = IonPools::new(1);
    let mut inst = c.instantiate(&[0], &mut ions).ok()?;
    // Concentration drivers (the protocol's own helper mechanisms, in the same compartment).
    let mut drivers = Vec::new();
    for d in &driver_names {
        let path = shared().join("nmodl/drivers").join(format!("{d}.mod"));
        let (_, out) = nmodl::compile_file(&path, &Default::default()).ok()?;
        let dc = Compiled::new(&out.mechanism?, CompileOptions::default()).ok()?;
        let di = dc.instantiate(&[0], &mut ions).ok()?;
        drivers.push((dc, di));
    }
    if let Some(pc) = proto["parameters_changed"].as_object() {
        for (k, v) in pc {
            if k.starts_with("driver ") {
                // "inserted, g = 0.0001 S/cm2, …": the drivers' default g.
                continue;
            }
            let x = v.as_f64()?;
            if let Ok(col) = c.column_mut(&mut inst, k, 0) {
                col[0] = x;
            } else if c.set_global(&mut inst, k, x).is_err() {
                return None;
            }
        }
    }
    if let Some(ia) = proto["ions_after_init"].as_object() {
        for (k, v) in ia {
            let x = v.as_f64()?;
            for name in ["na", "k", "ca", "cl"] {
                let Some(p) = ions.get_mut(name) else {
                    continue;
                };
                if k == &format!("e{name}") {
                    p.e[0] = x;
                } else if k == &format!("{name}i") {
                    p.conc_in[0] = x;
                } else if k == &format!("{name}o") {
                    p.conc_out[0] = x;
                }
            }
        }
    }
    let celsius = proto["celsius"].as_f64()?;
    let dt = proto["dt_ms"]["ref"].as_f64()?;
    let area = [proto["geometry"]["area_um2"].as_f64()?];
    let diam = [proto["geometry"]["diam_um"].as_f64()?];
    let vcol = head.iter().position(|h| h == "v")?;
    let cols: Vec<(usize, String)> = head
        .iter()
        .enumerate()
        .filter(|(_, h)| !matches!(h.as_str(), "t" | "v" | "i_clamp"))
        .filter(|(_, h)| c.column(&inst, h, 0).is_ok())
        .map(|(i, h)| (i, h.clone()))
        .collect();
    if cols.is_empty() {
        return None;
    }
    let mut log = EventLog::default();
    let run = (|| -> Result<Vec<(String, f64)>, backend_cpu::Error> {
        let v0 = [rows[0][vcol]];
        let env = Env {
            t: 0.0,
            dt,
            celsius,
            v: &v0,
            area: &area,
            diam: &diam,
        };
        for (dc, di) in drivers.iter_mut() {
            dc.init(di, &env, &mut ions, &mut log)?;
        }
        c.init(&mut inst, &env, &mut ions, &mut log)?;
        c.write_ions(&mut inst, &env, &mut ions)?;
        ions.update_reversals(celsius);
        if std::env::var("NEUWON_CONFORMANCE_DEBUG")
            .is_ok_and(|d| modp.to_string_lossy().contains(&d))
        {
            for (ci, name) in &cols {
                eprintln!(
                    "row 0 {name}: ours {:e} NEURON {:e}",
                    c.column(&inst, name, 0)?[0],
                    rows[0][*ci]
                );
            }
        }
        let mut err = vec![0.0f64; cols.len()];
        let mut scale = vec![0.0f64; cols.len()];
        for n in 0..rows.len() - 1 {
            let (tn, vn, vn1) = (rows[n][0], [rows[n][vcol]], [rows[n + 1][vcol]]);
            ions.reset_currents();
            let e1 = Env {
                t: tn + dt / 2.0,
                dt,
                celsius,
                v: &vn,
                area: &area,
                diam: &diam,
            };
            for (dc, di) in drivers.iter_mut() {
                dc.compute_currents(di, &e1, &mut ions)?;
            }
            c.compute_currents(&mut inst, &e1, &mut ions)?;
            let e2 = Env {
                t: rows[n + 1][0],
                dt,
                celsius,
                v: &vn1,
                area: &area,
                diam: &diam,
            };
            c.advance_state(&mut inst, &e2, &mut ions)?;
            c.write_ions(&mut inst, &e2, &mut ions)?;
            ions.update_reversals(celsius);
            let debug = std::env::var("NEUWON_CONFORMANCE_DEBUG")
                .is_ok_and(|d| modp.to_string_lossy().contains(&d))
                && n < 6;
            for (k, (ci, name)) in cols.iter().enumerate() {
                let want = rows[n + 1][*ci];
                let got = c.column(&inst, name, 0)?[0];
                if debug {
                    eprintln!("row {} {name}: ours {got:e} NEURON {want:e}", n + 1);
                }
                scale[k] = scale[k].max(want.abs());
                let d = (got - want).abs();
                err[k] = if d.is_nan() {
                    f64::INFINITY
                } else {
                    err[k].max(d)
                };
            }
        }
        Ok(cols
            .iter()
            .zip(err.iter().zip(&scale))
            .map(|((_, n), (e, s))| (n.clone(), e / s.max(1e-12)))
            .collect())
    })();
    Some(run.map_err(|e| e.to_string()))
}

#[test]
fn density_protocol_against_neuron() {
    let dir = shared().join("nmodl/corpus");
    let files = mod_files(&dir);
    if files.is_empty() {
        eprintln!(
            "SKIPPED conformance: no corpus at {} (set NEUWON_SHARED)",
            dir.display()
        );
        return;
    }
    let (mut n, mut tight, mut loose) = (0, 0, 0);
    let mut worst = Vec::new();
    for f in &files {
        let Some(res) = compare(f) else { continue };
        n += 1;
        let name = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
        match res {
            Ok(errs) => {
                let (col, e) = errs.iter().cloned().fold((String::new(), 0.0f64), |a, b| {
                    if b.1 > a.1 {
                        b
                    } else {
                        a
                    }
                });
                if e <= 1e-6 {
                    tight += 1;
                } else if e <= 1e-3 {
                    loose += 1;
                    eprintln!("  within 1e-3: {name}: {col} rel. err {e:.2e}");
                } else {
                    worst.push(format!("{name}: {col} rel. err {e:.2e}"));
                }
            }
            Err(e) => worst.push(format!("{name}: error {e}")),
        }
    }
    eprintln!(
        "density conformance: {n} files compared; {tight} within 1e-6 (relative to the column's \
         range), {loose} more within 1e-3, {} worse:",
        worst.len()
    );
    for w in &worst {
        eprintln!("  {w}");
    }
    if n > 0 {
        assert!(tight * 10 >= n * 5, "fewer than half match NEURON to 1e-6");
    }
}

/// Our shipped `hh` (written from the published equations, TABLE on) against NEURON's own
/// built-in `hh` (corpus `nrn/nrnoc__hh.mod`) under the density protocol.
#[test]
fn shipped_hh_matches_neurons_builtin_hh() {
    let f = shared().join("nmodl/corpus/nrn/nrnoc__hh.mod");
    if !f.exists() {
        eprintln!("SKIPPED: no {}", f.display());
        return;
    }
    let hh = backend_cpu::library::compile("hh", CompileOptions::default()).unwrap();
    let errs = compare_with(&f, Some(&hh)).unwrap().unwrap();
    eprintln!("shipped hh vs NEURON hh (relative to each column's range): {errs:?}");
    assert!(errs.len() >= 5, "compared {errs:?}");
    for (name, e) in errs {
        assert!(e < 1e-6, "{name}: {e}");
    }
}

/// Our shipped ExpSyn / Exp2Syn against NEURON's (corpus synapse protocol): the recorded `v`
/// drives the synapse, NetCon events arrive at the protocol's times with its weight.
#[test]
fn shipped_synapses_match_neuron() {
    for (name, file) in [
        ("ExpSyn", "nrn/expsyn.mod"),
        ("Exp2Syn", "nrn/nrnoc__exp2syn.mod"),
    ] {
        let f = shared().join("nmodl/corpus").join(file);
        let stem = f.with_extension("");
        let (Ok(proto), Some((head, rows))) = (
            std::fs::read_to_string(stem.with_extension("protocol.json")),
            read_csv(&stem.with_extension("ref.csv")),
        ) else {
            eprintln!("SKIPPED: no {}", f.display());
            continue;
        };
        let proto: Value = serde_json::from_str(&proto).unwrap();
        let c = backend_cpu::library::compile(name, CompileOptions::default()).unwrap();
        let mut ions = IonPools::new(1);
        let mut inst = c.instantiate(&[0], &mut ions).unwrap();
        let celsius = proto["celsius"].as_f64().unwrap();
        let dt = proto["dt_ms"]["ref"].as_f64().unwrap();
        let area = [proto["geometry"]["area_um2"].as_f64().unwrap()];
        let diam = [proto["geometry"]["diam_um"].as_f64().unwrap()];
        let weight = proto["events"]["weight"].as_f64().unwrap();
        let times: Vec<f64> = proto["events"]["times_ms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let col = |n: &str| head.iter().position(|h| h == n);
        let (vc, ic) = (col("v").unwrap(), col("i").unwrap());
        // ExpSyn records g; Exp2Syn records A and B (g = B − A).
        let gcols: Vec<(usize, &str)> = ["g", "A", "B"]
            .iter()
            .filter_map(|n| col(n).map(|k| (k, *n)))
            .collect();
        let mut log = EventLog::default();
        let v0 = [rows[0][vc]];
        let e0 = Env {
            t: 0.0,
            dt,
            celsius,
            v: &v0,
            area: &area,
            diam: &diam,
        };
        c.init(&mut inst, &e0, &mut ions, &mut log).unwrap();
        let (mut err_g, mut err_i, mut max_g, mut max_i) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let mut next = 0;
        for n in 0..rows.len() - 1 {
            let tn = rows[n][0];
            let vn = [rows[n][vc]];
            // Fixed step: events due by the middle of the step are delivered at its start.
            while next < times.len() && times[next] <= tn + dt / 2.0 {
                let e = Env {
                    t: times[next],
                    dt,
                    celsius,
                    v: &vn,
                    area: &area,
                    diam: &diam,
                };
                c.net_receive(&mut inst, 0, &mut [weight], 0.0, &e, &mut ions, &mut log)
                    .unwrap();
                next += 1;
            }
            let e1 = Env {
                t: tn + dt / 2.0,
                dt,
                celsius,
                v: &vn,
                area: &area,
                diam: &diam,
            };
            c.compute_currents(&mut inst, &e1, &mut ions).unwrap();
            let vn1 = [rows[n + 1][vc]];
            let e2 = Env {
                t: rows[n + 1][0],
                dt,
                celsius,
                v: &vn1,
                area: &area,
                diam: &diam,
            };
            c.advance_state(&mut inst, &e2, &mut ions).unwrap();
            for (gc, gname) in &gcols {
                let g = c.column(&inst, gname, 0).unwrap()[0];
                err_g = err_g.max((g - rows[n + 1][*gc]).abs());
                max_g = max_g.max(rows[n + 1][*gc].abs());
            }
            let i = c.column(&inst, "i", 0).unwrap()[0];
            err_i = err_i.max((i - rows[n + 1][ic]).abs());
            max_i = max_i.max(rows[n + 1][ic].abs());
        }
        let (rg, ri) = (err_g / max_g, err_i / max_i);
        eprintln!(
            "shipped {name} vs NEURON: conductance states rel. err {rg:.2e}, i rel. err {ri:.2e} \
             (weight {weight})"
        );
        assert!(max_g > 0.0 && rg < 1e-6 && ri < 1e-6);
    }
}

/// A tiny event queue: (time, flag, is self-event).
#[derive(Default)]
struct Queue {
    ev: Vec<(f64, f64)>,
    spikes: Vec<f64>,
}

impl backend_cpu::EventSink for Queue {
    fn net_send(&mut self, _: usize, t: f64, flag: f64) {
        self.ev.push((t, flag));
    }
    fn net_event(&mut self, _: usize, t: f64) {
        self.spikes.push(t);
    }
    fn net_move(&mut self, _: usize, t: f64) {
        // NEURON moves the pending self-event.
        if let Some(e) = self.ev.iter_mut().rev().find(|e| e.1 != 0.0) {
            e.0 = t;
        }
    }
}

/// Point-process protocols (synapse: NetCon events at the protocol's times; pp_free: none):
/// largest column error relative to its range, or a reason for skipping.
fn compare_point(modp: &Path) -> Option<Result<(String, f64), String>> {
    let stem = modp.with_extension("");
    let proto: Value =
        serde_json::from_str(&std::fs::read_to_string(stem.with_extension("protocol.json")).ok()?)
            .ok()?;
    let kind = proto["protocol"].as_str()?;
    if !matches!(kind, "synapse" | "pp_free" | "artificial") || proto["stochastic"] == true {
        return None;
    }
    let artificial = kind == "artificial";
    let (head, rows) = read_csv(&stem.with_extension("ref.csv"))?;
    let (_, out) = nmodl::compile_file(modp, &Default::default()).ok()?;
    let m = out.mechanism?;
    let c = match Compiled::new(&m, CompileOptions::default()) {
        Ok(c) => c,
        Err(e) => return Some(Err(e.to_string())),
    };
    let mut ions = IonPools::new(1);
    let mut inst = c.instantiate(&[0], &mut ions).ok()?;
    if let Some(pc) = proto["parameters_changed"].as_object() {
        for (k, v) in pc {
            if k == "events" {
                continue;
            }
            let x = v.as_f64()?;
            if let Ok(col) = c.column_mut(&mut inst, k, 0) {
                col[0] = x;
            } else if c.set_global(&mut inst, k, x).is_err() {
                return None;
            }
        }
    }
    // Artificial cells have no geometry (and may have no temperature).
    let celsius = proto["celsius"].as_f64().unwrap_or(6.3);
    let dt = proto["dt_ms"]["ref"].as_f64()?;
    let area = [proto["geometry"]["area_um2"].as_f64().unwrap_or(100.0)];
    let diam = [proto["geometry"]["diam_um"].as_f64().unwrap_or(10.0)];
    let vcol = head.iter().position(|h| h == "v");
    let cols: Vec<(usize, String)> = head
        .iter()
        .enumerate()
        .filter(|(_, h)| !matches!(h.as_str(), "t" | "v"))
        .filter(|(_, h)| c.column(&inst, h, 0).is_ok())
        .map(|(i, h)| (i, h.clone()))
        .collect();
    let ref_spikes: Option<Vec<f64>> = if artificial {
        let sp: Value = serde_json::from_str(
            &std::fs::read_to_string(stem.with_extension("spikes.json")).ok()?,
        )
        .ok()?;
        Some(
            sp["ref"]
                .as_array()?
                .iter()
                .filter_map(|x| x.as_f64())
                .collect(),
        )
    } else {
        None
    };
    if cols.is_empty() && ref_spikes.as_ref().is_none_or(|s| s.is_empty()) {
        return None;
    }
    let vat = |n: usize| vcol.map(|k| rows[n][k]).unwrap_or(-65.0);
    let n_args = c
        .mechanism()
        .net_receive
        .as_ref()
        .map(|n| n.n_args)
        .unwrap_or(0);
    let mut weights = vec![0.0; n_args.max(1)];
    let mut queue = Queue::default();
    if n_args == 0 {
        // The protocol's events are not delivered to a cell without NET_RECEIVE.
    } else if let Some(ev) = proto["events"].as_object() {
        weights[0] = ev["weight"].as_f64()?;
        for t in ev["times_ms"].as_array()? {
            queue.ev.push((t.as_f64()?, 0.0));
        }
    }
    let run = (|| -> Result<(String, f64), backend_cpu::Error> {
        let v0 = [vat(0)];
        let env = Env {
            t: 0.0,
            dt,
            celsius,
            v: &v0,
            area: &area,
            diam: &diam,
        };
        c.init(&mut inst, &env, &mut ions, &mut queue)?;
        if n_args > 0 {
            c.net_receive_init(&mut inst, 0, &mut weights, &env, &mut ions, &mut queue)?;
        }
        let mut err = vec![0.0f64; cols.len()];
        let mut scale = vec![0.0f64; cols.len()];
        for n in 0..rows.len() - 1 {
            let (tn, vn, vn1) = (rows[n][0], [vat(n)], [vat(n + 1)]);
            loop {
                let due = queue
                    .ev
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.0 <= tn + dt / 2.0)
                    .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
                    .map(|(i, _)| i);
                let Some(i) = due else { break };
                let (te, flag) = queue.ev.remove(i);
                let e = Env {
                    t: te,
                    dt,
                    celsius,
                    v: &vn,
                    area: &area,
                    diam: &diam,
                };
                c.net_receive(&mut inst, 0, &mut weights, flag, &e, &mut ions, &mut queue)?;
            }
            ions.reset_currents();
            let e1 = Env {
                t: tn + dt / 2.0,
                dt,
                celsius,
                v: &vn,
                area: &area,
                diam: &diam,
            };
            c.compute_currents(&mut inst, &e1, &mut ions)?;
            let e2 = Env {
                t: rows[n + 1][0],
                dt,
                celsius,
                v: &vn1,
                area: &area,
                diam: &diam,
            };
            c.advance_state(&mut inst, &e2, &mut ions)?;
            c.write_ions(&mut inst, &e2, &mut ions)?;
            ions.update_reversals(celsius);
            c.check_watches(&mut inst, &e2, &mut ions, &mut queue)?;
            for (k, (ci, name)) in cols.iter().enumerate() {
                let want = rows[n + 1][*ci];
                let got = c.column(&inst, name, 0)?[0];
                scale[k] = scale[k].max(want.abs());
                let d = (got - want).abs();
                err[k] = if d.is_nan() {
                    f64::INFINITY
                } else {
                    err[k].max(d)
                };
            }
        }
        let mut worst = cols
            .iter()
            .zip(err.iter().zip(&scale))
            .map(|((_, n), (e, s))| (n.clone(), e / s.max(1e-12)))
            .fold(
                (String::new(), 0.0f64),
                |a, b| if b.1 > a.1 { b } else { a },
            );
        if let Some(rs) = &ref_spikes {
            let tmax = rows.last().map(|r| r[0]).unwrap_or(0.0);
            let ours: Vec<f64> = queue
                .spikes
                .iter()
                .copied()
                .filter(|t| *t <= tmax)
                .collect();
            if std::env::var("NEUWON_CONFORMANCE_DEBUG")
                .is_ok_and(|d| modp.to_string_lossy().contains(&d))
            {
                eprintln!(
                    "spikes: ours {ours:?} NEURON {rs:?}; pending {:?}",
                    queue.ev
                );
            }
            let e = if ours.len() != rs.len() {
                f64::INFINITY
            } else {
                ours.iter()
                    .zip(rs)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            };
            if e > worst.1 {
                worst = (
                    format!("spike times ({} vs NEURON {})", ours.len(), rs.len()),
                    e,
                );
            }
        }
        Ok(worst)
    })();
    Some(run.map_err(|e| e.to_string()))
}

#[test]
fn point_process_protocols_against_neuron() {
    let dir = shared().join("nmodl/corpus");
    let files = mod_files(&dir);
    if files.is_empty() {
        eprintln!(
            "SKIPPED conformance: no corpus at {} (set NEUWON_SHARED)",
            dir.display()
        );
        return;
    }
    let (mut n, mut tight) = (0, 0);
    let mut other = Vec::new();
    for f in &files {
        let Some(res) = compare_point(f) else {
            continue;
        };
        n += 1;
        let name = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
        match res {
            Ok((_, e)) if e <= 1e-6 => tight += 1,
            Ok((col, e)) => other.push(format!("{name}: {col} rel. err {e:.2e}")),
            Err(e) => other.push(format!("{name}: error {e}")),
        }
    }
    eprintln!("point-process conformance: {n} files compared; {tight} within 1e-6; others:");
    for o in &other {
        eprintln!("  {o}");
    }
    if n > 0 {
        assert!(tight * 10 >= n * 5, "fewer than half match NEURON to 1e-6");
    }
}
