//! `neuwon run MODEL.toml [--out DIR]`: simulate a model file and write its traces and spikes.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use neuwon::model::Model;
use neuwon::plot::{plot_png, Trace};
use neuwon::run::{build, write_spikes, write_traces};

/// Arguments of `neuwon run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The model file (TOML; see neuwon/MODEL.md).
    model: PathBuf,
    /// Output folder (default: `out/<model name>`).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Writes a file under a temporary name and renames it, so that a failed run leaves no file
/// that looks complete.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    // Same folder and extension (the PNG encoder goes by the extension).
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!("partial-{name}"));
    write(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Runs the command.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let model = match Model::load(&args.model) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut built = match build(&model) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let stem = args
        .model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(&stem));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    let start = Instant::now();
    let show = std::io::stderr().is_terminal();
    let rec = built
        .run(|f| {
            if show && start.elapsed().as_secs_f64() > 1.0 {
                eprint!("\rrunning {stem}: {:3.0} %", f * 100.0);
            }
        })
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("simulating {}", args.model.display()))?;
    let wall = start.elapsed().as_secs_f64();
    if show && wall > 1.0 {
        eprintln!();
    }
    let traces = out.join("traces.csv");
    let spikes = out.join("spikes.csv");
    write_atomically(&traces, |p| write_traces(p, &built.probe_headers, &rec))?;
    write_atomically(&spikes, |p| write_spikes(p, &built.detector_cells, &rec))?;
    let plot = out.join("traces.png");
    if !rec.series.is_empty() {
        let traces: Vec<Trace> = (0..rec.series.len())
            .map(|k| Trace {
                name: &built.probe_names[k],
                unit: &built.probe_units[k],
                values: &rec.series[k],
            })
            .collect();
        let title = model.title.clone().unwrap_or_else(|| stem.clone());
        write_atomically(&plot, |p| {
            plot_png(p, &title, &rec.t_ms, &traces).map_err(std::io::Error::other)
        })?;
    }
    let steps = rec.t_ms.len().saturating_sub(1);
    let per = wall * 1e9 / (steps.max(1) as f64 * built.compartments.max(1) as f64);
    println!(
        "{stem}: {} compartments, {steps} steps, {wall:.3} s wall, {per:.1} ns per compartment-step, {} spikes; wrote {}, {} and {}",
        built.compartments,
        rec.spikes.len(),
        traces.display(),
        spikes.display(),
        plot.display()
    );
    Ok(ExitCode::SUCCESS)
}
