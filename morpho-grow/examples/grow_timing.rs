//! Times one growth run: `cargo run --release -p morpho-grow --example grow_timing -- N [bf]`
//! (N carrier points in a 200 µm sphere, root at the centre, unconstrained, single thread).
//! Prints N, wall seconds, CPU seconds of the growth (user + system; less disturbed by other
//! load on the machine), total length (µm), peak queue entries and peak resident memory.

use std::time::Instant;

use morpho_grow::region::{sample_points, Region};
use morpho_grow::{grow, Forest, GrowthParams, SegmentSpec};
use rand::SeedableRng;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1e4);
    let bf: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0.5);
    let r = 200.0;
    let density = n / (4.0 / 3.0 * std::f64::consts::PI * r * r * r);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let pts = match sample_points(&Region::sphere([0.0; 3], r), density, &mut rng) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let params = GrowthParams {
        balancing_factor: bf,
        ..GrowthParams::default()
    };
    let c0 = cpu_seconds();
    let t0 = Instant::now();
    let mut f = Forest::new();
    let root = f.add_root([0.0; 3], 10.0, 0, 1);
    let seg = SegmentSpec {
        kind: 3,
        diameter: 1.0,
    };
    match grow(&mut f, &[root], &pts, &params, seg, None) {
        Ok(o) => {
            let secs = t0.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - c0;
            let rss = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmHWM"))
                        .map(|l| l.to_string())
                })
                .unwrap_or_default();
            println!(
                "points {} seconds {secs:.3} cpu_seconds {cpu:.3} total_length_um {:.1} peak_queue {} {rss}",
                pts.len(),
                f.total_length_um(),
                o.peak_queue
            );
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

/// User + system CPU time of this process, s (from /proc/self/stat, 100 ticks per second;
/// 0 where /proc is absent).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // fields after the command name (which is in parentheses)
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}
