//! `neuwon nmodl check` end to end: exit codes and diagnostic format.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuwon"))
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neuwon-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const GOOD: &str = "NEURON { SUFFIX leak NONSPECIFIC_CURRENT i RANGE g, e }
PARAMETER { g = 0.001 (S/cm2) e = -70 (mV) }
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT { i = g*(v - e) }
";

#[test]
fn good_file_exits_zero_and_emits_ir() {
    let p = write("good.mod", GOOD);
    let out = bin()
        .args(["nmodl", "check", "--emit", "ir"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("mechanism leak (Density)"), "{stdout}");
    assert!(stdout.contains("i = g * (v - e)"), "{stdout}");
}

#[test]
fn emit_ast_and_nmodl() {
    let p = write("good_ast.mod", GOOD);
    let out = bin()
        .args(["nmodl", "check", "--emit", "ast"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Suffix(") && stdout.contains("span:"),
        "{stdout}"
    );
    let out = bin()
        .args(["nmodl", "check", "--emit", "nmodl"])
        .arg(&p)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("BREAKPOINT {\n    i = g * (v - e)\n}"),
        "{stdout}"
    );
}

#[test]
fn bad_file_exits_one_with_located_diagnostic() {
    let p = write(
        "bad.mod",
        "NEURON { SUFFIX bad }\nBREAKPOINT {\n    x = y +\n}\n",
    );
    let out = bin().args(["nmodl", "check"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "{}:4:1: error[E0101]: expected an expression, found `}}`",
        p.display()
    );
    assert!(stderr.contains(&want), "{stderr}");
    assert!(stderr.contains("^"), "{stderr}");
}

#[test]
fn one_bad_file_among_good_ones_fails_the_run() {
    let good = write("g2.mod", GOOD);
    let bad = write(
        "undefined.mod",
        "NEURON { SUFFIX u }\nBREAKPOINT { LOCAL a a = zz }\n",
    );
    let out = bin()
        .args(["nmodl", "check"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[E0201]: `zz` is not declared"),
        "{stderr}"
    );
    assert!(stderr.contains("help: declare `zz`"), "{stderr}");
}

#[test]
fn missing_file_is_an_error_not_a_panic() {
    let out = bin()
        .args(["nmodl", "check", "/nonexistent/x.mod"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
