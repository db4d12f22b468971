//! The syntax tree. Every node carries the [`Span`] it was parsed from.
//!
//! The tree is close to the text: it keeps declarations in the order written, units as text and
//! VERBATIM bodies as opaque strings, so [`crate::printer`] can write NMODL back.

use crate::diagnostics::Span;

/// A name with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A unit annotation such as `(mA/cm2)`, kept as written (whitespace removed).
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// The text between the parentheses.
    pub text: String,
    /// Span including the parentheses.
    pub span: Span,
}

/// A parsed file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// What it is.
    pub kind: ItemKind,
    /// Source range.
    pub span: Span,
}

/// Top-level item kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `TITLE text`
    Title(String),
    /// `INCLUDE "file"`
    Include(String),
    /// `DEFINE NAME value`
    Define(Ident, f64),
    /// `NEURON { … }`
    Neuron(Vec<NeuronStmt>),
    /// `UNITS { … }`
    Units(Vec<UnitDef>),
    /// `PARAMETER { … }`
    Parameter(Vec<VarDecl>),
    /// `ASSIGNED { … }`
    Assigned(Vec<VarDecl>),
    /// `STATE { … }`
    State(Vec<VarDecl>),
    /// `CONSTANT { … }`
    Constant(Vec<VarDecl>),
    /// `INDEPENDENT { t FROM 0 TO 1 WITH 1 (ms) }`
    Independent(Vec<VarDecl>),
    /// `INITIAL { … }`
    Initial(Block),
    /// `BREAKPOINT { … }`
    Breakpoint(Block),
    /// `DERIVATIVE name { … }`
    Derivative(Ident, Block),
    /// `KINETIC name [SOLVEFOR a, b] { … }`
    Kinetic(Ident, Vec<Ident>, Block),
    /// `LINEAR name [SOLVEFOR …] { … }`
    Linear(Ident, Vec<Ident>, Block),
    /// `NONLINEAR name [SOLVEFOR …] { … }`
    NonLinear(Ident, Vec<Ident>, Block),
    /// `DISCRETE name { … }`, `PARTIAL`, `TERMINAL` (keyword, name, body; parsed, never executed)
    OtherBlock(Ident, Ident, Block),
    /// `FUNCTION name(args) (units) { … }`
    Function(Callable),
    /// `PROCEDURE name(args) { … }`
    Procedure(Callable),
    /// `FUNCTION_TABLE name(args) (units)`
    FunctionTable(Callable),
    /// `NET_RECEIVE(args) { … }`
    NetReceive(Vec<Arg>, Block),
    /// `BEFORE|AFTER BREAKPOINT|SOLVE|INITIAL|STEP { … }`
    BeforeAfter {
        /// `true` for BEFORE.
        before: bool,
        /// `BREAKPOINT`, `SOLVE`, `INITIAL` or `STEP`.
        when: Ident,
        /// Body.
        body: Block,
    },
    /// `CONSTRUCTOR { … }`
    Constructor(Block),
    /// `DESTRUCTOR { … }`
    Destructor(Block),
    /// `VERBATIM … ENDVERBATIM` at top level.
    Verbatim(String),
    /// `UNITSON` / `UNITSOFF` at top level (`true` = on).
    UnitsFlag(bool),
    /// Top-level `LOCAL a, b` (accepted by old NEURON and Arbor; not by NEURON 9).
    Local(Vec<LocalVar>),
}

/// A FUNCTION, PROCEDURE or FUNCTION_TABLE.
#[derive(Clone, Debug, PartialEq)]
pub struct Callable {
    /// Name.
    pub name: Ident,
    /// Formal arguments.
    pub args: Vec<Arg>,
    /// Return units (FUNCTION).
    pub unit: Option<Unit>,
    /// Body (empty for FUNCTION_TABLE).
    pub body: Block,
}

/// A formal argument: `v (mV)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// Name.
    pub name: Ident,
    /// Units.
    pub unit: Option<Unit>,
}

/// A statement in the NEURON block.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuronStmt {
    /// What it says.
    pub kind: NeuronKind,
    /// Source range.
    pub span: Span,
}

/// NEURON-block statement kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum NeuronKind {
    /// `SUFFIX name`
    Suffix(Ident),
    /// `POINT_PROCESS name`
    PointProcess(Ident),
    /// `ARTIFICIAL_CELL name`
    ArtificialCell(Ident),
    /// `USEION ion READ … WRITE … VALENCE z REPRESENTS …`
    UseIon {
        /// Ion name.
        ion: Ident,
        /// READ list.
        read: Vec<Ident>,
        /// WRITE list.
        write: Vec<Ident>,
        /// VALENCE (signed).
        valence: Option<f64>,
        /// REPRESENTS ontology id.
        represents: Option<String>,
    },
    /// `NONSPECIFIC_CURRENT i, j`
    NonspecificCurrent(Vec<Ident>),
    /// `ELECTRODE_CURRENT i`
    ElectrodeCurrent(Vec<Ident>),
    /// `RANGE a, b`
    Range(Vec<Ident>),
    /// `GLOBAL a, b`
    Global(Vec<Ident>),
    /// `POINTER p`
    Pointer(Vec<Ident>),
    /// `BBCOREPOINTER p`
    BbcorePointer(Vec<Ident>),
    /// `EXTERNAL a, b`
    External(Vec<Ident>),
    /// `THREADSAFE [a, b]`
    ThreadSafe(Vec<Ident>),
    /// `RANDOM r`
    Random(Vec<Ident>),
    /// `REPRESENTS id`
    Represents(String),
    /// `SECTION name` and other statements kept but ignored.
    Other(Ident, Vec<Ident>),
}

/// A UNITS block entry.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitDef {
    /// What it defines.
    pub kind: UnitDefKind,
    /// Source range.
    pub span: Span,
}

/// UNITS block entry kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum UnitDefKind {
    /// `(mV) = (millivolt)`: a unit alias.
    Alias(Unit, Unit),
    /// `FARADAY = (faraday) (coulomb)`: a named factor (value of `from` in `to`).
    Factor(Ident, Unit, Unit),
    /// `FARADAY = 96485.3 (coul)`: a named constant.
    Constant(Ident, f64, Option<Unit>),
}

/// A variable declaration in PARAMETER, ASSIGNED, STATE, CONSTANT or INDEPENDENT.
#[derive(Clone, Debug, PartialEq)]
pub struct VarDecl {
    /// Name.
    pub name: Ident,
    /// Array length, `name[n]`.
    pub array: Option<usize>,
    /// `= value`.
    pub value: Option<f64>,
    /// `(units)`.
    pub unit: Option<Unit>,
    /// `<lo, hi>` (PARAMETER limits; for STATE a single `<tol>` is stored as `(tol, tol)`).
    pub limits: Option<(f64, f64)>,
    /// `FROM lo TO hi`.
    pub from_to: Option<(f64, f64)>,
    /// `WITH n` (INDEPENDENT) or `START x` (STATE).
    pub extra: Option<(String, f64)>,
    /// Source range.
    pub span: Span,
}

/// A `LOCAL` variable, optionally an array.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalVar {
    /// Name.
    pub name: Ident,
    /// Array length.
    pub array: Option<usize>,
}

/// `{ statements }`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Block {
    /// Statements in order.
    pub stmts: Vec<Stmt>,
    /// Source range including braces.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// Source range.
    pub span: Span,
}

/// The target of an assignment.
#[derive(Clone, Debug, PartialEq)]
pub enum LValue {
    /// `x` or `x[i]`.
    Var(Ident, Option<Box<Expr>>),
    /// `x' ` (derivative), with the number of primes, optionally indexed.
    Deriv(Ident, u8, Option<Box<Expr>>),
}

/// A reaction participant: `2 c[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Species {
    /// Stoichiometric coefficient.
    pub coef: u32,
    /// State name.
    pub name: Ident,
    /// Index for array states.
    pub index: Option<Box<Expr>>,
}

/// The arrow of a reaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReactionArrow {
    /// `<->` with forward and backward rates.
    Both,
    /// `->` with a forward rate only.
    Forward,
    /// `<<` a flux into the state.
    Flux,
}

/// Statement kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `LOCAL a, b[3]`
    Local(Vec<LocalVar>),
    /// `lhs = rhs`
    Assign(LValue, Expr),
    /// An expression evaluated for effect (a PROCEDURE call, `net_send(…)`).
    Expr(Expr),
    /// `if (c) { … } else …`
    If(Expr, Block, Option<Box<Stmt>>),
    /// `while (c) { … }`
    While(Expr, Block),
    /// `FROM i = a TO b [BY s] { … }`
    From {
        /// Loop variable.
        var: Ident,
        /// First value.
        from: Expr,
        /// Last value (inclusive).
        to: Expr,
        /// Step.
        by: Option<Expr>,
        /// Body.
        body: Block,
    },
    /// `SOLVE name [METHOD m | STEADYSTATE m] [IFERROR { … }]`
    Solve {
        /// Block to solve.
        name: Ident,
        /// `METHOD m`.
        method: Option<Ident>,
        /// `STEADYSTATE m`.
        steadystate: Option<Ident>,
        /// `IFERROR { … }`.
        if_error: Option<Block>,
    },
    /// `~ a + b <-> c (kf, kb)`, `~ a -> b (k)`, `~ a << (flux)`
    Reaction {
        /// Left-hand side.
        lhs: Vec<Species>,
        /// Arrow.
        arrow: ReactionArrow,
        /// Right-hand side (empty for `<<`).
        rhs: Vec<Species>,
        /// Forward rate or flux.
        kf: Expr,
        /// Backward rate.
        kb: Option<Expr>,
    },
    /// `~ lhs = rhs` (LINEAR / NONLINEAR equation)
    Equation(Expr, Expr),
    /// `CONSERVE a + b = total`
    Conserve(Expr, Expr),
    /// `COMPARTMENT [i,] volume { states }`
    Compartment(Option<Ident>, Expr, Vec<Ident>),
    /// `LONGITUDINAL_DIFFUSION [i,] rate { states }`
    LongDiffusion(Option<Ident>, Expr, Vec<Ident>),
    /// `TABLE a, b DEPEND c FROM lo TO hi WITH n`
    Table {
        /// Tabulated variables (empty in a FUNCTION: the function value).
        names: Vec<Ident>,
        /// DEPEND list.
        depend: Vec<Ident>,
        /// FROM.
        from: Expr,
        /// TO.
        to: Expr,
        /// WITH.
        with: Expr,
    },
    /// `WATCH (cond) flag, …`
    Watch(Vec<(Expr, Expr)>),
    /// `INITIAL { … }` inside NET_RECEIVE.
    Initial(Block),
    /// `FOR_NETCONS(args) { … }`
    ForNetcons(Vec<Arg>, Block),
    /// `VERBATIM … ENDVERBATIM`
    Verbatim(String),
    /// `{ … }`
    Block(Block),
    /// `UNITSON` / `UNITSOFF`
    UnitsFlag(bool),
    /// `MUTEXLOCK` / `MUTEXUNLOCK` (`true` = lock)
    Mutex(bool),
    /// `PROTECT stmt`
    Protect(Box<Stmt>),
    /// `CONDUCTANCE g [USEION ion]`
    Conductance(Ident, Option<Ident>),
    /// `LAG x BY tau`
    Lag(Ident, Ident),
    /// `RESET`, `SWEEP`, … — parsed so the file can be read, refused by lowering.
    Unsupported(String),
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Source range.
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `&&`
    And,
    /// `||`
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    /// Binding strength (higher binds tighter).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div => 6,
            BinOp::Pow => 8,
        }
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `!x`
    Not,
}

/// Expression kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal, optionally followed by units: `2 (mV)`.
    Number(f64, Option<Unit>),
    /// A string literal (only as an argument of `printf`-like calls).
    Str(String),
    /// A variable.
    Name(Ident),
    /// `x[i]`
    Index(Ident, Box<Expr>),
    /// `f(a, b)`
    Call(Ident, Vec<Expr>),
    /// `-x`, `!x`
    Unary(UnOp, Box<Expr>),
    /// `a op b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `(e)` — kept so that printing preserves the text's grouping.
    Paren(Box<Expr>),
    /// `(unit1) (unit2)` unit-conversion factor inside an expression.
    UnitFactor(Unit, Option<Unit>),
    /// Placeholder after a syntax error.
    Error,
}
