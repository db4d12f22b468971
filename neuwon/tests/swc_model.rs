//! A model whose morphology is an SWC file runs end to end: a single-point soma (NEURON reads
//! it as a 20 × 20 µm cylinder) with a 500 µm × 2 µm dendrite, passive everywhere; the DC
//! input resistance at the soma matches sealed-end cable theory.

#![allow(clippy::unwrap_used)]

use neuwon::model::Model;
use neuwon::run::build;

#[test]
fn swc_cell_has_the_input_resistance_of_cable_theory() {
    let dir = std::env::temp_dir().join(format!("neuwon-swc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("cell.swc"),
        "# id type x y z radius parent\n1 1 0 0 0 10 -1\n2 3 10 0 0 1 1\n3 3 510 0 0 1 2\n",
    )
    .unwrap();
    let text = r#"
[simulation]
tstop = 150
v_init = -65

[[cell]]
name = "c"
morphology = "cell.swc"
Ra = 100
cm = 1
[cell.discretisation]
max_length = 5

[[cell.mechanism]]
name = "pas"
parameters = { g = 1e-4, e = -65 }

[[stimulus]]
mechanism = "IClamp"
at = "soma[0](0.5)"
parameters = { del = 1, dur = 1000, amp = 0.1 }

[[probe]]
name = "v_soma"
at = "soma[0](0.5)"
"#;
    let model = Model::parse(text, &dir.join("m.toml")).unwrap();
    let mut built = build(&model).unwrap();
    let rec = built.run(|_| {}).unwrap();
    let dv = rec.series[0].last().unwrap() + 65.0; // mV, after 14.9 τm
    let r_in = dv / 0.1; // MΩ

    // Cable theory (cgs): Rm = 1/g = 1e4 Ω·cm², d = 2e-4 cm, Ra = 100 Ω·cm, L = 0.05 cm.
    let (rm, ra, d, l): (f64, f64, f64, f64) = (1e4, 100.0, 2e-4, 0.05);
    let lambda = (d * rm / (4.0 * ra)).sqrt();
    let r_axial = 4.0 * ra / (std::f64::consts::PI * d * d); // Ω/cm
    let g_dend = (l / lambda).tanh() / (r_axial * lambda); // S
    let g_soma = 1e-4 * std::f64::consts::PI * 20.0 * 20.0 * 1e-8; // S/cm² × cm²
    let r_theory = 1e-6 / (g_dend + g_soma); // MΩ
    println!("SWC cell: R_in {r_in:.4} MΩ vs cable theory {r_theory:.4} MΩ");
    assert!((r_in / r_theory - 1.0).abs() < 1e-4, "{r_in} vs {r_theory}");
}
