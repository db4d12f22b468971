//! Compilation of the `nmodl` IR into block bytecode.
//!
//! Every register holds [`LANES`] values, one per instance of a block; every op runs over the
//! whole block, so the dispatch cost of an op is shared by [`LANES`] instances. FUNCTIONs and
//! PROCEDUREs are inlined (recursion is refused). `if`/`while`/`FROM` run under per-lane masks:
//! temporaries are computed in every lane, assignments to locals and stores to variables only
//! happen in active lanes, and a branch or loop body is skipped when no lane is active.

use std::collections::HashMap;

use nmodl::ir::{
    BinOp, Builtin, Callee, Expr, FuncId, IonVarKind, Kernel, MathFn, Mechanism, Method, Place,
    Role, Stmt, Storage, System, Target, Term, UnOp, VarId,
};

use crate::error::{Error, Result};

/// Lanes per block: the number of instances one op processes.
pub const LANES: usize = 64;

/// A register index.
pub(crate) type R = usize;

/// Where a mechanism variable is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Home {
    /// Per-instance columns `first..first + len`.
    Col { first: usize, len: usize },
    /// Shared slots `first..first + len`.
    Global { first: usize, len: usize },
}

/// Storage layout of a mechanism's variables.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Per variable.
    pub homes: Vec<Home>,
    /// Number of per-instance columns.
    pub n_cols: usize,
    /// Default value per column.
    pub col_defaults: Vec<f64>,
    /// Default value per global slot.
    pub global_defaults: Vec<f64>,
}

impl Layout {
    pub(crate) fn new(m: &Mechanism) -> Layout {
        let mut homes = Vec::with_capacity(m.variables.len());
        let mut col_defaults = Vec::new();
        let mut global_defaults = Vec::new();
        for v in &m.variables {
            let len = v.array.unwrap_or(1).max(1);
            let global = v.storage == Storage::Global || v.role == Role::Constant;
            if global {
                homes.push(Home::Global {
                    first: global_defaults.len(),
                    len,
                });
                global_defaults.extend(std::iter::repeat_n(v.default, len));
            } else {
                homes.push(Home::Col {
                    first: col_defaults.len(),
                    len,
                });
                col_defaults.extend(std::iter::repeat_n(v.default, len));
            }
        }
        Layout {
            homes,
            n_cols: col_defaults.len(),
            col_defaults,
            global_defaults,
        }
    }
}

/// Per-instance values taken from the compartment an instance sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeVal {
    V,
    Area,
    Diam,
}

/// Values shared by the whole call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScalarVal {
    T,
    Dt,
    Celsius,
    Flag,
}

/// One-argument lane functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum F1 {
    Neg,
    Not,
    Exp,
    Log,
    Log10,
    Sqrt,
    Fabs,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Floor,
    Ceil,
    Erf,
    Erfc,
    Exprelr,
    Zero,
}

/// Two-argument lane functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum F2 {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    Atan2,
    Fmod,
    Fmin,
    Fmax,
}

/// Random draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rand {
    Uniform,
    Exp,
    Normal,
    Poisson,
    Seed,
}

/// Operations on RANDOM variables (NEURON 9's `random_*` functions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RandVar {
    Uniform,
    Normal,
    Negexp,
    Setseq,
    Setids,
}

/// A reference to a state (or a constant species) inside an implicit system.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Species {
    /// A fixed column.
    Col(usize),
    /// Column `first + idx` (checked against `len`).
    Dyn { first: usize, len: usize, idx: R },
    /// Not a solved state: a value in a register.
    Value(R),
}

/// One op over a block.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    Const {
        d: R,
        x: f64,
    },
    Mov {
        d: R,
        s: R,
    },
    /// `d = mask ? s : d`.
    Sel {
        d: R,
        s: R,
    },
    LoadCol {
        d: R,
        col: usize,
    },
    LoadColDyn {
        d: R,
        first: usize,
        len: usize,
        idx: R,
    },
    StoreCol {
        col: usize,
        s: R,
    },
    StoreColDyn {
        first: usize,
        len: usize,
        idx: R,
        s: R,
    },
    LoadGlobal {
        d: R,
        g: usize,
    },
    LoadGlobalDyn {
        d: R,
        first: usize,
        len: usize,
        idx: R,
    },
    StoreGlobal {
        g: usize,
        s: R,
    },
    StoreGlobalDyn {
        first: usize,
        len: usize,
        idx: R,
        s: R,
    },
    LoadRegDyn {
        d: R,
        first: R,
        len: usize,
        idx: R,
    },
    StoreRegDyn {
        first: R,
        len: usize,
        idx: R,
        s: R,
    },
    LoadNode {
        d: R,
        what: NodeVal,
    },
    LoadScalar {
        d: R,
        what: ScalarVal,
    },
    LoadIon {
        d: R,
        ion: usize,
        kind: IonVarKind,
    },
    StoreIon {
        ion: usize,
        kind: IonVarKind,
        s: R,
    },
    Un {
        f: F1,
        d: R,
        a: R,
    },
    Bin {
        f: F2,
        d: R,
        a: R,
        b: R,
    },
    /// `Un` on a uniform register: computed once, broadcast.
    Un1 {
        f: F1,
        d: R,
        a: R,
    },
    /// `Bin` on uniform registers: computed once, broadcast.
    Bin1 {
        f: F2,
        d: R,
        a: R,
        b: R,
    },
    Ghk {
        d: R,
        args: [R; 4],
    },
    Random {
        f: Rand,
        d: R,
        a: R,
        b: R,
    },
    /// A draw from (or positioning of) RANDOM variable `rv`'s per-instance stream.
    RandomVar {
        f: RandVar,
        rv: usize,
        d: R,
        args: [R; 3],
        nargs: usize,
    },
    /// `d = (by > 0 && i <= to) || (by < 0 && i >= to)`.
    ForCond {
        d: R,
        i: R,
        to: R,
        by: R,
    },
    /// Push `top & (c != 0) ^ neg`.
    MaskPush {
        c: R,
        neg: bool,
    },
    MaskPop,
    /// Jump when no lane of the top mask is active.
    JumpIfNone {
        to: usize,
    },
    Jump {
        to: usize,
    },
    /// Counts loop iterations; a runaway loop is an error.
    LoopGuard {
        slot: usize,
    },
    /// Interpolate table `t` at `arg`; the FUNCTION value (if any) goes to `ret`.
    Table {
        t: usize,
        arg: R,
        ret: Option<R>,
    },
    /// Run implicit system `sys`.
    Implicit {
        sys: usize,
    },
    NetSend {
        delay: R,
        flag: R,
    },
    NetEvent {
        t: R,
    },
    NetMove {
        t: R,
    },
    /// Arms WATCH `w` with `flag`; `cond` is its value now (the first WATCH run in a call
    /// disarms the instance's others, as NEURON does).
    WatchArm {
        w: usize,
        cond: R,
        flag: R,
    },
    /// Implicit systems: `f[k] = s`.
    Deriv {
        k: usize,
        s: R,
    },
    /// Kinetic: a reaction.
    Reaction {
        lhs: Vec<(Species, u32)>,
        rhs: Vec<(Species, u32)>,
        kf: R,
        kb: R,
        ff: R,
        bf: R,
    },
    /// Kinetic: `~ x << (v)`.
    Flux {
        x: Species,
        v: R,
    },
    /// Kinetic: the volume of states.
    Compartment {
        vol: R,
        xs: Vec<Species>,
    },
    /// Kinetic: `Σ coef·x = rhs` replaces one equation.
    Conserve {
        terms: Vec<(Species, R)>,
        rhs: R,
    },
}

/// What an implicit system solves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SysKind {
    /// `x₁ = x₀ + dt·f(x₁)`, numeric Jacobian (derivimplicit).
    Ode,
    /// Kinetic scheme: `vol·(x₁ − x₀)/dt = f(x₁)`, mass-action Jacobian, CONSERVE rows (sparse).
    Kinetic,
    /// LINEAR / NONLINEAR: `lhs − rhs = 0` for each equation, numeric Jacobian.
    Algebraic,
}

/// An implicit system compiled for the Newton solver.
#[derive(Clone, Debug)]
pub(crate) struct ImplicitSystem {
    pub kind: SysKind,
    /// Steady state: backward-Euler steps with dt = 1e9 ms (NEURON's result).
    pub steady: bool,
    /// A KINETIC scheme that is not linear (a rate depends on a solved state, or a reaction
    /// is not first order): its steady state starts with single-iteration steps.
    pub nonlinear: bool,
    /// Column of each state.
    pub cols: Vec<usize>,
    /// Map column → state slot.
    pub slot_of_col: HashMap<usize, usize>,
    /// Body (assignments, derivative statements / reactions).
    pub body: Vec<Op>,
}

/// A tabulated FUNCTION/PROCEDURE.
#[derive(Clone, Debug)]
pub(crate) struct TableDef {
    /// What forces a rebuild when it changes: the DEPEND list, plus every GLOBAL the function
    /// reads without writing (NEURON builds tables lazily; this keeps files that set such a
    /// GLOBAL in INITIAL working).
    pub depend: Vec<DependRef>,
    pub from: Expr,
    pub to: Expr,
    pub with: Expr,
    /// Outputs written by interpolation: a column/global of a variable, or the return value.
    pub outputs: Vec<Option<VarId>>,
    /// Columns (first, count) of the builder's scratch instances holding each output.
    pub out_cols: Vec<(usize, usize)>,
    /// Scratch columns the builder needs beyond the layout's.
    pub extra_cols: usize,
    /// GLOBAL slots the function writes that are not outputs: NEURON leaves the value of the
    /// last table point in them (a side effect files rely on, e.g. a `tadj` set in a tabulated
    /// rate procedure).
    pub side_globals: Vec<usize>,
    /// Program evaluating the function exactly for one argument per lane: argument in column
    /// `n_cols`, return value stored to column `n_cols + 1`.
    pub builder: Program,
}

/// What a table depends on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum DependRef {
    Global(usize),
    Celsius,
    Dt,
}

/// A compiled kernel.
#[derive(Clone, Debug, Default)]
pub(crate) struct Program {
    pub ops: Vec<Op>,
    pub n_regs: usize,
    pub n_loops: usize,
    pub n_masks: usize,
}

impl Program {
    /// Whether running it can change anything outside the VM's registers (a store, an event,
    /// a random draw, a table rebuild, a solve) or fail (a dynamic index, a loop guard). A
    /// program without effects (`pas`'s state update: a load of v) need not run.
    pub fn has_effects(&self) -> bool {
        !self.ops.iter().all(|op| {
            matches!(
                op,
                Op::Const { .. }
                    | Op::Mov { .. }
                    | Op::Sel { .. }
                    | Op::LoadCol { .. }
                    | Op::LoadGlobal { .. }
                    | Op::LoadNode { .. }
                    | Op::LoadScalar { .. }
                    | Op::LoadIon { .. }
                    | Op::Un { .. }
                    | Op::Bin { .. }
                    | Op::Un1 { .. }
                    | Op::Bin1 { .. }
                    | Op::MaskPush { .. }
                    | Op::MaskPop
            )
        })
    }
}

/// Compilation context shared by every program of a mechanism.
pub(crate) struct Shared<'m> {
    pub m: &'m Mechanism,
    pub layout: &'m Layout,
    pub use_tables: bool,
    pub systems: Vec<ImplicitSystem>,
    pub tables: Vec<TableDef>,
    /// Table index per tabulated function (filled lazily).
    pub table_of: HashMap<FuncId, usize>,
    /// Notes on constructs accepted with a caveat.
    pub notes: Vec<String>,
    /// WATCH conditions, by index.
    pub watches: Vec<Expr>,
}

impl Shared<'_> {
    pub(crate) fn unsupported(&self, what: impl Into<String>) -> Error {
        Error::Unsupported {
            mechanism: self.m.name.clone(),
            construct: what.into(),
        }
    }
    pub(crate) fn malformed(&self, what: impl Into<String>) -> Error {
        Error::MalformedIr {
            mechanism: self.m.name.clone(),
            what: what.into(),
        }
    }
}

/// State of a kinetic / ODE body being compiled.
struct SysCtx {
    kind: SysKind,
    /// State targets (ODE) by (var, element).
    ode_states: Vec<(VarId, usize)>,
    kin_states: Vec<VarId>,
    ff: Option<R>,
    bf: Option<R>,
    /// Equations compiled so far (algebraic systems).
    n_eq: usize,
}

/// Compiles one kernel (and what it calls).
pub(crate) struct Compiler<'s, 'm> {
    sh: &'s mut Shared<'m>,
    ops: Vec<Op>,
    next: R,
    high: R,
    depth: usize,
    max_depth: usize,
    loops: usize,
    /// Register of local `i` of the current frame (arrays: first element).
    frame: Vec<R>,
    frame_len: Vec<usize>,
    inline_stack: Vec<FuncId>,
    sys: Option<SysCtx>,
    /// Per register: same value in every lane at this point of the program.
    uniform: Vec<bool>,
    /// Compiling the body of an implicit system (run repeatedly: no uniform ops).
    in_system: bool,
    /// The KINETIC system being compiled is nonlinear ([`ImplicitSystem::nonlinear`]).
    nonlinear_kinetic: bool,
    /// The kernel's copy of `v` (NEURON: assigning `v` in a mechanism changes only this copy).
    v_reg: R,
    /// Variables redirected to scratch columns (GLOBAL table outputs in table builders).
    redirect: HashMap<VarId, Home>,
    /// In a NET_RECEIVE body: the variable named `flag`, read as the event flag.
    flag_var: Option<VarId>,
}

const MAX_INLINE: usize = 32;

impl<'s, 'm> Compiler<'s, 'm> {
    pub(crate) fn new(sh: &'s mut Shared<'m>) -> Self {
        Compiler {
            sh,
            ops: Vec::new(),
            next: 0,
            high: 0,
            depth: 0,
            max_depth: 0,
            loops: 0,
            frame: Vec::new(),
            frame_len: Vec::new(),
            inline_stack: Vec::new(),
            sys: None,
            uniform: Vec::new(),
            in_system: false,
            nonlinear_kinetic: false,
            v_reg: 0,
            redirect: HashMap::new(),
            flag_var: None,
        }
    }

    /// Loads the kernel's copy of `v` into its register (first op of every program).
    fn load_v(&mut self) {
        let r = self.alloc(1);
        self.emit(Op::LoadNode {
            d: r,
            what: NodeVal::V,
        });
        self.v_reg = r;
    }

    fn finish(self) -> Program {
        Program {
            ops: self.ops,
            n_regs: self.high.max(1),
            n_loops: self.loops,
            n_masks: self.max_depth + 1,
        }
    }

    fn alloc(&mut self, n: usize) -> R {
        let r = self.next;
        self.next += n.max(1);
        self.high = self.high.max(self.next);
        r
    }

    fn emit(&mut self, op: Op) {
        // Uniformity: a register whose value is the same in every lane (constants, GLOBALs,
        // t/dt/celsius and arithmetic on them, assigned outside masks and solve bodies) is
        // computed once per block (`Un1`/`Bin1`).
        let linear = self.depth == 0 && self.sys.is_none() && !self.in_system;
        let uni = |me: &Self, r: R| me.uniform.get(r).copied().unwrap_or(false);
        let (op, dest, u) = match op {
            Op::Const { d, .. } => (op, Some(d), true),
            Op::LoadGlobal { d, .. } | Op::LoadScalar { d, .. } => (op, Some(d), true),
            Op::Mov { d, s } => (op, Some(d), uni(self, s)),
            Op::Un { f, d, a } if linear && uni(self, a) => (Op::Un1 { f, d, a }, Some(d), true),
            Op::Bin { f, d, a, b } if linear && uni(self, a) && uni(self, b) => {
                (Op::Bin1 { f, d, a, b }, Some(d), true)
            }
            Op::Un { d, .. } | Op::Bin { d, .. } => (op, Some(d), false),
            Op::StoreRegDyn { first, len, .. } => {
                for r in first..first + len {
                    self.set_uniform(r, false);
                }
                (op, None, false)
            }
            Op::Table { ret, .. } => (op, ret, false),
            Op::Reaction { ff, bf, .. } => {
                self.set_uniform(ff, false);
                (op, Some(bf), false)
            }
            Op::Sel { d, .. }
            | Op::LoadCol { d, .. }
            | Op::LoadColDyn { d, .. }
            | Op::LoadGlobalDyn { d, .. }
            | Op::LoadRegDyn { d, .. }
            | Op::LoadNode { d, .. }
            | Op::LoadIon { d, .. }
            | Op::Ghk { d, .. }
            | Op::Random { d, .. }
            | Op::RandomVar { d, .. }
            | Op::ForCond { d, .. } => (op, Some(d), false),
            other => (other, None, false),
        };
        if let Some(d) = dest {
            self.set_uniform(d, u && linear);
        }
        self.ops.push(op);
    }

    fn set_uniform(&mut self, r: R, u: bool) {
        if self.uniform.len() <= r {
            self.uniform.resize(r + 1, false);
        }
        if let Some(x) = self.uniform.get_mut(r) {
            *x = u;
        }
    }

    /// Compiles a kernel whose first `args.len()` locals are preloaded registers.
    /// Returns the registers of the locals (so callers can read/write arguments).
    pub(crate) fn kernel(
        sh: &'s mut Shared<'m>,
        k: &Kernel,
        n_args: usize,
    ) -> Result<(Program, Vec<R>)> {
        let mut c = Compiler::new(sh);
        c.push_frame(k, n_args)?;
        c.load_v();
        let regs = c.frame.clone();
        c.block(&k.body)?;
        Ok((c.finish(), regs))
    }

    /// Compiles a program evaluating `e` (a WATCH condition) into the returned register.
    pub(crate) fn expr_program(sh: &'s mut Shared<'m>, e: &Expr) -> Result<(Program, R)> {
        let mut c = Compiler::new(sh);
        c.load_v();
        let r = c.expr(e)?;
        Ok((c.finish(), r))
    }

    /// Compiles a NET_RECEIVE body (or its INITIAL): as in NEURON, `flag` there is the event's
    /// flag even when the file declares a variable named `flag` (nmodl lowers it to the
    /// variable; corpus nrn/intfire4.mod).
    pub(crate) fn net_receive_kernel(
        sh: &'s mut Shared<'m>,
        k: &Kernel,
        n_args: usize,
    ) -> Result<(Program, Vec<R>)> {
        let flag_var =
            sh.m.variables
                .iter()
                .position(|v| v.name == "flag" && v.role != Role::Constant);
        let mut c = Compiler::new(sh);
        c.flag_var = flag_var;
        c.push_frame(k, n_args)?;
        c.load_v();
        let regs = c.frame.clone();
        c.block(&k.body)?;
        Ok((c.finish(), regs))
    }

    /// Compiles the builder of a table: argument from column `arg_col`, value to `ret_col`.
    pub(crate) fn table_builder(
        sh: &'s mut Shared<'m>,
        func: FuncId,
        arg_col: usize,
        ret_col: usize,
        redirect: HashMap<VarId, Home>,
    ) -> Result<Program> {
        let mut c = Compiler::new(sh);
        c.redirect = redirect;
        c.load_v();
        let arg = c.alloc(1);
        c.emit(Op::LoadCol {
            d: arg,
            col: arg_col,
        });
        let ret = c.inline_call(func, &[arg], true)?;
        c.emit(Op::StoreCol {
            col: ret_col,
            s: ret,
        });
        Ok(c.finish())
    }

    fn push_frame(&mut self, k: &Kernel, n_args: usize) -> Result<()> {
        self.frame.clear();
        self.frame_len.clear();
        for (j, l) in k.locals.iter().enumerate() {
            let n = l.array.unwrap_or(1).max(1);
            let r = self.alloc(n);
            self.frame.push(r);
            self.frame_len.push(n);
            if j < n_args {
                // Arguments are preloaded by the caller.
                continue;
            }
            for i in 0..n {
                self.emit(Op::Const { d: r + i, x: 0.0 });
            }
        }
        Ok(())
    }

    /// When the last op computed temporary `s`, make it write `d` instead (saves a copy).
    fn retarget_last(&mut self, s: R, d: R) -> bool {
        if self.is_frame_reg(s) {
            return false;
        }
        let u = self.uniform.get(s).copied().unwrap_or(false);
        let Some(op) = self.ops.last_mut() else {
            return false;
        };
        let dest = match op {
            Op::Const { d, .. }
            | Op::LoadCol { d, .. }
            | Op::LoadGlobal { d, .. }
            | Op::LoadNode { d, .. }
            | Op::LoadScalar { d, .. }
            | Op::Un { d, .. }
            | Op::Bin { d, .. }
            | Op::Un1 { d, .. }
            | Op::Bin1 { d, .. } => d,
            _ => return false,
        };
        if *dest != s {
            return false;
        }
        *dest = d;
        self.set_uniform(d, u);
        true
    }

    /// Whether `r` holds a local of the current frame or the kernel's `v` (not a temporary).
    fn is_frame_reg(&self, r: R) -> bool {
        r == self.v_reg
            || self
                .frame
                .iter()
                .zip(&self.frame_len)
                .any(|(f, n)| r >= *f && r < f + n)
    }

    fn block(&mut self, body: &[Stmt]) -> Result<()> {
        for s in body {
            let mark = self.next;
            self.stmt(s)?;
            self.next = mark;
        }
        Ok(())
    }

    fn local_reg(&self, l: usize) -> Result<(R, usize)> {
        match (self.frame.get(l), self.frame_len.get(l)) {
            (Some(r), Some(n)) => Ok((*r, *n)),
            _ => Err(self.sh.malformed(format!("local {l} out of range"))),
        }
    }

    fn home(&self, v: VarId) -> Result<Home> {
        if let Some(h) = self.redirect.get(&v) {
            return Ok(*h);
        }
        self.sh
            .layout
            .homes
            .get(v)
            .copied()
            .ok_or_else(|| self.sh.malformed(format!("variable {v} out of range")))
    }

    fn check_var_role(&self, v: VarId) -> Result<()> {
        match self.sh.m.variables.get(v).map(|x| x.role) {
            Some(Role::Random) => Err(self
                .sh
                .unsupported(format!("RANDOM variable `{}`", self.sh.m.var_name(v)))),
            Some(_) => Ok(()),
            None => Err(self.sh.malformed(format!("variable {v} out of range"))),
        }
    }

    /// A constant array index, if the index expression is a number.
    fn const_index(e: &Expr) -> Option<f64> {
        match e {
            Expr::Num(x) => Some(*x),
            Expr::Unary(UnOp::Neg, x) => Self::const_index(x).map(|v| -v),
            _ => None,
        }
    }

    fn static_elem(&self, idx: f64, len: usize, what: &str) -> Result<usize> {
        if idx >= 0.0 && idx.fract() == 0.0 && (idx as usize) < len {
            Ok(idx as usize)
        } else {
            Err(self
                .sh
                .malformed(format!("index {idx} out of range 0..{len} for {what}")))
        }
    }

    fn load(&mut self, p: &Place, index: Option<&Expr>) -> Result<R> {
        match p {
            Place::Local(l) => {
                let (r, n) = self.local_reg(*l)?;
                match index {
                    None => Ok(r),
                    Some(ix) => {
                        if let Some(k) = Self::const_index(ix) {
                            Ok(r + self.static_elem(k, n, "local array")?)
                        } else {
                            let idx = self.expr(ix)?;
                            let d = self.alloc(1);
                            self.emit(Op::LoadRegDyn {
                                d,
                                first: r,
                                len: n,
                                idx,
                            });
                            Ok(d)
                        }
                    }
                }
            }
            Place::Var(v)
                if index.is_none() && self.flag_var == Some(*v) && self.inline_stack.is_empty() =>
            {
                self.load(&Place::Builtin(Builtin::Flag), None)
            }
            Place::Var(v) => {
                self.check_var_role(*v)?;
                let h = self.home(*v)?;
                let d = self.alloc(1);
                let name = self.sh.m.var_name(*v).to_string();
                match (h, index) {
                    (Home::Col { first, len }, ix) => match ix.map(|e| (Self::const_index(e), e)) {
                        None => self.emit(Op::LoadCol { d, col: first }),
                        Some((Some(k), _)) => {
                            let col = first + self.static_elem(k, len, &name)?;
                            self.emit(Op::LoadCol { d, col })
                        }
                        Some((None, e)) => {
                            let idx = self.expr(e)?;
                            self.emit(Op::LoadColDyn { d, first, len, idx })
                        }
                    },
                    (Home::Global { first, len }, ix) => {
                        match ix.map(|e| (Self::const_index(e), e)) {
                            None => self.emit(Op::LoadGlobal { d, g: first }),
                            Some((Some(k), _)) => {
                                let g = first + self.static_elem(k, len, &name)?;
                                self.emit(Op::LoadGlobal { d, g })
                            }
                            Some((None, e)) => {
                                let idx = self.expr(e)?;
                                self.emit(Op::LoadGlobalDyn { d, first, len, idx })
                            }
                        }
                    }
                }
                Ok(d)
            }
            Place::Builtin(b) => {
                if index.is_some() {
                    return Err(self.sh.malformed("indexed built-in"));
                }
                if *b == Builtin::V {
                    return Ok(self.v_reg);
                }
                let d = self.alloc(1);
                let op = match b {
                    Builtin::V => Op::Mov { d, s: self.v_reg },
                    Builtin::Area => Op::LoadNode {
                        d,
                        what: NodeVal::Area,
                    },
                    Builtin::Diam => Op::LoadNode {
                        d,
                        what: NodeVal::Diam,
                    },
                    Builtin::T => Op::LoadScalar {
                        d,
                        what: ScalarVal::T,
                    },
                    Builtin::Dt => Op::LoadScalar {
                        d,
                        what: ScalarVal::Dt,
                    },
                    Builtin::Celsius => Op::LoadScalar {
                        d,
                        what: ScalarVal::Celsius,
                    },
                    Builtin::Flag => Op::LoadScalar {
                        d,
                        what: ScalarVal::Flag,
                    },
                    Builtin::SecondOrder => Op::Const { d, x: 0.0 },
                    Builtin::Pi => Op::Const {
                        d,
                        x: std::f64::consts::PI,
                    },
                    Builtin::FFlux | Builtin::BFlux => {
                        let r = match (&self.sys, b) {
                            (Some(s), Builtin::FFlux) => s.ff,
                            (Some(s), _) => s.bf,
                            _ => None,
                        };
                        match r {
                            Some(r) => Op::Mov { d, s: r },
                            None => {
                                return Err(self
                                    .sh
                                    .unsupported("f_flux/b_flux outside a kinetic scheme"))
                            }
                        }
                    }
                };
                self.emit(op);
                Ok(d)
            }
            Place::IonPool(ion, kind) => {
                if index.is_some() {
                    return Err(self.sh.malformed("indexed ion pool"));
                }
                if *ion >= self.sh.m.ions.len() {
                    return Err(self.sh.malformed(format!("ion {ion} out of range")));
                }
                let d = self.alloc(1);
                self.emit(Op::LoadIon {
                    d,
                    ion: *ion,
                    kind: *kind,
                });
                Ok(d)
            }
        }
    }

    fn store(&mut self, t: &Target, s: R) -> Result<()> {
        match &t.place {
            Place::Local(l) => {
                let (r, n) = self.local_reg(*l)?;
                let d = match &t.index {
                    None => r,
                    Some(ix) => {
                        if let Some(k) = Self::const_index(ix) {
                            r + self.static_elem(k, n, "local array")?
                        } else {
                            let idx = self.expr(ix)?;
                            self.emit(Op::StoreRegDyn {
                                first: r,
                                len: n,
                                idx,
                                s,
                            });
                            return Ok(());
                        }
                    }
                };
                if d != s {
                    if self.depth == 0 {
                        if !self.retarget_last(s, d) {
                            self.emit(Op::Mov { d, s });
                        }
                    } else {
                        self.emit(Op::Sel { d, s });
                    }
                }
                Ok(())
            }
            Place::Var(v) => {
                self.check_var_role(*v)?;
                let name = self.sh.m.var_name(*v).to_string();
                match (self.home(*v)?, &t.index) {
                    (Home::Col { first, len }, ix) => {
                        match ix.as_deref().map(|e| (Self::const_index(e), e)) {
                            None => self.emit(Op::StoreCol { col: first, s }),
                            Some((Some(k), _)) => {
                                let col = first + self.static_elem(k, len, &name)?;
                                self.emit(Op::StoreCol { col, s })
                            }
                            Some((None, e)) => {
                                let idx = self.expr(e)?;
                                self.emit(Op::StoreColDyn { first, len, idx, s })
                            }
                        }
                    }
                    (Home::Global { first, len }, ix) => {
                        if self.sh.m.variables.get(*v).map(|x| x.role) == Some(Role::Constant) {
                            return Err(self
                                .sh
                                .malformed(format!("assignment to CONSTANT `{name}`")));
                        }
                        match ix.as_deref().map(|e| (Self::const_index(e), e)) {
                            None => self.emit(Op::StoreGlobal { g: first, s }),
                            Some((Some(k), _)) => {
                                let g = first + self.static_elem(k, len, &name)?;
                                self.emit(Op::StoreGlobal { g, s })
                            }
                            Some((None, e)) => {
                                let idx = self.expr(e)?;
                                self.emit(Op::StoreGlobalDyn { first, len, idx, s })
                            }
                        }
                    }
                }
                Ok(())
            }
            Place::Builtin(Builtin::V) if t.index.is_none() => {
                let d = self.v_reg;
                if self.depth == 0 {
                    self.emit(Op::Mov { d, s });
                } else {
                    self.emit(Op::Sel { d, s });
                }
                Ok(())
            }
            Place::Builtin(b) => Err(self
                .sh
                .unsupported(format!("assignment to built-in `{b:?}`"))),
            Place::IonPool(ion, kind) => {
                if *ion >= self.sh.m.ions.len() {
                    return Err(self.sh.malformed(format!("ion {ion} out of range")));
                }
                self.emit(Op::StoreIon {
                    ion: *ion,
                    kind: *kind,
                    s,
                });
                Ok(())
            }
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<R> {
        match e {
            Expr::Num(x) => {
                let d = self.alloc(1);
                self.emit(Op::Const { d, x: *x });
                Ok(d)
            }
            Expr::Load(p, ix) => self.load(p, ix.as_deref()),
            Expr::Unary(op, a) => {
                let a = self.expr(a)?;
                let d = self.alloc(1);
                let f = match op {
                    UnOp::Neg => F1::Neg,
                    UnOp::Not => F1::Not,
                };
                self.emit(Op::Un { f, d, a });
                Ok(d)
            }
            Expr::Binary(op, a, b) => {
                let a = self.expr(a)?;
                let b = self.expr(b)?;
                let d = self.alloc(1);
                let f = match op {
                    BinOp::Add => F2::Add,
                    BinOp::Sub => F2::Sub,
                    BinOp::Mul => F2::Mul,
                    BinOp::Div => F2::Div,
                    BinOp::Pow => F2::Pow,
                    BinOp::Lt => F2::Lt,
                    BinOp::Le => F2::Le,
                    BinOp::Gt => F2::Gt,
                    BinOp::Ge => F2::Ge,
                    BinOp::Eq => F2::Eq,
                    BinOp::Ne => F2::Ne,
                    BinOp::And => F2::And,
                    BinOp::Or => F2::Or,
                };
                self.emit(Op::Bin { f, d, a, b });
                Ok(d)
            }
            Expr::Call(c, args) => self.call(c, args),
        }
    }

    fn call(&mut self, c: &Callee, args: &[Expr]) -> Result<R> {
        match c {
            Callee::Func(f) => {
                let mut regs = Vec::with_capacity(args.len());
                for a in args {
                    let r = self.expr(a)?;
                    // Arguments are passed by value: a caller's variable is copied so the callee
                    // may assign it; a temporary is handed over as it is.
                    if self.is_frame_reg(r) {
                        let d = self.alloc(1);
                        self.emit(Op::Mov { d, s: r });
                        regs.push(d);
                    } else {
                        regs.push(r);
                    }
                }
                self.inline_call(*f, &regs, false)
            }
            Callee::Math(f) => {
                let rv = match f {
                    MathFn::RandomUniform => Some(RandVar::Uniform),
                    MathFn::RandomNormal => Some(RandVar::Normal),
                    MathFn::RandomNegexp => Some(RandVar::Negexp),
                    MathFn::RandomSetseq => Some(RandVar::Setseq),
                    MathFn::RandomSetids => Some(RandVar::Setids),
                    _ => None,
                };
                if let Some(rf) = rv {
                    let d = self.alloc(1);
                    return self.random_var(rf, args, d);
                }
                let mut a = Vec::with_capacity(args.len());
                for x in args {
                    a.push(self.expr(x)?);
                }
                let arg = |i: usize| a.get(i).copied();
                let d = self.alloc(1);
                let need = |n: usize, sh: &Shared| -> Result<()> {
                    if a.len() < n {
                        Err(sh.malformed(format!("{} needs {n} arguments", f.name())))
                    } else {
                        Ok(())
                    }
                };
                let f1 = match f {
                    MathFn::Exp => Some(F1::Exp),
                    MathFn::Log => Some(F1::Log),
                    MathFn::Log10 => Some(F1::Log10),
                    MathFn::Sqrt => Some(F1::Sqrt),
                    MathFn::Fabs => Some(F1::Fabs),
                    MathFn::Sin => Some(F1::Sin),
                    MathFn::Cos => Some(F1::Cos),
                    MathFn::Tan => Some(F1::Tan),
                    MathFn::Asin => Some(F1::Asin),
                    MathFn::Acos => Some(F1::Acos),
                    MathFn::Atan => Some(F1::Atan),
                    MathFn::Sinh => Some(F1::Sinh),
                    MathFn::Cosh => Some(F1::Cosh),
                    MathFn::Tanh => Some(F1::Tanh),
                    MathFn::Floor => Some(F1::Floor),
                    MathFn::Ceil => Some(F1::Ceil),
                    MathFn::Erf => Some(F1::Erf),
                    MathFn::Erfc => Some(F1::Erfc),
                    MathFn::Exprelr => Some(F1::Exprelr),
                    // Fixed step: at_time never reports a discontinuity (NEURON returns 0
                    // without CVODE).
                    MathFn::AtTime => Some(F1::Zero),
                    _ => None,
                };
                if let Some(f1) = f1 {
                    need(1, self.sh)?;
                    let a0 = arg(0).unwrap_or(d);
                    self.emit(Op::Un { f: f1, d, a: a0 });
                    return Ok(d);
                }
                let f2 = match f {
                    MathFn::Pow => Some(F2::Pow),
                    MathFn::Atan2 => Some(F2::Atan2),
                    MathFn::Fmod => Some(F2::Fmod),
                    MathFn::Fmin => Some(F2::Fmin),
                    MathFn::Fmax => Some(F2::Fmax),
                    _ => None,
                };
                if let Some(f2) = f2 {
                    need(2, self.sh)?;
                    let (x, y) = (arg(0).unwrap_or(d), arg(1).unwrap_or(d));
                    self.emit(Op::Bin {
                        f: f2,
                        d,
                        a: x,
                        b: y,
                    });
                    return Ok(d);
                }
                let rand = match f {
                    MathFn::ScopRandom | MathFn::Unirand => Some(Rand::Uniform),
                    MathFn::Exprand => Some(Rand::Exp),
                    MathFn::Normrand => Some(Rand::Normal),
                    MathFn::Poisrand => Some(Rand::Poisson),
                    MathFn::SetSeed => Some(Rand::Seed),
                    _ => None,
                };
                if let Some(r) = rand {
                    let x = arg(0).unwrap_or(d);
                    let y = arg(1).unwrap_or(d);
                    self.emit(Op::Random {
                        f: r,
                        d,
                        a: x,
                        b: y,
                    });
                    return Ok(d);
                }
                match f {
                    MathFn::NrnGhk => {
                        need(4, self.sh)?;
                        let args = [a[0], a[1], a[2], a[3]];
                        self.emit(Op::Ghk { d, args });
                        Ok(d)
                    }
                    other => Err(self
                        .sh
                        .unsupported(format!("built-in function `{}`", other.name()))),
                }
            }
        }
    }

    fn random_var(&mut self, f: RandVar, args: &[Expr], d: R) -> Result<R> {
        let Some(Expr::Load(Place::Var(v), None)) = args.first() else {
            return Err(self
                .sh
                .unsupported("random_* whose first argument is not a RANDOM variable"));
        };
        let rv = self
            .sh
            .m
            .variables
            .iter()
            .enumerate()
            .filter(|(_, x)| x.role == Role::Random)
            .position(|(i, _)| i == *v)
            .ok_or_else(|| {
                self.sh
                    .malformed("random_* on a variable that is not RANDOM")
            })?;
        let mut regs = [d; 3];
        let rest = args.get(1..).unwrap_or(&[]);
        if rest.len() > 3 {
            return Err(self.sh.malformed("random_* with too many arguments"));
        }
        for (k, a) in rest.iter().enumerate() {
            let r = self.expr(a)?;
            if let Some(slot) = regs.get_mut(k) {
                *slot = r;
            }
        }
        self.emit(Op::RandomVar {
            f,
            rv,
            d,
            args: regs,
            nargs: rest.len(),
        });
        Ok(d)
    }

    /// Inlines FUNCTION/PROCEDURE `f` with argument registers `args`; returns the register of
    /// its value (0 for a PROCEDURE). `exact` skips the table (table builders).
    fn inline_call(&mut self, f: FuncId, args: &[R], exact: bool) -> Result<R> {
        let func = self
            .sh
            .m
            .functions
            .get(f)
            .ok_or_else(|| self.sh.malformed(format!("function {f} out of range")))?;
        if func.external_table {
            return Err(self
                .sh
                .unsupported(format!("FUNCTION_TABLE `{}`", func.name)));
        }
        if self.inline_stack.contains(&f) || self.inline_stack.len() >= MAX_INLINE {
            return Err(self.sh.unsupported(format!(
                "recursive FUNCTION/PROCEDURE `{}` (calls are inlined)",
                func.name
            )));
        }
        let ret = self.alloc(1);
        self.emit(Op::Const { d: ret, x: 0.0 });
        if args.len() < func.n_args {
            return Err(self.sh.malformed(format!(
                "`{}` called with {} arguments, needs {}",
                func.name,
                args.len(),
                func.n_args
            )));
        }
        if !exact && self.sh.use_tables && func.table.is_some() && func.n_args == 1 {
            let t = self.table_index(f)?;
            let arg = args.first().copied().unwrap_or(ret);
            let has_ret = func.ret.is_some();
            self.emit(Op::Table {
                t,
                arg,
                ret: if has_ret { Some(ret) } else { None },
            });
            return Ok(ret);
        }
        let func = func.clone();
        let saved_frame = std::mem::take(&mut self.frame);
        let saved_len = std::mem::take(&mut self.frame_len);
        let saved_sys = self.sys.take();
        self.inline_stack.push(f);
        let result = (|| -> Result<()> {
            for (i, l) in func.kernel.locals.iter().enumerate() {
                let n = l.array.unwrap_or(1).max(1);
                if i < func.n_args {
                    self.frame.push(args.get(i).copied().unwrap_or(ret));
                } else if Some(i) == func.ret && n == 1 {
                    // The value local is the result register itself.
                    self.frame.push(ret);
                } else {
                    let r = self.alloc(n);
                    for k in 0..n {
                        self.emit(Op::Const { d: r + k, x: 0.0 });
                    }
                    self.frame.push(r);
                }
                self.frame_len.push(n);
            }
            self.block(&func.kernel.body)?;
            if let Some(rl) = func.ret {
                let (r, _) = self.local_reg(rl)?;
                if r != ret {
                    self.emit(Op::Mov { d: ret, s: r });
                }
            }
            Ok(())
        })();
        self.inline_stack.pop();
        self.frame = saved_frame;
        self.frame_len = saved_len;
        self.sys = saved_sys;
        result?;
        self.next = ret + 1;
        Ok(ret)
    }

    fn table_index(&mut self, f: FuncId) -> Result<usize> {
        if let Some(t) = self.sh.table_of.get(&f) {
            return Ok(*t);
        }
        let func = self
            .sh
            .m
            .functions
            .get(f)
            .ok_or_else(|| self.sh.malformed("function out of range"))?;
        let table = func
            .table
            .clone()
            .ok_or_else(|| self.sh.malformed("table without TABLE"))?;
        let mut depend = Vec::new();
        for p in &table.depend {
            match p {
                Place::Builtin(Builtin::Celsius) => depend.push(DependRef::Celsius),
                Place::Builtin(Builtin::Dt) => depend.push(DependRef::Dt),
                Place::Var(v) => match self.home(*v)? {
                    Home::Global { first, .. } => depend.push(DependRef::Global(first)),
                    Home::Col { .. } => {
                        return Err(self.sh.unsupported(format!(
                            "TABLE of `{}` DEPENDs on RANGE variable `{}`",
                            func.name,
                            self.sh.m.var_name(*v)
                        )))
                    }
                },
                other => return Err(self.sh.unsupported(format!("TABLE DEPEND on {other:?}"))),
            }
        }
        let n_cols = self.sh.layout.n_cols;
        let mut redirect = HashMap::new();
        let mut out_cols = Vec::new();
        let mut extra = 2;
        for o in &table.outputs {
            match o {
                None => out_cols.push((n_cols + 1, 1)),
                Some(v) => match self.home(*v)? {
                    Home::Col { first, len } => out_cols.push((first, len)),
                    Home::Global { len, .. } => {
                        let first = n_cols + extra;
                        redirect.insert(*v, Home::Col { first, len });
                        out_cols.push((first, len));
                        extra += len;
                    }
                },
            }
        }
        let mut written = Vec::new();
        let mut read = Vec::new();
        self.scan_function(f, &mut read, &mut written, 0);
        let mut side_globals = Vec::new();
        for v in &written {
            if table.outputs.contains(&Some(*v)) {
                continue;
            }
            if let Ok(Home::Global { first, len }) = self.home(*v) {
                side_globals.extend(first..first + len);
            }
        }
        for v in read {
            if written.contains(&v) || table.outputs.contains(&Some(v)) {
                continue;
            }
            if let Ok(Home::Global { first, len }) = self.home(v) {
                for k in 0..len {
                    let d = DependRef::Global(first + k);
                    if !depend.contains(&d) {
                        depend.push(d);
                    }
                }
            }
        }
        let builder = Compiler::table_builder(self.sh, f, n_cols, n_cols + 1, redirect)?;
        let idx = self.sh.tables.len();
        self.sh.tables.push(TableDef {
            depend,
            from: table.from.clone(),
            to: table.to.clone(),
            with: table.with.clone(),
            outputs: table.outputs.clone(),
            out_cols,
            extra_cols: extra,
            side_globals,
            builder,
        });
        self.sh.table_of.insert(f, idx);
        Ok(idx)
    }

    /// Variables read / written by function `f` and its callees.
    fn scan_function(
        &self,
        f: FuncId,
        read: &mut Vec<VarId>,
        written: &mut Vec<VarId>,
        depth: usize,
    ) {
        if depth > MAX_INLINE {
            return;
        }
        if let Some(func) = self.sh.m.functions.get(f) {
            self.scan_stmts(&func.kernel.body, read, written, depth);
        }
    }

    fn scan_stmts(
        &self,
        body: &[Stmt],
        read: &mut Vec<VarId>,
        written: &mut Vec<VarId>,
        depth: usize,
    ) {
        for s in body {
            match s {
                Stmt::Assign(t, e) => {
                    self.scan_expr(e, read, written, depth);
                    if let Some(i) = &t.index {
                        self.scan_expr(i, read, written, depth);
                    }
                    if let Place::Var(v) = t.place {
                        written.push(v);
                    }
                }
                Stmt::If(c, a, b) => {
                    self.scan_expr(c, read, written, depth);
                    self.scan_stmts(a, read, written, depth);
                    self.scan_stmts(b, read, written, depth);
                }
                Stmt::While(c, a) => {
                    self.scan_expr(c, read, written, depth);
                    self.scan_stmts(a, read, written, depth);
                }
                Stmt::For {
                    from, to, by, body, ..
                } => {
                    for e in [from, to, by] {
                        self.scan_expr(e, read, written, depth);
                    }
                    self.scan_stmts(body, read, written, depth);
                }
                Stmt::Call(c, args) => {
                    for a in args {
                        self.scan_expr(a, read, written, depth);
                    }
                    if let Callee::Func(g) = c {
                        self.scan_function(*g, read, written, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    fn scan_expr(&self, e: &Expr, read: &mut Vec<VarId>, written: &mut Vec<VarId>, depth: usize) {
        match e {
            Expr::Num(_) => {}
            Expr::Load(p, i) => {
                if let Place::Var(v) = p {
                    if !written.contains(v) {
                        read.push(*v);
                    }
                }
                if let Some(i) = i {
                    self.scan_expr(i, read, written, depth);
                }
            }
            Expr::Unary(_, a) => self.scan_expr(a, read, written, depth),
            Expr::Binary(_, a, b) => {
                self.scan_expr(a, read, written, depth);
                self.scan_expr(b, read, written, depth);
            }
            Expr::Call(c, args) => {
                for a in args {
                    self.scan_expr(a, read, written, depth);
                }
                if let Callee::Func(g) = c {
                    self.scan_function(*g, read, written, depth + 1);
                }
            }
        }
    }

    fn masked<F: FnOnce(&mut Self) -> Result<()>>(&mut self, c: R, neg: bool, f: F) -> Result<()> {
        self.emit(Op::MaskPush { c, neg });
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        let jump = self.ops.len();
        self.emit(Op::JumpIfNone { to: 0 });
        f(self)?;
        let end = self.ops.len();
        if let Some(Op::JumpIfNone { to }) = self.ops.get_mut(jump) {
            *to = end;
        }
        self.emit(Op::MaskPop);
        self.depth -= 1;
        Ok(())
    }

    /// `while` / `FROM` loop: `cond` recomputes the condition into a register.
    fn looped<C, B>(&mut self, cond: C, body: B) -> Result<()>
    where
        C: Fn(&mut Self) -> Result<R>,
        B: Fn(&mut Self) -> Result<()>,
    {
        let slot = self.loops;
        self.loops += 1;
        let top = self.ops.len();
        let mark = self.next;
        // The condition is re-evaluated every iteration: no uniform ops in it.
        let outer = self.in_system;
        self.in_system = true;
        let c = cond(self);
        self.in_system = outer;
        let c = c?;
        self.emit(Op::MaskPush { c, neg: false });
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        let exit = self.ops.len();
        self.emit(Op::JumpIfNone { to: 0 });
        self.emit(Op::LoopGuard { slot });
        body(self)?;
        self.emit(Op::MaskPop);
        self.emit(Op::Jump { to: top });
        let after = self.ops.len();
        if let Some(Op::JumpIfNone { to }) = self.ops.get_mut(exit) {
            *to = after;
        }
        self.emit(Op::MaskPop);
        self.depth -= 1;
        self.next = self.next.max(mark);
        Ok(())
    }

    fn species(&mut self, t: &Target) -> Result<Species> {
        let Place::Var(v) = &t.place else {
            let r = self.load(&t.place, t.index.as_deref())?;
            return Ok(Species::Value(r));
        };
        let is_state = self
            .sys
            .as_ref()
            .map(|s| s.kin_states.contains(v))
            .unwrap_or(false);
        if !is_state {
            let r = self.load(&t.place, t.index.as_deref())?;
            return Ok(Species::Value(r));
        }
        let Home::Col { first, len } = self.home(*v)? else {
            return Err(self
                .sh
                .unsupported(format!("GLOBAL kinetic state `{}`", self.sh.m.var_name(*v))));
        };
        match t.index.as_deref() {
            None => Ok(Species::Col(first)),
            Some(e) => match Self::const_index(e) {
                Some(k) => {
                    let name = self.sh.m.var_name(*v).to_string();
                    Ok(Species::Col(first + self.static_elem(k, len, &name)?))
                }
                None => {
                    let idx = self.expr(e)?;
                    // Keep the index alive: copy into a fresh register.
                    Ok(Species::Dyn { first, len, idx })
                }
            },
        }
    }

    fn terms(&mut self, ts: &[Term]) -> Result<Vec<(Species, u32)>> {
        let mut out = Vec::with_capacity(ts.len());
        for t in ts {
            out.push((self.species(&t.state)?, t.coef));
        }
        Ok(out)
    }

    /// Splits a CONSERVE side into `Σ coef·state` (coefficients free of states) plus a rest.
    fn linear_terms(&self, e: &Expr, sign: f64, out: &mut Vec<(Target, Expr)>) -> Option<Expr> {
        let is_state = |t: &Place| match (t, &self.sys) {
            (Place::Var(v), Some(s)) => s.kin_states.contains(v),
            _ => false,
        };
        let scaled = |x: Expr, s: f64| -> Expr {
            if s == 1.0 {
                x
            } else {
                Expr::Unary(UnOp::Neg, Box::new(x))
            }
        };
        match e {
            Expr::Load(p, ix) if is_state(p) => {
                out.push((
                    Target {
                        place: p.clone(),
                        index: ix.clone(),
                    },
                    Expr::Num(sign),
                ));
                None
            }
            Expr::Binary(BinOp::Add, a, b) | Expr::Binary(BinOp::Sub, a, b) => {
                let sb = if matches!(e, Expr::Binary(BinOp::Sub, ..)) {
                    -sign
                } else {
                    sign
                };
                let ra = self.linear_terms(a, sign, out);
                let rb = self.linear_terms(b, sb, out);
                match (ra, rb) {
                    (None, None) => None,
                    (Some(x), None) => Some(x),
                    (None, Some(y)) => Some(y),
                    (Some(x), Some(y)) => Some(Expr::Binary(BinOp::Add, Box::new(x), Box::new(y))),
                }
            }
            Expr::Binary(BinOp::Mul, a, b) => {
                let (st, k) = match (&**a, &**b) {
                    (Expr::Load(p, ix), k) if is_state(p) => ((p, ix), k),
                    (k, Expr::Load(p, ix)) if is_state(p) => ((p, ix), k),
                    _ => return Some(scaled(e.clone(), sign)),
                };
                out.push((
                    Target {
                        place: st.0.clone(),
                        index: st.1.clone(),
                    },
                    scaled(k.clone(), sign),
                ));
                None
            }
            other => Some(scaled(other.clone(), sign)),
        }
    }

    fn stmt(&mut self, s: &Stmt) -> Result<()> {
        match s {
            Stmt::Assign(t, e) => {
                let r = self.expr(e)?;
                self.store(t, r)
            }
            Stmt::If(c, a, b) => {
                let r = self.expr(c)?;
                // Keep the condition alive across both branches (a temporary already is; a
                // local the branch may assign is copied).
                let keep = if self.is_frame_reg(r) {
                    let k = self.alloc(1);
                    self.emit(Op::Mov { d: k, s: r });
                    k
                } else {
                    r
                };
                self.masked(keep, false, |me| me.block(a))?;
                if !b.is_empty() {
                    self.masked(keep, true, |me| me.block(b))?;
                }
                Ok(())
            }
            Stmt::While(c, body) => self.looped(|me| me.expr(c), |me| me.block(body)),
            Stmt::For {
                var,
                from,
                to,
                by,
                body,
            } => {
                let (i, _) = self.local_reg(*var)?;
                let f = self.expr(from)?;
                if self.depth == 0 {
                    self.emit(Op::Mov { d: i, s: f });
                } else {
                    self.emit(Op::Sel { d: i, s: f });
                }
                let to_r = self.expr(to)?;
                let to_k = self.alloc(1);
                self.emit(Op::Mov { d: to_k, s: to_r });
                let by_r = self.expr(by)?;
                let by_k = self.alloc(1);
                self.emit(Op::Mov { d: by_k, s: by_r });
                self.looped(
                    |me| {
                        let d = me.alloc(1);
                        me.emit(Op::ForCond {
                            d,
                            i,
                            to: to_k,
                            by: by_k,
                        });
                        Ok(d)
                    },
                    |me| {
                        me.block(body)?;
                        let n = me.alloc(1);
                        me.emit(Op::Bin {
                            f: F2::Add,
                            d: n,
                            a: i,
                            b: by_k,
                        });
                        me.emit(Op::Sel { d: i, s: n });
                        Ok(())
                    },
                )
            }
            Stmt::Call(c, args) => {
                self.call(c, args)?;
                Ok(())
            }
            Stmt::Solve(id) => self.solve(*id),
            Stmt::Deriv(t, e) => {
                let r = self.expr(e)?;
                let key = self.ode_key(t)?;
                let k = match &self.sys {
                    Some(SysCtx {
                        kind: SysKind::Ode,
                        ode_states,
                        ..
                    }) => ode_states.iter().position(|x| *x == key),
                    _ => None,
                };
                match k {
                    Some(k) => {
                        self.emit(Op::Deriv { k, s: r });
                        Ok(())
                    }
                    None => Err(self
                        .sh
                        .unsupported("derivative statement outside its DERIVATIVE solve")),
                }
            }
            Stmt::Reaction { lhs, rhs, kf, kb } => {
                self.need_kinetic("reaction")?;
                let kf = self.expr(kf)?;
                let kb = self.expr(kb)?;
                let lhs = self.terms(lhs)?;
                let rhs = self.terms(rhs)?;
                let (ff, bf) = match &self.sys {
                    Some(s) => (s.ff.unwrap_or(0), s.bf.unwrap_or(0)),
                    None => (0, 0),
                };
                self.emit(Op::Reaction {
                    lhs,
                    rhs,
                    kf,
                    kb,
                    ff,
                    bf,
                });
                Ok(())
            }
            Stmt::Flux(t, e) => {
                self.need_kinetic("~ <<")?;
                let v = self.expr(e)?;
                let x = self.species(t)?;
                if matches!(x, Species::Value(_)) {
                    return Err(self.sh.unsupported("`~ x << (flux)` on a non-STATE"));
                }
                self.emit(Op::Flux { x, v });
                Ok(())
            }
            Stmt::Compartment(vol, ts) => {
                self.need_kinetic("COMPARTMENT")?;
                let vol = self.expr(vol)?;
                let mut xs = Vec::new();
                for t in ts {
                    let sp = self.species(t)?;
                    if !matches!(sp, Species::Value(_)) {
                        xs.push(sp);
                    }
                }
                self.emit(Op::Compartment { vol, xs });
                Ok(())
            }
            Stmt::Conserve(lhs, rhs) => {
                self.need_kinetic("CONSERVE")?;
                let mut terms = Vec::new();
                let rest = self.linear_terms(lhs, 1.0, &mut terms);
                let mut rterms = Vec::new();
                let rrest = self.linear_terms(rhs, -1.0, &mut rterms);
                // Σ terms(lhs) + rest_l = −Σ rterms − rrest  ⇒  Σ all = −rest_l − rrest_neg
                terms.extend(rterms);
                let mut cterms = Vec::new();
                for (t, k) in &terms {
                    let sp = self.species(t)?;
                    let kr = self.expr(k)?;
                    let keep = self.alloc(1);
                    self.emit(Op::Mov { d: keep, s: kr });
                    cterms.push((sp, keep));
                }
                // rhs value = −(rest_l + rrest) where rrest already carries the minus sign.
                let zero = Expr::Num(0.0);
                let rl = self.expr(rest.as_ref().unwrap_or(&zero))?;
                let rr = self.expr(rrest.as_ref().unwrap_or(&zero))?;
                let sum = self.alloc(1);
                self.emit(Op::Bin {
                    f: F2::Add,
                    d: sum,
                    a: rl,
                    b: rr,
                });
                let neg = self.alloc(1);
                self.emit(Op::Un {
                    f: F1::Neg,
                    d: neg,
                    a: sum,
                });
                self.emit(Op::Conserve {
                    terms: cterms,
                    rhs: neg,
                });
                Ok(())
            }
            Stmt::LongDiffusion(..) => {
                let note =
                    "LONGITUDINAL_DIFFUSION ignored (couples compartments; the engine's job)"
                        .to_string();
                if !self.sh.notes.contains(&note) {
                    self.sh.notes.push(note);
                }
                Ok(())
            }
            Stmt::Equation(lhs, rhs) => {
                let in_alg = matches!(
                    &self.sys,
                    Some(SysCtx {
                        kind: SysKind::Algebraic,
                        ..
                    })
                );
                if !in_alg {
                    return Err(self
                        .sh
                        .unsupported("equation outside its LINEAR/NONLINEAR solve"));
                }
                if self.depth > 0 {
                    return Err(self
                        .sh
                        .unsupported("LINEAR/NONLINEAR equation inside a loop or branch"));
                }
                let a = self.expr(lhs)?;
                let b = self.expr(rhs)?;
                let d = self.alloc(1);
                self.emit(Op::Bin {
                    f: F2::Sub,
                    d,
                    a,
                    b,
                });
                let k = match &mut self.sys {
                    Some(sys) => {
                        sys.n_eq += 1;
                        sys.n_eq - 1
                    }
                    None => 0,
                };
                self.emit(Op::Deriv { k, s: d });
                Ok(())
            }
            Stmt::NetSend(d, f) => {
                let d = self.expr(d)?;
                let f = self.expr(f)?;
                self.emit(Op::NetSend { delay: d, flag: f });
                Ok(())
            }
            Stmt::NetEvent(t) => {
                let t = self.expr(t)?;
                self.emit(Op::NetEvent { t });
                Ok(())
            }
            Stmt::NetMove(t) => {
                let t = self.expr(t)?;
                self.emit(Op::NetMove { t });
                Ok(())
            }
            Stmt::Watch(c, f) => {
                let cond = self.expr(c)?;
                let flag = self.expr(f)?;
                let w = match self.sh.watches.iter().position(|x| x == c) {
                    Some(w) => w,
                    None => {
                        self.sh.watches.push(c.clone());
                        self.sh.watches.len() - 1
                    }
                };
                self.emit(Op::WatchArm { w, cond, flag });
                Ok(())
            }
            Stmt::ForNetcons(..) => Err(self.sh.unsupported("FOR_NETCONS")),
            Stmt::Print(..) => Ok(()),
        }
    }

    fn need_kinetic(&self, what: &str) -> Result<()> {
        match &self.sys {
            Some(SysCtx {
                kind: SysKind::Kinetic,
                ..
            }) => Ok(()),
            _ => Err(self
                .sh
                .unsupported(format!("{what} outside a KINETIC solve"))),
        }
    }

    /// One (variable, element) key per element of each variable (scalars have one).
    fn element_keys(&self, vars: &[VarId]) -> Vec<(VarId, usize)> {
        let mut keys = Vec::new();
        for &v in vars {
            let n = self
                .sh
                .m
                .variables
                .get(v)
                .and_then(|x| x.array)
                .unwrap_or(1);
            keys.extend((0..n.max(1)).map(|k| (v, k)));
        }
        keys
    }

    fn ode_key(&self, t: &Target) -> Result<(VarId, usize)> {
        let Place::Var(v) = &t.place else {
            return Err(self.sh.unsupported("derivative of a non-variable"));
        };
        let k = match t.index.as_deref() {
            None => 0,
            Some(e) => match Self::const_index(e) {
                Some(k) if k >= 0.0 => k as usize,
                _ => {
                    return Err(self
                        .sh
                        .unsupported("DERIVATIVE state array with a computed index"))
                }
            },
        };
        Ok((*v, k))
    }

    fn solve(&mut self, id: usize) -> Result<()> {
        let solve = self
            .sh
            .m
            .solves
            .get(id)
            .ok_or_else(|| self.sh.malformed(format!("solve {id} out of range")))?
            .clone();
        if self.sys.is_some() {
            return Err(self.sh.unsupported("SOLVE inside a solved block"));
        }
        // The solve's locals live in this program's registers.
        let saved_frame = std::mem::take(&mut self.frame);
        let saved_len = std::mem::take(&mut self.frame_len);
        let result = (|| -> Result<()> {
            for l in &solve.kernel.locals {
                let n = l.array.unwrap_or(1).max(1);
                let r = self.alloc(n);
                for k in 0..n {
                    self.emit(Op::Const { d: r + k, x: 0.0 });
                }
                self.frame.push(r);
                self.frame_len.push(n);
            }
            let steady = solve.method == Method::SteadyState;
            match (&solve.system, solve.method) {
                (System::Cnexp(_), _) | (System::Procedure, _) => self.block(&solve.kernel.body),
                (System::Ode { states }, m) => {
                    let mut keys = Vec::new();
                    for t in states {
                        keys.push(self.ode_key(t)?);
                    }
                    if m == Method::Euler && !steady {
                        self.euler(&keys, &solve.kernel.body)
                    } else {
                        self.implicit(SysKind::Ode, steady, keys, Vec::new(), &solve.kernel.body)
                    }
                }
                (System::Kinetic { states, linear }, _) => {
                    let keys = self.element_keys(states);
                    self.nonlinear_kinetic = !*linear;
                    self.implicit(
                        SysKind::Kinetic,
                        steady,
                        keys,
                        states.clone(),
                        &solve.kernel.body,
                    )
                }
                (System::Algebraic { unknowns }, _) => {
                    let keys = self.element_keys(unknowns);
                    self.implicit(
                        SysKind::Algebraic,
                        false,
                        keys,
                        Vec::new(),
                        &solve.kernel.body,
                    )
                }
            }
        })();
        self.frame = saved_frame;
        self.frame_len = saved_len;
        result
    }

    fn state_col(&self, key: (VarId, usize)) -> Result<usize> {
        match self.home(key.0)? {
            Home::Col { first, len } if key.1 < len => Ok(first + key.1),
            Home::Col { .. } => Err(self.sh.malformed("state index out of range")),
            Home::Global { .. } => Err(self.sh.unsupported(format!(
                "GLOBAL state `{}` in a solve",
                self.sh.m.var_name(key.0)
            ))),
        }
    }

    fn euler(&mut self, keys: &[(VarId, usize)], body: &[Stmt]) -> Result<()> {
        let d = self.alloc(keys.len());
        for k in 0..keys.len() {
            self.emit(Op::Const { d: d + k, x: 0.0 });
        }
        self.sys = Some(SysCtx {
            kind: SysKind::Ode,
            ode_states: keys.to_vec(),
            kin_states: Vec::new(),
            ff: None,
            bf: None,
            n_eq: 0,
        });
        // Deriv ops write f[k]; for euler they are redirected into registers d + k.
        let start = self.ops.len();
        let r = self.block(body);
        self.sys = None;
        r?;
        for op in &mut self.ops[start..] {
            if let Op::Deriv { k, s } = op {
                *op = Op::Sel { d: d + *k, s: *s };
            }
        }
        let dt = self.alloc(1);
        self.emit(Op::LoadScalar {
            d: dt,
            what: ScalarVal::Dt,
        });
        for (k, key) in keys.iter().enumerate() {
            let col = self.state_col(*key)?;
            let x = self.alloc(1);
            self.emit(Op::LoadCol { d: x, col });
            let inc = self.alloc(1);
            self.emit(Op::Bin {
                f: F2::Mul,
                d: inc,
                a: dt,
                b: d + k,
            });
            self.emit(Op::Bin {
                f: F2::Add,
                d: x,
                a: x,
                b: inc,
            });
            self.emit(Op::StoreCol { col, s: x });
        }
        Ok(())
    }

    fn implicit(
        &mut self,
        kind: SysKind,
        steady: bool,
        keys: Vec<(VarId, usize)>,
        kin_states: Vec<VarId>,
        body: &[Stmt],
    ) -> Result<()> {
        let mut cols = Vec::with_capacity(keys.len());
        for k in &keys {
            cols.push(self.state_col(*k)?);
        }
        let slot_of_col = cols.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        let (ff, bf) = (self.alloc(1), self.alloc(1));
        self.sys = Some(SysCtx {
            kind,
            ode_states: keys,
            kin_states,
            ff: Some(ff),
            bf: Some(bf),
            n_eq: 0,
        });
        let start = self.ops.len();
        let outer = self.in_system;
        self.in_system = true;
        let r = self.block(body);
        self.in_system = outer;
        let n_eq = self.sys.take().map(|s| s.n_eq).unwrap_or(0);
        r?;
        if kind == SysKind::Algebraic && n_eq != cols.len() {
            return Err(self.sh.unsupported(format!(
                "LINEAR/NONLINEAR system of {n_eq} equations in {} unknowns",
                cols.len()
            )));
        }
        let mut body_ops: Vec<Op> = self.ops.drain(start..).collect();
        for op in &mut body_ops {
            if let Op::Jump { to } | Op::JumpIfNone { to } = op {
                *to -= start;
            }
        }
        let sys = self.sh.systems.len();
        let nonlinear = kind == SysKind::Kinetic && std::mem::take(&mut self.nonlinear_kinetic);
        self.sh.systems.push(ImplicitSystem {
            kind,
            steady,
            nonlinear,
            cols,
            slot_of_col,
            body: body_ops,
        });
        self.emit(Op::Implicit { sys });
        Ok(())
    }
}
