//! Analysis: the symbol table.
//!
//! [`analyse`] reads the declarations of a [`Module`] (NEURON block, UNITS, PARAMETER, STATE,
//! ASSIGNED, CONSTANT, DEFINE, FUNCTION/PROCEDURE and block names) and builds the variable table
//! of the mechanism, checking duplicate names, USEION variable names and RANGE/GLOBAL rules.
//! Names inside blocks are resolved (and undefined ones reported) by [`crate::lower`].
//!
//! NEURON's built-in variables (`v` mV, `t` ms, `dt` ms, `celsius` degC, `area` µm²,
//! `diam` µm) are never mechanism variables, even when a file declares them in PARAMETER or
//! ASSIGNED (as most files do to give them units).

use std::collections::HashMap;

use crate::ast::*;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::ir::{Builtin, IonVarKind, MechanismKind, Role, Storage, VarId, Variable};
use crate::units::UnitsDb;

/// What a name at file scope refers to.
#[derive(Clone, Debug, PartialEq)]
pub enum Symbol {
    /// A mechanism variable.
    Var(VarId),
    /// A named constant (CONSTANT, UNITS factor, DEFINE), already evaluated.
    Const(f64),
    /// A NEURON built-in variable.
    Builtin(Builtin),
    /// A FUNCTION (index into the function list, arity).
    Function(usize, usize),
    /// A PROCEDURE (index, arity).
    Procedure(usize, usize),
    /// A DERIVATIVE, KINETIC, LINEAR or NONLINEAR block (index into `module.items`).
    Block(usize),
}

/// The result of analysis.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Mechanism name.
    pub name: Option<String>,
    /// Mechanism kind.
    pub kind: MechanismKind,
    /// Variables in declaration order.
    pub variables: Vec<Variable>,
    /// File-scope names.
    pub symbols: HashMap<String, Symbol>,
    /// Where each name was declared (for duplicate diagnostics).
    pub decl_spans: HashMap<String, Span>,
    /// Ions: name, valence, READ list, WRITE list.
    pub ions: Vec<crate::ir::Ion>,
    /// NONSPECIFIC_CURRENT and ELECTRODE_CURRENT variables (var, electrode).
    pub nonspecific: Vec<(VarId, bool)>,
    /// FUNCTION/PROCEDURE items in order: (item index, is FUNCTION).
    pub callables: Vec<(usize, bool)>,
    /// `celsius = value` in PARAMETER.
    pub celsius: Option<f64>,
    /// For each STATE, the variable or constant holding its initial value: NEURON sets a state
    /// `x` to `x0` (declared by the file, or implicit with value 0) before INITIAL runs.
    pub state_init: Vec<(VarId, Symbol)>,
    /// TITLE.
    pub title: Option<String>,
}

/// Maps a built-in variable name.
pub fn builtin(name: &str) -> Option<Builtin> {
    Some(match name {
        "v" => Builtin::V,
        "t" => Builtin::T,
        "dt" => Builtin::Dt,
        "celsius" => Builtin::Celsius,
        "area" => Builtin::Area,
        "diam" => Builtin::Diam,
        "secondorder" => Builtin::SecondOrder,
        "PI" => Builtin::Pi,
        _ => return None,
    })
}

/// The kind of an ion variable name, e.g. `ina` for `na` is the current.
pub fn ion_var_kind(ion: &str, name: &str) -> Option<IonVarKind> {
    if name == format!("i{ion}") {
        Some(IonVarKind::Current)
    } else if name == format!("e{ion}") {
        Some(IonVarKind::Reversal)
    } else if name == format!("{ion}i") {
        Some(IonVarKind::Inside)
    } else if name == format!("{ion}o") {
        Some(IonVarKind::Outside)
    } else if name == format!("di{ion}_dv") {
        Some(IonVarKind::Conductance)
    } else {
        None
    }
}

struct Builder<'d> {
    a: Analysis,
    diags: &'d mut Vec<Diagnostic>,
}

impl Builder<'_> {
    fn declare(&mut self, name: &Ident, sym: Symbol) {
        if let Some(first) = self.a.decl_spans.get(&name.name).copied() {
            self.diags.push(
                Diagnostic::error(
                    codes::DUPLICATE,
                    name.span,
                    format!("`{}` is declared more than once", name.name),
                )
                .with_help("rename one of the declarations or remove the duplicate"),
            );
            self.diags.push(Diagnostic {
                severity: crate::diagnostics::Severity::Note,
                code: codes::DUPLICATE,
                message: format!("`{}` is first declared here", name.name),
                span: first,
                help: None,
            });
            return;
        }
        self.a.decl_spans.insert(name.name.clone(), name.span);
        self.a.symbols.insert(name.name.clone(), sym);
    }

    fn add_var(&mut self, d: &VarDecl, role: Role, storage: Storage, public: bool) {
        if builtin(&d.name.name).is_some() {
            if d.name.name == "celsius" {
                if let (Some(v), Role::Parameter) = (d.value, role) {
                    self.a.celsius = Some(v);
                }
            }
            return;
        }
        let id = self.a.variables.len();
        self.a.variables.push(Variable {
            name: d.name.name.clone(),
            role,
            storage,
            unit: d.unit.as_ref().map(|u| u.text.clone()),
            default: d.value.unwrap_or(0.0),
            limits: d.limits,
            array: d.array,
            public,
        });
        self.declare(&d.name, Symbol::Var(id));
    }
}

/// Builds the symbol table. Problems are appended to `diags`.
pub fn analyse(m: &Module, diags: &mut Vec<Diagnostic>) -> Analysis {
    let mut b = Builder {
        a: Analysis {
            name: None,
            kind: MechanismKind::Density,
            variables: Vec::new(),
            symbols: HashMap::new(),
            decl_spans: HashMap::new(),
            ions: Vec::new(),
            nonspecific: Vec::new(),
            callables: Vec::new(),
            celsius: None,
            title: None,
            state_init: Vec::new(),
        },
        diags,
    };
    let mut range: Vec<&Ident> = Vec::new();
    let mut global: Vec<&Ident> = Vec::new();
    let mut useion = Vec::new();
    let mut currents: Vec<(&Ident, bool)> = Vec::new();
    let mut pointers: Vec<&Ident> = Vec::new();
    let mut randoms: Vec<&Ident> = Vec::new();
    let mut units = UnitsDb::new();

    // Pass 1: the NEURON block and named constants.
    for item in &m.items {
        match &item.kind {
            ItemKind::Title(t) => b.a.title = Some(t.clone()),
            ItemKind::Neuron(stmts) => {
                for s in stmts {
                    match &s.kind {
                        NeuronKind::Suffix(n)
                        | NeuronKind::PointProcess(n)
                        | NeuronKind::ArtificialCell(n) => {
                            if b.a.name.is_some() {
                                b.diags.push(Diagnostic::error(
                                    codes::DUPLICATE,
                                    n.span,
                                    "a mechanism can have only one SUFFIX, POINT_PROCESS or ARTIFICIAL_CELL",
                                ));
                            }
                            b.a.name = Some(n.name.clone());
                            b.a.kind = match &s.kind {
                                NeuronKind::Suffix(_) => MechanismKind::Density,
                                NeuronKind::PointProcess(_) => MechanismKind::PointProcess,
                                _ => MechanismKind::ArtificialCell,
                            };
                        }
                        NeuronKind::UseIon {
                            ion,
                            read,
                            write,
                            valence,
                            ..
                        } => useion.push((ion, read, write, *valence)),
                        NeuronKind::NonspecificCurrent(v) => {
                            currents.extend(v.iter().map(|i| (i, false)))
                        }
                        NeuronKind::ElectrodeCurrent(v) => {
                            currents.extend(v.iter().map(|i| (i, true)))
                        }
                        NeuronKind::Range(v) => range.extend(v.iter()),
                        NeuronKind::Global(v) => global.extend(v.iter()),
                        NeuronKind::Pointer(v) | NeuronKind::BbcorePointer(v) => {
                            pointers.extend(v.iter())
                        }
                        NeuronKind::Random(v) => randoms.extend(v.iter()),
                        _ => {}
                    }
                }
            }
            ItemKind::Units(defs) => {
                for d in defs {
                    match &d.kind {
                        UnitDefKind::Alias(a, def) => match units.eval(&def.text) {
                            Ok(v) => units.define(&a.text, v),
                            Err(w) => b.diags.push(
                                Diagnostic::error(
                                    codes::UNKNOWN_UNIT,
                                    def.span,
                                    format!("`{w}` is not a known unit"),
                                )
                                .with_help("define it first, e.g. `(mM) = (milli/liter)`"),
                            ),
                        },
                        UnitDefKind::Factor(n, from, to) => {
                            match units.factor(&from.text, &to.text) {
                                Ok(v) => b.declare(n, Symbol::Const(v)),
                                Err(msg) => {
                                    let code = if msg.contains("dimensions") {
                                        codes::UNIT_MISMATCH
                                    } else {
                                        codes::UNKNOWN_UNIT
                                    };
                                    b.diags.push(Diagnostic::error(
                                        code,
                                        from.span.to(to.span),
                                        msg,
                                    ));
                                    b.declare(n, Symbol::Const(f64::NAN));
                                }
                            }
                        }
                        UnitDefKind::Constant(n, v, _) => b.declare(n, Symbol::Const(*v)),
                    }
                }
            }
            ItemKind::Constant(decls) => {
                for d in decls {
                    b.declare(&d.name, Symbol::Const(d.value.unwrap_or(0.0)));
                }
            }
            ItemKind::Define(n, v) => b.declare(n, Symbol::Const(*v)),
            _ => {}
        }
    }
    let in_list = |l: &[&Ident], n: &str| l.iter().any(|i| i.name == n);

    // Pass 2: variables.
    for item in &m.items {
        match &item.kind {
            ItemKind::Parameter(decls) => {
                for d in decls {
                    let storage =
                        if in_list(&range, &d.name.name) && !in_list(&global, &d.name.name) {
                            Storage::Range
                        } else {
                            Storage::Global
                        };
                    b.add_var(d, Role::Parameter, storage, true);
                }
            }
            ItemKind::State(decls) => {
                for d in decls {
                    b.add_var(d, Role::State, Storage::Range, true);
                }
            }
            ItemKind::Local(vars) => {
                // NEURON keeps one value per thread; we keep one per instance (the same
                // results whenever a kernel assigns before it reads, as files do).
                for v in vars {
                    if b.a.decl_spans.contains_key(&v.name.name) {
                        // nocmodl accepts a top-level LOCAL that repeats a declared name
                        // (corpus modeldb_20212/my_kca.mod); the declared variable is used.
                        b.diags.push(
                            Diagnostic::warning(
                                codes::W_IGNORED,
                                v.name.span,
                                format!(
                                    "top-level LOCAL `{}` repeats a declared variable and is \
                                     ignored",
                                    v.name.name
                                ),
                            )
                            .with_help("remove the LOCAL declaration"),
                        );
                        continue;
                    }
                    let d = VarDecl {
                        name: v.name.clone(),
                        array: v.array,
                        value: None,
                        unit: None,
                        limits: None,
                        from_to: None,
                        extra: None,
                        span: v.name.span,
                    };
                    b.add_var(&d, Role::Assigned, Storage::Range, false);
                }
            }
            ItemKind::Assigned(decls) => {
                for d in decls {
                    let g = in_list(&global, &d.name.name);
                    let public = g || in_list(&range, &d.name.name);
                    let storage = if g { Storage::Global } else { Storage::Range };
                    b.add_var(d, Role::Assigned, storage, public);
                }
            }
            _ => {}
        }
    }

    // The `x0` companions of states.
    let states: Vec<(VarId, String)> =
        b.a.variables
            .iter()
            .enumerate()
            .filter(|(_, v)| v.role == Role::State)
            .map(|(i, v)| (i, v.name.clone()))
            .collect();
    for (id, name) in states {
        let init = format!("{name}0");
        let sym = match b.a.symbols.get(&init) {
            Some(s @ (Symbol::Var(_) | Symbol::Const(_))) => s.clone(),
            Some(_) => continue,
            None => {
                let vid = b.a.variables.len();
                let listed = |l: &[&Ident]| l.iter().any(|i| i.name == init);
                b.a.variables.push(Variable {
                    name: init.clone(),
                    role: Role::Parameter,
                    storage: if listed(&range) {
                        Storage::Range
                    } else {
                        Storage::Global
                    },
                    unit: b.a.variables.get(id).and_then(|v| v.unit.clone()),
                    default: 0.0,
                    limits: None,
                    array: None,
                    public: listed(&range) || listed(&global),
                });
                b.a.symbols.insert(init.clone(), Symbol::Var(vid));
                Symbol::Var(vid)
            }
        };
        b.a.state_init.push((id, sym));
    }

    // Ions.
    for (ion, read, write, valence) in useion {
        let ion_id = b.a.ions.len();
        let known = match ion.name.as_str() {
            "na" | "k" => Some(1.0),
            "ca" => Some(2.0),
            "cl" => Some(-1.0),
            _ => None,
        };
        let mut rec = crate::ir::Ion {
            name: ion.name.clone(),
            valence: valence.or(known),
            reads: Vec::new(),
            writes: Vec::new(),
        };
        for (list, is_write) in [(read, false), (write, true)] {
            for n in list {
                let Some(kind) = ion_var_kind(&ion.name, &n.name) else {
                    b.diags.push(
                        Diagnostic::error(
                            codes::ION_VARIABLE,
                            n.span,
                            format!("`{}` is not a variable of ion `{}`", n.name, ion.name),
                        )
                        .with_help(format!(
                            "the variables of `{0}` are i{0} (current), e{0} (reversal potential), \
                             {0}i and {0}o (concentrations)",
                            ion.name
                        )),
                    );
                    continue;
                };
                let id = match b.a.symbols.get(&n.name) {
                    Some(Symbol::Var(id)) => {
                        let id = *id;
                        if let Some(v) = b.a.variables.get_mut(id) {
                            if v.role != Role::State {
                                v.role = Role::Ion(ion_id, kind);
                                v.storage = Storage::Range;
                            }
                        }
                        id
                    }
                    Some(_) => {
                        b.diags.push(Diagnostic::error(
                            codes::WRONG_KIND,
                            n.span,
                            format!(
                                "`{}` is declared as a constant but used as an ion variable",
                                n.name
                            ),
                        ));
                        continue;
                    }
                    None => {
                        let id = b.a.variables.len();
                        b.a.variables.push(Variable {
                            name: n.name.clone(),
                            role: Role::Ion(ion_id, kind),
                            storage: Storage::Range,
                            unit: None,
                            default: 0.0,
                            limits: None,
                            array: None,
                            public: false,
                        });
                        b.a.symbols.insert(n.name.clone(), Symbol::Var(id));
                        b.a.decl_spans.insert(n.name.clone(), n.span);
                        id
                    }
                };
                let list = if is_write {
                    &mut rec.writes
                } else {
                    &mut rec.reads
                };
                if !list.iter().any(|(_, v)| *v == id) {
                    list.push((kind, id));
                }
            }
        }
        b.a.ions.push(rec);
    }

    // Currents, pointers, randoms, undeclared RANGE/GLOBAL names.
    let implicit = |b: &mut Builder, n: &Ident, role: Role| -> Option<VarId> {
        match b.a.symbols.get(&n.name) {
            Some(Symbol::Var(id)) => {
                let id = *id;
                if role != Role::Assigned {
                    if let Some(v) = b.a.variables.get_mut(id) {
                        v.role = role;
                    }
                }
                Some(id)
            }
            Some(_) => None,
            None => {
                if builtin(&n.name).is_some() {
                    return None;
                }
                let id = b.a.variables.len();
                b.a.variables.push(Variable {
                    name: n.name.clone(),
                    role,
                    storage: if in_list(&global, &n.name) {
                        Storage::Global
                    } else {
                        Storage::Range
                    },
                    unit: None,
                    default: 0.0,
                    limits: None,
                    array: None,
                    public: true,
                });
                b.a.symbols.insert(n.name.clone(), Symbol::Var(id));
                b.a.decl_spans.insert(n.name.clone(), n.span);
                Some(id)
            }
        }
    };
    for (n, electrode) in &currents {
        if let Some(id) = implicit(&mut b, n, Role::Assigned) {
            b.a.nonspecific.push((id, *electrode));
        }
    }
    for n in &pointers {
        implicit(&mut b, n, Role::Pointer);
    }
    for n in &randoms {
        implicit(&mut b, n, Role::Random);
    }
    for n in &range {
        if let Some(g) = global.iter().find(|g| g.name == n.name) {
            b.diags.push(
                Diagnostic::warning(
                    codes::W_IGNORED,
                    g.span,
                    format!(
                        "`{}` is listed in both RANGE and GLOBAL; it is GLOBAL",
                        n.name
                    ),
                )
                .with_help("remove it from one of the lists"),
            );
        }
    }
    for n in range.iter().chain(global.iter()) {
        if !b.a.symbols.contains_key(&n.name) && builtin(&n.name).is_none() {
            b.diags.push(
                Diagnostic::warning(
                    codes::W_IGNORED,
                    n.span,
                    format!("`{}` is listed in RANGE/GLOBAL but not declared", n.name),
                )
                .with_help("declare it in PARAMETER or ASSIGNED; it is treated as ASSIGNED"),
            );
            implicit(&mut b, n, Role::Assigned);
        }
    }

    // Callables and blocks.
    for (idx, item) in m.items.iter().enumerate() {
        match &item.kind {
            ItemKind::Function(c) | ItemKind::FunctionTable(c) => {
                let k = b.a.callables.len();
                b.a.callables.push((idx, true));
                b.declare(&c.name, Symbol::Function(k, c.args.len()));
            }
            ItemKind::Procedure(c) => {
                let k = b.a.callables.len();
                b.a.callables.push((idx, false));
                b.declare(&c.name, Symbol::Procedure(k, c.args.len()));
            }
            ItemKind::Derivative(n, _)
            | ItemKind::Kinetic(n, _, _)
            | ItemKind::Linear(n, _, _)
            | ItemKind::NonLinear(n, _, _) => b.declare(n, Symbol::Block(idx)),
            _ => {}
        }
    }
    b.a
}
