//! Behaviour of the passes on small inputs: diagnostics format, error recovery, round trip,
//! analysis rules and lowering choices.
#![allow(clippy::unwrap_used)]

mod common;

use nmodl::ir::{Builtin, Method, Place, Role, Stmt, Storage, System};
use nmodl::Options;

fn compile(src: &str) -> (nmodl::SourceMap, nmodl::Output) {
    nmodl::compile_str("t.mod", src, &Options::default())
}

/// Codes of the errors and warnings (notes left out).
fn codes(out: &nmodl::Output) -> Vec<&'static str> {
    out.diagnostics
        .iter()
        .filter(|d| d.severity != nmodl::Severity::Note)
        .map(|d| d.code)
        .collect()
}

const HEAD: &str = "NEURON { SUFFIX t NONSPECIFIC_CURRENT i RANGE g }\nPARAMETER { g = 1 }\nASSIGNED { v (mV) i (mA/cm2) }\n";

#[test]
fn diagnostic_format_is_file_line_col_code_source_caret_help() {
    let (sources, out) = compile("NEURON { SUFFIX t }\nBREAKPOINT {\n    x = 1\n}\n");
    let text = sources.render_all(&out.diagnostics);
    assert_eq!(
        text,
        "t.mod:3:5: error[E0201]: `x` is not declared\n  |\n3 |     x = 1\n  |     ^\n  = help: declare `x` in PARAMETER or ASSIGNED, or as LOCAL in this block\n"
    );
}

#[test]
fn all_errors_of_a_file_are_reported_in_one_run() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/errors.mod");
    let (_, out) = nmodl::compile_file(&path, &Options::default()).unwrap();
    let mut c = codes(&out);
    c.sort();
    assert_eq!(c, ["E0101", "E0201", "E0202", "E0204", "E0301", "E0501"]);
    assert!(out.mechanism.is_none());
}

#[test]
fn parser_recovers_after_a_bad_block_and_keeps_later_blocks() {
    let src = "NEURON { SUFFIX t }\nGARBAGE 1 2 3\nSTATE { m }\nBREAKPOINT { m = ( }\nINITIAL { m = 1 }\n";
    let (m, d) = nmodl::parse(src, 0);
    assert_eq!(d.iter().filter(|d| d.is_error()).count(), 2, "{d:?}");
    let kinds: Vec<_> = m
        .items
        .iter()
        .map(|i| std::mem::discriminant(&i.kind))
        .collect();
    assert_eq!(
        kinds.len(),
        4,
        "NEURON, STATE, BREAKPOINT (partial), INITIAL: {m:?}"
    );
}

#[test]
fn lexer_skips_comments_and_keeps_title_and_verbatim_text() {
    let src = "TITLE my: title ? here\nCOMMENT\n junk { ( \nENDCOMMENT\n: x\n? y\nVERBATIM\n int a; ENDVERBATIM\n";
    let mut d = Vec::new();
    let toks = nmodl::lexer::lex(src, 0, &mut d);
    assert!(d.is_empty());
    use nmodl::lexer::Tok;
    let kinds: Vec<_> = toks.iter().map(|t| t.tok.clone()).collect();
    assert_eq!(
        kinds,
        [
            Tok::Title("my: title ? here".into()),
            Tok::Verbatim("\n int a; ".into()),
            Tok::Eof
        ]
    );
    let toks = nmodl::lexer::lex("a' <-> -> << 1.5e-3 .5 2E+2 <= x", 0, &mut d);
    let kinds: Vec<_> = toks.iter().map(|t| t.tok.clone()).collect();
    assert_eq!(
        kinds,
        [
            Tok::Ident("a".into()),
            Tok::Prime,
            Tok::BiArrow,
            Tok::Arrow,
            Tok::Shl,
            Tok::Number(1.5e-3),
            Tok::Number(0.5),
            Tok::Number(200.0),
            Tok::Le,
            Tok::Ident("x".into()),
            Tok::Eof
        ]
    );
}

#[test]
fn unterminated_comment_is_a_diagnostic() {
    let (_, out) = compile("NEURON { SUFFIX t }\nCOMMENT never closed\n");
    assert!(codes(&out).contains(&"E0002"));
}

#[test]
fn own_sources_round_trip_through_the_printer() {
    for (name, text) in common::own_sources() {
        let (m1, _) = nmodl::parse(&text, 0);
        let p1 = nmodl::print_module(&m1);
        let (m2, _) = nmodl::parse(&p1, 0);
        assert_eq!(p1, nmodl::print_module(&m2), "{name}");
    }
}

#[test]
fn printer_output_is_canonical_nmodl() {
    let (m, _) = nmodl::parse("BREAKPOINT{x=-a^2*(b+c)  if(x>1){y=2}else{y=3}}", 0);
    assert_eq!(
        nmodl::print_module(&m),
        "BREAKPOINT {\n    x = -a ^ 2 * (b + c)\n    if (x > 1) {\n        y = 2\n    } else {\n        y = 3\n    }\n}\n"
    );
}

#[test]
fn useion_rules_and_range_global_storage() {
    let src = "NEURON { SUFFIX t USEION na READ ena, nai WRITE ina RANGE gbar, gl GLOBAL q }
PARAMETER { gbar = 1 q = 2 }
ASSIGNED { v (mV) ena (mV) ina (mA/cm2) gl }
BREAKPOINT { ina = gbar*(v - ena) ena = 3 }";
    let (_, out) = compile(src);
    assert_eq!(
        codes(&out),
        ["W0301"],
        "assigning a READ-only ion variable warns"
    );
    let m = out.mechanism.unwrap();
    let var = |n: &str| m.variables.iter().find(|v| v.name == n).unwrap();
    assert_eq!(var("gbar").storage, Storage::Range);
    assert_eq!(var("q").storage, Storage::Global);
    assert_eq!(var("gl").storage, Storage::Range);
    assert!(matches!(
        var("nai").role,
        Role::Ion(0, nmodl::ir::IonVarKind::Inside)
    ));
    assert_eq!(m.ions[0].reads.len(), 2);
    assert_eq!(m.currents.len(), 1);
}

#[test]
fn builtins_are_not_mechanism_variables_and_celsius_default_is_kept() {
    let src = "NEURON { SUFFIX t } PARAMETER { celsius = 22 (degC) } ASSIGNED { v (mV) x }
BREAKPOINT { x = v + t + dt + celsius + area + diam + PI }";
    let (_, out) = compile(src);
    let m = out.mechanism.unwrap();
    assert_eq!(m.variables.len(), 1);
    let Stmt::Assign(_, e) = &m.compute_currents.body[0] else {
        panic!()
    };
    let text = format!("{e:?}");
    for b in [
        Builtin::V,
        Builtin::T,
        Builtin::Dt,
        Builtin::Celsius,
        Builtin::Area,
        Builtin::Diam,
        Builtin::Pi,
    ] {
        assert!(text.contains(&format!("{b:?}")), "{b:?} in {text}");
    }
}

#[test]
fn units_block_factors_become_constants() {
    let src = "NEURON { SUFFIX t } UNITS { F = (faraday) (coulomb) R = (k-mole) (joule/degC) c = (mV) (V) bad = (mV) (mA) }
ASSIGNED { x } BREAKPOINT { x = F + R + c }";
    let (_, out) = compile(src);
    assert_eq!(codes(&out), ["E0402"], "mV to mA is a dimension mismatch");
    let src = "NEURON { SUFFIX t } UNITS { F = (faraday) (coulomb) R = (k-mole) (joule/degC) }
ASSIGNED { x } BREAKPOINT { x = F*R }";
    let (_, out) = compile(src);
    let m = out.mechanism.unwrap();
    let Stmt::Assign(_, nmodl::ir::Expr::Binary(_, a, b)) = &m.compute_currents.body[0] else {
        panic!()
    };
    assert_eq!(**a, nmodl::ir::Expr::Num(96485.33212331001));
    let nmodl::ir::Expr::Num(r) = **b else {
        panic!()
    };
    assert!((r - 8.31446261815324).abs() < 1e-12);
}

#[test]
fn unknown_units_in_a_units_factor_are_named() {
    let (s, out) = compile("NEURON { SUFFIX t } UNITS { X = (furlong) (m) }");
    assert_eq!(codes(&out), ["E0401"]);
    assert!(s
        .render_all(&out.diagnostics)
        .contains("`furlong` is not a known unit"));
    let (_, out) =
        compile("NEURON { SUFFIX t } UNITS { (mM) = (milli/liter) F = (faraday) (kilocoulombs) }");
    assert!(out.diagnostics.is_empty());
}

#[test]
fn cnexp_on_a_nonlinear_equation_falls_back_to_derivimplicit_with_a_warning() {
    let src = "NEURON { SUFFIX t } STATE { m } BREAKPOINT { SOLVE s METHOD cnexp }
DERIVATIVE s { m' = -m*m }";
    let (_, out) = compile(src);
    assert_eq!(codes(&out), ["W0501"]);
    let m = out.mechanism.unwrap();
    assert_eq!(m.solves[0].method, Method::DerivImplicit);
    assert!(matches!(m.solves[0].system, System::Ode { .. }));
    assert!(!m.exact_propagator);
}

#[test]
fn cnexp_split_gives_a_and_b() {
    let src = "NEURON { SUFFIX t } PARAMETER { k = 2 c = 3 } STATE { m } BREAKPOINT { SOLVE s METHOD cnexp }
DERIVATIVE s { m' = c - k*(m - 1)/4 }";
    let (_, out) = compile(src);
    let m = out.mechanism.unwrap();
    let System::Cnexp(eqs) = &m.solves[0].system else {
        panic!()
    };
    let show = |e: &nmodl::ir::Expr| format!("{e:?}");
    assert!(
        show(&eqs[0].b).contains("Var(0)"),
        "b depends on k: {:?}",
        eqs[0].b
    );
    assert!(!show(&eqs[0].b).contains("Var(2)"), "b is free of m");
    assert!(!show(&eqs[0].a).contains("Var(2)"), "a is free of m");
}

#[test]
fn derivimplicit_and_euler_keep_derivative_statements() {
    for (method, want) in [
        ("derivimplicit", Method::DerivImplicit),
        ("euler", Method::Euler),
    ] {
        let src = format!("NEURON {{ SUFFIX t }} STATE {{ m }} BREAKPOINT {{ SOLVE s METHOD {method} }}\nDERIVATIVE s {{ m' = -m*m }}");
        let (_, out) = compile(&src);
        let m = out.mechanism.unwrap();
        assert_eq!(m.solves[0].method, want);
        assert!(matches!(m.solves[0].kernel.body[0], Stmt::Deriv(..)));
    }
}

#[test]
fn kinetic_with_state_dependent_rate_is_not_linear() {
    let src = "NEURON { SUFFIX t } STATE { a b } BREAKPOINT { SOLVE k METHOD sparse }
KINETIC k { ~ a <-> b (b, 1) ~ 2 a <-> b (1, 1) }";
    let (_, out) = compile(src);
    let m = out.mechanism.unwrap();
    assert!(matches!(
        m.solves[0].system,
        System::Kinetic { linear: false, .. }
    ));
    assert!(!m.exact_propagator);
}

#[test]
fn verbatim_is_refused_with_the_construct_named() {
    let (sources, out) = compile(&format!(
        "{HEAD}BREAKPOINT {{\nVERBATIM\n  i = 0;\nENDVERBATIM\n}}"
    ));
    let text = sources.render_all(&out.diagnostics);
    assert!(
        text.contains("error[E0601]: unsupported: VERBATIM C code"),
        "{text}"
    );
    assert!(text.contains("help:"), "{text}");
    // The old `return 0;` idiom at the end of a PROCEDURE is harmless.
    let (_, out) = compile(&format!(
        "{HEAD}BREAKPOINT {{ p() }}\nPROCEDURE p() {{\n  i = 1\nVERBATIM\n return 0;\nENDVERBATIM\n}}"
    ));
    assert_eq!(codes(&out), ["W0201"]);
    assert!(out.mechanism.is_some());
    // `return;` ending INITIAL, and a VERBATIM of comments only, do nothing either.
    let (_, out) = compile(&format!(
        "{HEAD}INITIAL {{ g = 2\nVERBATIM\n return;\nENDVERBATIM\n}}\nBREAKPOINT {{\n i = g\nVERBATIM\n/* printf(\"%g\", i); */\nENDVERBATIM\n}}"
    ));
    assert_eq!(codes(&out), ["W0201", "W0201"]);
    assert!(out.mechanism.is_some());
    // `return 0;` in the middle of a reachable block changes what runs: refused.
    let (_, out) = compile(&format!(
        "{HEAD}INITIAL {{\nVERBATIM\n return 0;\nENDVERBATIM\n g = 2 }}\nBREAKPOINT {{ i = g }}"
    ));
    assert_eq!(codes(&out), ["E0601"]);
}

#[test]
fn verbatim_in_functions_no_simulated_block_calls_is_ignored() {
    // `hoc_only` is called by nobody; `helper` is called from BREAKPOINT through `used`.
    let src = format!(
        "{HEAD}BREAKPOINT {{ i = used(v) }}\nFUNCTION used(x) {{ used = helper(x) }}\n\
         FUNCTION helper(x) {{ helper = x\nVERBATIM\n _lhelper = 2*_lx;\nENDVERBATIM\n}}\n\
         PROCEDURE hoc_only() {{\nVERBATIM\n hoc_execerr(\"no\");\nENDVERBATIM\n}}"
    );
    let (sources, out) = compile(&src);
    let text = sources.render_all(&out.diagnostics);
    assert_eq!(codes(&out), ["E0601", "W0201"], "{text}");
    assert!(text.contains("no simulated block calls"), "{text}");
    // A PROCEDURE named by SOLVE is reached too.
    let (_, out) = compile(&format!(
        "{HEAD}BREAKPOINT {{ SOLVE upd i = g }}\nPROCEDURE upd() {{\nVERBATIM\n g = 3;\nENDVERBATIM\n}}"
    ));
    assert_eq!(codes(&out), ["E0601"]);
    // Without the reachable one, the file lowers.
    let src = src.replace("_lhelper = 2*_lx;", "/* nothing */");
    let (_, out) = compile(&src);
    assert_eq!(codes(&out), ["W0201", "W0201"]);
    assert!(out.mechanism.is_some());
}

#[test]
fn procedure_used_as_a_value_runs_and_is_zero() {
    let (_, out) = compile(&format!(
        "{HEAD}BREAKPOINT {{ i = p(2) + g }}\nPROCEDURE p(x) {{ g = x }}"
    ));
    assert_eq!(codes(&out), ["W0501"]);
    assert!(out.mechanism.is_some());
}

#[test]
fn top_level_local_repeating_a_declaration_is_ignored() {
    let (_, out) = compile(&format!(
        "{HEAD}ASSIGNED {{ nexp }}\nLOCAL nexp\nBREAKPOINT {{ nexp = 2 i = nexp }}"
    ));
    assert_eq!(codes(&out), ["W0201"]);
    let m = out.mechanism.unwrap();
    assert_eq!(m.variables.iter().filter(|v| v.name == "nexp").count(), 1);
}

#[test]
fn unsupported_methods_and_dialects_are_named() {
    let (s, out) = compile("NEURON { SUFFIX t } STATE { m } BREAKPOINT { SOLVE s METHOD matexp } KINETIC s { ~ m <-> m (1,1) }");
    assert!(s
        .render_all(&out.diagnostics)
        .contains("unsupported: METHOD matexp"));
    let (s, out) = compile("NEURON { SUFFIX t } STATE { m } BREAKPOINT { SOLVE s METHOD cnexp } KINETIC s { ~ m <-> m (1,1) }");
    assert!(s
        .render_all(&out.diagnostics)
        .contains("help: use METHOD sparse"));
    let (_, out) = compile("NEURON { SUFFIX t USEION k WRITE gk }");
    assert_eq!(codes(&out), ["E0301"]);
}

#[test]
fn net_receive_lowers_events_and_watch() {
    let src = "NEURON { POINT_PROCESS p } PARAMETER { th = 0 } STATE { x } ASSIGNED { v (mV) }
INITIAL { net_send(0, 1) }
NET_RECEIVE(w, n) {
  INITIAL { n = 0 }
  if (flag == 1) { WATCH (v > th) 2 } else if (flag == 2) { net_event(t) net_move(t + 1) } else { x = x + w n = n + 1 }
  FOR_NETCONS(w2, n2) { n2 = 0 }
}";
    let (s, out) = compile(src);
    assert_eq!(out.error_count(), 0, "{}", s.render_all(&out.diagnostics));
    let m = out.mechanism.unwrap();
    assert!(matches!(m.init.body.last(), Some(Stmt::NetSend(..))));
    let nr = m.net_receive.unwrap();
    assert_eq!(nr.n_args, 2);
    assert!(nr.init.is_some());
    let ir = format!("{:?}", nr.kernel.body);
    for want in ["Watch", "NetEvent", "NetMove", "ForNetcons", "Flag"] {
        assert!(ir.contains(want), "{want} in {ir}");
    }
}

#[test]
fn tables_can_be_switched_off_and_function_tables_are_flagged() {
    let src = "NEURON { SUFFIX t } ASSIGNED { y }
FUNCTION f(x) { TABLE DEPEND celsius FROM 0 TO 10 WITH 10 f = x*x }
FUNCTION_TABLE tab(x)
BREAKPOINT { y = f(1) + tab(2) }";
    let opts = Options {
        lower: nmodl::LowerOptions { use_tables: false },
        ..Options::default()
    };
    let (_, out) = nmodl::compile_str("t.mod", src, &opts);
    assert_eq!(codes(&out), ["W0201"]);
    let m = out.mechanism.unwrap();
    assert!(!m.use_tables);
    let f = &m.functions[0];
    let t = f.table.as_ref().unwrap();
    assert_eq!(t.outputs, [None]);
    assert_eq!(t.depend, [Place::Builtin(Builtin::Celsius)]);
    assert!(m.functions[1].external_table);
}

#[test]
fn includes_are_read_next_to_the_file() {
    let dir = std::env::temp_dir().join(format!("nmodl-inc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rates.inc"), "PROCEDURE rates() { y = 2 }\n").unwrap();
    std::fs::write(
        dir.join("m.mod"),
        "NEURON { SUFFIX t } ASSIGNED { y }\nINCLUDE \"rates.inc\"\nBREAKPOINT { rates() }\n",
    )
    .unwrap();
    let (_, out) = nmodl::compile_file(&dir.join("m.mod"), &Options::default()).unwrap();
    assert_eq!(out.error_count(), 0);
    assert_eq!(out.mechanism.unwrap().functions[0].name, "rates");
    std::fs::write(
        dir.join("n.mod"),
        "NEURON { SUFFIX t }\nINCLUDE \"missing.inc\"\n",
    )
    .unwrap();
    let (s, out) = nmodl::compile_file(&dir.join("n.mod"), &Options::default()).unwrap();
    assert!(s
        .render_all(&out.diagnostics)
        .contains("cannot find INCLUDE file \"missing.inc\""));
}

#[test]
fn duplicate_and_undefined_names() {
    let (_, out) =
        compile("NEURON { SUFFIX t } PARAMETER { a } STATE { a } FUNCTION a() { a = 1 }");
    assert_eq!(codes(&out), ["E0202", "E0202"]);
    let (sources, out) = compile("NEURON { SUFFIX t }\nPARAMETER { a }\nASSIGNED { a }");
    let text = sources.render_all(&out.diagnostics);
    assert!(
        text.contains("t.mod:3:12: error[E0202]: `a` is declared more than once"),
        "{text}"
    );
    assert!(
        text.contains("t.mod:2:13: note[E0202]: `a` is first declared here"),
        "{text}"
    );
    let (_, out) = compile(
        "NEURON { SUFFIX t } ASSIGNED { y } BREAKPOINT { y = nofunc(1) p() }\nPROCEDURE p(x) { }",
    );
    assert_eq!(codes(&out), ["E0201", "E0204"]);
}

#[test]
fn unassigned_current_and_range_global_conflict_warn() {
    let (_, out) = compile("NEURON { SUFFIX t NONSPECIFIC_CURRENT i RANGE g GLOBAL g }\nPARAMETER { g = 1 }\nASSIGNED { i }");
    assert_eq!(codes(&out), ["W0201", "W0302"]);
    let m = out.mechanism.unwrap();
    assert_eq!(m.variables[0].storage, Storage::Global);
}

#[test]
fn leniencies_neuron_lacks_are_flagged() {
    let (_, out) = compile(
        "NEURON { SUFFIX t } ASSIGNED { y } BREAKPOINT { y = 1\nLOCAL a\na = exprelr(y) y = a }",
    );
    assert_eq!(codes(&out), ["W0601", "W0601"]);
    assert!(out.mechanism.is_some());
}

#[test]
fn file_without_neuron_block_is_named_after_the_file() {
    let (_, out) = nmodl::compile_str(
        "dir/funcs.mod",
        "FUNCTION f(x) { f = 2*x }",
        &Options::default(),
    );
    assert_eq!(codes(&out), ["W0201"]);
    assert_eq!(out.mechanism.unwrap().name, "funcs");
}

#[test]
fn flag_in_net_receive_is_the_event_flag_even_when_a_variable_is_named_flag() {
    // As NEURON reads nrn/intfire4.mod: the ASSIGNED `flag` is not what NET_RECEIVE sees.
    let src = "NEURON { POINT_PROCESS F RANGE flag, x } ASSIGNED { flag x }
NET_RECEIVE (w) { x = flag }";
    let (_, out) = compile(src);
    let m = out.mechanism.unwrap();
    let nr = m.net_receive.unwrap();
    let Stmt::Assign(_, nmodl::ir::Expr::Load(place, None)) = &nr.kernel.body[0] else {
        panic!("{:?}", nr.kernel.body)
    };
    assert_eq!(*place, Place::Builtin(Builtin::Flag));
}

#[test]
fn megohm_is_a_known_unit() {
    let (_, out) = compile(
        "NEURON { SUFFIX t } UNITS { k = (megohm) (ohm) } ASSIGNED { x } BREAKPOINT { x = k }",
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let m = out.mechanism.unwrap();
    let Stmt::Assign(_, nmodl::ir::Expr::Num(k)) = &m.compute_currents.body[0] else {
        panic!("{:?}", m.compute_currents.body)
    };
    assert_eq!(*k, 1e6);
}
