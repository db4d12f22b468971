//! Compatibility pass: names every construct that parses but cannot be executed without a C
//! compiler or a feature we do not have, and suggests the rewrite where one exists.
//!
//! Runs on the syntax tree before lowering. Dialect constructs NEURON 9 itself rejects
//! (Arbor's `JUNCTION_PROCESS`, NEUWON's `USEION k WRITE gk`, KINETIC with cnexp) are refused
//! by the parser, the analysis or the lowering with a diagnostic saying so.

use crate::ast::*;
use crate::diagnostics::{codes, Diagnostic};

/// A VERBATIM body that only includes headers, declares externs or holds comments does nothing
/// we need to execute.
fn harmless_verbatim(text: &str) -> bool {
    let mut in_comment = false;
    text.lines().all(|l| {
        let l = l.trim();
        if in_comment {
            if l.contains("*/") {
                in_comment = false;
            }
            return true;
        }
        if l.starts_with("/*") {
            in_comment = !l.contains("*/");
            return true;
        }
        l.is_empty() || l.starts_with("#include") || l.starts_with("//") || l.starts_with("extern ")
    })
}

fn is_return_zero(text: &str) -> bool {
    let t: String = text.split_whitespace().collect();
    t == "return0;" || t == "return;"
}

fn verbatim_help(text: &str) -> &'static str {
    if text.contains("nrnran123")
        || text.contains("_p_") && text.contains("rand")
        || text.contains("nrn_random")
    {
        "for random numbers declare `RANDOM r` in the NEURON block and use random_uniform(r), random_normal(r), random_negexp(r) (NEURON 9)"
    } else if text.contains("ifarg") || text.contains("hoc_") || text.contains("getarg") {
        "this C code talks to the hoc interpreter; expose the values as PARAMETERs or FUNCTION arguments instead"
    } else if is_return_zero(text) {
        "an early `return 0;` has no NMODL equivalent: restructure the block with if/else"
    } else if text.contains("printf") {
        "use NMODL's printf(...) statement instead of C"
    } else {
        "rewrite the C code as NMODL statements (FUNCTION, PROCEDURE, if/while, LOCAL)"
    }
}

fn expr_calls(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Call(n, args) => {
            out.push(n.name.clone());
            args.iter().for_each(|a| expr_calls(a, out));
        }
        ExprKind::Index(_, x) | ExprKind::Unary(_, x) | ExprKind::Paren(x) => expr_calls(x, out),
        ExprKind::Binary(_, a, b) => {
            expr_calls(a, out);
            expr_calls(b, out);
        }
        _ => {}
    }
}

/// Names of the FUNCTIONs and PROCEDUREs an item calls directly.
fn item_calls(item: &Item) -> Vec<String> {
    let mut out = Vec::new();
    visit_item_stmts(item, &mut |s| {
        let mut e = |x: &Expr| expr_calls(x, &mut out);
        match &s.kind {
            StmtKind::Assign(lv, x) => {
                if let LValue::Var(_, Some(i)) | LValue::Deriv(_, _, Some(i)) = lv {
                    e(i);
                }
                e(x);
            }
            StmtKind::Expr(x) | StmtKind::If(x, _, _) | StmtKind::While(x, _) => e(x),
            StmtKind::From { from, to, by, .. } => {
                e(from);
                e(to);
                if let Some(b) = by {
                    e(b);
                }
            }
            StmtKind::Reaction { kf, kb, .. } => {
                e(kf);
                if let Some(b) = kb {
                    e(b);
                }
            }
            StmtKind::Equation(a, b) | StmtKind::Conserve(a, b) => {
                e(a);
                e(b);
            }
            StmtKind::Compartment(_, x, _) | StmtKind::LongDiffusion(_, x, _) => e(x),
            StmtKind::Table { from, to, with, .. } => {
                e(from);
                e(to);
                e(with);
            }
            // `SOLVE name` may name a PROCEDURE (old style, no METHOD).
            StmtKind::Solve { name, .. } => out.push(name.name.clone()),
            StmtKind::Watch(w) => {
                for (a, b) in w {
                    e(a);
                    e(b);
                }
            }
            _ => {}
        }
    });
    out
}

/// FUNCTIONs and PROCEDUREs the simulation can run: called, directly or through others, from
/// a block NEURON executes (INITIAL, BREAKPOINT, DERIVATIVE, KINETIC, NET_RECEIVE, …). The
/// others are only callable from hoc/Python, which neuwon does not offer.
fn reachable_callables(m: &Module) -> Vec<String> {
    let callable = |i: &Item| match &i.kind {
        ItemKind::Function(c) | ItemKind::Procedure(c) => Some(c.name.name.clone()),
        _ => None,
    };
    let mut reached: Vec<String> = Vec::new();
    let mut todo: Vec<String> = m
        .items
        .iter()
        .filter(|i| callable(i).is_none())
        .flat_map(item_calls)
        .collect();
    while let Some(n) = todo.pop() {
        if reached.contains(&n) {
            continue;
        }
        if let Some(item) = m.items.iter().find(|i| callable(i).as_deref() == Some(&n)) {
            todo.extend(item_calls(item));
        }
        reached.push(n);
    }
    reached
}

/// Reports constructs that cannot be executed. Appends to `diags`.
pub fn check(m: &Module, diags: &mut Vec<Diagnostic>) {
    let reachable = reachable_callables(m);
    for item in &m.items {
        // VERBATIM in a FUNCTION/PROCEDURE that no simulated block calls never runs here
        // (NEURON runs it only when hoc/Python calls the function): the rest of the file runs.
        let unreachable = match &item.kind {
            ItemKind::Function(c) | ItemKind::Procedure(c) => {
                (!reachable.contains(&c.name.name)).then_some(&c.name)
            }
            _ => None,
        };
        match &item.kind {
            ItemKind::Verbatim(t) => {
                if harmless_verbatim(t) {
                    diags.push(Diagnostic::warning(
                        codes::W_IGNORED,
                        item.span,
                        "top-level VERBATIM with only #include/extern lines is ignored",
                    ));
                } else {
                    diags.push(
                        Diagnostic::error(
                            codes::UNSUPPORTED,
                            item.span,
                            "unsupported: VERBATIM C code cannot be executed without a C compiler",
                        )
                        .with_help(verbatim_help(t)),
                    );
                }
            }
            ItemKind::Neuron(stmts) => {
                for s in stmts {
                    match &s.kind {
                        NeuronKind::BbcorePointer(_) => diags.push(
                            Diagnostic::error(
                                codes::UNSUPPORTED,
                                s.span,
                                "unsupported: BBCOREPOINTER refers to C data managed by VERBATIM code",
                            )
                            .with_help("use RANDOM variables (NEURON 9) for random streams"),
                        ),
                        NeuronKind::External(_) => diags.push(
                            Diagnostic::error(
                                codes::UNSUPPORTED,
                                s.span,
                                "unsupported: EXTERNAL variables of other mechanisms",
                            )
                            .with_help("pass the value in through a POINTER or a PARAMETER"),
                        ),
                        _ => {}
                    }
                }
            }
            ItemKind::OtherBlock(kw, _, _) => diags.push(Diagnostic::error(
                codes::UNSUPPORTED,
                item.span,
                format!("unsupported: {} blocks", kw.name),
            )),
            ItemKind::FunctionTable(c) => diags.push(Diagnostic::warning(
                codes::W_IGNORED,
                c.name.span,
                format!(
                    "FUNCTION_TABLE `{}` needs its values supplied at run time",
                    c.name.name
                ),
            )),
            _ => {}
        }
        // `VERBATIM return 0; ENDVERBATIM` (or `return;`) as the last statement of a PROCEDURE
        // or of a block that returns nothing (an old idiom) returns where the block ends anyway.
        let body = match &item.kind {
            ItemKind::Procedure(c) => Some(&c.body),
            ItemKind::Initial(b)
            | ItemKind::Breakpoint(b)
            | ItemKind::NetReceive(_, b)
            | ItemKind::BeforeAfter { body: b, .. }
            | ItemKind::Constructor(b)
            | ItemKind::Destructor(b) => Some(b),
            _ => None,
        };
        let trailing_return = body.and_then(|b| {
            b.stmts.last().and_then(|s| match &s.kind {
                StmtKind::Verbatim(t) if is_return_zero(t) => Some(s.span),
                _ => None,
            })
        });
        if let Some(span) = trailing_return {
            diags.push(
                Diagnostic::warning(
                    codes::W_IGNORED,
                    span,
                    "VERBATIM `return 0;` at the end of a PROCEDURE or INITIAL/BREAKPOINT-like \
                     block does nothing and is ignored",
                )
                .with_help("delete the VERBATIM block"),
            );
        }
        visit_item_stmts(item, &mut |s| {
            if let StmtKind::Verbatim(t) = &s.kind {
                if trailing_return == Some(s.span) {
                    return;
                }
                if harmless_verbatim(t) {
                    diags.push(Diagnostic::warning(
                        codes::W_IGNORED,
                        s.span,
                        "VERBATIM with only comments is ignored",
                    ));
                    return;
                }
                if let Some(name) = unreachable {
                    diags.push(
                        Diagnostic::warning(
                            codes::W_IGNORED,
                            s.span,
                            format!(
                                "VERBATIM C code in `{}`, which no simulated block calls: \
                                 ignored (calling `{}` from outside is not supported)",
                                name.name, name.name
                            ),
                        )
                        .with_help(verbatim_help(t)),
                    );
                    return;
                }
                diags.push(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        s.span,
                        "unsupported: VERBATIM C code cannot be executed without a C compiler",
                    )
                    .with_help(verbatim_help(t)),
                );
            }
        });
    }
}

fn visit_block(b: &Block, f: &mut dyn FnMut(&Stmt)) {
    for s in &b.stmts {
        visit_stmt(s, f);
    }
}

fn visit_stmt(s: &Stmt, f: &mut dyn FnMut(&Stmt)) {
    f(s);
    match &s.kind {
        StmtKind::If(_, b, e) => {
            visit_block(b, f);
            if let Some(e) = e {
                visit_stmt(e, f);
            }
        }
        StmtKind::While(_, b)
        | StmtKind::From { body: b, .. }
        | StmtKind::Initial(b)
        | StmtKind::ForNetcons(_, b)
        | StmtKind::Block(b) => visit_block(b, f),
        StmtKind::Solve {
            if_error: Some(b), ..
        } => visit_block(b, f),
        StmtKind::Protect(x) => visit_stmt(x, f),
        _ => {}
    }
}

/// Calls `f` on every statement of an item (nested ones included).
pub fn visit_item_stmts(item: &Item, f: &mut dyn FnMut(&Stmt)) {
    match &item.kind {
        ItemKind::Initial(b)
        | ItemKind::Breakpoint(b)
        | ItemKind::Derivative(_, b)
        | ItemKind::Kinetic(_, _, b)
        | ItemKind::Linear(_, _, b)
        | ItemKind::NonLinear(_, _, b)
        | ItemKind::NetReceive(_, b)
        | ItemKind::BeforeAfter { body: b, .. }
        | ItemKind::Constructor(b)
        | ItemKind::Destructor(b) => visit_block(b, f),
        ItemKind::Function(c) | ItemKind::Procedure(c) => visit_block(&c.body, f),
        _ => {}
    }
}
