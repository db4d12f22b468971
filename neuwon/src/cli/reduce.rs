//! `neuwon reduce MODEL.toml --out REDUCED.toml [--frequency HZ] [--total-segments N]`:
//! Neuron_Reduce of every cell template into a model file for `neuwon run`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use neuwon::reduce::{reduce_file, ReduceSettings};

/// Arguments of `neuwon reduce`.
#[derive(Debug, Args)]
pub struct ReduceArgs {
    /// The full model file (TOML; see neuwon/MODEL.md).
    model: PathBuf,
    /// Where to write the reduced model file.
    #[arg(long)]
    out: PathBuf,
    /// Reduction frequency in Hz (impedances are matched at this frequency).
    #[arg(long, default_value_t = 0.0)]
    frequency: f64,
    /// Segment-count rule (neuron_reduce's `total_segments_manual`): ≤ 0 one segment per
    /// 0.1 λ (default); > 1 a total for the reduced cell; in (0, 1] a minimum fraction of the
    /// original dendritic segments.
    #[arg(long, default_value_t = -1.0, allow_hyphen_values = true)]
    total_segments: f64,
}

/// Runs the command.
pub fn run(args: &ReduceArgs) -> anyhow::Result<ExitCode> {
    let settings = ReduceSettings {
        frequency_hz: args.frequency,
        segments: reduce::SegmentPolicy::from_manual(args.total_segments),
    };
    let start = Instant::now();
    match reduce_file(&args.model, &args.out, &settings) {
        Ok(r) => {
            for n in &r.notes {
                println!("{n}");
            }
            println!(
                "reduced {} in {:.3} s; wrote {}",
                args.model.display(),
                start.elapsed().as_secs_f64(),
                args.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::from(1))
        }
    }
}
