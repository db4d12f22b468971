//! `neuwon grow`: the example spec grows into a valid SWC that the model reader accepts;
//! the seed flag changes the cell; bad specs give a located error and exit status 1.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn neuwon() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuwon"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("neuwon-grow-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/grow/pyramidal.toml")
}

#[test]
fn grow_writes_an_swc_that_depends_only_on_the_seed() {
    let d = scratch("ok");
    let run = |seed: &str, out: &str| {
        let o = neuwon()
            .arg("grow")
            .arg(example())
            .arg("--out")
            .arg(d.join(out))
            .args(["--seed", seed])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let summary = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(summary.contains("2 neurons") && summary.contains(&format!("seed {seed}")));
        std::fs::read_to_string(d.join(out)).unwrap()
    };
    let a = run("3", "a.swc");
    assert_eq!(a, run("3", "b.swc"));
    assert_ne!(a, run("4", "c.swc"));
    let m = morpho_grow::swc::parse_swc(
        &a,
        "a.swc",
        morpho_grow::swc::SwcOptions {
            allow_multiple_roots: true,
            require_parent_first: true,
        },
    )
    .unwrap();
    assert_eq!(m.soma_forms.len(), 2);

    // --per-neuron: one file per neuron, each a single tree, together the same samples
    let o = neuwon()
        .arg("grow")
        .arg(example())
        .arg("--out")
        .arg(d.join("p.swc"))
        .args(["--seed", "3", "--per-neuron"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = |t: &str| t.lines().filter(|l| !l.starts_with('#')).count();
    let mut total = 0;
    for k in 0..2 {
        let t = std::fs::read_to_string(d.join(format!("p_{k}.swc"))).unwrap();
        morpho_grow::swc::parse_swc(&t, "p.swc", morpho_grow::swc::SwcOptions::default()).unwrap();
        total += lines(&t);
    }
    assert_eq!(total, lines(&a));
}

#[test]
fn bad_spec_is_a_located_error_with_status_1() {
    let d = scratch("bad");
    let spec = d.join("bad.toml");
    std::fs::write(
        &spec,
        "[regions]\nr = { sphere = { center = [0, 0, 0], radius = -5 } }\n\
         [[neuron]]\nname = \"n\"\n[neuron.soma]\nregion = \"r\"\nnumber = 1\ndiameter = 10\n",
    )
    .unwrap();
    let o = neuwon()
        .arg("grow")
        .arg(&spec)
        .arg("--out")
        .arg(d.join("x.swc"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:2:5: regions.r") && err.contains("radius"),
        "{err}"
    );
    assert!(!d.join("x.swc").exists());
}
