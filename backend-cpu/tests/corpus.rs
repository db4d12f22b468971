//! (e) Corpus smoke test: every corpus file that `nmodl` lowers is compiled by the executor
//! and run (init, one event when it has NET_RECEIVE, 100 steps at fixed v); files are read in
//! place from `$NEUWON_SHARED/nmodl/corpus` (default: the workspace's `../shared`).
//! Prints the counts, the files that produce non-finite values, and the constructs refused.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use std::collections::BTreeMap;

use backend_cpu::{CompileOptions, Compiled, Env, Error, EventLog, IonPools};

mod common;
use common::{mod_files, shared};

/// Strips names in backticks so refusals group by construct.
fn construct_key(s: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for ch in s.chars() {
        if ch == '`' {
            inside = !inside;
            if inside {
                out.push_str("`…`");
            }
        } else if !inside {
            out.push(ch);
        }
    }
    out
}

enum Outcome {
    Finite,
    NonFinite(Vec<String>),
    RunError(String),
}

fn run(c: &Compiled) -> Outcome {
    let n = 3;
    let mut ions = IonPools::new(1);
    let Ok(mut inst) = c.instantiate(&vec![0; n], &mut ions) else {
        return Outcome::RunError("instantiate".into());
    };
    let (v, area, diam) = ([-65.0], [500.0], [10.0]);
    let dt = 0.025;
    let mut log = EventLog::default();
    let env0 = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &area,
        diam: &diam,
    };
    let res = (|| -> Result<(), Error> {
        c.run_hook("constructor", &mut inst, &env0, &mut ions, &mut log)?;
        c.run_hook("before INITIAL", &mut inst, &env0, &mut ions, &mut log)?;
        c.init(&mut inst, &env0, &mut ions, &mut log)?;
        c.run_hook("after INITIAL", &mut inst, &env0, &mut ions, &mut log)?;
        c.write_ions(&mut inst, &env0, &mut ions)?;
        ions.update_reversals(6.3);
        let n_args = c.mechanism().net_receive.as_ref().map(|x| x.n_args);
        for step in 0..100 {
            let t = step as f64 * dt;
            let env = Env {
                t,
                dt,
                celsius: 6.3,
                v: &v,
                area: &area,
                diam: &diam,
            };
            if let (Some(k), 10) = (n_args, step) {
                let mut w = vec![0.001; k.max(1)];
                c.net_receive(&mut inst, 0, &mut w, 0.0, &env, &mut ions, &mut log)?;
            }
            c.run_hook("before STEP", &mut inst, &env, &mut ions, &mut log)?;
            ions.reset_currents();
            c.run_hook("before BREAKPOINT", &mut inst, &env, &mut ions, &mut log)?;
            c.compute_currents(&mut inst, &env, &mut ions)?;
            c.advance_state(&mut inst, &env, &mut ions)?;
            c.run_hook("after SOLVE", &mut inst, &env, &mut ions, &mut log)?;
            c.check_watches(&mut inst, &env, &mut ions, &mut log)?;
            c.write_ions(&mut inst, &env, &mut ions)?;
            ions.update_reversals(6.3);
        }
        Ok(())
    })();
    if let Err(e) = res {
        return Outcome::RunError(e.to_string());
    }
    let finite = inst
        .columns()
        .iter()
        .all(|c| c.iter().all(|x| x.is_finite()))
        && inst.i().iter().chain(inst.g()).all(|x| x.is_finite());
    if finite {
        Outcome::Finite
    } else {
        let bad = c
            .mechanism()
            .variables
            .iter()
            .filter(|v| {
                c.column(&inst, &v.name, 0)
                    .map(|col| col.iter().any(|x| !x.is_finite()))
                    .unwrap_or(false)
            })
            .map(|v| v.name.clone())
            .collect();
        Outcome::NonFinite(bad)
    }
}

#[test]
fn corpus_smoke() {
    let dir = shared().join("nmodl/corpus");
    let files = mod_files(&dir);
    if files.is_empty() {
        eprintln!(
            "SKIPPED corpus smoke test: no corpus at {} (set NEUWON_SHARED)",
            dir.display()
        );
        return;
    }
    let (mut lowered, mut compiled, mut finite) = (0, 0, 0);
    let mut nonfinite = Vec::new();
    let mut run_errors = Vec::new();
    let mut refused: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &files {
        let name = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
        let Ok((_, out)) = nmodl::compile_file(f, &Default::default()) else {
            continue;
        };
        let Some(m) = out.mechanism else { continue };
        lowered += 1;
        let c = match Compiled::new(&m, CompileOptions::default()) {
            Ok(c) => c,
            Err(Error::Unsupported { construct, .. }) => {
                refused
                    .entry(construct_key(&construct))
                    .or_default()
                    .push(name);
                continue;
            }
            Err(e) => {
                refused.entry(format!("other: {e}")).or_default().push(name);
                continue;
            }
        };
        compiled += 1;
        match run(&c) {
            Outcome::Finite => finite += 1,
            Outcome::NonFinite(vars) => nonfinite.push(format!("{name} ({})", vars.join(", "))),
            Outcome::RunError(e) => run_errors.push(format!("{name}: {e}")),
        }
    }
    eprintln!(
        "corpus: {} files, {lowered} lowered by nmodl, {compiled} compiled by the executor",
        files.len()
    );
    eprintln!(
        "ran 100 steps: {finite} finite, {} non-finite, {} run-time errors",
        nonfinite.len(),
        run_errors.len()
    );
    for f in &nonfinite {
        eprintln!("  non-finite: {f}");
    }
    for e in &run_errors {
        eprintln!("  run error: {e}");
    }
    eprintln!("constructs refused (construct | files | example):");
    for (k, v) in &refused {
        eprintln!(
            "  {k} | {} | {}",
            v.len(),
            v.first().map(String::as_str).unwrap_or("")
        );
    }
    // The executor must handle the bulk of what the frontend lowers.
    assert!(
        compiled * 10 >= lowered * 8,
        "only {compiled} of {lowered} compiled"
    );
    assert!(
        finite * 10 >= compiled * 8,
        "only {finite} of {compiled} ran finite"
    );
}
