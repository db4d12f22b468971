//! No panic on bad input: every truncation of every corpus file (and of our own sources), and
//! 10,000 random mutations. Each run must end with a mechanism or with error diagnostics.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use proptest::prelude::*;

/// Compiles `text` and checks the pipeline's contract: a mechanism exactly when there is no
/// error, and every diagnostic renders.
fn check(name: &str, text: &str) {
    let (sources, out) = nmodl::compile_str(name, text, &Default::default());
    assert_eq!(
        out.mechanism.is_some(),
        out.error_count() == 0,
        "{name}: mechanism/error mismatch for input:\n{text}"
    );
    for d in &out.diagnostics {
        let r = sources.render(d);
        assert!(r.contains(&format!("[{}]", d.code)), "{r}");
    }
}

fn all_sources() -> &'static Vec<(String, String)> {
    static S: OnceLock<Vec<(String, String)>> = OnceLock::new();
    S.get_or_init(|| {
        let mut v = common::own_sources();
        if let Some(root) = common::corpus_root() {
            v.extend(common::texts(&root));
        }
        v
    })
}

/// Every prefix in release builds (the CI configuration); every 7th in debug builds, which are
/// about ten times slower.
const STRIDE: usize = if cfg!(debug_assertions) { 7 } else { 1 };

#[test]
fn every_truncation_of_every_file_ends_in_diagnostics() {
    let sources = all_sources();
    let files = AtomicUsize::new(0);
    let cuts = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(4);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((name, text)) = sources.get(i) else {
                    break;
                };
                let mut n = 0;
                let last = (text.len() % STRIDE != 0).then_some(text.len());
                let cuts_here = (0..=text.len()).step_by(STRIDE).chain(last);
                for cut in cuts_here.filter(|&k| text.is_char_boundary(k)) {
                    check(name, &text[..cut]);
                    n += 1;
                }
                cuts.fetch_add(n, Ordering::Relaxed);
                files.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    let (files, cuts) = (files.into_inner(), cuts.into_inner());
    eprintln!("truncations: {cuts} prefixes (stride {STRIDE}) of {files} files, no panic");
    assert_eq!(files, sources.len());
    assert!(cuts > files);
}

const SNIPPETS: &[&str] = &[
    "NEURON",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "SUFFIX x",
    "USEION ca READ cai WRITE ica",
    "STATE",
    "PARAMETER",
    "ASSIGNED",
    "BREAKPOINT",
    "SOLVE states METHOD cnexp",
    "DERIVATIVE states",
    "KINETIC kin",
    "~ a <-> b (1, 2)",
    "~ a << (3)",
    "CONSERVE a + b = 1",
    "COMPARTMENT i, 1 {a}",
    "FUNCTION f(x)",
    "PROCEDURE p()",
    "TABLE a DEPEND b FROM 1 TO 2 WITH 3",
    "NET_RECEIVE(w)",
    "net_send(0, 1)",
    "WATCH (v > 1) 2",
    "FROM i = 0 TO 3",
    "if (",
    "else",
    "while (",
    "LOCAL",
    "VERBATIM",
    "ENDVERBATIM",
    "COMMENT",
    "ENDCOMMENT",
    "INCLUDE \"x.inc\"",
    "'",
    "=",
    "^",
    "-",
    "<->",
    "->",
    "<<",
    "1e-3",
    "1e999",
    ".5",
    "(mV)",
    "\n",
    ":",
    "?",
    "\"",
    "é",
    "\u{0}",
    "x'",
    "INITIAL",
    "UNITS { (mV) = (millivolt) }",
    "DEFINE N 3",
    "a[N]",
    "FARADAY = (faraday) (coulomb)",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
    Byte(usize, char),
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut s = text.to_string();
    let clamp = |s: &str, p: usize| {
        let mut p = if s.is_empty() { 0 } else { p % (s.len() + 1) };
        while !s.is_char_boundary(p) {
            p -= 1;
        }
        p
    };
    for m in muts {
        match m {
            Mutation::Delete(p, n) => {
                let a = clamp(&s, *p);
                let b = clamp(&s, (a + n).min(s.len()));
                s.replace_range(a..b.max(a), "");
            }
            Mutation::Insert(p, k) => {
                let a = clamp(&s, *p);
                let snip = SNIPPETS[k % SNIPPETS.len()];
                s.insert_str(a, &format!(" {snip} "));
            }
            Mutation::Duplicate(p, n) => {
                let a = clamp(&s, *p);
                let b = clamp(&s, (a + n).min(s.len())).max(a);
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
            Mutation::Byte(p, c) => {
                let a = clamp(&s, *p);
                s.insert(a, *c);
            }
        }
    }
    s
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..200).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(p, k)| Mutation::Insert(p, k)),
        (any::<usize>(), 0usize..400).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        (any::<usize>(), any::<char>()).prop_map(|(p, c)| Mutation::Byte(p, c)),
    ]
}

static MUTATED: AtomicUsize = AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_mutations_end_in_diagnostics(file in any::<usize>(), muts in prop::collection::vec(mutation(), 1..6)) {
        let sources = all_sources();
        let (name, text) = &sources[file % sources.len()];
        let mutated = apply(text, &muts);
        if std::env::var_os("NMODL_DUMP").is_some() { std::fs::write("/tmp/last_mut.mod", &mutated).unwrap(); }
        check(name, &mutated);
        MUTATED.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn deeply_nested_input_is_refused_not_overflowed() {
    let deep = format!(
        "NEURON {{ SUFFIX d }}\nBREAKPOINT {{ x = {}1{} }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let (_, out) = nmodl::compile_str("deep.mod", &deep, &Default::default());
    assert!(out
        .diagnostics
        .iter()
        .any(|d| d.message.contains("nesting is too deep")));
    let blocks = format!("INITIAL {}{}", "{ ".repeat(50_000), "} ".repeat(50_000));
    let (_, out) = nmodl::compile_str("deep2.mod", &blocks, &Default::default());
    assert!(out.error_count() > 0);
    // Deep but within the limit: parses, lowers and prints without overflowing the stack.
    let ifs = format!(
        "NEURON {{ SUFFIX d }}\nASSIGNED {{ x }}\nBREAKPOINT {{ {} x = {}1{} {} }}",
        "if (1) { ".repeat(30),
        "(".repeat(30),
        ")".repeat(30),
        "} ".repeat(30)
    );
    let (s, out) = nmodl::compile_str("deep4.mod", &ifs, &Default::default());
    assert_eq!(out.error_count(), 0, "{}", s.render_all(&out.diagnostics));
    assert!(out.mechanism.is_some());
    let _ = nmodl::print_module(&out.module);
    let minus = format!(
        "NEURON {{ SUFFIX d }}\nBREAKPOINT {{ x = {}1 }}",
        "-".repeat(100_000)
    );
    let (_, out) = nmodl::compile_str("deep3.mod", &minus, &Default::default());
    assert!(out.error_count() > 0);
}
