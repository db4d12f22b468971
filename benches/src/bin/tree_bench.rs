//! `tree_bench SIZE [--threads N] [--blocks B] [--tstop MS] [--floor] [--profile] [--reference]
//! [--exact-rates]`: one timing run of the balanced-binary-tree HH benchmark (the peers'
//! `bench_tree.py`), printed as one JSON line.
//!
//! SIZE: `N1e3`, `N1e4`, `N1e5`, `100x1e3` (or `DEPTH:NSEG:NCELLS`). `--threads` sets the
//! rayon pool (default 1); `--blocks` the number of engine blocks of whole cells (default: one per
//! thread, at most one per cell); `--floor` times the fused raw-array floor instead of the
//! engine; `--profile` adds the per-phase breakdown (`profile_ns_per_comp_step`);
//! `--reference` runs the engine's generic path (the interpreter, with its bit-identical native
//! kernels for `hh` and `pas`); `--exact-rates` turns `hh`'s
//! TABLE off. Only the integration is timed (wall and process CPU time), as in the peers.

use std::process::ExitCode;
use std::time::Instant;

use benches::floor::Floor;
use benches::measure::{peak_rss_kib, process_cpu_s, rss_kib};
use benches::tree::{build, root_spikes_cell0, Layout, Size, DT_MS, TSTOP_MS};
use benches::Error;

struct Args {
    size: Size,
    threads: usize,
    blocks: Option<usize>,
    tstop: f64,
    floor: bool,
    profile: bool,
    reference: bool,
    exact_rates: bool,
}

fn parse() -> Result<Args, Error> {
    let mut it = std::env::args().skip(1);
    let mut size = None;
    let mut a = Args {
        size: Size::N1e3,
        threads: 1,
        blocks: None,
        tstop: TSTOP_MS,
        floor: false,
        profile: false,
        reference: false,
        exact_rates: false,
    };
    let num = |flag: &str, v: Option<String>| -> Result<f64, Error> {
        v.as_deref()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|x| x.is_finite() && *x > 0.0)
            .ok_or_else(|| Error::Usage(format!("{flag} needs a positive number")))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--threads" => a.threads = num("--threads", it.next())? as usize,
            "--blocks" => a.blocks = Some(num("--blocks", it.next())? as usize),
            "--tstop" => a.tstop = num("--tstop", it.next())?,
            "--floor" => a.floor = true,
            "--profile" => a.profile = true,
            "--reference" => a.reference = true,
            "--exact-rates" => a.exact_rates = true,
            "-h" | "--help" => {
                return Err(Error::Usage(
                    "usage: tree_bench SIZE [--threads N] [--blocks B] [--tstop MS] [--floor] [--profile] [--reference] [--exact-rates]\n  SIZE: N1e3 | N1e4 | N1e5 | 100x1e3 | DEPTH:NSEG:NCELLS".into(),
                ))
            }
            s if size.is_none() && !s.starts_with('-') => size = Some(Size::parse(s)?),
            s => return Err(Error::Usage(format!("unexpected argument `{s}` (try --help)"))),
        }
    }
    a.size = size.ok_or_else(|| Error::Usage("missing SIZE (N1e3, N1e4, N1e5, 100x1e3)".into()))?;
    if a.threads == 0 || a.threads > 1024 {
        return Err(Error::Usage("--threads must be between 1 and 1024".into()));
    }
    Ok(a)
}

fn json_f(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".into()
    }
}

fn opt(x: Option<u64>) -> String {
    x.map_or("null".into(), |v| v.to_string())
}

/// Seconds to ns per compartment per step.
fn per_comp_step(s: f64, ncomp: usize, steps: usize) -> f64 {
    s / (ncomp as f64 * steps.max(1) as f64) * 1e9
}

fn run(a: &Args) -> Result<String, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {} threads: {e}", a.threads)))?;
    let (depth, nseg, ncells) = a.size.shape();
    let steps = (a.tstop / DT_MS).round() as usize;
    let ncomp = a.size.compartments();
    let rss0 = rss_kib();
    let blocks = a.blocks.unwrap_or(a.threads).clamp(1, ncells);
    let t0 = Instant::now();
    let mut fields: Vec<(String, String)> = Vec::new();
    let (build_s, wall, cpu, spikes, first_spikes) = if a.floor {
        let mut f = Floor::new(a.size, blocks)?;
        let build_s = t0.elapsed().as_secs_f64();
        let (t1, c1) = (Instant::now(), process_cpu_s());
        pool.install(|| f.run(steps));
        let (wall, c2) = (t1.elapsed().as_secs_f64(), process_cpu_s());
        let sp = f.root_spikes_cell0().to_vec();
        (build_s, wall, c1.zip(c2).map(|(x, y)| y - x), sp.len(), sp)
    } else {
        let mut tree = build(
            a.size,
            Layout {
                blocks,
                exact_rates: a.exact_rates,
            },
            false,
        )?;
        tree.network.set_fast_path(!a.reference)?;
        tree.network.set_profiling(a.profile);
        fields.push(("matrix_nodes".into(), tree.matrix_nodes.to_string()));
        fields.push(("rss_after_build_kib".into(), opt(rss_kib())));
        fields.push((
            "fast_path".into(),
            tree.network.fast_path_active().to_string(),
        ));
        let build_s = t0.elapsed().as_secs_f64();
        let (t1, c1) = (Instant::now(), process_cpu_s());
        pool.install(|| tree.network.run(a.tstop, |_| {}))?;
        let (wall, c2) = (t1.elapsed().as_secs_f64(), process_cpu_s());
        let cpu = c1.zip(c2).map(|(x, y)| y - x);
        if a.profile {
            // Phase times are wall clock inside the step (what the engine can measure
            // cheaply); on a loaded machine they include waiting, so their shares are also
            // given, and the shares times the CPU figure.
            let p = tree.network.phase_times();
            let named = p.named();
            let total: u64 = named.iter().map(|(_, ns)| ns).sum();
            let cpu_per = per_comp_step(cpu.unwrap_or(f64::NAN), ncomp, steps);
            let mut wall = Vec::new();
            let mut share = Vec::new();
            let mut est = Vec::new();
            for (name, ns) in named {
                let f = ns as f64 / total.max(1) as f64;
                wall.push(format!(
                    "\"{name}\":{:.3}",
                    ns as f64 / (ncomp as f64 * steps as f64)
                ));
                share.push(format!("\"{name}\":{f:.4}"));
                est.push(format!("\"{name}\":{:.3}", f * cpu_per));
            }
            fields.push((
                "profile_wall_ns_per_comp_step".into(),
                format!("{{{}}}", wall.join(",")),
            ));
            fields.push(("profile_share".into(), format!("{{{}}}", share.join(","))));
            fields.push((
                "profile_cpu_ns_per_comp_step".into(),
                format!("{{{}}}", est.join(",")),
            ));
        }
        let sp = root_spikes_cell0(&tree);
        (build_s, wall, cpu, sp.len(), sp)
    };
    let per = |s: f64| per_comp_step(s, ncomp, steps);
    let peak = peak_rss_kib();
    let mut out = vec![
        (
            "kind".to_string(),
            format!(
                "\"{}\"",
                if a.floor {
                    "floor"
                } else if a.reference {
                    "neuwon_reference"
                } else {
                    "neuwon"
                }
            ),
        ),
        ("label".into(), format!("\"{}\"", a.size.label())),
        ("depth".into(), depth.to_string()),
        ("nseg".into(), nseg.to_string()),
        ("ncells".into(), ncells.to_string()),
        ("threads".into(), a.threads.to_string()),
        ("blocks".into(), blocks.to_string()),
        ("ncomp".into(), ncomp.to_string()),
        (
            "nsec".into(),
            (a.size.sections_per_cell() * ncells).to_string(),
        ),
        ("steps".into(), steps.to_string()),
        ("tstop_ms".into(), json_f(a.tstop)),
        ("build_s".into(), json_f(build_s)),
        ("wall_s".into(), json_f(wall)),
        ("run_s".into(), json_f(wall)),
        ("cpu_s".into(), json_f(cpu.unwrap_or(f64::NAN))),
        ("ns_per_comp_step".into(), json_f(per(wall))),
        (
            "cpu_ns_per_comp_step".into(),
            json_f(per(cpu.unwrap_or(f64::NAN))),
        ),
        ("peak_rss_kib".into(), opt(peak)),
        ("rss_before_build_kib".into(), opt(rss0)),
        ("spikes".into(), spikes.to_string()),
        ("root_spikes_cell0".into(), spikes.to_string()),
        (
            "first_spike_ms".into(),
            json_f(first_spikes.first().copied().unwrap_or(f64::NAN)),
        ),
    ];
    out.extend(fields);
    let body: Vec<String> = out.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    Ok(format!("{{{}}}", body.join(",")))
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tree_bench: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tree_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
