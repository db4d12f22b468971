//! `neuwon grow SPEC.toml --out CELL.swc [--seed N]`: grow the neurons of a growth spec
//! (format: `morpho-grow/GROW.md`) and write them as one SWC file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use morpho_grow::{forest_to_swc, ExportOptions, GrowthSpec};

/// Arguments of `neuwon grow`.
#[derive(Debug, Args)]
pub struct GrowArgs {
    /// The growth spec (TOML; see morpho-grow/GROW.md).
    spec: PathBuf,
    /// The SWC file to write (all neurons, one root each).
    #[arg(long)]
    out: PathBuf,
    /// Random seed (default: the spec's `seed`, else 0).
    #[arg(long)]
    seed: Option<u64>,
    /// Start segments that leave a soma at its centre instead of on its surface.
    #[arg(long)]
    no_soma_surface_node: bool,
    /// Also write one file per neuron, `<out stem>_<k>.swc` beside `--out`.
    #[arg(long)]
    per_neuron: bool,
}

/// Runs the command.
pub fn run(args: &GrowArgs) -> anyhow::Result<ExitCode> {
    let spec = match GrowthSpec::read(&args.spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let seed = args.seed.or(spec.seed).unwrap_or(0);
    let t0 = Instant::now();
    let grown = match spec.program.run(seed) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{}: {e}", args.spec.display());
            return Ok(ExitCode::from(1));
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    let opts = ExportOptions {
        soma_surface_node: !args.no_soma_surface_node,
    };
    let text = forest_to_swc(&grown.forest, opts);
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    if args.per_neuron {
        let stem = args
            .out
            .file_stem()
            .map_or_else(|| "cell".into(), |s| s.to_string_lossy().into_owned());
        for k in grown.forest.neuron_ids() {
            let path = args.out.with_file_name(format!("{stem}_{k}.swc"));
            std::fs::write(&path, forest_to_swc(&grown.forest.neuron(k), opts))
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let sampled: usize = grown.steps.iter().map(|s| s.sampled).sum();
    let connected: usize = grown.steps.iter().map(|s| s.connected).sum();
    println!(
        "{}: {} neurons, {} nodes, {:.0} µm of neurite, {connected} of {sampled} carrier points \
         connected, seed {seed}, {secs:.3} s -> {}",
        args.spec.display(),
        grown.somas.len(),
        grown.forest.nodes.len(),
        grown.forest.total_length_um(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
