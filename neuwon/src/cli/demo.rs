//! `neuwon demo [--out DIR] [--seed N]`: the showcase (see `neuwon::demo`). With no
//! arguments it writes `out/demo/demo_cell.swc`, `demo_voltage.png` and `demo_voltage.gif`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use neuwon::demo::{run_demo, DemoOptions};

/// Arguments of `neuwon demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output folder.
    #[arg(long, default_value = "out/demo")]
    out: PathBuf,
    /// Random seed of the growth.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A reduced demo (one turn, few frames) that runs in a couple of seconds.
    #[arg(long)]
    small: bool,
}

/// Runs the command.
pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let opts = DemoOptions {
        seed: args.seed,
        ..if args.small {
            DemoOptions::small()
        } else {
            DemoOptions::default()
        }
    };
    let r = match run_demo(&opts, &args.out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("neuwon demo: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    println!(
        "grew {} nodes ({} axon, {:.0} µm of axon) in {:.2} s -> {}",
        r.nodes,
        r.axon_nodes,
        r.axon_length_um,
        r.seconds[0],
        r.swc.display()
    );
    println!(
        "simulated {} compartments with Hodgkin-Huxley channels, {} probes, in {:.2} s",
        r.compartments, r.probes, r.seconds[1]
    );
    let fmt = |a: &Option<f64>| a.map_or_else(|| "none".to_string(), |t| format!("{t:.2} ms"));
    let mut line = format!(
        "action potential (0 mV crossing): soma {}",
        fmt(&r.arrival_ms[0])
    );
    for (d, a) in r.axon_probe_distance_um.iter().zip(&r.arrival_ms[1..]) {
        line.push_str(&format!(", axon {d:.0} µm {}", fmt(a)));
    }
    println!("{line}");
    println!(
        "wrote {} and {} ({} frames, {}x{} px, {} bytes) in {:.2} s; total {:.1} s",
        r.png.display(),
        r.gif.display(),
        r.frames,
        opts.size_px,
        opts.size_px,
        r.gif_bytes,
        r.seconds[2],
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
