//! `neuwon demo` in its reduced form (one spiral turn, 8 frames): the action potential
//! starts at the soma and reaches the points along the axon in order of distance, and the
//! plot, the still and the animation are written (the GIF decodes to the stated frames).

#![allow(clippy::unwrap_used)]

use std::process::Command;

use neuwon::demo::{run_demo, DemoOptions};

#[test]
fn small_demo_propagates_an_action_potential_and_writes_plot_and_animation() {
    let out = std::env::temp_dir().join(format!("neuwon-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let opts = DemoOptions::small();
    let r = run_demo(&opts, &out).unwrap();
    assert!(r.axon_nodes > 50, "{r:?}");
    // an action potential everywhere, later the farther along the axon
    let t: Vec<f64> = r.arrival_ms.iter().map(|a| a.unwrap()).collect();
    assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
    let d = &r.axon_probe_distance_um;
    let velocity = (d[d.len() - 1] - d[0]) / (t[t.len() - 1] - t[1]); // µm/ms
                                                                      // HH at 16 °C on a 1 µm axon conducts at a few tenths of a mm/ms
    assert!((100.0..1000.0).contains(&velocity), "{velocity} µm/ms");
    // the files
    let png = std::fs::read(&r.png).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(out.join("demo_frame.png").exists());
    let mut dec = gif::DecodeOptions::new();
    dec.set_color_output(gif::ColorOutput::Indexed);
    let mut d = dec.read_info(std::fs::File::open(&r.gif).unwrap()).unwrap();
    assert_eq!((d.width(), d.height()), (160, 160));
    let mut frames = 0;
    while d.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, opts.frames);
    assert_eq!(r.frames, opts.frames);
}

#[test]
fn demo_command_runs_with_its_small_flag() {
    let out = std::env::temp_dir().join(format!("neuwon-demo-cli-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_neuwon"))
        .args(["demo", "--small", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("8 frames, 160x160 px"), "{s}");
    assert!(out.join("demo_voltage.gif").exists() && out.join("demo_cell.swc").exists());
}
