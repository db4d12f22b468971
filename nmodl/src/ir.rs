//! The mechanism IR: what backends execute.
//!
//! A [`Mechanism`] is a set of named variables (per-instance RANGE columns or GLOBAL scalars)
//! and kernels named after the phase of a time step in which they run:
//!
//! | kernel | when (NEURON fixed step) |
//! | --- | --- |
//! | `init` | `finitialize`: after ion values are loaded, states set to their defaults |
//! | `compute_currents` | every step, before the cable solve: assigns the current variables; the backend evaluates it at `v + 0.001` and at `v` and takes `dI/dv` from the difference, as NEURON does (see [`ConductanceRule`]) |
//! | `advance_state` | every step, after the cable solve, with the new `v`: runs the [`Solve`]s |
//! | `net_receive` | when an event arrives: arguments are the NetCon weight slots, `flag` is a builtin |
//! | `write_ions` | after `init` and `advance_state`: copies written concentrations/reversal potentials to the ion pools |
//!
//! Kernels are statement lists over typed expression trees ([`Expr`]) that read and write
//! [`Place`]s. FUNCTIONs and PROCEDUREs are kept as [`Function`]s and called. Derivative and
//! kinetic blocks are kept in a solved form per method inside [`Solve`]. Units are NEURON's:
//! mV, ms, mA/cm² (density) or nA (point process), mM, µm, S/cm² or µS.

use std::fmt::{self, Write as _};

/// Index into [`Mechanism::variables`].
pub type VarId = usize;
/// Index into the locals of the enclosing kernel or function.
pub type LocalId = usize;
/// Index into [`Mechanism::functions`].
pub type FuncId = usize;
/// Index into [`Mechanism::solves`].
pub type SolveId = usize;
/// Index into [`Mechanism::ions`].
pub type IonId = usize;

/// What kind of mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MechanismKind {
    /// `SUFFIX`: distributed over membrane area; currents in mA/cm².
    Density,
    /// `POINT_PROCESS`: located at a point; currents in nA.
    PointProcess,
    /// `ARTIFICIAL_CELL`: a point process outside the cable equation.
    ArtificialCell,
}

/// Where a variable lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// One value per instance.
    Range,
    /// One value shared by all instances.
    Global,
}

/// Which variable of an ion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IonVarKind {
    /// `i<ion>` current (mA/cm²).
    Current,
    /// `e<ion>` reversal potential (mV).
    Reversal,
    /// `<ion>i` inside concentration (mM).
    Inside,
    /// `<ion>o` outside concentration (mM).
    Outside,
    /// `di<ion>_dv` (S/cm²).
    Conductance,
}

/// What a variable is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// PARAMETER.
    Parameter,
    /// STATE.
    State,
    /// ASSIGNED.
    Assigned,
    /// CONSTANT or a UNITS-block constant (value in `default`).
    Constant,
    /// A variable of an ion (read from / written to its pool).
    Ion(IonId, IonVarKind),
    /// POINTER: the backend binds it to another variable.
    Pointer,
    /// RANDOM stream.
    Random,
}

/// A named variable of the mechanism.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    /// Name as in the file.
    pub name: String,
    /// What it is.
    pub role: Role,
    /// Per instance or shared.
    pub storage: Storage,
    /// Units as written.
    pub unit: Option<String>,
    /// Default / initial value.
    pub default: f64,
    /// `<lo, hi>` limits.
    pub limits: Option<(f64, f64)>,
    /// Array length.
    pub array: Option<usize>,
    /// Visible to the user (in RANGE or GLOBAL, or a PARAMETER/STATE).
    pub public: bool,
}

/// A local variable of a kernel or function.
#[derive(Clone, Debug, PartialEq)]
pub struct Local {
    /// Name.
    pub name: String,
    /// Array length.
    pub array: Option<usize>,
}

/// An ion the mechanism uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Ion {
    /// `na`, `k`, `ca`, …
    pub name: String,
    /// VALENCE if given, else NEURON's for na, k (1), ca (2), cl (−1); `None` for other ions
    /// without VALENCE.
    pub valence: Option<f64>,
    /// Variables the mechanism READs (copied in before each kernel).
    pub reads: Vec<(IonVarKind, VarId)>,
    /// Variables the mechanism WRITEs.
    pub writes: Vec<(IonVarKind, VarId)>,
}

/// A current the mechanism contributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Current {
    /// The variable holding it.
    pub var: VarId,
    /// The ion it is carried by (`None`: NONSPECIFIC_CURRENT or ELECTRODE_CURRENT).
    pub ion: Option<IonId>,
    /// ELECTRODE_CURRENT (sign convention of an electrode: positive depolarises).
    pub electrode: bool,
}

/// How `dI/dv` is obtained.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConductanceRule {
    /// NEURON's rule: run `compute_currents` at `v + dv` and at `v`; g = ΔI/dv (dv = 0.001 mV).
    /// The second evaluation (at `v`) is the one whose assignments persist.
    Numeric {
        /// The voltage increment (mV).
        dv: f64,
    },
}

/// Built-in variables NEURON defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// Membrane potential (mV).
    V,
    /// Time (ms).
    T,
    /// Time step (ms).
    Dt,
    /// Temperature (degC).
    Celsius,
    /// Segment area (µm²).
    Area,
    /// Segment diameter (µm).
    Diam,
    /// `secondorder` (0 for backward Euler).
    SecondOrder,
    /// π.
    Pi,
    /// NET_RECEIVE `flag`.
    Flag,
    /// Forward flux of the previous reaction (KINETIC).
    FFlux,
    /// Backward flux of the previous reaction (KINETIC).
    BFlux,
}

/// Something an expression reads or a statement writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    /// A mechanism variable.
    Var(VarId),
    /// A local of the enclosing kernel/function (function arguments are its first locals).
    Local(LocalId),
    /// A built-in.
    Builtin(Builtin),
    /// The shared pool value of an ion variable.
    IonPool(IonId, IonVarKind),
}

/// Built-in functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFn {
    /// exp
    Exp,
    /// natural log
    Log,
    /// log10
    Log10,
    /// sqrt
    Sqrt,
    /// fabs
    Fabs,
    /// pow(a, b)
    Pow,
    /// sin
    Sin,
    /// cos
    Cos,
    /// tan
    Tan,
    /// asin
    Asin,
    /// acos
    Acos,
    /// atan
    Atan,
    /// atan2(y, x)
    Atan2,
    /// sinh
    Sinh,
    /// cosh
    Cosh,
    /// tanh
    Tanh,
    /// floor
    Floor,
    /// ceil
    Ceil,
    /// fmod(a, b)
    Fmod,
    /// fmin(a, b)
    Fmin,
    /// fmax(a, b)
    Fmax,
    /// erf
    Erf,
    /// erfc
    Erfc,
    /// at_time(t): 1 when the step reaches t (NEURON's discontinuity hint).
    AtTime,
    /// scop_random(): uniform on [0, 1).
    ScopRandom,
    /// exprand(mean)
    Exprand,
    /// normrand(mean, sd)
    Normrand,
    /// poisrand(mean)
    Poisrand,
    /// unirand(): uniform on [0, 1).
    Unirand,
    /// set_seed(s)
    SetSeed,
    /// `random_uniform(r[, lo, hi])` on a RANDOM variable.
    RandomUniform,
    /// `random_normal(r[, mean, sd])`.
    RandomNormal,
    /// `random_negexp(r[, mean])`.
    RandomNegexp,
    /// random_setseq(r, n): position a RANDOM stream.
    RandomSetseq,
    /// random_setids(r, id1, id2, id3): choose a RANDOM stream.
    RandomSetids,
    /// exprelr(x) = x/(exp(x) − 1), 1 at x = 0 (an Arbor built-in; accepted as an extension).
    Exprelr,
    /// nrn_ghk(v, ci, co, z): Goldman–Hodgkin–Katz current factor (mV, mM, mM, valence), as
    /// NEURON defines it (uses `celsius`).
    NrnGhk,
}

impl MathFn {
    /// Looks up a built-in function name; returns it with its arity range.
    pub fn lookup(name: &str) -> Option<(MathFn, usize, usize)> {
        use MathFn::*;
        Some(match name {
            "exp" => (Exp, 1, 1),
            "log" => (Log, 1, 1),
            "log10" => (Log10, 1, 1),
            "sqrt" => (Sqrt, 1, 1),
            "fabs" | "abs" => (Fabs, 1, 1),
            "pow" => (Pow, 2, 2),
            "sin" => (Sin, 1, 1),
            "cos" => (Cos, 1, 1),
            "tan" => (Tan, 1, 1),
            "asin" => (Asin, 1, 1),
            "acos" => (Acos, 1, 1),
            "atan" => (Atan, 1, 1),
            "atan2" => (Atan2, 2, 2),
            "sinh" => (Sinh, 1, 1),
            "cosh" => (Cosh, 1, 1),
            "tanh" => (Tanh, 1, 1),
            "floor" => (Floor, 1, 1),
            "ceil" => (Ceil, 1, 1),
            "fmod" => (Fmod, 2, 2),
            "fmin" => (Fmin, 2, 2),
            "fmax" => (Fmax, 2, 2),
            "erf" => (Erf, 1, 1),
            "erfc" => (Erfc, 1, 1),
            "at_time" => (AtTime, 1, 1),
            "scop_random" => (ScopRandom, 0, 0),
            "exprand" => (Exprand, 1, 1),
            "normrand" => (Normrand, 2, 2),
            "poisrand" => (Poisrand, 1, 1),
            "unirand" => (Unirand, 0, 0),
            "set_seed" => (SetSeed, 1, 1),
            "random_uniform" => (RandomUniform, 1, 3),
            "random_normal" => (RandomNormal, 1, 3),
            "random_negexp" => (RandomNegexp, 1, 2),
            "random_setseq" => (RandomSetseq, 2, 2),
            "random_setids" => (RandomSetids, 4, 4),
            "nrn_ghk" => (NrnGhk, 4, 4),
            "exprelr" => (Exprelr, 1, 1),
            _ => return None,
        })
    }

    /// The name as written in NMODL.
    pub fn name(self) -> &'static str {
        use MathFn::*;
        match self {
            Exp => "exp",
            Log => "log",
            Log10 => "log10",
            Sqrt => "sqrt",
            Fabs => "fabs",
            Pow => "pow",
            Sin => "sin",
            Cos => "cos",
            Tan => "tan",
            Asin => "asin",
            Acos => "acos",
            Atan => "atan",
            Atan2 => "atan2",
            Sinh => "sinh",
            Cosh => "cosh",
            Tanh => "tanh",
            Floor => "floor",
            Ceil => "ceil",
            Fmod => "fmod",
            Fmin => "fmin",
            Fmax => "fmax",
            Erf => "erf",
            Erfc => "erfc",
            AtTime => "at_time",
            ScopRandom => "scop_random",
            Exprand => "exprand",
            Normrand => "normrand",
            Poisrand => "poisrand",
            Unirand => "unirand",
            SetSeed => "set_seed",
            RandomUniform => "random_uniform",
            RandomNormal => "random_normal",
            RandomNegexp => "random_negexp",
            RandomSetseq => "random_setseq",
            RandomSetids => "random_setids",
            NrnGhk => "nrn_ghk",
            Exprelr => "exprelr",
        }
    }

    /// Whether the function draws random numbers (or seeds the generator).
    pub fn is_random(self) -> bool {
        use MathFn::*;
        matches!(
            self,
            ScopRandom
                | Exprand
                | Normrand
                | Poisrand
                | Unirand
                | SetSeed
                | RandomUniform
                | RandomNormal
                | RandomNegexp
                | RandomSetseq
                | RandomSetids
        )
    }
}

pub use crate::ast::{BinOp, UnOp};

/// A function callee.
#[derive(Clone, Debug, PartialEq)]
pub enum Callee {
    /// A built-in.
    Math(MathFn),
    /// A FUNCTION or PROCEDURE of the mechanism.
    Func(FuncId),
}

/// An expression tree (value: f64; comparisons give 0 or 1).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A constant.
    Num(f64),
    /// Read a place (element `index` of an array variable when given).
    Load(Place, Option<Box<Expr>>),
    /// Unary operator.
    Unary(UnOp, Box<Expr>),
    /// Binary operator (`^` is `pow`).
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// Function call.
    Call(Callee, Vec<Expr>),
}

/// An assignable location.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Where.
    pub place: Place,
    /// Array element.
    pub index: Option<Box<Expr>>,
}

impl Target {
    /// A whole (not indexed) place.
    pub fn scalar(place: Place) -> Self {
        Target { place, index: None }
    }
}

/// A reaction participant.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// Stoichiometric coefficient.
    pub coef: u32,
    /// The state (element).
    pub state: Target,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `target = value`
    Assign(Target, Expr),
    /// `if (cond) {then} else {els}`
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `while (cond) {body}`
    While(Expr, Vec<Stmt>),
    /// `FROM var = from TO to BY by {body}` (inclusive; `var` is a local).
    For {
        /// Loop variable.
        var: LocalId,
        /// First value.
        from: Expr,
        /// Last value.
        to: Expr,
        /// Step.
        by: Expr,
        /// Body.
        body: Vec<Stmt>,
    },
    /// PROCEDURE call (or a FUNCTION called for effect).
    Call(Callee, Vec<Expr>),
    /// Run a [`Solve`].
    Solve(SolveId),
    /// Inside an ODE system: the derivative of `state` is `value`.
    Deriv(Target, Expr),
    /// Inside a kinetic system: a reaction `lhs ⇌ rhs` with rates `kf`, `kb` (0 for `->`).
    Reaction {
        /// Reactants.
        lhs: Vec<Term>,
        /// Products.
        rhs: Vec<Term>,
        /// Forward rate.
        kf: Expr,
        /// Backward rate.
        kb: Expr,
    },
    /// Inside a kinetic system: `~ state << (flux)` adds `flux` to d(state)/dt (times volume).
    Flux(Target, Expr),
    /// Inside a kinetic system: the states in `states` are scaled by `volume`
    /// (d(volume·x)/dt = reactions).
    Compartment(Expr, Vec<Target>),
    /// Inside a kinetic system: LONGITUDINAL_DIFFUSION of `states` with coefficient `rate`
    /// (µm⁴/ms: diffusion constant times cross-section area); couples neighbouring segments,
    /// the backend owns the coupling.
    LongDiffusion(Expr, Vec<Target>),
    /// Inside a kinetic system: `lhs = rhs` replaces one equation (CONSERVE).
    Conserve(Expr, Expr),
    /// Inside a LINEAR/NONLINEAR system: `lhs = rhs` is one equation.
    Equation(Expr, Expr),
    /// `net_send(delay, flag)` (ms).
    NetSend(Expr, Expr),
    /// `net_event(t)`: emit a spike at time `t` (ms).
    NetEvent(Expr),
    /// `net_move(t)`: move the pending self-event to `t`.
    NetMove(Expr),
    /// `WATCH (cond) flag`: arm a threshold watch.
    Watch(Expr, Expr),
    /// `FOR_NETCONS(args)`: run `body` once per NetCon targeting this instance, with the
    /// NetCon's weights in the locals `args`.
    ForNetcons(Vec<LocalId>, Vec<Stmt>),
    /// `printf(format, args…)`: diagnostic output; may be ignored.
    Print(String, Vec<Expr>),
}

/// A statement list with its locals.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Kernel {
    /// Locals (for NET_RECEIVE: its arguments first).
    pub locals: Vec<Local>,
    /// Statements.
    pub body: Vec<Stmt>,
}

/// TABLE: how NEURON tabulates a FUNCTION or PROCEDURE of one argument `x`: each output is
/// computed at the `with + 1` points `from + k·(to − from)/with`, recomputed whenever a DEPEND
/// variable changes, and looked up by linear interpolation, with `x` outside `[from, to]`
/// clamped to the end points.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Tabulated outputs (for a FUNCTION: its value, listed as `None`).
    pub outputs: Vec<Option<VarId>>,
    /// Variables (or built-ins such as `celsius`) that invalidate the table when they change.
    pub depend: Vec<Place>,
    /// Lowest argument value.
    pub from: Expr,
    /// Highest argument value.
    pub to: Expr,
    /// Number of intervals.
    pub with: Expr,
}

/// A FUNCTION or PROCEDURE.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// Name.
    pub name: String,
    /// Number of arguments (locals `0..n_args`).
    pub n_args: usize,
    /// The local holding the return value (FUNCTION only).
    pub ret: Option<LocalId>,
    /// Locals and body.
    pub kernel: Kernel,
    /// TABLE: tabulate over the first argument with linear interpolation (NEURON's default
    /// `usetable = 1`), unless [`Mechanism::use_tables`] is false.
    pub table: Option<Table>,
    /// FUNCTION_TABLE: values come from data supplied at run time.
    pub external_table: bool,
}

/// A solve method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Exact exponential step for equations linear in their own state.
    Cnexp,
    /// Backward Euler with Newton iteration.
    DerivImplicit,
    /// Forward Euler.
    Euler,
    /// Backward Euler on the kinetic scheme (sparse Newton).
    Sparse,
    /// Solve to steady state (INITIAL `SOLVE … STEADYSTATE`).
    SteadyState,
    /// Algebraic system (LINEAR / NONLINEAR), solved by Newton each step.
    Algebraic,
    /// The states are advanced by a PROCEDURE (no METHOD).
    Procedure,
}

/// The solved form of a block named by SOLVE.
#[derive(Clone, Debug, PartialEq)]
pub enum System {
    /// cnexp: each equation is `x' = a + b·x` with `a`, `b` free of `x`; the update
    /// `x ← x + (1 − exp(b·dt))·(−a/b − x)` (or `x ← x + dt·a` when `b` is 0) is already in
    /// the solve's body, after the block's other statements.
    Cnexp(Vec<CnexpEquation>),
    /// An ODE system: the body assigns [`Stmt::Deriv`] for each state; the backend steps it
    /// (derivimplicit: `x₁ = x₀ + dt·f(x₁)` by Newton; euler: `x₁ = x₀ + dt·f(x₀)`).
    Ode {
        /// The states.
        states: Vec<Target>,
    },
    /// A kinetic scheme: the body executes [`Stmt::Reaction`], [`Stmt::Flux`],
    /// [`Stmt::Compartment`] and [`Stmt::Conserve`]; the backend builds the implicit system.
    Kinetic {
        /// The states solved for.
        states: Vec<VarId>,
        /// Every rate is free of the solved states and every reaction is first order, so the
        /// system is linear with constant coefficients over a step (eligible for the
        /// exact-propagator method of `integrate`).
        linear: bool,
    },
    /// LINEAR / NONLINEAR: [`Stmt::Equation`]s for the unknowns.
    Algebraic {
        /// The unknowns.
        unknowns: Vec<VarId>,
    },
    /// A PROCEDURE named by SOLVE (old style, no METHOD): the body calls it.
    Procedure,
}

/// One cnexp equation `state' = a + b·state`.
#[derive(Clone, Debug, PartialEq)]
pub struct CnexpEquation {
    /// The state.
    pub state: Target,
    /// Constant part.
    pub a: Expr,
    /// Coefficient of the state.
    pub b: Expr,
}

/// A SOLVE statement, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Solve {
    /// Name of the solved block.
    pub block: String,
    /// Method.
    pub method: Method,
    /// Solved form.
    pub system: System,
    /// The block's locals and statements (see [`System`]).
    pub kernel: Kernel,
}

/// The NET_RECEIVE block.
#[derive(Clone, Debug, PartialEq)]
pub struct NetReceive {
    /// Arguments (weights): locals `0..n_args` of `kernel` and `init`.
    pub n_args: usize,
    /// The body.
    pub kernel: Kernel,
    /// `INITIAL` inside NET_RECEIVE: run per NetCon at `finitialize`.
    pub init: Option<Kernel>,
}

/// A lowered mechanism.
#[derive(Clone, Debug, PartialEq)]
pub struct Mechanism {
    /// Name (SUFFIX / POINT_PROCESS / ARTIFICIAL_CELL).
    pub name: String,
    /// Kind.
    pub kind: MechanismKind,
    /// TITLE.
    pub title: Option<String>,
    /// `celsius = value` in PARAMETER: NEURON sets its global temperature (degC) to it when the
    /// mechanism is loaded.
    pub celsius: Option<f64>,
    /// Variables.
    pub variables: Vec<Variable>,
    /// Ions.
    pub ions: Vec<Ion>,
    /// Currents contributed (summed by the backend).
    pub currents: Vec<Current>,
    /// How dI/dv is obtained.
    pub conductance: ConductanceRule,
    /// FUNCTIONs and PROCEDUREs.
    pub functions: Vec<Function>,
    /// `init` kernel.
    pub init: Kernel,
    /// `compute_currents` kernel.
    pub compute_currents: Kernel,
    /// `advance_state` kernel.
    pub advance_state: Kernel,
    /// `write_ions` kernel.
    pub write_ions: Kernel,
    /// NET_RECEIVE.
    pub net_receive: Option<NetReceive>,
    /// BEFORE/AFTER blocks (`before BREAKPOINT`, …), CONSTRUCTOR (`constructor`, run when an
    /// instance is created) and DESTRUCTOR (`destructor`): (label, kernel).
    pub before_after: Vec<(String, Kernel)>,
    /// Solve blocks referenced by [`Stmt::Solve`].
    pub solves: Vec<Solve>,
    /// Honour TABLE statements (false: evaluate exactly).
    pub use_tables: bool,
    /// Every solve is linear in the states with coefficients fixed over a step (cnexp, or a
    /// first-order kinetic scheme): `integrate`'s exact propagator can advance it.
    pub exact_propagator: bool,
}

// ------------------------------------------------------------------------------ printing

impl Mechanism {
    /// A variable's name (or `?` when out of range).
    pub fn var_name(&self, id: VarId) -> &str {
        self.variables
            .get(id)
            .map(|v| v.name.as_str())
            .unwrap_or("?")
    }
}

struct Ctx<'a> {
    m: &'a Mechanism,
    locals: &'a [Local],
}

fn ion_suffix(k: IonVarKind) -> &'static str {
    match k {
        IonVarKind::Current => "i",
        IonVarKind::Reversal => "e",
        IonVarKind::Inside => "in",
        IonVarKind::Outside => "out",
        IonVarKind::Conductance => "didv",
    }
}

impl Ctx<'_> {
    fn place(&self, p: &Place) -> String {
        match p {
            Place::Var(v) => self.m.var_name(*v).to_string(),
            Place::Local(l) => {
                format!(
                    "%{}",
                    self.locals.get(*l).map(|l| l.name.as_str()).unwrap_or("?")
                )
            }
            Place::Builtin(b) => format!("{b:?}").to_lowercase(),
            Place::IonPool(i, k) => format!(
                "ion[{}].{}",
                self.m.ions.get(*i).map(|i| i.name.as_str()).unwrap_or("?"),
                ion_suffix(*k)
            ),
        }
    }

    fn target(&self, t: &Target) -> String {
        match &t.index {
            Some(i) => format!("{}[{}]", self.place(&t.place), self.expr(i)),
            None => self.place(&t.place),
        }
    }

    fn callee(&self, c: &Callee) -> String {
        match c {
            Callee::Math(f) => f.name().to_string(),
            Callee::Func(f) => format!(
                "@{}",
                self.m
                    .functions
                    .get(*f)
                    .map(|f| f.name.as_str())
                    .unwrap_or("?")
            ),
        }
    }

    fn expr(&self, e: &Expr) -> String {
        match e {
            Expr::Num(v) => crate::printer::number(*v),
            Expr::Load(p, None) => self.place(p),
            Expr::Load(p, Some(i)) => format!("{}[{}]", self.place(p), self.expr(i)),
            Expr::Unary(UnOp::Neg, x) => format!("-{}", self.atom(x)),
            Expr::Unary(UnOp::Not, x) => format!("!{}", self.atom(x)),
            Expr::Binary(op, a, b) => {
                format!("{} {} {}", self.atom(a), op.symbol(), self.atom(b))
            }
            Expr::Call(c, args) => format!("{}({})", self.callee(c), self.list(args)),
        }
    }

    fn atom(&self, e: &Expr) -> String {
        match e {
            Expr::Binary(..) => format!("({})", self.expr(e)),
            Expr::Num(v) if *v < 0.0 => format!("({})", self.expr(e)),
            _ => self.expr(e),
        }
    }

    fn list(&self, v: &[Expr]) -> String {
        v.iter()
            .map(|x| self.expr(x))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn terms(&self, v: &[Term]) -> String {
        v.iter()
            .map(|t| {
                if t.coef == 1 {
                    self.target(&t.state)
                } else {
                    format!("{}*{}", t.coef, self.target(&t.state))
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }

    fn stmts(&self, out: &mut String, body: &[Stmt], ind: usize) {
        for s in body {
            self.stmt(out, s, ind);
        }
    }

    fn stmt(&self, out: &mut String, s: &Stmt, ind: usize) {
        let pad = "  ".repeat(ind);
        let _ = match s {
            Stmt::Assign(t, e) => writeln!(out, "{pad}{} = {}", self.target(t), self.expr(e)),
            Stmt::If(c, a, b) => {
                let _ = writeln!(out, "{pad}if {} {{", self.expr(c));
                self.stmts(out, a, ind + 1);
                if !b.is_empty() {
                    let _ = writeln!(out, "{pad}}} else {{");
                    self.stmts(out, b, ind + 1);
                }
                writeln!(out, "{pad}}}")
            }
            Stmt::While(c, a) => {
                let _ = writeln!(out, "{pad}while {} {{", self.expr(c));
                self.stmts(out, a, ind + 1);
                writeln!(out, "{pad}}}")
            }
            Stmt::For {
                var,
                from,
                to,
                by,
                body,
            } => {
                let _ = writeln!(
                    out,
                    "{pad}for {} = {} to {} by {} {{",
                    self.place(&Place::Local(*var)),
                    self.expr(from),
                    self.expr(to),
                    self.expr(by)
                );
                self.stmts(out, body, ind + 1);
                writeln!(out, "{pad}}}")
            }
            Stmt::Call(c, a) => writeln!(out, "{pad}call {}({})", self.callee(c), self.list(a)),
            Stmt::Solve(id) => match self.m.solves.get(*id) {
                Some(s) => writeln!(out, "{pad}solve {} ({:?})", s.block, s.method),
                None => writeln!(out, "{pad}solve ?"),
            },
            Stmt::Deriv(t, e) => writeln!(out, "{pad}d/dt {} = {}", self.target(t), self.expr(e)),
            Stmt::Reaction { lhs, rhs, kf, kb } => writeln!(
                out,
                "{pad}reaction {} <-> {} (kf = {}, kb = {})",
                self.terms(lhs),
                self.terms(rhs),
                self.expr(kf),
                self.expr(kb)
            ),
            Stmt::Flux(t, e) => writeln!(out, "{pad}flux {} << {}", self.target(t), self.expr(e)),
            Stmt::Compartment(v, ts) => writeln!(
                out,
                "{pad}compartment {} {{{}}}",
                self.expr(v),
                ts.iter()
                    .map(|t| self.target(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Stmt::LongDiffusion(v, ts) => writeln!(
                out,
                "{pad}longitudinal_diffusion {} {{{}}}",
                self.expr(v),
                ts.iter()
                    .map(|t| self.target(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Stmt::Conserve(a, b) => {
                writeln!(out, "{pad}conserve {} = {}", self.expr(a), self.expr(b))
            }
            Stmt::Equation(a, b) => {
                writeln!(out, "{pad}equation {} = {}", self.expr(a), self.expr(b))
            }
            Stmt::NetSend(d, f) => {
                writeln!(
                    out,
                    "{pad}net_send(delay = {}, flag = {})",
                    self.expr(d),
                    self.expr(f)
                )
            }
            Stmt::NetEvent(t) => writeln!(out, "{pad}net_event({})", self.expr(t)),
            Stmt::NetMove(t) => writeln!(out, "{pad}net_move({})", self.expr(t)),
            Stmt::Watch(c, f) => {
                writeln!(out, "{pad}watch {} flag {}", self.expr(c), self.expr(f))
            }
            Stmt::ForNetcons(args, body) => {
                let a = args
                    .iter()
                    .map(|l| self.place(&Place::Local(*l)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(out, "{pad}for_netcons({a}) {{");
                self.stmts(out, body, ind + 1);
                writeln!(out, "{pad}}}")
            }
            Stmt::Print(f, a) => writeln!(out, "{pad}print {f:?} {}", self.list(a)),
        };
    }
}

fn kernel(out: &mut String, m: &Mechanism, name: &str, k: &Kernel) {
    let locals = k
        .locals
        .iter()
        .map(|l| match l.array {
            Some(n) => format!("{}[{n}]", l.name),
            None => l.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(out, "{name}({locals}) {{");
    Ctx {
        m,
        locals: &k.locals,
    }
    .stmts(out, &k.body, 1);
    let _ = writeln!(out, "}}");
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let _ = writeln!(out, "mechanism {} ({:?})", self.name, self.kind);
        if let Some(t) = &self.title {
            let _ = writeln!(out, "title {t:?}");
        }
        if let Some(c) = self.celsius {
            let _ = writeln!(out, "celsius {}", crate::printer::number(c));
        }
        let _ = writeln!(
            out,
            "use_tables {}, exact_propagator {}, conductance {:?}",
            self.use_tables, self.exact_propagator, self.conductance
        );
        for (i, v) in self.variables.iter().enumerate() {
            let mut s = format!("var {i} {} {:?} {:?}", v.name, v.role, v.storage);
            if let Some(n) = v.array {
                let _ = write!(s, " [{n}]");
            }
            let _ = write!(s, " = {}", crate::printer::number(v.default));
            if let Some(u) = &v.unit {
                let _ = write!(s, " ({u})");
            }
            if let Some((lo, hi)) = v.limits {
                let _ = write!(
                    s,
                    " <{}, {}>",
                    crate::printer::number(lo),
                    crate::printer::number(hi)
                );
            }
            if v.public {
                s.push_str(" public");
            }
            let _ = writeln!(out, "{s}");
        }
        for ion in &self.ions {
            let names = |l: &[(IonVarKind, VarId)]| {
                l.iter()
                    .map(|(_, v)| self.var_name(*v))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "ion {} valence {:?} read [{}] write [{}]",
                ion.name,
                ion.valence,
                names(&ion.reads),
                names(&ion.writes)
            );
        }
        for c in &self.currents {
            let ion = c
                .ion
                .and_then(|i| self.ions.get(i))
                .map(|i| i.name.as_str())
                .unwrap_or("-");
            let _ = writeln!(
                out,
                "current {} ion {ion}{}",
                self.var_name(c.var),
                if c.electrode { " electrode" } else { "" }
            );
        }
        for func in &self.functions {
            let mut info = format!("function {} args {}", func.name, func.n_args);
            if func.ret.is_some() {
                info.push_str(" returns");
            }
            if func.external_table {
                info.push_str(" external_table");
            }
            if let Some(t) = &func.table {
                let c = Ctx {
                    m: self,
                    locals: &func.kernel.locals,
                };
                let outs = t
                    .outputs
                    .iter()
                    .map(|o| {
                        o.map(|v| self.var_name(v).to_string())
                            .unwrap_or("value".into())
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let deps = t
                    .depend
                    .iter()
                    .map(|p| c.place(p))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = write!(
                    info,
                    " table [{outs}] depend [{deps}] from {} to {} with {}",
                    c.expr(&t.from),
                    c.expr(&t.to),
                    c.expr(&t.with)
                );
            }
            let _ = writeln!(out, "{info}");
            let head = format!("function {}", func.name);
            kernel(&mut out, self, &head, &func.kernel);
        }
        for s in &self.solves {
            let head = format!("solve {} method {:?}", s.block, s.method);
            let c = Ctx {
                m: self,
                locals: &s.kernel.locals,
            };
            match &s.system {
                System::Cnexp(eqs) => {
                    for e in eqs {
                        let _ = writeln!(
                            out,
                            "cnexp {}' = {} + ({})*{}",
                            c.target(&e.state),
                            c.expr(&e.a),
                            c.expr(&e.b),
                            c.target(&e.state)
                        );
                    }
                }
                System::Ode { states } => {
                    let st = states
                        .iter()
                        .map(|t| c.target(t))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let _ = writeln!(out, "ode states [{st}]");
                }
                System::Kinetic { states, linear } => {
                    let st = states
                        .iter()
                        .map(|v| self.var_name(*v))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let _ = writeln!(out, "kinetic states [{st}] linear {linear}");
                }
                System::Algebraic { unknowns } => {
                    let st = unknowns
                        .iter()
                        .map(|v| self.var_name(*v))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let _ = writeln!(out, "algebraic unknowns [{st}]");
                }
                System::Procedure => {}
            }
            kernel(&mut out, self, &head, &s.kernel);
        }
        kernel(&mut out, self, "init", &self.init);
        kernel(&mut out, self, "compute_currents", &self.compute_currents);
        kernel(&mut out, self, "advance_state", &self.advance_state);
        kernel(&mut out, self, "write_ions", &self.write_ions);
        if let Some(nr) = &self.net_receive {
            kernel(
                &mut out,
                self,
                &format!("net_receive args {}", nr.n_args),
                &nr.kernel,
            );
            if let Some(i) = &nr.init {
                kernel(&mut out, self, "net_receive_init", i);
            }
        }
        for (when, k) in &self.before_after {
            kernel(&mut out, self, when, k);
        }
        f.write_str(&out)
    }
}
