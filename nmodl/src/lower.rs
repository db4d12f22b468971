//! Lowering: syntax tree + symbol table to the mechanism IR ([`crate::ir::Mechanism`]).
//!
//! Resolves every name (reporting undefined ones), turns BREAKPOINT into `compute_currents`
//! and its SOLVE statements into `advance_state`, solves DERIVATIVE blocks per method (cnexp
//! equations are split into `x' = a + b·x`; a nonlinear equation falls back to derivimplicit
//! with a warning), keeps KINETIC schemes as reaction lists, and lowers FUNCTIONs and
//! PROCEDUREs to callable [`Function`]s with their TABLE.

use std::collections::HashMap;

use crate::analysis::{builtin, Analysis, Symbol};
use crate::ast::{self, BinOp, ExprKind, ItemKind, LValue, Module, ReactionArrow, StmtKind, UnOp};
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::ir::*;

/// Lowering options.
#[derive(Clone, Debug)]
pub struct LowerOptions {
    /// Honour TABLE statements as NEURON does (default). False: evaluate exactly.
    pub use_tables: bool,
}

impl Default for LowerOptions {
    fn default() -> Self {
        LowerOptions { use_tables: true }
    }
}

/// Which kind of block is being lowered (decides what is legal inside).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ctx {
    Plain,
    Function,
    Derivative(Method),
    Kinetic,
    Algebraic,
    NetReceive,
}

struct Lowerer<'a> {
    module: &'a Module,
    an: &'a Analysis,
    diags: &'a mut Vec<Diagnostic>,
    solves: Vec<Solve>,
    solve_ids: HashMap<(String, Method), SolveId>,
    // Per-kernel state:
    locals: Vec<Local>,
    scopes: Vec<Vec<(String, LocalId)>>,
    ret: Option<(String, LocalId)>,
    ctx: Ctx,
    derivs: Vec<Target>,
    cnexp: Vec<CnexpEquation>,
    cnexp_failed: bool,
    kinetic_states: Vec<VarId>,
    kinetic_linear: bool,
    tables: Vec<ast::Stmt>,
}

fn num(v: f64) -> Expr {
    Expr::Num(v)
}

fn is_zero(e: &Expr) -> bool {
    matches!(e, Expr::Num(v) if *v == 0.0)
}

fn is_one(e: &Expr) -> bool {
    matches!(e, Expr::Num(v) if *v == 1.0)
}

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    match (op, &a, &b) {
        (BinOp::Add, _, _) if is_zero(&a) => b,
        (BinOp::Add, _, _) | (BinOp::Sub, _, _) if is_zero(&b) => a,
        (BinOp::Sub, _, _) if is_zero(&a) => Expr::Unary(UnOp::Neg, Box::new(b)),
        (BinOp::Mul, _, _) if is_zero(&a) || is_zero(&b) => num(0.0),
        (BinOp::Mul, _, _) if is_one(&a) => b,
        (BinOp::Mul, _, _) | (BinOp::Div, _, _) if is_one(&b) => a,
        (BinOp::Div, _, _) if is_zero(&a) => num(0.0),
        _ => Expr::Binary(op, Box::new(a), Box::new(b)),
    }
}

fn neg(a: Expr) -> Expr {
    match a {
        Expr::Num(v) => num(-v),
        Expr::Unary(UnOp::Neg, x) => *x,
        other => Expr::Unary(UnOp::Neg, Box::new(other)),
    }
}

/// Does `e` read `t` (same place; any index when either is indexed by a non-constant)?
fn mentions(e: &Expr, t: &Target) -> bool {
    match e {
        Expr::Num(_) => false,
        Expr::Load(p, i) => {
            (*p == t.place && (i.is_none() || t.index.is_none() || i == &t.index))
                || i.as_deref().is_some_and(|i| mentions(i, t))
        }
        Expr::Unary(_, x) => mentions(x, t),
        Expr::Binary(_, a, b) => mentions(a, t) || mentions(b, t),
        Expr::Call(_, args) => args.iter().any(|a| mentions(a, t)),
    }
}

fn mentions_var(e: &Expr, v: VarId) -> bool {
    mentions(e, &Target::scalar(Place::Var(v)))
}

/// Splits `e` into `a + b·x` with `a`, `b` free of `x`; `None` if `e` is not linear in `x`.
pub fn split_linear(e: &Expr, x: &Target) -> Option<(Expr, Expr)> {
    if !mentions(e, x) {
        return Some((e.clone(), num(0.0)));
    }
    match e {
        Expr::Load(p, i) if *p == x.place && *i == x.index => Some((num(0.0), num(1.0))),
        Expr::Unary(UnOp::Neg, a) => {
            let (a0, a1) = split_linear(a, x)?;
            Some((neg(a0), neg(a1)))
        }
        Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r) => {
            let (l0, l1) = split_linear(l, x)?;
            let (r0, r1) = split_linear(r, x)?;
            Some((bin(*op, l0, r0), bin(*op, l1, r1)))
        }
        Expr::Binary(BinOp::Mul, l, r) => {
            let (l0, l1) = split_linear(l, x)?;
            let (r0, r1) = split_linear(r, x)?;
            if is_zero(&l1) {
                Some((bin(BinOp::Mul, l0.clone(), r0), bin(BinOp::Mul, l0, r1)))
            } else if is_zero(&r1) {
                Some((bin(BinOp::Mul, l0, r0.clone()), bin(BinOp::Mul, l1, r0)))
            } else {
                None
            }
        }
        Expr::Binary(BinOp::Div, l, r) if !mentions(r, x) => {
            let (l0, l1) = split_linear(l, x)?;
            Some((
                bin(BinOp::Div, l0, (**r).clone()),
                bin(BinOp::Div, l1, (**r).clone()),
            ))
        }
        _ => None,
    }
}

/// Lowers an analysed module. Returns `None` when an error was reported.
pub fn lower(
    module: &Module,
    an: &Analysis,
    opts: &LowerOptions,
    diags: &mut Vec<Diagnostic>,
) -> Option<Mechanism> {
    let errors_before = diags.iter().filter(|d| d.is_error()).count();
    let mut l = Lowerer {
        module,
        an,
        diags,
        solves: Vec::new(),
        solve_ids: HashMap::new(),
        locals: Vec::new(),
        scopes: Vec::new(),
        ret: None,
        ctx: Ctx::Plain,
        derivs: Vec::new(),
        cnexp: Vec::new(),
        cnexp_failed: false,
        kinetic_states: Vec::new(),
        kinetic_linear: true,
        tables: Vec::new(),
    };
    let name =
        match &an.name {
            Some(n) => n.clone(),
            None => {
                let span = module.items.first().map(|i| i.span).unwrap_or_default();
                l.diags.push(
                Diagnostic::error(
                    codes::NO_MECHANISM,
                    Span { end: span.start, ..span },
                    "no SUFFIX, POINT_PROCESS or ARTIFICIAL_CELL: the file defines no mechanism",
                )
                .with_help("add a NEURON block, e.g. `NEURON { SUFFIX name }`"),
            );
                String::new()
            }
        };

    // Functions.
    let mut functions = Vec::new();
    for &(idx, is_fn) in &an.callables {
        let Some(item) = module.items.get(idx) else {
            continue;
        };
        let f = match &item.kind {
            ItemKind::Function(c) | ItemKind::Procedure(c) => l.function(c, is_fn),
            ItemKind::FunctionTable(c) => Function {
                name: c.name.name.clone(),
                n_args: c.args.len(),
                ret: None,
                kernel: Kernel {
                    locals: c
                        .args
                        .iter()
                        .map(|a| Local {
                            name: a.name.name.clone(),
                            array: None,
                        })
                        .collect(),
                    body: Vec::new(),
                },
                table: None,
                external_table: true,
            },
            _ => continue,
        };
        functions.push(f);
    }

    // Ion loads used at the start of kernels.
    let mut ion_loads = Vec::new();
    let mut write_ions = Vec::new();
    for (i, ion) in an.ions.iter().enumerate() {
        for (kind, var) in &ion.reads {
            ion_loads.push(Stmt::Assign(
                Target::scalar(Place::Var(*var)),
                Expr::Load(Place::IonPool(i, *kind), None),
            ));
        }
        for (kind, var) in &ion.writes {
            if matches!(
                kind,
                IonVarKind::Inside | IonVarKind::Outside | IonVarKind::Reversal
            ) {
                // A reversal potential the mechanism writes but does not read starts from the
                // mechanism's own value, not the pool's: NEURON 9 records 0 after
                // `finitialize` for `WRITE ena` assigned only in BREAKPOINT (corpus ionic.mod).
                if !ion.reads.iter().any(|(_, v)| v == var) && *kind != IonVarKind::Reversal {
                    ion_loads.push(Stmt::Assign(
                        Target::scalar(Place::Var(*var)),
                        Expr::Load(Place::IonPool(i, *kind), None),
                    ));
                }
                write_ions.push(Stmt::Assign(
                    Target {
                        place: Place::IonPool(i, *kind),
                        index: None,
                    },
                    Expr::Load(Place::Var(*var), None),
                ));
            }
        }
    }

    let mut init = Kernel::default();
    for (id, init_sym) in &an.state_init {
        let bound = an
            .ions
            .iter()
            .any(|ion| ion.writes.iter().chain(&ion.reads).any(|(_, x)| x == id));
        if bound {
            // Concentration states start from the ion's value, loaded below.
            continue;
        }
        let value = match init_sym {
            Symbol::Var(v) => Expr::Load(Place::Var(*v), None),
            Symbol::Const(c) => num(*c),
            _ => num(0.0),
        };
        let n = an.variables.get(*id).and_then(|v| v.array);
        match n {
            None => init
                .body
                .push(Stmt::Assign(Target::scalar(Place::Var(*id)), value)),
            Some(n) => {
                for k in 0..n {
                    init.body.push(Stmt::Assign(
                        Target {
                            place: Place::Var(*id),
                            index: Some(Box::new(num(k as f64))),
                        },
                        value.clone(),
                    ));
                }
            }
        }
    }
    init.body.extend(ion_loads.iter().cloned());
    let mut compute_currents = Kernel {
        locals: Vec::new(),
        body: ion_loads.clone(),
    };
    let mut advance_state = Kernel {
        locals: Vec::new(),
        body: ion_loads.clone(),
    };
    let mut net_receive = None;
    let mut before_after = Vec::new();

    for item in &module.items {
        match &item.kind {
            ItemKind::Initial(b) => {
                l.begin(Ctx::Plain);
                l.locals = std::mem::take(&mut init.locals);
                let mut body = l.block(b);
                init.locals = std::mem::take(&mut l.locals);
                init.body.append(&mut body);
            }
            ItemKind::Breakpoint(b) => {
                l.begin(Ctx::Plain);
                l.check_local_order(&b.stmts);
                let mut cur = Vec::new();
                let mut adv = Vec::new();
                for s in &b.stmts {
                    if matches!(s.kind, StmtKind::Solve { .. }) {
                        adv.extend(l.stmt(s));
                    } else {
                        cur.extend(l.stmt(s));
                    }
                }
                compute_currents.locals = std::mem::take(&mut l.locals);
                compute_currents.body.append(&mut cur);
                advance_state.body.append(&mut adv);
            }
            ItemKind::NetReceive(args, b) => {
                l.begin(Ctx::NetReceive);
                for a in args {
                    l.new_local(&a.name.name, None);
                }
                l.check_local_order(&b.stmts);
                let mut init_k = None;
                let mut body = Vec::new();
                for s in &b.stmts {
                    if let StmtKind::Initial(ib) = &s.kind {
                        let saved_locals = l.locals.clone();
                        let saved_scopes = l.scopes.clone();
                        let ib_body = l.block(ib);
                        init_k = Some(Kernel {
                            locals: l.locals.clone(),
                            body: ib_body,
                        });
                        l.locals = saved_locals;
                        l.scopes = saved_scopes;
                    } else {
                        body.extend(l.stmt(s));
                    }
                }
                net_receive = Some(NetReceive {
                    n_args: args.len(),
                    kernel: Kernel {
                        locals: std::mem::take(&mut l.locals),
                        body,
                    },
                    init: init_k,
                });
            }
            ItemKind::Constructor(body) | ItemKind::Destructor(body) => {
                l.begin(Ctx::Plain);
                let b = l.block(body);
                let label = if matches!(item.kind, ItemKind::Constructor(_)) {
                    "constructor"
                } else {
                    "destructor"
                };
                before_after.push((
                    label.to_string(),
                    Kernel {
                        locals: std::mem::take(&mut l.locals),
                        body: b,
                    },
                ));
            }
            ItemKind::BeforeAfter { before, when, body } => {
                l.begin(Ctx::Plain);
                let b = l.block(body);
                let label = format!("{} {}", if *before { "before" } else { "after" }, when.name);
                before_after.push((
                    label,
                    Kernel {
                        locals: std::mem::take(&mut l.locals),
                        body: b,
                    },
                ));
            }
            _ => {}
        }
    }

    // Blocks no SOLVE names are still checked (names, kinds), then dropped.
    for item in &module.items {
        let name = match &item.kind {
            ItemKind::Derivative(n, _)
            | ItemKind::Kinetic(n, _, _)
            | ItemKind::Linear(n, _, _)
            | ItemKind::NonLinear(n, _, _) => n,
            _ => continue,
        };
        if !l.solve_ids.keys().any(|(b, _)| *b == name.name) {
            let m = match item.kind {
                ItemKind::Kinetic(..) => Method::Sparse,
                ItemKind::Derivative(..) => Method::DerivImplicit,
                _ => Method::Algebraic,
            };
            let _ = l.solve_block(item, m);
        }
    }

    let mut currents = Vec::new();
    for (i, ion) in an.ions.iter().enumerate() {
        for (kind, var) in &ion.writes {
            if *kind == IonVarKind::Current {
                currents.push(Current {
                    var: *var,
                    ion: Some(i),
                    electrode: false,
                });
            }
        }
    }
    for (var, electrode) in &an.nonspecific {
        currents.push(Current {
            var: *var,
            ion: None,
            electrode: *electrode,
        });
    }

    // A current that BREAKPOINT never assigns (directly or through a call) stays at its
    // initial value: almost always a mistake.
    let mut assigned = Vec::new();
    let mut visited = Vec::new();
    assigned_vars(
        &compute_currents.body,
        &functions,
        &mut assigned,
        &mut visited,
    );
    for c in &currents {
        if !assigned.contains(&c.var) {
            let name = an
                .variables
                .get(c.var)
                .map(|v| v.name.as_str())
                .unwrap_or("?");
            let span = an.decl_spans.get(name).copied().unwrap_or_default();
            l.diags.push(
                Diagnostic::warning(
                    codes::W_CURRENT_UNASSIGNED,
                    span,
                    format!("current `{name}` is never assigned in BREAKPOINT"),
                )
                .with_help(format!(
                    "assign `{name}` in BREAKPOINT, or remove it from the NEURON block"
                )),
            );
        }
    }

    let exact_propagator = !l.solves.is_empty()
        && l.solves.iter().all(|s| match &s.system {
            System::Cnexp(_) => true,
            System::Kinetic { linear, .. } => *linear,
            _ => false,
        });
    let solves = std::mem::take(&mut l.solves);
    let errors_after = l.diags.iter().filter(|d| d.is_error()).count();
    if errors_after > errors_before || name.is_empty() {
        return None;
    }
    Some(Mechanism {
        name,
        kind: an.kind,
        title: an.title.clone(),
        celsius: an.celsius,
        variables: an.variables.clone(),
        ions: an.ions.clone(),
        currents,
        conductance: ConductanceRule::Numeric { dv: 0.001 },
        functions,
        init,
        compute_currents,
        advance_state,
        write_ions: Kernel {
            locals: Vec::new(),
            body: write_ions,
        },
        net_receive,
        before_after,
        solves,
        use_tables: opts.use_tables,
        exact_propagator,
    })
}

impl Lowerer<'_> {
    fn begin(&mut self, ctx: Ctx) {
        self.locals.clear();
        self.scopes = vec![Vec::new()];
        self.ret = None;
        self.ctx = ctx;
        self.tables.clear();
    }

    fn err(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, msg));
    }

    /// Checks a call's argument count; reports E0204 and returns false when it is wrong.
    fn arity(&mut self, f: &ast::Ident, given: usize, span: Span, lo: usize, hi: usize) -> bool {
        if (lo..=hi).contains(&given) {
            return true;
        }
        let takes = if lo == hi {
            format!("{lo} argument(s)")
        } else {
            format!("{lo} to {hi} arguments")
        };
        self.err(
            codes::ARITY,
            span,
            format!("`{}` takes {takes}, {given} given", f.name),
        );
        false
    }

    fn new_local(&mut self, name: &str, array: Option<usize>) -> LocalId {
        let id = self.locals.len();
        self.locals.push(Local {
            name: name.to_string(),
            array,
        });
        if let Some(s) = self.scopes.last_mut() {
            s.push((name.to_string(), id));
        }
        id
    }

    fn lookup_local(&self, name: &str) -> Option<LocalId> {
        for s in self.scopes.iter().rev() {
            if let Some((_, id)) = s.iter().rev().find(|(n, _)| n == name) {
                return Some(*id);
            }
        }
        None
    }

    fn function(&mut self, c: &ast::Callable, is_fn: bool) -> Function {
        self.begin(Ctx::Function);
        for a in &c.args {
            self.new_local(&a.name.name, None);
        }
        let ret = if is_fn {
            let id = self.new_local(&c.name.name, None);
            self.ret = Some((c.name.name.clone(), id));
            Some(id)
        } else {
            None
        };
        let body = self.block(&c.body);
        let tables = std::mem::take(&mut self.tables);
        let mut table = None;
        for t in &tables {
            if let StmtKind::Table {
                names,
                depend,
                from,
                to,
                with,
            } = &t.kind
            {
                let mut outputs = Vec::new();
                if is_fn {
                    outputs.push(None);
                }
                for n in names {
                    match self.an.symbols.get(&n.name) {
                        Some(Symbol::Var(v)) => outputs.push(Some(*v)),
                        _ => self.err(
                            codes::UNDEFINED,
                            n.span,
                            format!("TABLE output `{}` is not a declared variable", n.name),
                        ),
                    }
                }
                let mut deps = Vec::new();
                for n in depend {
                    match self.an.symbols.get(&n.name) {
                        Some(Symbol::Var(v)) => deps.push(Place::Var(*v)),
                        Some(_) => {}
                        None => match builtin(&n.name) {
                            Some(b) => deps.push(Place::Builtin(b)),
                            None => self.err(
                                codes::UNDEFINED,
                                n.span,
                                format!("TABLE DEPEND `{}` is not a declared variable", n.name),
                            ),
                        },
                    }
                }
                if c.args.len() != 1 {
                    self.err(
                        codes::LOWER,
                        t.span,
                        "TABLE needs a FUNCTION or PROCEDURE with exactly one argument",
                    );
                }
                table = Some(Table {
                    outputs,
                    depend: deps,
                    from: self.expr(from),
                    to: self.expr(to),
                    with: self.expr(with),
                });
            }
        }
        Function {
            name: c.name.name.clone(),
            n_args: c.args.len(),
            ret,
            kernel: Kernel {
                locals: std::mem::take(&mut self.locals),
                body,
            },
            table,
            external_table: false,
        }
    }

    fn block(&mut self, b: &ast::Block) -> Vec<Stmt> {
        self.scopes.push(Vec::new());
        let mut out = Vec::new();
        self.check_local_order(&b.stmts);
        for s in &b.stmts {
            out.extend(self.stmt(s));
        }
        self.scopes.pop();
        out
    }

    /// NEURON 9 wants LOCAL before the other statements of a block; we accept it anywhere.
    fn check_local_order(&mut self, stmts: &[ast::Stmt]) {
        let mut seen_statement = false;
        for s in stmts {
            match s.kind {
                StmtKind::Local(_) if seen_statement => self.diags.push(
                    Diagnostic::warning(
                        codes::W_DIALECT,
                        s.span,
                        "LOCAL after other statements is accepted here, but NEURON 9 rejects it",
                    )
                    .with_help("move LOCAL to the start of the block"),
                ),
                StmtKind::Local(_)
                | StmtKind::UnitsFlag(_)
                | StmtKind::Verbatim(_)
                | StmtKind::Initial(_) => {}
                _ => seen_statement = true,
            }
        }
    }

    fn place(&mut self, id: &ast::Ident, writing: bool) -> Option<Place> {
        let name = id.name.as_str();
        if let Some(l) = self.lookup_local(name) {
            return Some(Place::Local(l));
        }
        if let Some((n, l)) = &self.ret {
            if n == name {
                return Some(Place::Local(*l));
            }
        }
        // In NET_RECEIVE, NEURON reads `flag` as the event's flag even when the file declares
        // a variable of that name (corpus nrn/intfire4.mod).
        if name == "flag" && self.ctx == Ctx::NetReceive && !writing {
            return Some(Place::Builtin(Builtin::Flag));
        }
        match self.an.symbols.get(name) {
            Some(Symbol::Var(v)) => {
                if writing {
                    if let Some(var) = self.an.variables.get(*v) {
                        if let Role::Ion(ion, _) = var.role {
                            let written = self
                                .an
                                .ions
                                .get(ion)
                                .is_some_and(|i| i.writes.iter().any(|(_, x)| x == v));
                            if !written {
                                self.diags.push(
                                    Diagnostic::warning(
                                        codes::W_READ_ONLY_ION,
                                        id.span,
                                        format!(
                                            "`{name}` is READ from the ion but not written: the assignment stays local to this mechanism"
                                        ),
                                    )
                                    .with_help(format!("add `{name}` to the WRITE list of the USEION statement if the ion should see it")),
                                );
                            }
                        }
                    }
                }
                Some(Place::Var(*v))
            }
            Some(Symbol::Const(_)) if writing => {
                self.err(
                    codes::WRONG_KIND,
                    id.span,
                    format!("cannot assign to constant `{name}`"),
                );
                None
            }
            Some(Symbol::Const(_)) => {
                // Plain reads of constants are folded by `expr`; this is an index or a species.
                self.err(
                    codes::WRONG_KIND,
                    id.span,
                    format!("`{name}` is a constant, not a variable or array"),
                );
                None
            }
            Some(_) => {
                self.err(
                    codes::WRONG_KIND,
                    id.span,
                    format!("`{name}` is a function or block, not a variable"),
                );
                None
            }
            None => {
                if let Some(b) = builtin(name) {
                    return Some(Place::Builtin(b));
                }
                match (name, self.ctx) {
                    ("flag", Ctx::NetReceive) => return Some(Place::Builtin(Builtin::Flag)),
                    ("f_flux", Ctx::Kinetic) => return Some(Place::Builtin(Builtin::FFlux)),
                    ("b_flux", Ctx::Kinetic) => return Some(Place::Builtin(Builtin::BFlux)),
                    _ => {}
                }
                self.err(
                    codes::UNDEFINED,
                    id.span,
                    format!("`{name}` is not declared"),
                );
                if let Some(d) = self.diags.last_mut() {
                    d.help = Some(format!(
                        "declare `{name}` in PARAMETER or ASSIGNED, or as LOCAL in this block"
                    ));
                }
                None
            }
        }
    }

    fn target(&mut self, id: &ast::Ident, index: &Option<Box<ast::Expr>>) -> Option<Target> {
        self.target_with(id, index, true)
    }

    /// A place named as a reaction species or compartment member: not an assignment.
    fn species(&mut self, id: &ast::Ident, index: &Option<Box<ast::Expr>>) -> Option<Target> {
        self.target_with(id, index, false)
    }

    fn target_with(
        &mut self,
        id: &ast::Ident,
        index: &Option<Box<ast::Expr>>,
        writing: bool,
    ) -> Option<Target> {
        let place = self.place(id, writing)?;
        let index = index.as_ref().map(|i| Box::new(self.expr(i)));
        Some(Target { place, index })
    }

    fn expr(&mut self, e: &ast::Expr) -> Expr {
        match &e.kind {
            ExprKind::Number(v, _) => num(*v),
            ExprKind::Str(_) => {
                self.err(
                    codes::LOWER,
                    e.span,
                    "a string can only be an argument of printf",
                );
                num(0.0)
            }
            ExprKind::Name(id) => {
                if let Some(Symbol::Const(v)) = self.an.symbols.get(&id.name) {
                    if self.lookup_local(&id.name).is_none() {
                        return num(*v);
                    }
                }
                match self.place(id, false) {
                    Some(p) => Expr::Load(p, None),
                    None => num(0.0),
                }
            }
            ExprKind::Index(id, i) => {
                let i = self.expr(i);
                match self.place(id, false) {
                    Some(p) => Expr::Load(p, Some(Box::new(i))),
                    None => num(0.0),
                }
            }
            ExprKind::Call(f, args) => match self.call(f, args, e.span, true) {
                Some((c, a)) => Expr::Call(c, a),
                None => num(0.0),
            },
            ExprKind::Unary(op, x) => {
                let x = self.expr(x);
                Expr::Unary(*op, Box::new(x))
            }
            ExprKind::Binary(op, a, b) => {
                let a = self.expr(a);
                let b = self.expr(b);
                Expr::Binary(*op, Box::new(a), Box::new(b))
            }
            ExprKind::Paren(x) => self.expr(x),
            ExprKind::UnitFactor(..) | ExprKind::Error => {
                self.err(codes::LOWER, e.span, "this expression cannot be lowered");
                num(0.0)
            }
        }
    }

    fn call(
        &mut self,
        f: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        as_value: bool,
    ) -> Option<(Callee, Vec<Expr>)> {
        let lowered: Vec<Expr> = args
            .iter()
            .filter(|a| !matches!(a.kind, ExprKind::Str(_)))
            .map(|a| self.expr(a))
            .collect();
        match self.an.symbols.get(&f.name) {
            Some(Symbol::Function(k, n)) => {
                let (k, n) = (*k, *n);
                self.arity(f, args.len(), span, n, n)
                    .then_some((Callee::Func(k), lowered))
            }
            Some(Symbol::Procedure(k, n)) => {
                let (k, n) = (*k, *n);
                if as_value {
                    // nocmodl accepts it: a PROCEDURE's generated C function returns 0
                    // (corpus nrn/sdata.inc); the call runs and its value is 0.
                    self.diags.push(
                        Diagnostic::warning(
                            codes::W_LOWER,
                            f.span,
                            format!(
                                "PROCEDURE `{}` used as a value: it runs and its value is 0 \
                                 (as in NEURON)",
                                f.name
                            ),
                        )
                        .with_help("call it as a statement and use 0"),
                    );
                }
                self.arity(f, args.len(), span, n, n)
                    .then_some((Callee::Func(k), lowered))
            }
            Some(_) => {
                self.err(
                    codes::WRONG_KIND,
                    f.span,
                    format!("`{}` is not a function", f.name),
                );
                None
            }
            None => {
                if let Some((m, lo, hi)) = MathFn::lookup(&f.name) {
                    if m == MathFn::Exprelr {
                        self.diags.push(
                            Diagnostic::warning(
                                codes::W_DIALECT,
                                f.span,
                                "`exprelr` is an Arbor built-in that NEURON does not define; accepted as an extension",
                            )
                            .with_help("for NEURON, define FUNCTION exprelr(x) { if (fabs(x) < 1e-6) { exprelr = 1 - x/2 } else { exprelr = x/(exp(x) - 1) } }"),
                        );
                    }
                    return self
                        .arity(f, args.len(), span, lo, hi)
                        .then_some((Callee::Math(m), lowered));
                }
                let mut d = Diagnostic::error(
                    codes::UNDEFINED,
                    f.span,
                    format!("function `{}` is not defined", f.name),
                );
                d.help = Some(match f.name.as_str() {
                    "nrn_random_arg" | "nrn_random_pick" | "ifarg" | "getarg" | "hoc_Exp" => {
                        "this is a NEURON C function only callable from VERBATIM code".into()
                    }
                    _ => "define it as a FUNCTION or PROCEDURE in this file".into(),
                });
                self.diags.push(d);
                None
            }
        }
    }

    fn stmt(&mut self, s: &ast::Stmt) -> Vec<Stmt> {
        let mut out = Vec::new();
        match &s.kind {
            StmtKind::Local(vars) => {
                for v in vars {
                    self.new_local(&v.name.name, v.array);
                }
            }
            StmtKind::Assign(LValue::Var(id, idx), rhs) => {
                let rhs = self.expr(rhs);
                if let Some(t) = self.target(id, idx) {
                    out.push(Stmt::Assign(t, rhs));
                }
            }
            StmtKind::Assign(LValue::Deriv(id, order, idx), rhs) => {
                let rhs = self.expr(rhs);
                if *order != 1 {
                    self.err(
                        codes::LOWER,
                        s.span,
                        "higher-order derivatives are not supported; write them as first-order equations",
                    );
                    return out;
                }
                let Ctx::Derivative(method) = self.ctx else {
                    self.err(
                        codes::LOWER,
                        s.span,
                        format!("`{}'` = … is only allowed in a DERIVATIVE block", id.name),
                    );
                    return out;
                };
                let Some(t) = self.target(id, idx) else {
                    return out;
                };
                let is_state = matches!(t.place, Place::Var(v) if self.an.variables.get(v).is_some_and(|x| x.role == Role::State));
                if !is_state {
                    self.err(
                        codes::WRONG_KIND,
                        id.span,
                        format!(
                            "`{}` is not a STATE, so it cannot have a derivative",
                            id.name
                        ),
                    );
                    return out;
                }
                self.derivs.push(t.clone());
                match method {
                    Method::Cnexp => match split_linear(&rhs, &t) {
                        Some((a, b)) => {
                            let x = Expr::Load(t.place.clone(), t.index.clone());
                            let update = if is_zero(&b) {
                                bin(
                                    BinOp::Add,
                                    x,
                                    bin(
                                        BinOp::Mul,
                                        Expr::Load(Place::Builtin(Builtin::Dt), None),
                                        a.clone(),
                                    ),
                                )
                            } else {
                                // x + (1 - exp(b*dt)) * (-a/b - x)
                                let e = Expr::Call(
                                    Callee::Math(MathFn::Exp),
                                    vec![bin(
                                        BinOp::Mul,
                                        b.clone(),
                                        Expr::Load(Place::Builtin(Builtin::Dt), None),
                                    )],
                                );
                                let factor = bin(BinOp::Sub, num(1.0), e);
                                let target = bin(
                                    BinOp::Sub,
                                    neg(bin(BinOp::Div, a.clone(), b.clone())),
                                    x.clone(),
                                );
                                bin(BinOp::Add, x, bin(BinOp::Mul, factor, target))
                            };
                            self.cnexp.push(CnexpEquation {
                                state: t.clone(),
                                a,
                                b,
                            });
                            out.push(Stmt::Assign(t, update));
                        }
                        None => {
                            self.cnexp_failed = true;
                            self.diags.push(
                                Diagnostic::warning(
                                    codes::W_LOWER,
                                    s.span,
                                    format!("`{}'` is not linear in `{}`: cnexp cannot solve it exactly; derivimplicit is used instead", id.name, id.name),
                                )
                                .with_help("write METHOD derivimplicit to make this explicit"),
                            );
                        }
                    },
                    _ => out.push(Stmt::Deriv(t, rhs)),
                }
            }
            StmtKind::Expr(e) => {
                if let ExprKind::Call(f, args) = &e.kind {
                    out.extend(self.call_stmt(f, args, e.span));
                } else {
                    self.err(
                        codes::LOWER,
                        e.span,
                        "an expression statement must be a call",
                    );
                }
            }
            StmtKind::If(c, then, els) => {
                let c = self.expr(c);
                let t = self.block(then);
                let e = match els {
                    Some(st) => {
                        self.scopes.push(Vec::new());
                        let v = self.stmt(st);
                        self.scopes.pop();
                        v
                    }
                    None => Vec::new(),
                };
                out.push(Stmt::If(c, t, e));
            }
            StmtKind::While(c, b) => {
                let c = self.expr(c);
                let b = self.block(b);
                out.push(Stmt::While(c, b));
            }
            StmtKind::From {
                var,
                from,
                to,
                by,
                body,
            } => {
                let from = self.expr(from);
                let to = self.expr(to);
                let by = by.as_ref().map(|b| self.expr(b)).unwrap_or(num(1.0));
                self.scopes.push(Vec::new());
                let v = match self.lookup_local(&var.name) {
                    Some(l) => l,
                    None => {
                        // NEURON requires the loop variable to be a LOCAL; accept an
                        // undeclared one as an implicit local.
                        self.new_local(&var.name, None)
                    }
                };
                let body = self.block(body);
                self.scopes.pop();
                out.push(Stmt::For {
                    var: v,
                    from,
                    to,
                    by,
                    body,
                });
            }
            StmtKind::Solve {
                name,
                method,
                steadystate,
                ..
            } => {
                if matches!(self.ctx, Ctx::Derivative(_) | Ctx::Kinetic | Ctx::Algebraic) {
                    self.err(
                        codes::SOLVE,
                        s.span,
                        "SOLVE cannot appear inside a DERIVATIVE, KINETIC, LINEAR or NONLINEAR block",
                    );
                    return out;
                }
                if let Some(id) = self.solve(name, method.as_ref(), steadystate.as_ref(), s.span) {
                    out.push(Stmt::Solve(id));
                }
            }
            StmtKind::Reaction {
                lhs,
                arrow,
                rhs,
                kf,
                kb,
            } => {
                if self.ctx != Ctx::Kinetic {
                    self.err(
                        codes::LOWER,
                        s.span,
                        "a `~` reaction is only allowed in a KINETIC block",
                    );
                    return out;
                }
                let kf = self.expr(kf);
                let kb = kb.as_ref().map(|k| self.expr(k)).unwrap_or(num(0.0));
                let l = self.terms(lhs);
                if *arrow == ReactionArrow::Flux {
                    let ok = l.len() == 1 && lhs.first().is_some_and(|s| s.coef == 1);
                    if !ok {
                        self.err(
                            codes::LOWER,
                            s.span,
                            "`<<` takes exactly one state on its left",
                        );
                    }
                    if self.kinetic_states.iter().any(|v| mentions_var(&kf, *v)) {
                        self.kinetic_linear = false;
                    }
                    for t in l {
                        out.push(Stmt::Flux(t.state, kf.clone()));
                    }
                    return out;
                }
                let r = self.terms(rhs);
                let first_order =
                    l.len() <= 1 && r.len() <= 1 && l.iter().chain(r.iter()).all(|t| t.coef == 1);
                let state_rates = self
                    .kinetic_states
                    .iter()
                    .any(|v| mentions_var(&kf, *v) || mentions_var(&kb, *v));
                if !first_order || state_rates {
                    self.kinetic_linear = false;
                }
                out.push(Stmt::Reaction {
                    lhs: l,
                    rhs: r,
                    kf,
                    kb,
                });
            }
            StmtKind::Equation(a, b) => {
                if self.ctx != Ctx::Algebraic {
                    self.err(
                        codes::LOWER,
                        s.span,
                        "`~ a = b` is only allowed in a LINEAR or NONLINEAR block",
                    );
                    return out;
                }
                let a = self.expr(a);
                let b = self.expr(b);
                out.push(Stmt::Equation(a, b));
            }
            StmtKind::Conserve(a, b) => {
                let a = self.expr(a);
                let b = self.expr(b);
                if self.ctx == Ctx::Kinetic {
                    out.push(Stmt::Conserve(a, b));
                } else {
                    self.diags.push(Diagnostic::warning(
                        codes::W_LOWER,
                        s.span,
                        "CONSERVE outside a KINETIC block is ignored",
                    ));
                }
            }
            StmtKind::Compartment(index, vol, names)
            | StmtKind::LongDiffusion(index, vol, names) => {
                let is_comp = matches!(s.kind, StmtKind::Compartment(..));
                if self.ctx != Ctx::Kinetic {
                    self.err(codes::LOWER, s.span, "COMPARTMENT and LONGITUDINAL_DIFFUSION are only allowed in a KINETIC block");
                    return out;
                }
                match index {
                    None => {
                        let v = self.expr(vol);
                        let ts: Vec<Target> = names
                            .iter()
                            .filter_map(|n| self.species(n, &None))
                            .collect();
                        out.push(if is_comp {
                            Stmt::Compartment(v, ts)
                        } else {
                            Stmt::LongDiffusion(v, ts)
                        });
                    }
                    Some(i) => {
                        self.scopes.push(Vec::new());
                        let li = self.new_local(&i.name, None);
                        let v = self.expr(vol);
                        let mut n = None;
                        let mut ts = Vec::new();
                        for name in names {
                            let Some(place) = self.place(name, false) else {
                                continue;
                            };
                            let arr = match place {
                                Place::Var(id) => self.an.variables.get(id).and_then(|v| v.array),
                                _ => None,
                            };
                            if arr.is_some() {
                                n = n.or(arr);
                                ts.push(Target {
                                    place,
                                    index: Some(Box::new(Expr::Load(Place::Local(li), None))),
                                });
                            } else {
                                ts.push(Target { place, index: None });
                            }
                        }
                        self.scopes.pop();
                        let n = n.unwrap_or(1);
                        out.push(Stmt::For {
                            var: li,
                            from: num(0.0),
                            to: num(n as f64 - 1.0),
                            by: num(1.0),
                            body: vec![if is_comp {
                                Stmt::Compartment(v, ts)
                            } else {
                                Stmt::LongDiffusion(v, ts)
                            }],
                        });
                    }
                }
            }
            StmtKind::Table { .. } => {
                if self.ctx == Ctx::Function {
                    self.tables.push(s.clone());
                } else {
                    self.err(
                        codes::LOWER,
                        s.span,
                        "TABLE is only allowed in a FUNCTION or PROCEDURE",
                    );
                }
            }
            StmtKind::Watch(list) => {
                for (c, f) in list {
                    let c = self.expr(c);
                    let f = self.expr(f);
                    out.push(Stmt::Watch(c, f));
                }
            }
            StmtKind::Initial(_) => {
                self.err(
                    codes::LOWER,
                    s.span,
                    "INITIAL is only allowed at top level or inside NET_RECEIVE",
                );
            }
            StmtKind::ForNetcons(args, b) => {
                self.scopes.push(Vec::new());
                let ids: Vec<LocalId> = args
                    .iter()
                    .map(|a| self.new_local(&a.name.name, None))
                    .collect();
                let body = self.block(b);
                self.scopes.pop();
                out.push(Stmt::ForNetcons(ids, body));
            }
            // Reported once by the compatibility pass.
            StmtKind::Verbatim(_) => {}
            StmtKind::Block(b) => out.extend(self.block(b)),
            StmtKind::UnitsFlag(_) | StmtKind::Mutex(_) | StmtKind::Conductance(..) => {}
            StmtKind::Protect(inner) => out.extend(self.stmt(inner)),
            StmtKind::Lag(..) => {
                self.err(codes::UNSUPPORTED, s.span, "unsupported: LAG statements")
            }
            StmtKind::Unsupported(kw) => self.err(
                codes::UNSUPPORTED,
                s.span,
                format!("unsupported: `{kw}` statement"),
            ),
        }
        out
    }

    fn terms(&mut self, list: &[ast::Species]) -> Vec<Term> {
        let mut out = Vec::new();
        for sp in list {
            let Some(t) = self.species(&sp.name, &sp.index) else {
                continue;
            };
            if let Place::Var(v) = t.place {
                let is_state = self
                    .an
                    .variables
                    .get(v)
                    .is_some_and(|x| x.role == Role::State);
                // A species that is not a STATE is a fixed concentration (as in NEURON).
                if is_state && !self.kinetic_states.contains(&v) {
                    self.kinetic_states.push(v);
                }
            }
            out.push(Term {
                coef: sp.coef,
                state: t,
            });
        }
        out
    }

    fn call_stmt(&mut self, f: &ast::Ident, args: &[ast::Expr], span: Span) -> Vec<Stmt> {
        let is_user = self.an.symbols.contains_key(&f.name);
        if !is_user {
            match f.name.as_str() {
                "net_send" => {
                    if self.arity(f, args.len(), span, 2, 2) {
                        let a: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
                        if let [d, fl] = &a[..] {
                            return vec![Stmt::NetSend(d.clone(), fl.clone())];
                        }
                    }
                    return vec![];
                }
                "net_event" | "net_move" => {
                    if self.arity(f, args.len(), span, 1, 1) {
                        let a: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
                        if let Some(x) = a.into_iter().next() {
                            return vec![if f.name == "net_event" {
                                Stmt::NetEvent(x)
                            } else {
                                Stmt::NetMove(x)
                            }];
                        }
                    }
                    return vec![];
                }
                "printf" | "fprintf" => {
                    let fmt = args
                        .iter()
                        .find_map(|a| {
                            if let ExprKind::Str(s) = &a.kind {
                                Some(s.clone())
                            } else {
                                None
                            }
                        })
                        .unwrap_or_default();
                    let rest: Vec<Expr> = args
                        .iter()
                        .filter(|a| match &a.kind {
                            ExprKind::Str(_) => false,
                            ExprKind::Name(n) => n.name != "stderr",
                            _ => true,
                        })
                        .map(|a| self.expr(a))
                        .collect();
                    return vec![Stmt::Print(fmt, rest)];
                }
                "state_discontinuity" => {
                    // state_discontinuity(x, value) is an assignment for the fixed-step method.
                    if !self.arity(f, args.len(), span, 2, 2) {
                        return vec![];
                    }
                    let (name, index) = match args.first().map(|a| &a.kind) {
                        Some(ExprKind::Name(x)) => (x, None),
                        Some(ExprKind::Index(x, i)) => (x, Some(i.clone())),
                        _ => {
                            self.err(
                                codes::LOWER,
                                span,
                                "the first argument of state_discontinuity must be a variable",
                            );
                            return vec![];
                        }
                    };
                    let Some(value) = args.get(1).map(|v| self.expr(v)) else {
                        return vec![];
                    };
                    return match self.target(name, &index) {
                        Some(t) => vec![Stmt::Assign(t, value)],
                        None => vec![],
                    };
                }
                _ => {}
            }
        }
        match self.call(f, args, span, false) {
            Some((c, a)) => vec![Stmt::Call(c, a)],
            None => vec![],
        }
    }

    /// Lowers the block named by a SOLVE, once per (block, method).
    fn solve(
        &mut self,
        name: &ast::Ident,
        method: Option<&ast::Ident>,
        steady: Option<&ast::Ident>,
        span: Span,
    ) -> Option<SolveId> {
        let sym = self.an.symbols.get(&name.name).cloned();
        let item = match sym {
            Some(Symbol::Block(i)) => self.module.items.get(i),
            Some(Symbol::Procedure(k, 0)) => {
                let mname = method.map(|m| m.name.as_str()).unwrap_or("");
                if !matches!(mname, "" | "after_cvode" | "cvode_t" | "cvode_v") {
                    self.err(
                        codes::SOLVE,
                        span,
                        format!("METHOD {mname} cannot solve PROCEDURE `{}`", name.name),
                    );
                    return None;
                }
                let key = (name.name.clone(), Method::Procedure);
                if let Some(id) = self.solve_ids.get(&key) {
                    return Some(*id);
                }
                let id = self.solves.len();
                self.solves.push(Solve {
                    block: name.name.clone(),
                    method: Method::Procedure,
                    system: System::Procedure,
                    kernel: Kernel {
                        locals: Vec::new(),
                        body: vec![Stmt::Call(Callee::Func(k), Vec::new())],
                    },
                });
                self.solve_ids.insert(key, id);
                return Some(id);
            }
            _ => {
                self.err(
                    codes::SOLVE,
                    name.span,
                    format!("SOLVE `{}`: no DERIVATIVE, KINETIC, LINEAR, NONLINEAR block or PROCEDURE of that name", name.name),
                );
                return None;
            }
        };
        let item = item?;
        let is_kinetic = matches!(item.kind, ItemKind::Kinetic(..));
        let is_alg = matches!(item.kind, ItemKind::Linear(..) | ItemKind::NonLinear(..));
        let requested = steady.or(method);
        let mut m = match requested.map(|m| m.name.as_str()) {
            None if is_kinetic => Method::Sparse,
            None if is_alg => Method::Algebraic,
            // NEURON's default for a DERIVATIVE block without METHOD.
            None => Method::DerivImplicit,
            Some("cnexp") if is_kinetic => {
                self.err(
                    codes::SOLVE,
                    span,
                    "METHOD cnexp cannot solve a KINETIC block (a NEUWON extension NEURON rejects)",
                );
                if let Some(d) = self.diags.last_mut() {
                    d.help = Some("use METHOD sparse".into());
                }
                return None;
            }
            Some("cnexp") | Some("after_cvode") | Some("cvode_t") | Some("cvode_v") => {
                Method::Cnexp
            }
            Some("derivimplicit") => Method::DerivImplicit,
            Some("euler") => Method::Euler,
            Some("sparse") if is_kinetic => Method::Sparse,
            Some("sparse") => Method::DerivImplicit,
            Some(other) => {
                let help = match other {
                    "matexp" => {
                        "METHOD matexp was removed from NEURON; use sparse (KINETIC) or cnexp"
                    }
                    "runge" | "heun" | "adams" | "gear" | "clsoda" | "adrunge" => {
                        "use cnexp, derivimplicit or euler"
                    }
                    "stochastic" => "use an explicit noise term with normrand() and METHOD euler",
                    _ => "supported methods: cnexp, derivimplicit, euler, sparse, after_cvode",
                };
                self.diags.push(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        requested.map(|m| m.span).unwrap_or(span),
                        format!("unsupported: METHOD {other}"),
                    )
                    .with_help(help),
                );
                return None;
            }
        };
        if steady.is_some() {
            m = Method::SteadyState;
        }
        if is_alg {
            m = Method::Algebraic;
        }
        let key = (name.name.clone(), m);
        if let Some(id) = self.solve_ids.get(&key) {
            return Some(*id);
        }
        // Save the caller's per-kernel state.
        let saved = (
            std::mem::take(&mut self.locals),
            std::mem::take(&mut self.scopes),
            self.ret.take(),
            self.ctx,
        );
        let result = self.solve_block(item, m);
        self.locals = saved.0;
        self.scopes = saved.1;
        self.ret = saved.2;
        self.ctx = saved.3;
        let solve = result?;
        let id = self.solves.len();
        self.solves.push(solve);
        self.solve_ids.insert(key, id);
        Some(id)
    }

    fn solve_block(&mut self, item: &ast::Item, m: Method) -> Option<Solve> {
        match &item.kind {
            ItemKind::Derivative(n, b) => {
                let run = |s: &mut Self, method: Method| {
                    s.begin(Ctx::Derivative(method));
                    s.derivs.clear();
                    s.cnexp.clear();
                    s.cnexp_failed = false;
                    s.block(b)
                };
                let steady_method = if m == Method::SteadyState {
                    Method::DerivImplicit
                } else {
                    m
                };
                let mut body = run(self, steady_method);
                let mut method = m;
                if m == Method::Cnexp && self.cnexp_failed {
                    let n_before = self.diags.len();
                    body = run(self, Method::DerivImplicit);
                    // Keep only new errors from the rerun, the warnings were already given.
                    let mut k = n_before;
                    while k < self.diags.len() {
                        if self.diags.get(k).is_some_and(|d| !d.is_error()) {
                            self.diags.remove(k);
                        } else {
                            k += 1;
                        }
                    }
                    method = Method::DerivImplicit;
                }
                let system = if method == Method::Cnexp {
                    System::Cnexp(std::mem::take(&mut self.cnexp))
                } else {
                    System::Ode {
                        states: std::mem::take(&mut self.derivs),
                    }
                };
                Some(Solve {
                    block: n.name.clone(),
                    method,
                    system,
                    kernel: Kernel {
                        locals: std::mem::take(&mut self.locals),
                        body,
                    },
                })
            }
            ItemKind::Kinetic(n, solvefor, b) => {
                self.begin(Ctx::Kinetic);
                self.kinetic_states.clear();
                self.kinetic_linear = true;
                for s in solvefor {
                    if let Some(Symbol::Var(v)) = self.an.symbols.get(&s.name) {
                        self.kinetic_states.push(*v);
                    }
                }
                let body = self.block(b);
                // Rates computed by statements before the reactions may depend on states.
                let states = std::mem::take(&mut self.kinetic_states);
                let linear =
                    self.kinetic_linear && !states_written_or_read_by_stmts(&body, &states);
                Some(Solve {
                    block: n.name.clone(),
                    method: m,
                    system: System::Kinetic { states, linear },
                    kernel: Kernel {
                        locals: std::mem::take(&mut self.locals),
                        body,
                    },
                })
            }
            ItemKind::Linear(n, solvefor, b) | ItemKind::NonLinear(n, solvefor, b) => {
                self.begin(Ctx::Algebraic);
                let body = self.block(b);
                let mut unknowns: Vec<VarId> = solvefor
                    .iter()
                    .filter_map(|s| match self.an.symbols.get(&s.name) {
                        Some(Symbol::Var(v)) => Some(*v),
                        _ => None,
                    })
                    .collect();
                if unknowns.is_empty() {
                    // NEURON solves for the STATEs that appear in the equations.
                    for (id, v) in self.an.variables.iter().enumerate() {
                        if v.role == Role::State && body.iter().any(|s| stmt_mentions(s, id)) {
                            unknowns.push(id);
                        }
                    }
                }
                Some(Solve {
                    block: n.name.clone(),
                    method: Method::Algebraic,
                    system: System::Algebraic { unknowns },
                    kernel: Kernel {
                        locals: std::mem::take(&mut self.locals),
                        body,
                    },
                })
            }
            _ => None,
        }
    }
}

/// Collects the variables `body` assigns, following calls (in statements and expressions)
/// into functions, each once.
fn assigned_vars(
    body: &[Stmt],
    functions: &[Function],
    out: &mut Vec<VarId>,
    visited: &mut Vec<FuncId>,
) {
    fn calls(e: &Expr, found: &mut Vec<FuncId>) {
        match e {
            Expr::Call(c, args) => {
                if let Callee::Func(f) = c {
                    found.push(*f);
                }
                args.iter().for_each(|a| calls(a, found));
            }
            Expr::Load(_, Some(i)) | Expr::Unary(_, i) => calls(i, found),
            Expr::Binary(_, a, b) => {
                calls(a, found);
                calls(b, found);
            }
            _ => {}
        }
    }
    for s in body {
        let mut found = Vec::new();
        match s {
            Stmt::Assign(t, e) => {
                if let Place::Var(v) = t.place {
                    out.push(v);
                }
                calls(e, &mut found);
            }
            Stmt::If(c, a, b) => {
                calls(c, &mut found);
                assigned_vars(a, functions, out, visited);
                assigned_vars(b, functions, out, visited);
            }
            Stmt::While(_, b) | Stmt::For { body: b, .. } | Stmt::ForNetcons(_, b) => {
                assigned_vars(b, functions, out, visited)
            }
            Stmt::Call(c, args) => {
                if let Callee::Func(f) = c {
                    found.push(*f);
                }
                args.iter().for_each(|a| calls(a, &mut found));
            }
            _ => {}
        }
        for f in found {
            if !visited.contains(&f) {
                visited.push(f);
                if let Some(func) = functions.get(f) {
                    assigned_vars(&func.kernel.body, functions, out, visited);
                }
            }
        }
    }
}

fn stmt_mentions(s: &Stmt, v: VarId) -> bool {
    match s {
        Stmt::Equation(a, b) | Stmt::Conserve(a, b) => mentions_var(a, v) || mentions_var(b, v),
        Stmt::If(_, a, b) => a.iter().chain(b).any(|s| stmt_mentions(s, v)),
        Stmt::For { body, .. } | Stmt::While(_, body) => body.iter().any(|s| stmt_mentions(s, v)),
        _ => false,
    }
}

/// Whether plain statements (not reactions) of a kinetic body read a solved state, which
/// makes the rates state-dependent.
fn states_written_or_read_by_stmts(body: &[Stmt], states: &[VarId]) -> bool {
    body.iter().any(|s| match s {
        Stmt::Assign(_, e) => states.iter().any(|v| mentions_var(e, *v)),
        Stmt::Call(_, args) => args
            .iter()
            .any(|e| states.iter().any(|v| mentions_var(e, *v))),
        Stmt::If(c, a, b) => {
            states.iter().any(|v| mentions_var(c, *v))
                || states_written_or_read_by_stmts(a, states)
                || states_written_or_read_by_stmts(b, states)
        }
        Stmt::For { body, .. } | Stmt::While(_, body) => {
            states_written_or_read_by_stmts(body, states)
        }
        _ => false,
    })
}
