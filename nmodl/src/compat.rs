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
    t == "return0;"
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

/// Reports constructs that cannot be executed. Appends to `diags`.
pub fn check(m: &Module, diags: &mut Vec<Diagnostic>) {
    for item in &m.items {
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
        // `VERBATIM return 0; ENDVERBATIM` as the last statement of a PROCEDURE (an old idiom)
        // returns where the procedure ends anyway.
        let trailing_return = match &item.kind {
            ItemKind::Procedure(c) => c.body.stmts.last().and_then(|s| match &s.kind {
                StmtKind::Verbatim(t) if is_return_zero(t) => Some(s.span),
                _ => None,
            }),
            _ => None,
        };
        if let Some(span) = trailing_return {
            diags.push(
                Diagnostic::warning(
                    codes::W_IGNORED,
                    span,
                    "VERBATIM `return 0;` at the end of a PROCEDURE does nothing and is ignored",
                )
                .with_help("delete the VERBATIM block"),
            );
        }
        visit_item_stmts(item, &mut |s| {
            if let StmtKind::Verbatim(t) = &s.kind {
                if trailing_return == Some(s.span) {
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
