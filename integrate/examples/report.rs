//! Measurement report for the `integrate` crate: propagator fill growth, exact vs Hines
//! work–precision on the passive Y tree, and kinetic-table build/memory/error/cost.
//!
//! Run: `cargo run -p integrate --release --example report`

use integrate::testing::models;
use integrate::tree::{binary_tree, cylinder_compartment, uniform_chain};
use integrate::*;
use std::time::Instant;

fn main() -> Result<()> {
    fill_growth()?;
    work_precision()?;
    kinetic_tables()?;
    Ok(())
}

fn fill_growth() -> Result<()> {
    println!("## Propagator fill (NEUWON prune 2.22e-16), Ra 100 Ω·cm, cm 1 µF/cm²");
    println!("k = h·g_axial/C per compartment; interior row of a 2000-compartment cable");
    println!("d_um,len_um,h_ms,k,nnz_row,24sqrt_k,mean_nnz_row,build_ms");
    for &(d, l) in &[
        (1.0, 10.0),
        (0.5, 20.0),
        (2.0, 10.0),
        (5.0, 10.0),
        (1.0, 5.0),
        (1.0, 2.0),
    ] {
        for &h in &[0.0125, 0.025, 0.05, 0.1] {
            let (c, g, a) = cylinder_compartment(l, d, 100.0, 1.0)?;
            let tree = uniform_chain(2000, c, g, a)?;
            let t0 = Instant::now();
            let p = axial_propagator(&tree, h, NEUWON_PRUNE)?;
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            let k = h * g / c;
            let row = p.outer_view(1000).map(|r| r.nnz()).unwrap_or(0);
            let f = FillStats::of(&p);
            println!(
                "{d},{l},{h},{k:.3},{row},{:.1},{:.1},{ms:.1}{}",
                24.0 * k.sqrt(),
                f.mean_per_row,
                if f.is_dense_warning() {
                    ",WARN nnz/row>256"
                } else {
                    ""
                }
            );
        }
    }
    println!();
    println!("Balanced binary tree of 1 µm × 10 µm compartments: mean nnz/row by tree size");
    println!("n,h_ms,k,mean_nnz_row,max_nnz_row");
    let (c, g, a) = cylinder_compartment(10.0, 1.0, 100.0, 1.0)?;
    for &n in &[127usize, 1023, 4095] {
        for &h in &[0.0125, 0.025] {
            let tree = binary_tree(n, c, g, a)?;
            let p = axial_propagator(&tree, h, NEUWON_PRUNE)?;
            let f = FillStats::of(&p);
            println!(
                "{n},{h},{:.3},{:.1},{}",
                h * g / c,
                f.mean_per_row,
                f.max_per_row
            );
        }
    }
    println!();
    Ok(())
}

/// The passive Y tree (see tests/passive_y.rs): error vs the converged NEURON reference and
/// wall time for 150 ms, per method and dt.
fn work_precision() -> Result<()> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/passive_y_neuron_dt0.001_nsegx5.csv"
    );
    let text = std::fs::read_to_string(path).map_err(|_| Error::UnknownSection(0))?;
    let conv: Vec<[f64; 5]> = text
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<f64> = l
                .split(',')
                .map(|x| x.trim().parse().unwrap_or(f64::NAN))
                .collect();
            [v[0], v[1], v[2], v[3], v[4]]
        })
        .collect();
    let mut b = CableBuilder::new();
    let trunk = b.add_section(None, 200.0, 2.0, 21, 100.0, 1.0)?;
    let c1 = b.add_section(Some(trunk), 150.0, 1.0, 15, 100.0, 1.0)?;
    let c2 = b.add_section(Some(trunk), 300.0, 0.5, 31, 100.0, 1.0)?;
    let built = b.build()?;
    let sites = [
        built.node_at(trunk, 0.0)?,
        built.node_at(trunk, 1.0)?,
        built.node_at(c1, 1.0)?,
        built.node_at(c2, 1.0)?,
    ];
    let tree = &built.tree;
    let n = tree.len();
    let g = tree.membrane_conductance_us(1e-4);
    let ge: Vec<f64> = g.iter().map(|g| g * -65.0).collect();
    println!("## Work–precision, passive Y (68 nodes), 150 ms; error = max |V − converged| (mV)");
    println!("method,dt_ms,max_err_mV,max_err_away_from_switches_mV,wall_ms");
    for &dt in &[0.1, 0.05, 0.025, 0.0125, 0.00625] {
        for method in ["hines-be", "hines-cn", "exact-strang-src", "exact-neuwon"] {
            let mut v = vec![-65.0; n];
            let mut inj = vec![0.0; n];
            let mut j = ge.clone();
            let mut hines = Hines::new(tree);
            let mut ex = match method {
                "exact-strang-src" => Some(ExactCable::with_options(
                    tree,
                    dt,
                    Split::Strang,
                    ExactOptions {
                        tol: NEUWON_PRUNE,
                        exact_sources: true,
                    },
                )?),
                "exact-neuwon" => Some(ExactCable::new(
                    tree,
                    dt,
                    Split::NeuwonCompat,
                    NEUWON_PRUNE,
                )?),
                _ => None,
            };
            let steps = (150.0 / dt).round() as usize;
            let every = (0.025 / dt).round().max(1.0) as usize;
            let (mut err, mut err_s) = (0.0f64, 0.0f64);
            let t0 = Instant::now();
            for k in 0..steps {
                let tmid = (k as f64 + 0.5) * dt;
                let i = if (5.0..105.0).contains(&tmid) {
                    0.05
                } else {
                    0.0
                };
                inj[sites[2]] = i;
                j[sites[2]] = ge[sites[2]] + i;
                match ex.as_mut() {
                    Some(e) => e.step(
                        &mut v,
                        Membrane {
                            g_us: &g,
                            ge_na: &ge,
                            i_na: &inj,
                        },
                        None,
                    )?,
                    None => {
                        let s = if method == "hines-be" {
                            Scheme::BackwardEuler
                        } else {
                            Scheme::CrankNicolson
                        };
                        hines.step(s, dt, &mut v, &g, &j)?
                    }
                }
                if (k + 1) % every == 0 {
                    let t = (k + 1) as f64 * dt;
                    let row = ((t / 0.025).round() as usize).min(conv.len() - 1);
                    let r = conv[row];
                    let smooth = !((5.0..6.0).contains(&t) || (105.0..106.0).contains(&t));
                    for q in 0..4 {
                        let e = (v[sites[q]] - r[q + 1]).abs();
                        err = err.max(e);
                        if smooth {
                            err_s = err_s.max(e);
                        }
                    }
                }
            }
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            println!("{method},{dt},{err:.5},{err_s:.5},{ms:.2}");
        }
    }
    println!();
    Ok(())
}

fn time_ns_per_instance(mut f: impl FnMut(), instances: usize, reps: usize) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t0 = Instant::now();
        f();
        best = best.min(t0.elapsed().as_secs_f64());
    }
    best * 1e9 / instances as f64
}

fn kinetic_tables() -> Result<()> {
    println!("## Kinetic tables, dt 0.1 ms, target max entry error 1e-4");
    println!("model,states,degree,bins,memory_bytes,build_s,train_max_err,fresh_max_err(1e4),table_ns_per_instance,expm_ns_per_instance,chosen");
    let v_axis = InputAxis::Linear {
        min: -100.0,
        max: 100.0,
    };
    let cases: Vec<(&str, KineticScheme, InputAxis, f64)> = vec![
        ("hh_m_gate", models::hh_m_gate()?, v_axis, -65.0),
        ("nav13_37C", models::nav13(37.0)?, v_axis, -65.0),
        (
            "ampa13_37C",
            models::ampa13(37.0)?,
            InputAxis::Log { max: 1000.0 },
            0.01,
        ),
    ];
    for (name, s, axis, u0) in cases {
        let n = s.n_states();
        let (chosen, _) = KineticTable::build(&s, 0.1, &[axis], 1e-4)?;
        let chosen_bins = chosen.bins();
        let inst = 10_000;
        // Inputs spread over the axis (log-spread for concentrations).
        let u: Vec<f64> = (0..inst)
            .map(|i| {
                let f = (i as f64 * 0.6180339887).fract();
                match axis {
                    InputAxis::Linear { min, max } => min + f * (max - min),
                    InputAxis::Log { max } => (max + 1.0).powf(f) - 1.0,
                }
            })
            .collect();
        let ss = s.steady_state(&[u0])?;
        // Direct route: expm per instance (what the table replaces).
        let mut x_direct: Vec<f64> = ss.iter().cycle().take(n * 200).cloned().collect();
        let mut tmp = vec![0.0; n];
        let expm_ns = time_ns_per_instance(
            || {
                for (k, xs) in x_direct.chunks_mut(n).enumerate() {
                    if let Ok(p) = s.propagator(&[u[k]], 0.1) {
                        let _ = p.matvec(xs, &mut tmp);
                        xs.copy_from_slice(&tmp);
                    }
                }
            },
            200,
            5,
        );
        for degree in 1..=5 {
            let (t, rep) = match KineticTable::build_with_degree(&s, 0.1, &[axis], degree, 1e-4) {
                Ok(x) => x,
                Err(e) => {
                    println!("{name},{n},{degree},-,-,-,-,-,-,-,{e}");
                    continue;
                }
            };
            let mut x: Vec<f64> = ss.iter().cycle().take(n * inst).cloned().collect();
            let ns = time_ns_per_instance(
                || {
                    let _ = t.advance(&u, &mut x);
                },
                inst,
                200,
            );
            let is_chosen = t.bins() == chosen_bins && rep.terms.len() == degree + 1;
            println!(
                "{name},{n},{degree},{:?},{},{:.2},{:.2e},{:.2e},{ns:.1},{expm_ns:.0},{}",
                rep.bins,
                rep.memory_bytes,
                rep.build_seconds,
                rep.train_max_error,
                rep.fresh_max_error,
                if is_chosen { "<- cost model" } else { "" }
            );
        }
    }
    Ok(())
}
