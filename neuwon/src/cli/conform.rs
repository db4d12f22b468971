//! `neuwon nmodl conform FILE.mod --protocol P.json --out OUT.csv`: runs the corpus README's
//! conformance protocol for one mechanism (`backend_cpu::conform`) and writes the reference's
//! columns and rows; `--check` compares with NEURON's `ref.csv`/`fine.csv` beside the
//! protocol.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use backend_cpu::conform::{self, Protocol, Table};
use backend_cpu::CompileOptions;

/// Arguments of `neuwon nmodl conform`.
#[derive(Debug, Args)]
pub struct ConformArgs {
    /// The mechanism's .mod file (INCLUDEd files are looked up beside it).
    file: PathBuf,
    /// The protocol (JSON, as `<stem>.protocol.json` in shared/nmodl/corpus); default: the
    /// file's stem with `.protocol.json`.
    #[arg(long)]
    protocol: Option<PathBuf>,
    /// Output CSV (the protocol's `recorded` columns, one row per step from t = 0, 9
    /// significant digits); `-` or absent: standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Time step (ms) instead of the protocol's `dt_ms.ref`.
    #[arg(long)]
    dt: Option<f64>,
    /// Keep every Nth row (with `--dt 0.0025 --every 10` the rows line up with fine.csv).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    every: u32,
    /// Write the mechanism's output events (ms) here, one per line (ARTIFICIAL_CELL).
    #[arg(long)]
    spikes: Option<PathBuf>,
    /// Compare with `<stem>.ref.csv` and `<stem>.fine.csv` (and `.spikes.json`) beside the
    /// protocol and print the tiers; exit 1 when tier 2 fails.
    #[arg(long)]
    check: bool,
    /// Evaluate TABLE functions exactly instead of tabulating them as NEURON does.
    #[arg(long)]
    no_tables: bool,
    /// Extra folders searched for INCLUDE files.
    #[arg(short = 'I', long = "include")]
    include: Vec<PathBuf>,
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!("partial-{name}"));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

fn stem_of(p: &Path) -> PathBuf {
    // `x.protocol.json` → `x`; `x.mod` → `x`.
    let s = p.to_string_lossy();
    let s = s.strip_suffix(".protocol.json").unwrap_or(&s);
    let s = s.strip_suffix(".mod").unwrap_or(s);
    PathBuf::from(s)
}

/// Runs the protocol; the CSV goes to `--out` (or stdout), messages to stderr.
pub fn run(args: &ConformArgs) -> anyhow::Result<ExitCode> {
    let opts = CompileOptions {
        use_tables: !args.no_tables,
    };
    let proto_path = args.protocol.clone().unwrap_or_else(|| {
        PathBuf::from(format!("{}.protocol.json", stem_of(&args.file).display()))
    });
    let text = std::fs::read_to_string(&proto_path)
        .with_context(|| format!("reading {}", proto_path.display()))?;
    let proto = Protocol::parse(&text).with_context(|| format!("{}", proto_path.display()))?;
    let mech = match conform::compile_mod(&args.file, &args.include, opts) {
        Ok(m) => m,
        Err(backend_cpu::Error::Frontend { diagnostics, .. }) => {
            let _ = write!(std::io::stderr(), "{diagnostics}");
            let _ = writeln!(
                std::io::stderr(),
                "{}: not lowered; nothing simulated",
                args.file.display()
            );
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e).with_context(|| format!("{}", args.file.display())),
    };
    let dt = args.dt.unwrap_or(proto.dt_ms);
    let mut trace = conform::run(&mech, &proto, dt, opts).with_context(|| {
        format!(
            "running {} under {}",
            args.file.display(),
            proto_path.display()
        )
    })?;
    if args.every > 1 {
        trace.rows = trace
            .rows
            .into_iter()
            .step_by(args.every as usize)
            .collect();
    }
    let csv = conform::to_csv(&trace);
    match &args.out {
        Some(p) if p.as_os_str() != "-" => write_atomically(p, csv.as_bytes())?,
        _ => std::io::stdout()
            .lock()
            .write_all(csv.as_bytes())
            .context("writing to stdout")?,
    }
    if let Some(p) = &args.spikes {
        let s: String = trace
            .spikes_ms
            .iter()
            .map(|t| format!("{}\n", conform::fmt_g(*t, 17)))
            .collect();
        write_atomically(p, s.as_bytes())?;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{}: {} protocol, {} rows × {} columns, dt {dt} ms{}",
        args.file.display(),
        proto.kind.name(),
        trace.rows.len(),
        trace.columns.len(),
        if trace.spikes_ms.is_empty() {
            String::new()
        } else {
            format!(", {} output events", trace.spikes_ms.len())
        }
    );
    if !args.check {
        return Ok(ExitCode::SUCCESS);
    }
    let stem = stem_of(&proto_path);
    let read = |ext: &str| -> anyhow::Result<Table> {
        let p = PathBuf::from(format!("{}.{ext}", stem.display()));
        let t = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        Ok(Table::parse(&p.display().to_string(), &t)?)
    };
    let reference = read("ref.csv")?;
    let fine = read("fine.csv").ok();
    let spikes = std::fs::read_to_string(format!("{}.spikes.json", stem.display()))
        .ok()
        .map(|t| conform::parse_spikes(&t))
        .transpose()?;
    let v = conform::compare(
        &proto,
        &trace,
        &reference,
        fine.as_ref(),
        spikes.as_ref().map(|(a, b)| (a.as_slice(), b.as_slice())),
    );
    let word = |b: bool| if b { "pass" } else { "FAIL" };
    let _ = writeln!(
        err,
        "tier 1 (vs ref.csv, same scheme): {} — {}",
        word(v.tier1.pass),
        v.tier1.worst
    );
    let _ = writeln!(
        err,
        "tier 2 (vs fine.csv, accuracy):   {} — {}",
        word(v.tier2.pass),
        v.tier2.worst
    );
    Ok(if v.tier2.pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
