//! Printer: writes a [`Module`] back as NMODL text.
//!
//! The output is canonical (one statement per line, four-space indents), not the original
//! layout; parsing it again gives the same tree up to spans. Comments are not kept.

use std::fmt::Write as _;

use crate::ast::*;

/// Prints a whole module.
pub fn print_module(m: &Module) -> String {
    let mut p = Printer {
        out: String::new(),
        indent: 0,
    };
    for item in &m.items {
        p.item(item);
    }
    p.out
}

/// Prints one expression.
pub fn print_expr(e: &Expr) -> String {
    let mut p = Printer {
        out: String::new(),
        indent: 0,
    };
    p.expr(e);
    p.out
}

/// Formats a number so that the lexer reads back the same value.
pub fn number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "1e999".into()
        } else {
            "-1e999".into()
        }
    } else if v.is_nan() {
        "0".into()
    } else {
        let s = format!("{v:?}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    }
}

struct Printer {
    out: String,
    indent: usize,
}

fn names(v: &[Ident]) -> String {
    v.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn unit(u: &Option<Unit>) -> String {
    match u {
        Some(u) => format!(" ({})", u.text),
        None => String::new(),
    }
}

fn args(a: &[Arg]) -> String {
    a.iter()
        .map(|a| format!("{}{}", a.name.name, unit(&a.unit)))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Printer {
    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Title(t) => self.line(&format!("TITLE {t}")),
            ItemKind::Include(f) => self.line(&format!("INCLUDE \"{f}\"")),
            ItemKind::Define(n, v) => self.line(&format!("DEFINE {} {}", n.name, number(*v))),
            ItemKind::Neuron(stmts) => {
                self.line("NEURON {");
                self.indent += 1;
                for s in stmts {
                    let text = neuron_stmt(&s.kind);
                    self.line(&text);
                }
                self.indent -= 1;
                self.line("}");
            }
            ItemKind::Units(defs) => {
                self.line("UNITS {");
                self.indent += 1;
                for d in defs {
                    let text = match &d.kind {
                        UnitDefKind::Alias(a, b) => format!("({}) = ({})", a.text, b.text),
                        UnitDefKind::Factor(n, a, b) => {
                            format!("{} = ({}) ({})", n.name, a.text, b.text)
                        }
                        UnitDefKind::Constant(n, v, u) => {
                            format!("{} = {}{}", n.name, number(*v), unit(u))
                        }
                    };
                    self.line(&text);
                }
                self.indent -= 1;
                self.line("}");
            }
            ItemKind::Parameter(d) => self.decls("PARAMETER", d),
            ItemKind::Assigned(d) => self.decls("ASSIGNED", d),
            ItemKind::State(d) => self.decls("STATE", d),
            ItemKind::Constant(d) => self.decls("CONSTANT", d),
            ItemKind::Independent(d) => self.decls("INDEPENDENT", d),
            ItemKind::Initial(b) => self.block("INITIAL", b),
            ItemKind::Breakpoint(b) => self.block("BREAKPOINT", b),
            ItemKind::Constructor(b) => self.block("CONSTRUCTOR", b),
            ItemKind::Destructor(b) => self.block("DESTRUCTOR", b),
            ItemKind::Derivative(n, b) => self.block(&format!("DERIVATIVE {}", n.name), b),
            ItemKind::Kinetic(n, sf, b) => self.block(&solvefor("KINETIC", n, sf), b),
            ItemKind::Linear(n, sf, b) => self.block(&solvefor("LINEAR", n, sf), b),
            ItemKind::NonLinear(n, sf, b) => self.block(&solvefor("NONLINEAR", n, sf), b),
            ItemKind::OtherBlock(kw, name, b) => {
                self.block(&format!("{} {}", kw.name, name.name), b)
            }
            ItemKind::Function(c) => {
                let head = format!(
                    "FUNCTION {}({}){}",
                    c.name.name,
                    args(&c.args),
                    unit(&c.unit)
                );
                self.block(&head, &c.body);
            }
            ItemKind::Procedure(c) => {
                let head = format!(
                    "PROCEDURE {}({}){}",
                    c.name.name,
                    args(&c.args),
                    unit(&c.unit)
                );
                self.block(&head, &c.body);
            }
            ItemKind::FunctionTable(c) => {
                let head = format!(
                    "FUNCTION_TABLE {}({}){}",
                    c.name.name,
                    args(&c.args),
                    unit(&c.unit)
                );
                self.line(&head);
            }
            ItemKind::NetReceive(a, b) => self.block(&format!("NET_RECEIVE({})", args(a)), b),
            ItemKind::BeforeAfter { before, when, body } => {
                let kw = if *before { "BEFORE" } else { "AFTER" };
                self.block(&format!("{kw} {}", when.name), body);
            }
            ItemKind::Verbatim(t) => self.line(&format!("VERBATIM{t}ENDVERBATIM")),
            ItemKind::UnitsFlag(on) => self.line(if *on { "UNITSON" } else { "UNITSOFF" }),
            ItemKind::Local(v) => self.line(&format!("LOCAL {}", locals(v))),
        }
    }

    fn decls(&mut self, kw: &str, decls: &[VarDecl]) {
        self.line(&format!("{kw} {{"));
        self.indent += 1;
        for d in decls {
            let mut s = d.name.name.clone();
            if let Some(n) = d.array {
                let _ = write!(s, "[{n}]");
            }
            if let Some(v) = d.value {
                let _ = write!(s, " = {}", number(v));
            }
            s.push_str(&unit(&d.unit));
            if let Some((lo, hi)) = d.limits {
                let _ = write!(s, " <{}, {}>", number(lo), number(hi));
            }
            if let Some((lo, hi)) = d.from_to {
                let _ = write!(s, " FROM {} TO {}", number(lo), number(hi));
            }
            if let Some((kw, v)) = &d.extra {
                let _ = write!(s, " {kw} {}", number(*v));
            }
            self.line(&s);
        }
        self.indent -= 1;
        self.line("}");
    }

    fn block(&mut self, head: &str, b: &Block) {
        self.line(&format!("{head} {{"));
        self.body(b);
        self.line("}");
    }

    fn body(&mut self, b: &Block) {
        self.indent += 1;
        for s in &b.stmts {
            self.stmt(s);
        }
        self.indent -= 1;
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Local(v) => self.line(&format!("LOCAL {}", locals(v))),
            StmtKind::Assign(lv, e) => {
                let lhs = match lv {
                    LValue::Var(n, i) => format!("{}{}", n.name, index(i)),
                    LValue::Deriv(n, k, i) => {
                        format!("{}{}{}", n.name, index(i), "'".repeat(*k as usize))
                    }
                };
                self.line(&format!("{lhs} = {}", print_expr(e)));
            }
            StmtKind::Expr(e) => self.line(&print_expr(e)),
            StmtKind::If(..) => {
                let mut head = String::new();
                self.if_chain(s, &mut head);
            }
            StmtKind::While(c, b) => self.block(&format!("while ({})", print_expr(c)), b),
            StmtKind::From {
                var,
                from,
                to,
                by,
                body,
            } => {
                let by = by
                    .as_ref()
                    .map(|b| format!(" BY {}", print_expr(b)))
                    .unwrap_or_default();
                let head = format!(
                    "FROM {} = {} TO {}{by}",
                    var.name,
                    print_expr(from),
                    print_expr(to)
                );
                self.block(&head, body);
            }
            StmtKind::Solve {
                name,
                method,
                steadystate,
                if_error,
            } => {
                let mut t = format!("SOLVE {}", name.name);
                if let Some(m) = method {
                    let _ = write!(t, " METHOD {}", m.name);
                }
                if let Some(m) = steadystate {
                    let _ = write!(t, " STEADYSTATE {}", m.name);
                }
                match if_error {
                    Some(b) => self.block(&format!("{t} IFERROR"), b),
                    None => self.line(&t),
                }
            }
            StmtKind::Reaction {
                lhs,
                arrow,
                rhs,
                kf,
                kb,
            } => {
                let a = match arrow {
                    ReactionArrow::Both => "<->",
                    ReactionArrow::Forward => "->",
                    ReactionArrow::Flux => "<<",
                };
                let r = if rhs.is_empty() {
                    String::new()
                } else {
                    format!(" {}", species(rhs))
                };
                let kb = kb
                    .as_ref()
                    .map(|k| format!(", {}", print_expr(k)))
                    .unwrap_or_default();
                self.line(&format!(
                    "~ {} {a}{r} ({}{kb})",
                    species(lhs),
                    print_expr(kf)
                ));
            }
            StmtKind::Equation(l, r) => {
                self.line(&format!("~ {} = {}", print_expr(l), print_expr(r)))
            }
            StmtKind::Conserve(l, r) => {
                self.line(&format!("CONSERVE {} = {}", print_expr(l), print_expr(r)))
            }
            StmtKind::Compartment(i, e, n) | StmtKind::LongDiffusion(i, e, n) => {
                let kw = if matches!(s.kind, StmtKind::Compartment(..)) {
                    "COMPARTMENT"
                } else {
                    "LONGITUDINAL_DIFFUSION"
                };
                let i = i
                    .as_ref()
                    .map(|i| format!("{}, ", i.name))
                    .unwrap_or_default();
                let list = n
                    .iter()
                    .map(|x| x.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                self.line(&format!("{kw} {i}{} {{ {list} }}", print_expr(e)));
            }
            StmtKind::Table {
                names: n,
                depend,
                from,
                to,
                with,
            } => {
                let mut t = String::from("TABLE");
                if !n.is_empty() {
                    let _ = write!(t, " {}", names(n));
                }
                if !depend.is_empty() {
                    let _ = write!(t, " DEPEND {}", names(depend));
                }
                let _ = write!(
                    t,
                    " FROM {} TO {} WITH {}",
                    print_expr(from),
                    print_expr(to),
                    print_expr(with)
                );
                self.line(&t);
            }
            StmtKind::Watch(list) => {
                let l = list
                    .iter()
                    .map(|(c, f)| format!("({}) {}", print_expr(c), print_expr(f)))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.line(&format!("WATCH {l}"));
            }
            StmtKind::Initial(b) => self.block("INITIAL", b),
            StmtKind::ForNetcons(a, b) => self.block(&format!("FOR_NETCONS({})", args(a)), b),
            StmtKind::Verbatim(t) => self.line(&format!("VERBATIM{t}ENDVERBATIM")),
            StmtKind::Block(b) => self.block("", b),
            StmtKind::UnitsFlag(on) => self.line(if *on { "UNITSON" } else { "UNITSOFF" }),
            StmtKind::Mutex(lock) => self.line(if *lock { "MUTEXLOCK" } else { "MUTEXUNLOCK" }),
            StmtKind::Protect(inner) => {
                let mut p = Printer {
                    out: String::new(),
                    indent: 0,
                };
                p.stmt(inner);
                let text = p.out.trim_end().to_string();
                self.line(&format!("PROTECT {text}"));
            }
            StmtKind::Conductance(g, ion) => {
                let ion = ion
                    .as_ref()
                    .map(|i| format!(" USEION {}", i.name))
                    .unwrap_or_default();
                self.line(&format!("CONDUCTANCE {}{ion}", g.name));
            }
            StmtKind::Lag(x, t) => self.line(&format!("LAG {} BY {}", x.name, t.name)),
            StmtKind::Unsupported(kw) => self.line(kw),
        }
    }

    fn if_chain(&mut self, s: &Stmt, prefix: &mut String) {
        if let StmtKind::If(c, then, els) = &s.kind {
            self.line(&format!("{prefix}if ({}) {{", print_expr(c)));
            self.body(then);
            match els.as_deref() {
                None => self.line("}"),
                Some(
                    e @ Stmt {
                        kind: StmtKind::If(..),
                        ..
                    },
                ) => {
                    let mut p = String::from("} else ");
                    self.if_chain(e, &mut p);
                }
                Some(Stmt {
                    kind: StmtKind::Block(b),
                    ..
                }) => {
                    self.line("} else {");
                    self.body(b);
                    self.line("}");
                }
                Some(other) => {
                    self.line("} else {");
                    self.indent += 1;
                    self.stmt(other);
                    self.indent -= 1;
                    self.line("}");
                }
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Number(v, u) => {
                self.out.push_str(&number(*v));
                self.out.push_str(&unit(u));
            }
            ExprKind::Str(s) => {
                let _ = write!(self.out, "\"{s}\"");
            }
            ExprKind::Name(n) => self.out.push_str(&n.name),
            ExprKind::Index(n, i) => {
                let _ = write!(self.out, "{}[", n.name);
                self.expr(i);
                self.out.push(']');
            }
            ExprKind::Call(n, a) => {
                let _ = write!(self.out, "{}(", n.name);
                for (k, x) in a.iter().enumerate() {
                    if k > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(x);
                }
                self.out.push(')');
            }
            ExprKind::Unary(op, x) => {
                self.out.push(if *op == UnOp::Neg { '-' } else { '!' });
                self.operand(x, 7, false);
            }
            ExprKind::Binary(op, l, r) => {
                let p = op.precedence();
                let right_assoc = *op == BinOp::Pow;
                self.operand(l, if right_assoc { p + 1 } else { p }, false);
                let _ = write!(self.out, " {} ", op.symbol());
                self.operand(r, if right_assoc { p } else { p + 1 }, right_assoc);
            }
            ExprKind::Paren(x) => {
                self.out.push('(');
                self.expr(x);
                self.out.push(')');
            }
            ExprKind::UnitFactor(a, b) => {
                let _ = write!(self.out, "({})", a.text);
                if let Some(b) = b {
                    let _ = write!(self.out, " ({})", b.text);
                }
            }
            ExprKind::Error => self.out.push('0'),
        }
    }

    /// Writes an operand, adding parentheses the tree does not record when precedence needs
    /// them (only for trees built by passes; parsed trees keep their `Paren` nodes).
    fn operand(&mut self, e: &Expr, min_prec: u8, rhs_of_pow: bool) {
        let needs = match &e.kind {
            ExprKind::Binary(op, ..) => op.precedence() < min_prec,
            ExprKind::Unary(..) => min_prec > 7 && !rhs_of_pow,
            _ => false,
        };
        if needs {
            self.out.push('(');
            self.expr(e);
            self.out.push(')');
        } else {
            self.expr(e);
        }
    }
}

fn index(i: &Option<Box<Expr>>) -> String {
    i.as_ref()
        .map(|e| format!("[{}]", print_expr(e)))
        .unwrap_or_default()
}

fn species(v: &[Species]) -> String {
    v.iter()
        .map(|s| {
            let c = if s.coef == 1 {
                String::new()
            } else {
                format!("{} ", s.coef)
            };
            format!("{c}{}{}", s.name.name, index(&s.index))
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn locals(v: &[LocalVar]) -> String {
    v.iter()
        .map(|l| match l.array {
            Some(n) => format!("{}[{n}]", l.name.name),
            None => l.name.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn solvefor(kw: &str, n: &Ident, sf: &[Ident]) -> String {
    if sf.is_empty() {
        format!("{kw} {}", n.name)
    } else {
        format!("{kw} {} SOLVEFOR {}", n.name, names(sf))
    }
}

fn neuron_stmt(k: &NeuronKind) -> String {
    match k {
        NeuronKind::Suffix(n) => format!("SUFFIX {}", n.name),
        NeuronKind::PointProcess(n) => format!("POINT_PROCESS {}", n.name),
        NeuronKind::ArtificialCell(n) => format!("ARTIFICIAL_CELL {}", n.name),
        NeuronKind::UseIon {
            ion,
            read,
            write,
            valence,
            represents,
        } => {
            let mut s = format!("USEION {}", ion.name);
            if !read.is_empty() {
                let _ = write!(s, " READ {}", names(read));
            }
            if !write.is_empty() {
                let _ = write!(s, " WRITE {}", names(write));
            }
            if let Some(v) = valence {
                let _ = write!(s, " VALENCE {}", number(*v));
            }
            if let Some(r) = represents {
                let _ = write!(s, " REPRESENTS {r}");
            }
            s
        }
        NeuronKind::NonspecificCurrent(v) => format!("NONSPECIFIC_CURRENT {}", names(v)),
        NeuronKind::ElectrodeCurrent(v) => format!("ELECTRODE_CURRENT {}", names(v)),
        NeuronKind::Range(v) => format!("RANGE {}", names(v)),
        NeuronKind::Global(v) => format!("GLOBAL {}", names(v)),
        NeuronKind::Pointer(v) => format!("POINTER {}", names(v)),
        NeuronKind::BbcorePointer(v) => format!("BBCOREPOINTER {}", names(v)),
        NeuronKind::External(v) => format!("EXTERNAL {}", names(v)),
        NeuronKind::ThreadSafe(v) if v.is_empty() => "THREADSAFE".into(),
        NeuronKind::ThreadSafe(v) => format!("THREADSAFE {}", names(v)),
        NeuronKind::Random(v) => format!("RANDOM {}", names(v)),
        NeuronKind::Represents(r) => format!("REPRESENTS {r}"),
        NeuronKind::Other(kw, v) => format!("{} {}", kw.name, names(v)),
    }
}
