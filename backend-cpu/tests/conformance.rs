//! Conformance with NEURON 9.0.2 over the corpus (`$NEUWON_SHARED/nmodl`, read in place):
//! every file with a reference is run through `backend_cpu::conform` (the README's protocol)
//! and judged by the README's two tiers. The per-file status table `CONFORMANCE.md` (this
//! crate) is rewritten by the test; the test fails when a file that passed a tier in the
//! committed table no longer does (a regression), or when anything panics.
//!
//! Whole corpus: `cargo test -p backend-cpu --release --test conformance -- --nocapture`.
//! `NEUWON_CONFORMANCE_ONLY=<part of a path>` runs only matching files (the table is then not
//! rewritten); `NEUWON_CONFORMANCE_DEBUG=<part of a path>` prints the worst rows.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use backend_cpu::conform::{self, Protocol, Table};
use backend_cpu::CompileOptions;
use rayon::prelude::*;

#[allow(dead_code)]
mod common;
use common::shared;

/// One INDEX.tsv row (the columns this test uses).
#[derive(Clone, Debug)]
struct Entry {
    path: String,
    features: Vec<String>,
    neuron_compiles: bool,
    reference: bool,
    protocol: String,
    note: String,
}

fn index(root: &Path) -> Option<Vec<Entry>> {
    let text = std::fs::read_to_string(root.join("INDEX.tsv")).ok()?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next()?.split('\t').collect();
    let col = |n: &str| head.iter().position(|h| *h == n);
    let (cp, cf, cc, cr, cpr, cn) = (
        col("path")?,
        col("features")?,
        col("nrnivmodl_compiles")?,
        col("reference")?,
        col("protocol")?,
        col("note")?,
    );
    Some(
        lines
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|f| f.len() == head.len())
            .map(|f| Entry {
                path: f[cp].to_string(),
                features: f[cf].split(',').map(|s| s.trim().to_string()).collect(),
                neuron_compiles: f[cc] == "yes",
                reference: f[cr] == "yes",
                protocol: f[cpr].to_string(),
                note: f[cn].to_string(),
            })
            .collect(),
    )
}

/// What happened to one file.
#[derive(Clone, Debug)]
struct Status {
    tier1: bool,
    tier2: bool,
    /// Refused by nmodl / backend-cpu (the construct), or the worst column / why it failed.
    reason: String,
}

fn first_error_line(s: &str) -> String {
    s.lines()
        .find(|l| l.contains("error"))
        .or_else(|| s.lines().next())
        .unwrap_or("")
        .trim()
        .replace('|', "\\|")
}

fn read_table(p: &Path) -> Result<Table, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    Table::parse(&p.display().to_string(), &text).map_err(|e| e.to_string())
}

/// Runs one referenced corpus file through the protocol and the tiers.
fn judge(root: &Path, e: &Entry) -> Status {
    let modp = root.join(&e.path);
    let stem = modp.with_extension("");
    let fail = |reason: String| Status {
        tier1: false,
        tier2: false,
        reason,
    };
    let c = match conform::compile_mod(&modp, &[], CompileOptions::default()) {
        Ok(c) => c,
        Err(err) => {
            let s = err.to_string();
            let line = first_error_line(&s).replace(&format!("{}/", root.display()), "");
            return fail(format!("refused: {line}"));
        }
    };
    let proto = match std::fs::read_to_string(stem.with_extension("protocol.json"))
        .map_err(|x| x.to_string())
        .and_then(|t| Protocol::parse(&t).map_err(|x| x.to_string()))
    {
        Ok(p) => p,
        Err(x) => return fail(format!("protocol: {x}")),
    };
    let trace = match conform::run(&c, &proto, proto.dt_ms, CompileOptions::default()) {
        Ok(t) => t,
        Err(x) => return fail(format!("run: {}", first_error_line(&x.to_string()))),
    };
    let reference = match read_table(&stem.with_extension("ref.csv")) {
        Ok(t) => t,
        Err(x) => return fail(format!("ref.csv: {x}")),
    };
    let fine = read_table(&stem.with_extension("fine.csv")).ok();
    let spikes = std::fs::read_to_string(stem.with_extension("spikes.json"))
        .ok()
        .and_then(|t| conform::parse_spikes(&t).ok());
    let v = conform::compare(
        &proto,
        &trace,
        &reference,
        fine.as_ref(),
        spikes.as_ref().map(|(a, b)| (a.as_slice(), b.as_slice())),
    );
    if std::env::var("NEUWON_CONFORMANCE_DEBUG").is_ok_and(|d| e.path.contains(&d)) {
        debug_print(&trace, &reference, &v);
    }
    let reason = if v.tier1.pass {
        String::new()
    } else if v.tier2.pass {
        format!("tier 1: {}", v.tier1.worst)
    } else {
        format!("tier 1: {}; tier 2: {}", v.tier1.worst, v.tier2.worst)
    };
    Status {
        tier1: v.tier1.pass,
        tier2: v.tier2.pass,
        reason,
    }
}

fn debug_print(trace: &conform::Trace, reference: &Table, v: &conform::Verdict) {
    eprintln!("verdict: {v:?}");
    eprintln!("spikes: ours {:?}", trace.spikes_ms);
    for (cr, name) in reference.columns.iter().enumerate() {
        let Some(co) = trace.columns.iter().position(|c| c == name) else {
            continue;
        };
        let mut worst = (0usize, 0.0f64);
        for (k, (a, b)) in trace.rows.iter().zip(&reference.rows).enumerate() {
            let d = (a[co] - b[cr]).abs();
            if d > worst.1 || d.is_nan() {
                worst = (k, d);
            }
        }
        let k = worst.0;
        eprintln!("{name}: worst row {k} |d| = {:e}", worst.1);
        for r in k.saturating_sub(2)..(k + 3).min(reference.rows.len()) {
            if let Some(o) = trace.rows.get(r) {
                eprintln!(
                    "   row {r} t={} ours {:e} NEURON {:e}",
                    reference.rows[r][0], o[co], reference.rows[r][cr]
                );
            }
        }
        for r in 0..3.min(reference.rows.len()) {
            if let Some(o) = trace.rows.get(r) {
                eprintln!(
                    "   row {r} ours {:e} NEURON {:e}",
                    o[co], reference.rows[r][cr]
                );
            }
        }
    }
}

/// Files NEURON compiles (nrnivmodl) and we refuse, with the construct: (path, message).
fn refused_files(root: &Path, entries: &[Entry]) -> Vec<(String, String)> {
    entries
        .par_iter()
        .filter(|e| e.neuron_compiles)
        .filter_map(|e| {
            let modp = root.join(&e.path);
            match conform::compile_mod(&modp, &[], CompileOptions::default()) {
                Ok(_) => None,
                Err(err) => {
                    let line = first_error_line(&err.to_string())
                        .replace(&format!("{}/", root.display()), "");
                    Some((e.path.clone(), line))
                }
            }
        })
        .collect()
}

const CLASSES: &[(&str, &str)] = &[
    ("KINETIC", "KINETIC"),
    ("DERIVATIVE", "DERIVATIVE"),
    ("METHOD_cnexp", "cnexp"),
    ("METHOD_derivimplicit", "derivimplicit"),
    ("METHOD_euler", "euler"),
    ("METHOD_sparse", "sparse"),
    ("STEADYSTATE", "STEADYSTATE"),
    ("TABLE", "TABLE"),
    ("FUNCTION_TABLE", "FUNCTION_TABLE"),
    ("NET_RECEIVE", "NET_RECEIVE"),
    ("net_send", "net_send"),
    ("WATCH", "WATCH"),
    ("ARTIFICIAL_CELL", "ARTIFICIAL_CELL"),
    ("writes_concentration", "concentration writers"),
    ("POINTER", "POINTER"),
    ("array_STATE", "array STATE"),
    ("celsius", "celsius"),
    ("ELECTRODE_CURRENT", "ELECTRODE_CURRENT"),
    ("LINEAR", "LINEAR"),
    ("NONLINEAR", "NONLINEAR"),
    ("BEFORE_AFTER", "BEFORE/AFTER"),
    ("stochastic", "stochastic"),
    ("VERBATIM", "VERBATIM"),
];

fn status_word(b: bool) -> &'static str {
    if b {
        "pass"
    } else {
        "FAIL"
    }
}

/// (path → (tier1, tier2)) from a previous table.
fn previous(text: &str) -> BTreeMap<String, (bool, bool)> {
    let mut out = BTreeMap::new();
    let mut in_files = false;
    for l in text.lines() {
        if l.starts_with("## Per file") {
            in_files = true;
            continue;
        }
        if l.starts_with("## ") {
            in_files = false;
        }
        if !in_files || !l.starts_with("| ") || l.starts_with("| file") {
            continue;
        }
        let f: Vec<&str> = l.split(" | ").map(|s| s.trim_matches(['|', ' '])).collect();
        if f.len() >= 4 {
            out.insert(f[0].to_string(), (f[2] == "pass", f[3] == "pass"));
        }
    }
    out
}

#[test]
fn corpus_conformance_tiers() {
    let root = shared().join("nmodl");
    let Some(entries) = index(&root) else {
        eprintln!(
            "SKIPPED conformance: no corpus index at {} (set NEUWON_SHARED)",
            root.join("INDEX.tsv").display()
        );
        return;
    };
    let only = std::env::var("NEUWON_CONFORMANCE_ONLY").ok();
    let referenced: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.reference)
        .filter(|e| only.as_ref().is_none_or(|o| e.path.contains(o.as_str())))
        .collect();
    let start = std::time::Instant::now();
    let results: Vec<(Entry, Status)> = referenced
        .par_iter()
        .map(|e| ((*e).clone(), judge(&root, e)))
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    let n = results.len();
    let t1 = results.iter().filter(|r| r.1.tier1).count();
    let t2 = results.iter().filter(|r| r.1.tier2).count();
    eprintln!(
        "conformance: {n} referenced files in {elapsed:.1} s: tier 1 {t1} ({:.1}%), tier 2 {t2} \
         ({:.1}%)",
        100.0 * t1 as f64 / n.max(1) as f64,
        100.0 * t2 as f64 / n.max(1) as f64
    );
    for (e, s) in &results {
        if !s.tier1 {
            eprintln!("  {} [{}]: {}", e.path, e.protocol, s.reason);
        }
    }
    if only.is_some() {
        return;
    }

    // The table.
    let mut md = String::new();
    md.push_str(
        "# NEURON conformance of the NMODL corpus\n\nGenerated by `cargo test -p backend-cpu \
         --release --test conformance` from `shared/nmodl` (the test rewrites this file and \
         fails when a file that passed a tier here no longer does). Protocol and tiers: \
         `shared/nmodl/README.md` (\"Conformance protocol (normative)\"); runner: \
         `backend_cpu::conform`. Tier 1: every column within 1e-6 of its range of NEURON's \
         dt = 0.025 ms run (same scheme). Tier 2: within NEURON's own dt error of its \
         dt = 0.0025 ms run (at least as accurate); a tier-1 pass is a tier-2 pass. \
         Stochastic files pass when the run completes with finite values. A reason gives the \
         worst column and its error as a multiple of the tier's bound.\n\n",
    );
    let mut by_kind: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for (e, s) in &results {
        let k = by_kind.entry(e.protocol.clone()).or_default();
        k.0 += 1;
        k.1 += s.tier1 as usize;
        k.2 += s.tier2 as usize;
    }
    md.push_str(
        "## Pass counts\n\n| protocol | files | tier 1 | tier 2 |\n| --- | --- | --- | --- |\n",
    );
    for (k, (a, b, c)) in &by_kind {
        md.push_str(&format!("| {k} | {a} | {b} | {c} |\n"));
    }
    md.push_str(&format!(
        "| **all** | {n} | {t1} ({:.1}%) | {t2} ({:.1}%) |\n\n",
        100.0 * t1 as f64 / n.max(1) as f64,
        100.0 * t2 as f64 / n.max(1) as f64
    ));
    md.push_str(
        "### By feature class (INDEX.tsv `features`)\n\n| feature | files | tier 1 | tier 2 |\n\
         | --- | --- | --- | --- |\n",
    );
    for (tag, label) in CLASSES {
        let sel: Vec<&Status> = results
            .iter()
            .filter(|(e, _)| e.features.iter().any(|f| f == tag))
            .map(|(_, s)| s)
            .collect();
        if sel.is_empty() {
            continue;
        }
        md.push_str(&format!(
            "| {label} | {} | {} | {} |\n",
            sel.len(),
            sel.iter().filter(|s| s.tier1).count(),
            sel.iter().filter(|s| s.tier2).count()
        ));
    }
    md.push_str("\n## Per file\n\n| file | protocol | tier 1 | tier 2 | reason |\n| --- | --- | --- | --- | --- |\n");
    let mut sorted = results.clone();
    sorted.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    for (e, s) in &sorted {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            e.path,
            e.protocol,
            status_word(s.tier1),
            status_word(s.tier2),
            s.reason.replace('|', "\\|")
        ));
    }
    let refused = refused_files(&root, &entries);
    md.push_str(&format!(
        "\n## Files NEURON compiles that neuwon refuses\n\n{} of the {} files that \
         `nrnivmodl` compiles; the first error names the construct.\n\n| file | reference | \
         construct refused |\n| --- | --- | --- |\n",
        refused.len(),
        entries.iter().filter(|e| e.neuron_compiles).count()
    ));
    let mut refused = refused;
    refused.sort();
    for (p, m) in &refused {
        let e = entries.iter().find(|e| &e.path == p);
        let r = match e {
            Some(e) if e.reference => "yes".to_string(),
            Some(e) => format!("no ({})", e.note.chars().take(60).collect::<String>()),
            None => "?".into(),
        };
        md.push_str(&format!("| {p} | {} | {m} |\n", r.replace('|', "\\|")));
    }

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("CONFORMANCE.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let prev = previous(&old);
    let mut regressions = Vec::new();
    for (e, s) in &sorted {
        if let Some((p1, p2)) = prev.get(&e.path) {
            if (*p1 && !s.tier1) || (*p2 && !s.tier2) {
                regressions.push(format!("{}: {}", e.path, s.reason));
            }
        }
    }
    if old != md {
        std::fs::write(&path, &md).unwrap();
        eprintln!("CONFORMANCE.md rewritten: review and commit it");
    }
    assert!(
        regressions.is_empty(),
        "conformance regressions (passed in the committed CONFORMANCE.md):\n{}",
        regressions.join("\n")
    );
}

/// No panic on any corpus file: every `.mod` of the corpus (with a reference or not) that
/// compiles is run for 5 ms under a corpus protocol of each kind (errors are fine: a density
/// mechanism under the synapse protocol is refused; a panic fails the test).
#[test]
fn every_corpus_file_under_every_protocol_kind_never_panics() {
    let root = shared().join("nmodl");
    let Some(entries) = index(&root) else {
        eprintln!("SKIPPED: no corpus index under {}", root.display());
        return;
    };
    let mut protos: Vec<Protocol> = Vec::new();
    for kind in ["density", "synapse", "pp_free", "artificial"] {
        // The first referenced file of each kind with drivers or POINTERs when there is one.
        let mut cands: Vec<Protocol> = entries
            .iter()
            .filter(|e| e.reference && e.protocol == kind)
            .filter_map(|e| {
                let p = root.join(&e.path).with_extension("protocol.json");
                Protocol::parse(&std::fs::read_to_string(p).ok()?).ok()
            })
            .collect();
        cands.sort_by_key(|p| std::cmp::Reverse(p.drivers.len() + p.pointers.len()));
        if let Some(mut p) = cands.into_iter().next() {
            p.tstop_ms = 5.0;
            p.parameters.clear();
            p.pointers.clear();
            // Columns every mechanism has (the file's own names belong to another mechanism).
            p.recorded.retain(|r| r.name == "t" || r.name == "v");
            protos.push(p);
        }
    }
    let (ran, errs): (Vec<usize>, Vec<usize>) = entries
        .par_iter()
        .map(|e| {
            let Ok(c) =
                conform::compile_mod(&root.join(&e.path), &[], CompileOptions::default())
            else {
                return (0, 0);
            };
            let mut n = (0, 0);
            for p in &protos {
                match conform::run(&c, p, p.dt_ms, CompileOptions::default()) {
                    Ok(_) => n.0 += 1,
                    Err(err) => {
                        n.1 += 1;
                        if !matches!(err, backend_cpu::Error::Protocol { ref field, .. } if field == "protocol")
                        {
                            eprintln!("  {} under {}: {err}", e.path, p.kind.name());
                        }
                    }
                }
            }
            n
        })
        .unzip();
    eprintln!(
        "{} corpus files × {} protocols: {} runs completed, {} refused (a protocol for another mechanism kind, or as listed above), no panic",
        entries.len(),
        protos.len(),
        ran.iter().sum::<usize>(),
        errs.iter().sum::<usize>()
    );
}

/// Our shipped `hh` (written from the published equations, TABLE on) under the density
/// protocol of NEURON's built-in `hh` (corpus `nrn/nrnoc__hh.mod`): tier 1.
#[test]
fn shipped_hh_matches_neurons_builtin_hh() {
    let stem = shared().join("nmodl/corpus/nrn/nrnoc__hh");
    let (Ok(p), Ok(r)) = (
        std::fs::read_to_string(stem.with_extension("protocol.json")),
        read_table(&stem.with_extension("ref.csv")),
    ) else {
        eprintln!("SKIPPED: no {}", stem.display());
        return;
    };
    let p = Protocol::parse(&p).unwrap();
    let hh = backend_cpu::library::compile("hh", CompileOptions::default()).unwrap();
    let trace = conform::run(&hh, &p, p.dt_ms, CompileOptions::default()).unwrap();
    let v = conform::compare(&p, &trace, &r, None, None);
    eprintln!("shipped hh vs NEURON hh: {:?}", v.tier1);
    assert!(r.columns.len() >= 7, "{:?}", r.columns);
    assert!(v.tier1.pass, "{:?}", v.tier1);
}
