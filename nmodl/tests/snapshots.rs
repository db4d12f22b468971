//! IR snapshots of our own mechanisms (written from published equations, not copied):
//! Hodgkin–Huxley with cnexp and a TABLE, a kinetic scheme with CONSERVE and STEADYSTATE,
//! a calcium shell writing `cai`, and a NET_RECEIVE synapse. Each test also asserts the
//! properties the snapshot is meant to show.
#![allow(clippy::unwrap_used)]

use nmodl::ir::{IonVarKind, MechanismKind, Method, Place, Stmt, System};

fn lower(file: &str) -> nmodl::Mechanism {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let (sources, out) = nmodl::compile_file(&path, &Default::default()).unwrap();
    assert_eq!(
        out.error_count(),
        0,
        "{}",
        sources.render_all(&out.diagnostics)
    );
    assert!(
        out.diagnostics.is_empty(),
        "{}",
        sources.render_all(&out.diagnostics)
    );
    out.mechanism.unwrap()
}

#[test]
fn hh_ir() {
    let m = lower("hh.mod");
    assert_eq!(m.kind, MechanismKind::Density);
    assert_eq!(m.currents.len(), 3);
    let solve = &m.solves[0];
    assert_eq!(solve.method, Method::Cnexp);
    let System::Cnexp(eqs) = &solve.system else {
        panic!("not cnexp")
    };
    assert_eq!(eqs.len(), 3);
    let table = m.functions.iter().find_map(|f| f.table.as_ref()).unwrap();
    assert_eq!(table.outputs.len(), 6);
    assert!(m.exact_propagator);
    insta::assert_snapshot!("hh", m.to_string());
}

#[test]
fn kinetic_scheme_ir() {
    let m = lower("kinetic_k.mod");
    let kinetic: Vec<_> = m
        .solves
        .iter()
        .filter(|s| matches!(s.system, System::Kinetic { .. }))
        .collect();
    assert_eq!(
        kinetic.len(),
        2,
        "BREAKPOINT sparse and INITIAL STEADYSTATE"
    );
    assert!(kinetic.iter().any(|s| s.method == Method::SteadyState));
    let body = &kinetic[0].kernel.body;
    assert_eq!(
        body.iter()
            .filter(|s| matches!(s, Stmt::Reaction { .. }))
            .count(),
        2
    );
    assert_eq!(
        body.iter()
            .filter(|s| matches!(s, Stmt::Conserve(..)))
            .count(),
        1
    );
    let System::Kinetic { states, linear } = &kinetic[0].system else {
        unreachable!()
    };
    assert_eq!(states.len(), 3);
    assert!(linear, "first-order reactions with state-free rates");
    insta::assert_snapshot!("kinetic_k", m.to_string());
}

#[test]
fn calcium_shell_ir() {
    let m = lower("cadecay.mod");
    let ca = &m.ions[0];
    assert_eq!(ca.valence, Some(2.0));
    assert!(ca.writes.iter().any(|(k, _)| *k == IonVarKind::Inside));
    assert!(matches!(
        m.write_ions.body.as_slice(),
        [Stmt::Assign(t, _)] if t.place == Place::IonPool(0, IonVarKind::Inside)
    ));
    insta::assert_snapshot!("cadecay", m.to_string());
}

#[test]
fn netreceive_synapse_ir() {
    let m = lower("expsyn2.mod");
    assert_eq!(m.kind, MechanismKind::PointProcess);
    let nr = m.net_receive.as_ref().unwrap();
    assert_eq!(nr.n_args, 1);
    assert_eq!(nr.kernel.body.len(), 2);
    insta::assert_snapshot!("expsyn2", m.to_string());
}
