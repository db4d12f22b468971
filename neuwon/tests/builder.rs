//! The Rust builder and the model file describe the same models: the ball-and-stick example
//! built in Rust runs bit for bit like `examples/ball_and_stick_syn.toml`; builder mistakes get
//! the file's error messages.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use neuwon::builder::{Cell, Mechanism, ModelBuilder, Section};
use neuwon::model::Model;
use neuwon::run::build;

#[test]
fn builder_and_file_give_the_same_run() {
    let cell = Cell::new("bs")
        .ra(100.0)
        .cm(1.0)
        .section(Section::cylinder("soma", 20.0, 20.0).kind("soma").nseg(1))
        .section(
            Section::cylinder("dend", 500.0, 2.0)
                .parent("soma", 1.0)
                .nseg(21),
        )
        .mechanism(Mechanism::new("hh").on(&["soma"]))
        .mechanism(
            Mechanism::new("pas")
                .on(&["dend"])
                .param("g", 1e-4)
                .param("e", -65.0),
        )
        .synapse(
            "syn",
            "Exp2Syn",
            "dend(0.7857143)",
            &[("tau1", 0.5), ("tau2", 5.0), ("e", 0.0)],
        );
    let model = ModelBuilder::new(60.0)
        .dt(0.025)
        .celsius(6.3)
        .v_init(-65.0)
        .cell(cell)
        .events("bs[0].syn", &[6.0, 8.0, 10.0], 0.004)
        .events("bs[0].syn", &[31.0], 0.02)
        .probe("v_soma", "bs[0].soma(0.5)", "v")
        .probe("v_dend0.5", "bs[0].dend(0.5)", "v")
        .probe("v_dend_syn", "bs[0].dend(0.7857143)", "v")
        .probe("i_syn", "bs[0].syn", "i")
        .probe("g_syn", "bs[0].syn", "g")
        .build()
        .unwrap();
    let from_rust = build(&model).unwrap().run(|_| {}).unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ball_and_stick_syn.toml");
    let from_file = build(&Model::load(&file).unwrap())
        .unwrap()
        .run(|_| {})
        .unwrap();
    assert_eq!(from_rust, from_file);
    assert_eq!(from_rust.spikes.len(), 2);
}

#[test]
fn builder_mistakes_get_the_file_errors() {
    let e = ModelBuilder::new(10.0)
        .cell(Cell::new("c").section(Section::cylinder("soma", -5.0, 20.0)))
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cell `c` section `soma`: length: expected a length > 0, found -5 µm"),
        "{e}"
    );
    let e = ModelBuilder::new(10.0)
        .cell(Cell::new("c").section(Section::cylinder("soma", 5.0, 5.0)))
        .probe("v", "c[0].axon(0.5)", "v")
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("cell `c` has no section `axon`"), "{e}");
}
