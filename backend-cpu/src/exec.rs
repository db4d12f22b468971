//! Running compiled mechanisms over instances stored structure-of-arrays.
//!
//! How the executor reads the IR (interpretations and deliberate choices):
//!
//! * **Blocks.** Instances are processed [`LANES`] at a time; `if`/`while`/`FROM` run under
//!   per-lane masks, a body no lane enters is skipped. A GLOBAL assigned inside a kernel keeps
//!   the value of the last active lane of the last block (NEURON: the last instance).
//! * **`v`** is a per-kernel copy: a mechanism that assigns `v` (e.g. to step off a singular
//!   point) changes only its own copy, as in NEURON's generated code.
//! * **dI/dv**: NEURON's rule, `compute_currents` at `v + 0.001` then at `v`; the second run's
//!   assignments persist.
//! * **derivimplicit**: backward Euler `x₁ = x₀ + dt·f(x₁)`, Newton with a forward-difference
//!   Jacobian (step `1e-7·|x| + 1e-10`), iterated until the step is below `1e-13·max|x|`
//!   (accepted at `1e-6` when rounding stalls it; an error after 30 iterations). The block is
//!   run once more at the solution so its ASSIGNED values match the states. **euler**: forward.
//! * **KINETIC (sparse)**: backward Euler on `vol·(x₁ − x₀)/dt = reactions(x₁) + fluxes`, with
//!   the mass-action Jacobian (rates treated as constants over the iteration); COMPARTMENT sets
//!   `vol` (default 1); each CONSERVE replaces the equation of the last state it names whose
//!   equation is still free, its coefficients multiplied by the states' COMPARTMENT volumes (it
//!   counts amounts, as NEURON does). Species that are not STATEs are constants.
//! * **STEADYSTATE**: one backward-Euler step of 1e9 ms, Newton-converged (NEURON's result;
//!   checked on the corpus' slow cyclic schemes); a nonlinear KINETIC scheme first takes up to
//!   7 single-Newton-iteration steps of 1e9 ms, states below −1e-6 reset to 0 after each,
//!   until one leaves no state negative (NEURON's steady-state sparse; corpus capmp.mod).
//! * **LINEAR/NONLINEAR**: Newton on `lhs − rhs = 0`, numeric Jacobian.
//! * **TABLE**: values at `from + k·(to − from)/with`, `k = 0..=with`, computed by running the
//!   function exactly (RANGE variables it reads take their defaults; GLOBALs their current
//!   values); lookup `xi = (x − from)·with/(to − from)`: `xi ≤ 0` gives the first value,
//!   `xi ≥ with` the last, else linear interpolation (NEURON's clamping). Rebuilt, at the first
//!   use after a change, when a DEPEND value or a GLOBAL the function reads changes (NEURON only
//!   watches DEPEND; files that set such a GLOBAL in INITIAL need this). GLOBALs the function
//!   writes besides its outputs keep the last table point's value, as in NEURON.
//!   [`CompileOptions::use_tables`] `= false` evaluates exactly.
//! * **Events**: NET_RECEIVE runs for one instance (one lane of a block); `flag` and `t` come
//!   from the caller. WATCH: the first WATCH statement a NET_RECEIVE/INITIAL call runs disarms
//!   the instance's other watches; an armed watch fires once per false→true transition.
//! * **RANDOM variables**: one counter-based stream per variable per instance (key from
//!   `random_setids`, position from `random_setseq`); statistically sound, not bitwise
//!   NEURON's Random123. `scop_random`, `normrand`, … draw from one generator per instance set.
//! * **POINTER** variables are plain per-instance columns the caller fills.
//! * **at_time** returns 0 (fixed step); `printf` is ignored.

// Lane loops index several same-length arrays in step; indices read better than zips here.
#![allow(clippy::needless_range_loop)]

use nmodl::ir::{IonVarKind, Mechanism, MechanismKind, Role};

use crate::error::{Error, Result};
use crate::ions::IonPools;
use crate::mathx;
use crate::program::{
    Compiler, DependRef, Home, ImplicitSystem, Layout, NodeVal, Op, Program, Rand, RandVar,
    ScalarVal, Shared, Species, SysKind, TableDef, F1, F2, LANES, R,
};

const W: usize = LANES;
/// NEURON's voltage increment for dI/dv (mV).
const DV: f64 = 0.001;
const MAX_LOOP: u64 = 10_000_000;
const NEWTON_MAX: usize = 30;
/// Largest relative Newton step accepted when the 1e-13 target is not reached.
const NEWTON_ACCEPT: f64 = 1e-6;

/// What the engine provides for one call.
#[derive(Clone, Copy, Debug)]
pub struct Env<'a> {
    /// Time (ms).
    pub t: f64,
    /// Time step (ms).
    pub dt: f64,
    /// Temperature (°C).
    pub celsius: f64,
    /// Membrane potential per compartment (mV).
    pub v: &'a [f64],
    /// Membrane area per compartment (µm²); used by `area` and point-process ion currents.
    pub area: &'a [f64],
    /// Diameter per compartment (µm).
    pub diam: &'a [f64],
}

/// Receives what NET_RECEIVE and INITIAL emit; the caller owns the event queue.
pub trait EventSink {
    /// `net_send(delay, flag)`: a self-event to `instance` at `t_deliver` (ms).
    fn net_send(&mut self, instance: usize, t_deliver: f64, flag: f64);
    /// `net_event(t)`: an output spike of `instance` at `t` (ms).
    fn net_event(&mut self, instance: usize, t: f64);
    /// `net_move(t)`: move the pending self-event of `instance` to `t` (ms).
    fn net_move(&mut self, instance: usize, t: f64);
}

/// An [`EventSink`] that records everything in vectors.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    /// (instance, delivery time ms, flag).
    pub sent: Vec<(usize, f64, f64)>,
    /// (instance, time ms).
    pub spikes: Vec<(usize, f64)>,
    /// (instance, new time ms).
    pub moved: Vec<(usize, f64)>,
}

impl EventSink for EventLog {
    fn net_send(&mut self, instance: usize, t: f64, flag: f64) {
        self.sent.push((instance, t, flag));
    }
    fn net_event(&mut self, instance: usize, t: f64) {
        self.spikes.push((instance, t));
    }
    fn net_move(&mut self, instance: usize, t: f64) {
        self.moved.push((instance, t));
    }
}

struct NullSink;
impl EventSink for NullSink {
    fn net_send(&mut self, _: usize, _: f64, _: f64) {}
    fn net_event(&mut self, _: usize, _: f64) {}
    fn net_move(&mut self, _: usize, _: f64) {}
}

/// Options of [`Compiled::new`].
#[derive(Clone, Copy, Debug)]
pub struct CompileOptions {
    /// Honour TABLE (NEURON's default). False: evaluate tabulated functions exactly.
    pub use_tables: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { use_tables: true }
    }
}

mod native;

/// A native kernel standing in for the interpreter, for a mechanism recognised as a shipped
/// one by its IR; it performs the same floating-point operations in the same order
/// (`exec/native.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Native {
    /// `pas` (BREAKPOINT `i = g*(v - e)`, nothing in its states).
    Pas(native::PasCols),
    /// `hh` with its TABLE.
    Hh(native::HhCols),
}

fn unsupported_native(what: &str) -> Error {
    Error::Unsupported {
        mechanism: "native kernel".into(),
        construct: what.into(),
    }
}

#[derive(Clone, Debug)]
struct CurrentOut {
    home: Home,
    ion: Option<usize>,
    electrode: bool,
}

/// A mechanism compiled for the block interpreter. Immutable; share it between threads.
#[derive(Clone, Debug)]
pub struct Compiled {
    mech: Mechanism,
    layout: Layout,
    native: Option<Native>,
    init: Program,
    cur: Program,
    adv: Program,
    wions: Program,
    net_receive: Option<(Program, Vec<R>)>,
    net_receive_init: Option<(Program, Vec<R>)>,
    systems: Vec<ImplicitSystem>,
    tables: Vec<TableDef>,
    hooks: Vec<(String, Program)>,
    watch_progs: Vec<(Program, R)>,
    currents: Vec<CurrentOut>,
    n_random: usize,
    n_regs: usize,
    n_masks: usize,
    n_loops: usize,
    max_sys: usize,
    notes: Vec<String>,
}

/// A table's current contents.
#[derive(Clone, Debug, Default)]
struct TableData {
    key: Vec<f64>,
    from: f64,
    to: f64,
    with: usize,
    /// Per output, `with + 1` values.
    values: Vec<Vec<f64>>,
    /// GLOBALs the builder left behind (slot, value), copied to the real globals.
    side: Vec<(usize, f64)>,
}

#[derive(Clone, Debug)]
struct Scratch {
    regs: Vec<[f64; W]>,
    masks: Vec<[bool; W]>,
    loops: Vec<u64>,
    rng: u64,
    /// Newton work arrays (n states): x0, f, vol, residual, dx; matrix n×n; conserve rows.
    x0: Vec<[f64; W]>,
    f: Vec<[f64; W]>,
    fb: Vec<[f64; W]>,
    vol: Vec<[f64; W]>,
    jac: Vec<[f64; W]>,
    cons_row: Vec<bool>,
    cons: Vec<[f64; W]>,
    cons_rhs: Vec<[f64; W]>,
    cur: Vec<[f64; W]>,
    a: Vec<f64>,
    b: Vec<f64>,
    dx: Vec<[f64; W]>,
}

/// The instances of one mechanism: one column per RANGE variable (array elements are
/// columns of their own), GLOBALs once, and the compartment of each instance.
#[derive(Clone, Debug)]
pub struct Instances {
    n: usize,
    node: Vec<usize>,
    cols: Vec<Vec<f64>>,
    globals: Vec<f64>,
    ion_pool: Vec<usize>,
    i: Vec<f64>,
    g: Vec<f64>,
    tables: Vec<TableData>,
    watch: WatchState,
    /// Per RANDOM variable, per instance: (stream key, counter).
    streams: Vec<Vec<(u64, u64)>>,
    scratch: Scratch,
}

/// Per WATCH, per instance: armed, flag, condition value at the last check.
#[derive(Clone, Debug, Default)]
struct WatchState {
    armed: Vec<Vec<bool>>,
    flag: Vec<Vec<f64>>,
    last: Vec<Vec<bool>>,
}

fn shape(what: &'static str, expected: usize, got: usize) -> Error {
    Error::Shape {
        what,
        expected,
        got,
    }
}

impl Compiled {
    /// Compiles a lowered mechanism. Unsupported constructs are [`Error::Unsupported`].
    pub fn new(mech: &Mechanism, opts: CompileOptions) -> Result<Compiled> {
        let layout = Layout::new(mech);
        let mut sh = Shared {
            m: mech,
            layout: &layout,
            use_tables: opts.use_tables && mech.use_tables,
            systems: Vec::new(),
            tables: Vec::new(),
            table_of: Default::default(),
            notes: Vec::new(),
            watches: Vec::new(),
        };
        let (init, _) = Compiler::kernel(&mut sh, &mech.init, 0)?;
        let (cur, _) = Compiler::kernel(&mut sh, &mech.compute_currents, 0)?;
        let (adv, _) = Compiler::kernel(&mut sh, &mech.advance_state, 0)?;
        let (wions, _) = Compiler::kernel(&mut sh, &mech.write_ions, 0)?;
        let net_receive = match &mech.net_receive {
            Some(nr) => Some(Compiler::net_receive_kernel(
                &mut sh, &nr.kernel, nr.n_args,
            )?),
            None => None,
        };
        let n_args = mech.net_receive.as_ref().map(|n| n.n_args).unwrap_or(0);
        let net_receive_init = match mech.net_receive.as_ref().and_then(|n| n.init.as_ref()) {
            Some(k) => Some(Compiler::net_receive_kernel(&mut sh, k, n_args)?),
            None => None,
        };
        let mut hooks = Vec::new();
        for (label, k) in &mech.before_after {
            let (p, _) = Compiler::kernel(&mut sh, k, 0)?;
            hooks.push((label.clone(), p));
        }
        let mut watch_progs = Vec::new();
        let mut k = 0;
        while let Some(e) = sh.watches.get(k).cloned() {
            watch_progs.push(Compiler::expr_program(&mut sh, &e)?);
            k += 1;
        }
        let mut currents = Vec::new();
        for c in &mech.currents {
            let home = layout
                .homes
                .get(c.var)
                .copied()
                .ok_or_else(|| sh.malformed("current variable out of range"))?;
            currents.push(CurrentOut {
                home,
                ion: c.ion,
                electrode: c.electrode,
            });
        }
        let Shared {
            systems,
            tables,
            notes,
            ..
        } = sh;
        let mut progs: Vec<&Program> = vec![&init, &cur, &adv, &wions];
        progs.extend(net_receive.iter().map(|x| &x.0));
        progs.extend(net_receive_init.iter().map(|x| &x.0));
        progs.extend(tables.iter().map(|t| &t.builder));
        progs.extend(hooks.iter().map(|h| &h.1));
        progs.extend(watch_progs.iter().map(|h| &h.0));
        let n_regs = progs.iter().map(|p| p.n_regs).max().unwrap_or(1);
        let n_masks = progs.iter().map(|p| p.n_masks).max().unwrap_or(1) + 1;
        let n_loops = progs.iter().map(|p| p.n_loops).max().unwrap_or(0);
        let max_sys = systems.iter().map(|s| s.cols.len()).max().unwrap_or(0);
        let mut c = Compiled {
            mech: mech.clone(),
            native: None,
            init,
            cur,
            adv,
            wions,
            net_receive,
            net_receive_init,
            systems,
            tables,
            hooks,
            watch_progs,
            currents,
            n_random: mech
                .variables
                .iter()
                .filter(|v| v.role == Role::Random)
                .count(),
            n_regs,
            n_masks,
            n_loops,
            max_sys,
            notes,
            layout,
        };
        c.set_native(true);
        Ok(c)
    }

    /// Use a native kernel in place of the interpreter where this is a shipped mechanism that
    /// has one (`true`, the default: `pas` and `hh` with its TABLE, recognised by their IR), or
    /// always the interpreter. Both give the same bits (tested).
    pub fn set_native(&mut self, on: bool) {
        self.native = None;
        if !on {
            return;
        }
        if crate::library::shipped("pas") == Some(&self.mech) {
            if let (Some(g), Some(e), Some(i)) = (
                self.col_index("g"),
                self.col_index("e"),
                self.col_index("i"),
            ) {
                self.native = Some(Native::Pas(native::PasCols { g, e, i }));
            }
        } else if crate::library::shipped("hh") == Some(&self.mech) {
            self.native = native::HhCols::of(self).map(Native::Hh);
        }
    }

    /// Whether a native kernel stands in for the interpreter ([`Compiled::set_native`]).
    pub fn is_native(&self) -> bool {
        self.native.is_some()
    }

    /// The mechanism this was compiled from.
    pub fn mechanism(&self) -> &Mechanism {
        &self.mech
    }

    /// Constructs accepted with a caveat (e.g. LONGITUDINAL_DIFFUSION ignored).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Lane width: instances per block.
    pub const LANES: usize = LANES;

    /// Creates `nodes.len()` instances, instance `k` in compartment `nodes[k]`, with every
    /// variable at its default; binds the mechanism's ions to `ions` (creating pools as needed)
    /// and marks which ions have written concentrations / reversal potentials.
    pub fn instantiate(&self, nodes: &[usize], ions: &mut IonPools) -> Result<Instances> {
        let n = nodes.len();
        let nc = ions.n_compartments();
        if let Some(bad) = nodes.iter().find(|&&k| k >= nc) {
            return Err(shape("compartment index", nc, *bad));
        }
        let mut ion_pool = Vec::new();
        for ion in &self.mech.ions {
            let p = ions.ensure(&ion.name, ion.valence);
            if let Some(pool) = ions.pool_mut(p) {
                for (kind, _) in &ion.writes {
                    match kind {
                        IonVarKind::Inside | IonVarKind::Outside => pool.conc_written = true,
                        IonVarKind::Reversal => pool.e_written = true,
                        _ => {}
                    }
                }
            }
            ion_pool.push(p);
        }
        let cols = self
            .layout
            .col_defaults
            .iter()
            .map(|d| vec![*d; n])
            .collect();
        let ms = self.max_sys.max(1);
        let zeros = |k: usize| vec![[0.0; W]; k];
        Ok(Instances {
            n,
            node: nodes.to_vec(),
            cols,
            globals: self.layout.global_defaults.clone(),
            ion_pool,
            i: vec![0.0; n],
            g: vec![0.0; n],
            tables: vec![TableData::default(); self.tables.len()],
            watch: WatchState {
                armed: vec![vec![false; n]; self.watch_progs.len()],
                flag: vec![vec![0.0; n]; self.watch_progs.len()],
                last: vec![vec![false; n]; self.watch_progs.len()],
            },
            streams: (0..self.n_random)
                .map(|r| {
                    (0..n)
                        .map(|i| (mathx::stream_key(&[i as f64, r as f64, 0.0]), 0))
                        .collect()
                })
                .collect(),
            scratch: Scratch {
                regs: zeros(self.n_regs),
                masks: vec![[false; W]; self.n_masks],
                loops: vec![0; self.n_loops],
                rng: 0x2545_F491_4F6C_DD1D,
                x0: zeros(ms),
                f: zeros(ms),
                fb: zeros(ms),
                vol: zeros(ms),
                jac: zeros(ms * ms),
                cons_row: vec![false; ms],
                cons: zeros(ms * ms),
                cons_rhs: zeros(ms),
                cur: zeros(self.currents.len().max(1)),
                a: vec![0.0; ms * ms],
                b: vec![0.0; ms],
                dx: zeros(ms),
            },
        })
    }

    fn check_env(&self, inst: &Instances, env: &Env, ions: &IonPools) -> Result<()> {
        let nc = ions.n_compartments();
        if env.v.len() != nc {
            return Err(shape("env.v length (compartments)", nc, env.v.len()));
        }
        if env.area.len() != nc {
            return Err(shape("env.area length (compartments)", nc, env.area.len()));
        }
        if env.diam.len() != nc {
            return Err(shape("env.diam length (compartments)", nc, env.diam.len()));
        }
        if inst.tables.len() != self.tables.len() || inst.cols.len() != self.layout.n_cols {
            return Err(shape(
                "instances of another mechanism",
                self.layout.n_cols,
                inst.cols.len(),
            ));
        }
        Ok(())
    }

    /// `init` (NEURON's `finitialize` for this mechanism): states to their `x0` defaults,
    /// then INITIAL; events sent by INITIAL go to `sink`.
    pub fn init(
        &self,
        inst: &mut Instances,
        env: &Env,
        ions: &mut IonPools,
        sink: &mut dyn EventSink,
    ) -> Result<()> {
        self.check_env(inst, env, ions)?;
        self.run_blocks(&self.init, inst, env, ions, sink, 0.0)
    }

    /// `compute_currents`: runs BREAKPOINT's current part at `v + 0.001` mV and at `v`; fills
    /// [`Instances::i`] and [`Instances::g`] and adds each ion current and its dI/dv to the ion
    /// pools (point-process currents converted to mA/cm² over the compartment's area).
    pub fn compute_currents(
        &self,
        inst: &mut Instances,
        env: &Env,
        ions: &mut IonPools,
    ) -> Result<()> {
        self.check_env(inst, env, ions)?;
        match &self.native {
            Some(Native::Pas(c)) => {
                native::pas_currents(inst, env, *c);
                return Ok(());
            }
            Some(Native::Hh(c)) => return native::hh_currents(inst, env, ions, c),
            None => {}
        }
        let n = inst.n;
        let point = self.mech.kind != MechanismKind::Density;
        let mut base = 0;
        while base < n {
            let len = (n - base).min(W);
            let mut null = NullSink;
            let mut vm = Vm::new(self, inst, env, ions, &mut null, base, len);
            vm.v_off = DV;
            vm.run(&self.cur.ops)?;
            for (k, c) in self.currents.iter().enumerate() {
                let x = vm.read_home(c.home);
                if let Some(slot) = vm.s.cur.get_mut(k) {
                    *slot = x;
                }
            }
            vm.v_off = 0.0;
            vm.run(&self.cur.ops)?;
            let mut itot = [0.0; W];
            let mut gtot = [0.0; W];
            for (k, c) in self.currents.iter().enumerate() {
                let i_at = vm.read_home(c.home);
                let i_dv = vm.s.cur.get(k).copied().unwrap_or([0.0; W]);
                let sign = if c.electrode { -1.0 } else { 1.0 };
                for l in 0..len {
                    let g = (i_dv[l] - i_at[l]) / DV;
                    itot[l] += sign * i_at[l];
                    gtot[l] += sign * g;
                }
                if let Some(ion) = c.ion {
                    let p = vm.ion_pool.get(ion).copied().unwrap_or(usize::MAX);
                    if let Some(pool) = vm.ions.pool_mut(p) {
                        for l in 0..len {
                            let node = vm.node[base + l];
                            let scale = if point {
                                100.0 / env.area.get(node).copied().unwrap_or(f64::NAN)
                            } else {
                                1.0
                            };
                            let g = (i_dv[l] - i_at[l]) / DV;
                            if let Some(x) = pool.current.get_mut(node) {
                                *x += scale * i_at[l];
                            }
                            if let Some(x) = pool.didv.get_mut(node) {
                                *x += scale * g;
                            }
                        }
                    }
                }
            }
            inst.i[base..base + len].copy_from_slice(&itot[..len]);
            inst.g[base..base + len].copy_from_slice(&gtot[..len]);
            base += len;
        }
        Ok(())
    }

    /// Number of distinct WATCH conditions.
    pub fn n_watches(&self) -> usize {
        self.watch_progs.len()
    }

    /// Checks armed WATCH conditions (call after `advance_state`, with the new `v`): when one
    /// goes from false to true, a self-event with the WATCH's flag is sent for time `env.t`
    /// (NEURON delivers it to NET_RECEIVE at once). A watch stays armed until the instance's
    /// NET_RECEIVE next runs a WATCH statement (the first one run disarms the others).
    pub fn check_watches(
        &self,
        inst: &mut Instances,
        env: &Env,
        ions: &mut IonPools,
        sink: &mut dyn EventSink,
    ) -> Result<()> {
        self.check_env(inst, env, ions)?;
        let n = inst.n;
        for (w, (prog, r)) in self.watch_progs.iter().enumerate() {
            let mut base = 0;
            while base < n {
                let len = (n - base).min(W);
                let any = inst
                    .watch
                    .armed
                    .get(w)
                    .is_some_and(|a| a[base..base + len].iter().any(|x| *x));
                if any {
                    let mut null = NullSink;
                    let mut vm = Vm::new(self, inst, env, ions, &mut null, base, len);
                    vm.run(&prog.ops)?;
                    let c = vm.reg(*r);
                    for l in 0..len {
                        let i = base + l;
                        let ws = &mut inst.watch;
                        let armed = ws.armed.get(w).and_then(|a| a.get(i)).copied();
                        let flag = ws.flag.get(w).and_then(|a| a.get(i)).copied();
                        if let (Some(true), Some(flag), Some(last)) =
                            (armed, flag, ws.last.get_mut(w).and_then(|a| a.get_mut(i)))
                        {
                            let now = c[l] != 0.0;
                            if now && !*last {
                                sink.net_send(i, env.t, flag);
                            }
                            *last = now;
                        }
                    }
                }
                base += len;
            }
        }
        Ok(())
    }

    /// Labels of the BEFORE/AFTER/CONSTRUCTOR/DESTRUCTOR blocks the mechanism has, in file
    /// order: `before INITIAL`, `after INITIAL`, `before BREAKPOINT`, `after SOLVE`,
    /// `before STEP`, `constructor`, `destructor`.
    pub fn hook_labels(&self) -> impl Iterator<Item = &str> {
        self.hooks.iter().map(|(l, _)| l.as_str())
    }

    /// Runs every block labelled `label` (see [`Compiled::hook_labels`]) over all instances;
    /// returns whether there was one.
    pub fn run_hook(
        &self,
        label: &str,
        inst: &mut Instances,
        env: &Env,
        ions: &mut IonPools,
        sink: &mut dyn EventSink,
    ) -> Result<bool> {
        self.check_env(inst, env, ions)?;
        let mut any = false;
        for (l, prog) in &self.hooks {
            if l == label {
                any = true;
                self.run_blocks(prog, inst, env, ions, sink, 0.0)?;
            }
        }
        Ok(any)
    }

    /// `advance_state`: BREAKPOINT's SOLVEs with the new `v` (after the cable solve).
    pub fn advance_state(
        &self,
        inst: &mut Instances,
        env: &Env,
        ions: &mut IonPools,
    ) -> Result<()> {
        self.check_env(inst, env, ions)?;
        if let Some(Native::Hh(c)) = &self.native {
            return native::hh_states(self, inst, env, ions, c);
        }
        self.run_blocks(&self.adv, inst, env, ions, &mut NullSink, 0.0)
    }

    /// `write_ions`: copies written concentrations / reversal potentials into the pools.
    pub fn write_ions(&self, inst: &mut Instances, env: &Env, ions: &mut IonPools) -> Result<()> {
        self.check_env(inst, env, ions)?;
        self.run_blocks(&self.wions, inst, env, ions, &mut NullSink, 0.0)
    }

    /// Delivers an event with NetCon weights `weights` (NET_RECEIVE arguments, which the block
    /// may modify) and `flag` (0 for NetCon events) to `instance` at `env.t`.
    #[allow(clippy::too_many_arguments)]
    pub fn net_receive(
        &self,
        inst: &mut Instances,
        instance: usize,
        weights: &mut [f64],
        flag: f64,
        env: &Env,
        ions: &mut IonPools,
        sink: &mut dyn EventSink,
    ) -> Result<()> {
        let Some((prog, regs)) = &self.net_receive else {
            return Err(Error::Unsupported {
                mechanism: self.mech.name.clone(),
                construct: "event delivered to a mechanism without NET_RECEIVE".into(),
            });
        };
        self.run_one(prog, regs, inst, instance, weights, flag, env, ions, sink)
    }

    /// Runs NET_RECEIVE's INITIAL for one NetCon (weights `weights`) of `instance`; nothing
    /// when the block has none.
    pub fn net_receive_init(
        &self,
        inst: &mut Instances,
        instance: usize,
        weights: &mut [f64],
        env: &Env,
        ions: &mut IonPools,
        sink: &mut dyn EventSink,
    ) -> Result<()> {
        match &self.net_receive_init {
            Some((prog, regs)) => {
                self.run_one(prog, regs, inst, instance, weights, 0.0, env, ions, sink)
            }
            None => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_one(
        &self,
        prog: &Program,
        regs: &[R],
        inst: &mut Instances,
        instance: usize,
        weights: &mut [f64],
        flag: f64,
        env: &Env,
        ions: &mut IonPools,
        sink: &mut dyn EventSink,
    ) -> Result<()> {
        self.check_env(inst, env, ions)?;
        if instance >= inst.n {
            return Err(shape("instance index", inst.n, instance));
        }
        let n_args = self
            .mech
            .net_receive
            .as_ref()
            .map(|n| n.n_args)
            .unwrap_or(0);
        if weights.len() < n_args {
            return Err(shape("NET_RECEIVE weights", n_args, weights.len()));
        }
        let mut vm = Vm::new(self, inst, env, ions, sink, instance, 1);
        vm.flag = flag;
        vm.prologue(prog);
        for (k, w) in weights.iter().enumerate().take(n_args) {
            if let Some(r) = regs.get(k).and_then(|r| vm.s.regs.get_mut(*r)) {
                r[0] = *w;
            }
        }
        vm.run_body(&prog.ops)?;
        for (k, w) in weights.iter_mut().enumerate().take(n_args) {
            if let Some(r) = regs.get(k).and_then(|r| vm.s.regs.get(*r)) {
                *w = r[0];
            }
        }
        Ok(())
    }

    fn run_blocks(
        &self,
        prog: &Program,
        inst: &mut Instances,
        env: &Env,
        ions: &mut IonPools,
        sink: &mut dyn EventSink,
        v_off: f64,
    ) -> Result<()> {
        if !prog.has_effects() {
            return Ok(());
        }
        let n = inst.n;
        let mut base = 0;
        while base < n {
            let len = (n - base).min(W);
            let mut vm = Vm::new(self, inst, env, ions, sink, base, len);
            vm.v_off = v_off;
            vm.run(&prog.ops)?;
            base += len;
        }
        Ok(())
    }

    fn const_eval(&self, e: &nmodl::ir::Expr, globals: &[f64], env: &Env) -> f64 {
        use nmodl::ir::{BinOp, Builtin, Expr, Place, UnOp};
        match e {
            Expr::Num(x) => *x,
            Expr::Load(Place::Var(v), None) => match self.layout.homes.get(*v) {
                Some(Home::Global { first, .. }) => {
                    globals.get(*first).copied().unwrap_or(f64::NAN)
                }
                _ => f64::NAN,
            },
            Expr::Load(Place::Builtin(Builtin::Celsius), None) => env.celsius,
            Expr::Load(Place::Builtin(Builtin::Dt), None) => env.dt,
            Expr::Unary(UnOp::Neg, x) => -self.const_eval(x, globals, env),
            Expr::Binary(op, a, b) => {
                let (a, b) = (
                    self.const_eval(a, globals, env),
                    self.const_eval(b, globals, env),
                );
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Pow => a.powf(b),
                    _ => f64::NAN,
                }
            }
            _ => f64::NAN,
        }
    }

    fn build_table(
        &self,
        def: &TableDef,
        globals: &[f64],
        env: &Env,
        key: Vec<f64>,
    ) -> Result<TableData> {
        let from = self.const_eval(&def.from, globals, env);
        let to = self.const_eval(&def.to, globals, env);
        let with = self.const_eval(&def.with, globals, env);
        if !(from.is_finite() && to.is_finite() && (1.0..1e7).contains(&with)) {
            return Err(Error::Runtime {
                mechanism: self.mech.name.clone(),
                what: format!("TABLE bounds FROM {from} TO {to} WITH {with} are not usable"),
            });
        }
        let with = with as usize;
        let npts = with + 1;
        // A scratch instance set, one instance per table point, sharing the globals.
        let mut ions = IonPools::new(1);
        let mut tmp = self.instantiate(&vec![0; npts], &mut ions)?;
        tmp.globals = globals.to_vec();
        tmp.cols.push(
            (0..npts)
                .map(|i| from + (to - from) * i as f64 / with as f64)
                .collect(),
        );
        for _ in 1..def.extra_cols {
            tmp.cols.push(vec![0.0; npts]);
        }
        tmp.scratch.regs = vec![[0.0; W]; def.builder.n_regs.max(self.n_regs)];
        tmp.scratch.masks = vec![[false; W]; def.builder.n_masks.max(self.n_masks) + 1];
        tmp.scratch.loops = vec![0; def.builder.n_loops.max(self.n_loops)];
        let zero = [0.0];
        let one = [1.0];
        let env1 = Env {
            t: env.t,
            dt: env.dt,
            celsius: env.celsius,
            v: &zero,
            area: &one,
            diam: &one,
        };
        let mut base = 0;
        while base < npts {
            let len = (npts - base).min(W);
            let mut null = NullSink;
            let mut vm = Vm::new(self, &mut tmp, &env1, &mut ions, &mut null, base, len);
            vm.run(&def.builder.ops)?;
            base += len;
        }
        let mut values = Vec::new();
        for (first, len) in &def.out_cols {
            for k in 0..*len {
                values.push(tmp.cols.get(first + k).cloned().unwrap_or_default());
            }
        }
        let side = def
            .side_globals
            .iter()
            .map(|g| (*g, tmp.globals.get(*g).copied().unwrap_or(f64::NAN)))
            .collect();
        Ok(TableData {
            key,
            from,
            to,
            with,
            values,
            side,
        })
    }

    /// Looks a variable up by name.
    fn var(&self, name: &str) -> Result<Home> {
        self.mech
            .variables
            .iter()
            .position(|v| v.name == name)
            .and_then(|i| self.layout.homes.get(i).copied())
            .ok_or_else(|| Error::NoSuchVariable {
                mechanism: self.mech.name.clone(),
                name: name.to_string(),
            })
    }

    /// The per-instance column of RANGE variable `name` (element `elem` of an array).
    pub fn column<'i>(&self, inst: &'i Instances, name: &str, elem: usize) -> Result<&'i [f64]> {
        match self.var(name)? {
            Home::Col { first, len } if elem < len => inst
                .cols
                .get(first + elem)
                .map(|c| c.as_slice())
                .ok_or_else(|| shape("column", inst.cols.len(), first + elem)),
            Home::Col { len, .. } => Err(shape("array element", len, elem)),
            Home::Global { .. } => Err(Error::NoSuchVariable {
                mechanism: self.mech.name.clone(),
                name: format!("{name} (it is GLOBAL)"),
            }),
        }
    }

    /// The per-instance column of `name`, mutably (set parameters before `init`).
    pub fn column_mut<'i>(
        &self,
        inst: &'i mut Instances,
        name: &str,
        elem: usize,
    ) -> Result<&'i mut [f64]> {
        match self.var(name)? {
            Home::Col { first, len } if elem < len => {
                let nc = inst.cols.len();
                inst.cols
                    .get_mut(first + elem)
                    .map(|c| c.as_mut_slice())
                    .ok_or_else(|| shape("column", nc, first + elem))
            }
            Home::Col { len, .. } => Err(shape("array element", len, elem)),
            Home::Global { .. } => Err(Error::NoSuchVariable {
                mechanism: self.mech.name.clone(),
                name: format!("{name} (it is GLOBAL)"),
            }),
        }
    }

    /// The value of GLOBAL `name`.
    pub fn global(&self, inst: &Instances, name: &str) -> Result<f64> {
        match self.var(name)? {
            Home::Global { first, .. } => inst
                .globals
                .get(first)
                .copied()
                .ok_or_else(|| shape("global", inst.globals.len(), first)),
            Home::Col { .. } => Err(Error::NoSuchVariable {
                mechanism: self.mech.name.clone(),
                name: format!("{name} (it is RANGE)"),
            }),
        }
    }

    /// Sets GLOBAL `name` (tables that DEPEND on it are rebuilt at the next call).
    pub fn set_global(&self, inst: &mut Instances, name: &str, value: f64) -> Result<()> {
        match self.var(name)? {
            Home::Global { first, .. } => {
                let n = inst.globals.len();
                let g = inst
                    .globals
                    .get_mut(first)
                    .ok_or_else(|| shape("global", n, first))?;
                *g = value;
                Ok(())
            }
            Home::Col { .. } => Err(Error::NoSuchVariable {
                mechanism: self.mech.name.clone(),
                name: format!("{name} (it is RANGE)"),
            }),
        }
    }

    /// Whether variable `name` is a STATE.
    pub fn is_state(&self, name: &str) -> bool {
        self.mech
            .variables
            .iter()
            .any(|v| v.name == name && v.role == Role::State)
    }
}

impl Instances {
    /// Membrane current per instance from the last `compute_currents`: mA/cm² for density
    /// mechanisms, nA for point processes; outward positive (ELECTRODE_CURRENTs enter with
    /// the opposite sign, so a positive electrode current makes this negative).
    pub fn i(&self) -> &[f64] {
        &self.i
    }

    /// dI/dv of [`Instances::i`] per instance (S/cm² or µS).
    pub fn g(&self) -> &[f64] {
        &self.g
    }

    /// Number of instances.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Compartment of each instance.
    pub fn nodes(&self) -> &[usize] {
        &self.node
    }

    /// Every per-instance column, in layout order (for scanning results).
    pub fn columns(&self) -> &[Vec<f64>] {
        &self.cols
    }
}

/// Crate-internal views for the engine's native kernels (`crate::fast`): where a variable's
/// column is, and a TABLE's current contents, so a native kernel reads and writes exactly what
/// the interpreter would.
impl Compiled {
    /// Column index of RANGE variable `name` (its element 0), if it has one.
    pub(crate) fn col_index(&self, name: &str) -> Option<usize> {
        match self.var(name) {
            Ok(Home::Col { first, .. }) => Some(first),
            _ => None,
        }
    }

    /// Number of TABLEs in use (0 when tables are off).
    pub(crate) fn n_tables(&self) -> usize {
        self.tables.len()
    }

    /// Names of the outputs of TABLE `t`, in the order of its value arrays (`None` for a
    /// function's return value).
    pub(crate) fn table_outputs(&self, t: usize) -> Option<Vec<Option<&str>>> {
        let def = self.tables.get(t)?;
        Some(
            def.outputs
                .iter()
                .map(|o| o.and_then(|v| self.mech.variables.get(v).map(|x| x.name.as_str())))
                .collect(),
        )
    }
}

impl Instances {
    /// Every per-instance column, mutably.
    pub(crate) fn cols_mut(&mut self) -> &mut [Vec<f64>] {
        &mut self.cols
    }

    /// TABLE `t` as last built: (from, to, with, one array of `with + 1` values per output);
    /// `None` before it is built.
    pub(crate) fn table(&self, t: usize) -> Option<(f64, f64, usize, &[Vec<f64>])> {
        let d = self.tables.get(t)?;
        (!d.values.is_empty()).then_some((d.from, d.to, d.with, d.values.as_slice()))
    }
}

/// The interpreter for one block.
struct Vm<'a> {
    c: &'a Compiled,
    env: &'a Env<'a>,
    ions: &'a mut IonPools,
    sink: &'a mut dyn EventSink,
    cols: &'a mut [Vec<f64>],
    globals: &'a mut [f64],
    node: &'a [usize],
    ion_pool: &'a [usize],
    tables: &'a mut [TableData],
    watch: &'a mut WatchState,
    streams: &'a mut [Vec<(u64, u64)>],
    /// Lanes whose WATCHes were disarmed in this call.
    watch_cleared: [bool; W],
    s: &'a mut Scratch,
    base: usize,
    len: usize,
    v_off: f64,
    flag: f64,
    depth: usize,
    cur_sys: Option<usize>,
}

/// NEURON's check_table, at use: rebuilds table `t` of `tables` when a DEPEND value changed
/// (and copies the GLOBALs its builder leaves behind into `globals`).
fn refresh_table(
    c: &Compiled,
    t: usize,
    tables: &mut [TableData],
    globals: &mut [f64],
    env: &Env,
) -> Result<()> {
    let missing = || Error::Runtime {
        mechanism: c.mech.name.clone(),
        what: "table missing".into(),
    };
    let def = c.tables.get(t).ok_or_else(missing)?;
    let now = |dep: &DependRef, globals: &[f64]| match dep {
        DependRef::Celsius => env.celsius,
        DependRef::Dt => env.dt,
        DependRef::Global(g) => globals.get(*g).copied().unwrap_or(f64::NAN),
    };
    let stale = match tables.get(t) {
        Some(d) => {
            d.values.is_empty()
                || d.key.len() != def.depend.len()
                || def
                    .depend
                    .iter()
                    .zip(&d.key)
                    .any(|(dep, old)| now(dep, globals).to_bits() != old.to_bits())
        }
        None => return Err(missing()),
    };
    if stale {
        let key = def.depend.iter().map(|dep| now(dep, globals)).collect();
        let data = c.build_table(def, globals, env, key)?;
        for (g, x) in &data.side {
            if let Some(y) = globals.get_mut(*g) {
                *y = *x;
            }
        }
        if let Some(slot) = tables.get_mut(t) {
            *slot = data;
        }
    }
    Ok(())
}

impl<'a> Vm<'a> {
    fn new(
        c: &'a Compiled,
        inst: &'a mut Instances,
        env: &'a Env<'a>,
        ions: &'a mut IonPools,
        sink: &'a mut dyn EventSink,
        base: usize,
        len: usize,
    ) -> Self {
        Vm {
            c,
            env,
            ions,
            sink,
            cols: &mut inst.cols,
            globals: &mut inst.globals,
            node: &inst.node,
            ion_pool: &inst.ion_pool,
            tables: &mut inst.tables,
            watch: &mut inst.watch,
            streams: &mut inst.streams,
            watch_cleared: [false; W],
            s: &mut inst.scratch,
            base,
            len,
            v_off: 0.0,
            flag: 0.0,
            depth: 0,
            cur_sys: None,
        }
    }

    fn err(&self, what: impl Into<String>) -> Error {
        Error::Runtime {
            mechanism: self.c.mech.name.clone(),
            what: what.into(),
        }
    }

    fn prologue(&mut self, _prog: &Program) {
        let mut m = [false; W];
        for x in m.iter_mut().take(self.len) {
            *x = true;
        }
        if let Some(top) = self.s.masks.first_mut() {
            *top = m;
        }
        self.depth = 0;
        self.s.loops.iter_mut().for_each(|x| *x = 0);
    }

    fn run(&mut self, ops: &[Op]) -> Result<()> {
        self.prologue_default();
        self.run_body(ops)
    }

    fn prologue_default(&mut self) {
        let p = Program::default();
        self.prologue(&p);
    }

    fn read_home(&self, h: Home) -> [f64; W] {
        let mut o = [0.0; W];
        match h {
            Home::Col { first, .. } => {
                if let Some(c) = self.cols.get(first) {
                    o[..self.len].copy_from_slice(&c[self.base..self.base + self.len]);
                }
            }
            Home::Global { first, .. } => {
                let x = self.globals.get(first).copied().unwrap_or(f64::NAN);
                o = [x; W];
            }
        }
        o
    }

    #[inline]
    fn reg(&self, r: R) -> [f64; W] {
        self.s.regs.get(r).copied().unwrap_or([f64::NAN; W])
    }

    #[inline]
    fn mask(&self) -> [bool; W] {
        self.s.masks.get(self.depth).copied().unwrap_or([false; W])
    }

    #[inline]
    fn set(&mut self, d: R, x: [f64; W]) {
        if let Some(o) = self.s.regs.get_mut(d) {
            *o = x;
        }
    }

    fn run_body(&mut self, ops: &[Op]) -> Result<()> {
        let mut pc = 0;
        let (base, len) = (self.base, self.len);
        while let Some(op) = ops.get(pc) {
            pc += 1;
            match op {
                Op::Const { d, x } => {
                    if let Some(o) = self.s.regs.get_mut(*d) {
                        o.fill(*x);
                    }
                }
                Op::Mov { d, s } => {
                    if let Ok([o, x]) = self.s.regs.get_disjoint_mut([*d, *s]) {
                        *o = *x;
                    }
                }
                Op::Sel { d, s } => {
                    let Some(m) = self.s.masks.get(self.depth) else {
                        continue;
                    };
                    if let Ok([o, x]) = self.s.regs.get_disjoint_mut([*d, *s]) {
                        for l in 0..W {
                            if m[l] {
                                o[l] = x[l];
                            }
                        }
                    }
                }
                Op::LoadCol { d, col } => {
                    if let (Some(o), Some(c)) = (self.s.regs.get_mut(*d), self.cols.get(*col)) {
                        o[..len].copy_from_slice(&c[base..base + len]);
                    }
                }
                Op::StoreCol { col, s } => {
                    let (Some(x), Some(m)) = (self.s.regs.get(*s), self.s.masks.get(self.depth))
                    else {
                        continue;
                    };
                    if let Some(c) = self.cols.get_mut(*col) {
                        let c = &mut c[base..base + len];
                        if self.depth == 0 {
                            c.copy_from_slice(&x[..len]);
                        } else {
                            for l in 0..len {
                                if m[l] {
                                    c[l] = x[l];
                                }
                            }
                        }
                    }
                }
                Op::LoadColDyn {
                    d,
                    first,
                    len: n,
                    idx,
                } => {
                    let ix = self.reg(*idx);
                    let m = self.mask();
                    let mut o = [0.0; W];
                    for l in 0..len {
                        match elem(ix[l], *n) {
                            Some(k) => {
                                o[l] = self
                                    .cols
                                    .get(first + k)
                                    .map(|c| c[base + l])
                                    .unwrap_or(f64::NAN)
                            }
                            None if m[l] => {
                                return Err(self.err(format!("array index {} out of 0..{n}", ix[l])))
                            }
                            None => o[l] = f64::NAN,
                        }
                    }
                    self.set(*d, o);
                }
                Op::StoreColDyn {
                    first,
                    len: n,
                    idx,
                    s,
                } => {
                    let ix = self.reg(*idx);
                    let x = self.reg(*s);
                    let m = self.mask();
                    for l in 0..len {
                        if !m[l] {
                            continue;
                        }
                        match elem(ix[l], *n).and_then(|k| self.cols.get_mut(first + k)) {
                            Some(c) => c[base + l] = x[l],
                            None => {
                                return Err(self.err(format!("array index {} out of 0..{n}", ix[l])))
                            }
                        }
                    }
                }
                Op::LoadGlobal { d, g } => {
                    let x = self.globals.get(*g).copied().unwrap_or(f64::NAN);
                    self.set(*d, [x; W]);
                }
                Op::StoreGlobal { g, s } => {
                    let x = self.reg(*s);
                    let m = self.mask();
                    if let Some(l) = (0..len).rev().find(|&l| m[l]) {
                        if let Some(gv) = self.globals.get_mut(*g) {
                            *gv = x[l];
                        }
                    }
                }
                Op::LoadGlobalDyn {
                    d,
                    first,
                    len: n,
                    idx,
                } => {
                    let ix = self.reg(*idx);
                    let mut o = [f64::NAN; W];
                    for l in 0..W {
                        if let Some(k) = elem(ix[l], *n) {
                            o[l] = self.globals.get(first + k).copied().unwrap_or(f64::NAN);
                        } else if l < len && self.mask()[l] {
                            return Err(self.err(format!("array index {} out of 0..{n}", ix[l])));
                        }
                    }
                    self.set(*d, o);
                }
                Op::StoreGlobalDyn {
                    first,
                    len: n,
                    idx,
                    s,
                } => {
                    let ix = self.reg(*idx);
                    let x = self.reg(*s);
                    let m = self.mask();
                    for l in 0..len {
                        if !m[l] {
                            continue;
                        }
                        match elem(ix[l], *n).and_then(|k| self.globals.get_mut(first + k)) {
                            Some(g) => *g = x[l],
                            None => {
                                return Err(self.err(format!("array index {} out of 0..{n}", ix[l])))
                            }
                        }
                    }
                }
                Op::LoadRegDyn {
                    d,
                    first,
                    len: n,
                    idx,
                } => {
                    let ix = self.reg(*idx);
                    let m = self.mask();
                    let mut o = [f64::NAN; W];
                    for l in 0..W {
                        match elem(ix[l], *n) {
                            Some(k) => o[l] = self.reg(first + k)[l],
                            None if l < len && m[l] => {
                                return Err(self.err(format!("array index {} out of 0..{n}", ix[l])))
                            }
                            None => {}
                        }
                    }
                    self.set(*d, o);
                }
                Op::StoreRegDyn {
                    first,
                    len: n,
                    idx,
                    s,
                } => {
                    let ix = self.reg(*idx);
                    let x = self.reg(*s);
                    let m = self.mask();
                    for l in 0..len {
                        if !m[l] {
                            continue;
                        }
                        match elem(ix[l], *n) {
                            Some(k) => {
                                if let Some(r) = self.s.regs.get_mut(first + k) {
                                    r[l] = x[l];
                                }
                            }
                            None => {
                                return Err(self.err(format!("array index {} out of 0..{n}", ix[l])))
                            }
                        }
                    }
                }
                Op::LoadNode { d, what } => {
                    let src = match what {
                        NodeVal::V => self.env.v,
                        NodeVal::Area => self.env.area,
                        NodeVal::Diam => self.env.diam,
                    };
                    let off = if *what == NodeVal::V { self.v_off } else { 0.0 };
                    let nodes = self.node.get(base..base + len).unwrap_or(&[]);
                    if let Some(o) = self.s.regs.get_mut(*d) {
                        // A node out of range reads NaN.
                        for (o, &k) in o.iter_mut().zip(nodes) {
                            *o = src.get(k).copied().unwrap_or(f64::NAN) + off;
                        }
                    }
                }
                Op::LoadScalar { d, what } => {
                    let x = match what {
                        ScalarVal::T => self.env.t,
                        ScalarVal::Dt => self.env.dt,
                        ScalarVal::Celsius => self.env.celsius,
                        ScalarVal::Flag => self.flag,
                    };
                    self.set(*d, [x; W]);
                }
                Op::LoadIon { d, ion, kind } => {
                    let p = self.ion_pool.get(*ion).copied().unwrap_or(usize::MAX);
                    let mut o = [f64::NAN; W];
                    if let Some(pool) = self.ions.pool(p) {
                        let src = match kind {
                            IonVarKind::Current => &pool.current,
                            IonVarKind::Reversal => &pool.e,
                            IonVarKind::Inside => &pool.conc_in,
                            IonVarKind::Outside => &pool.conc_out,
                            IonVarKind::Conductance => &pool.didv,
                        };
                        for l in 0..len {
                            let k = self.node.get(base + l).copied().unwrap_or(usize::MAX);
                            o[l] = src.get(k).copied().unwrap_or(f64::NAN);
                        }
                    }
                    self.set(*d, o);
                }
                Op::StoreIon { ion, kind, s } => {
                    let x = self.reg(*s);
                    let m = self.mask();
                    let p = self.ion_pool.get(*ion).copied().unwrap_or(usize::MAX);
                    let node = self.node;
                    if let Some(pool) = self.ions.pool_mut(p) {
                        let dst = match kind {
                            IonVarKind::Current => &mut pool.current,
                            IonVarKind::Reversal => &mut pool.e,
                            IonVarKind::Inside => &mut pool.conc_in,
                            IonVarKind::Outside => &mut pool.conc_out,
                            IonVarKind::Conductance => &mut pool.didv,
                        };
                        for l in 0..len {
                            if m[l] {
                                let k = node.get(base + l).copied().unwrap_or(usize::MAX);
                                if let Some(y) = dst.get_mut(k) {
                                    *y = x[l];
                                }
                            }
                        }
                    }
                }
                Op::Un { f, d, a } => {
                    if let Ok([o, x]) = self.s.regs.get_disjoint_mut([*d, *a]) {
                        un(*f, x, o);
                    } else {
                        let x = self.reg(*a);
                        let mut o = [0.0; W];
                        un(*f, &x, &mut o);
                        self.set(*d, o);
                    }
                }
                Op::Bin { f, d, a, b } => {
                    let regs = &mut self.s.regs;
                    if a == b {
                        if let Ok([o, x]) = regs.get_disjoint_mut([*d, *a]) {
                            let y = &*x;
                            bin(*f, y, y, o);
                            continue;
                        }
                    } else if let Ok([o, x, y]) = regs.get_disjoint_mut([*d, *a, *b]) {
                        bin(*f, x, y, o);
                        continue;
                    }
                    let x = self.reg(*a);
                    let y = self.reg(*b);
                    let mut o = [0.0; W];
                    bin(*f, &x, &y, &mut o);
                    self.set(*d, o);
                }
                Op::Un1 { f, d, a } => {
                    let y = un1(*f, self.s.regs.get(*a).map(|r| r[0]).unwrap_or(f64::NAN));
                    self.set(*d, [y; W]);
                }
                Op::Bin1 { f, d, a, b } => {
                    let y = bin1(*f, self.reg(*a)[0], self.reg(*b)[0]);
                    self.set(*d, [y; W]);
                }
                Op::Ghk { d, args } => {
                    let [v, ci, co, z] = args.map(|r| self.reg(r));
                    let mut o = [0.0; W];
                    let celsius = self.env.celsius;
                    for l in 0..W {
                        o[l] = mathx::ghk(v[l], ci[l], co[l], z[l], celsius);
                    }
                    self.set(*d, o);
                }
                Op::Random { f, d, a, b } => {
                    let x = self.reg(*a);
                    let y = self.reg(*b);
                    let mut o = [0.0; W];
                    for l in 0..W {
                        o[l] = match f {
                            Rand::Uniform => mathx::uniform(&mut self.s.rng),
                            Rand::Exp => -x[l] * (1.0 - mathx::uniform(&mut self.s.rng)).ln(),
                            Rand::Normal => x[l] + y[l] * mathx::normal(&mut self.s.rng),
                            Rand::Poisson => mathx::poisson(&mut self.s.rng, x[l]),
                            Rand::Seed => {
                                self.s.rng = (x[l] as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                                0.0
                            }
                        };
                    }
                    self.set(*d, o);
                }
                Op::RandomVar {
                    f,
                    rv,
                    d,
                    args,
                    nargs,
                } => {
                    let [a0, a1, a2] = args.map(|r| self.reg(r));
                    let m = self.mask();
                    let mut o = [0.0; W];
                    for l in 0..len {
                        if !m[l] {
                            continue;
                        }
                        let Some(st) = self.streams.get_mut(*rv).and_then(|s| s.get_mut(base + l))
                        else {
                            continue;
                        };
                        o[l] = match f {
                            RandVar::Setseq => {
                                st.1 = a0[l].max(0.0) as u64;
                                0.0
                            }
                            RandVar::Setids => {
                                *st = (mathx::stream_key(&[a0[l], a1[l], a2[l]]), 0);
                                0.0
                            }
                            RandVar::Uniform => {
                                let u = mathx::stream_uniform(st);
                                if *nargs >= 2 {
                                    a0[l] + (a1[l] - a0[l]) * u
                                } else {
                                    u
                                }
                            }
                            RandVar::Negexp => {
                                let mean = if *nargs >= 1 { a0[l] } else { 1.0 };
                                -mean * (1.0 - mathx::stream_uniform(st)).ln()
                            }
                            RandVar::Normal => {
                                let u1 = 1.0 - mathx::stream_uniform(st);
                                let u2 = mathx::stream_uniform(st);
                                let z = (-2.0 * u1.ln()).sqrt()
                                    * (2.0 * std::f64::consts::PI * u2).cos();
                                if *nargs >= 2 {
                                    a0[l] + a1[l] * z
                                } else {
                                    z
                                }
                            }
                        };
                    }
                    self.set(*d, o);
                }
                Op::ForCond { d, i, to, by } => {
                    let (i, to, by) = (self.reg(*i), self.reg(*to), self.reg(*by));
                    let mut o = [0.0; W];
                    for l in 0..W {
                        let go = (by[l] > 0.0 && i[l] <= to[l]) || (by[l] < 0.0 && i[l] >= to[l]);
                        o[l] = if go { 1.0 } else { 0.0 };
                    }
                    self.set(*d, o);
                }
                Op::MaskPush { c, neg } => {
                    let Some(x) = self.s.regs.get(*c) else {
                        continue;
                    };
                    let depth = self.depth;
                    match self.s.masks.get_disjoint_mut([depth, depth + 1]) {
                        Ok([top, m]) => {
                            for l in 0..W {
                                m[l] = top[l] && ((x[l] != 0.0) != *neg);
                            }
                        }
                        Err(_) => return Err(self.err("mask stack overflow")),
                    }
                    self.depth += 1;
                }
                Op::MaskPop => self.depth = self.depth.saturating_sub(1),
                Op::JumpIfNone { to } => {
                    let any = self
                        .s
                        .masks
                        .get(self.depth)
                        .is_some_and(|m| m.iter().any(|x| *x));
                    if !any {
                        pc = *to;
                    }
                }
                Op::Jump { to } => pc = *to,
                Op::LoopGuard { slot } => {
                    if let Some(c) = self.s.loops.get_mut(*slot) {
                        *c += 1;
                        if *c > MAX_LOOP {
                            return Err(self.err("a while/FROM loop ran more than 1e7 iterations"));
                        }
                    }
                }
                Op::Table { t, arg, ret } => self.table(*t, *arg, *ret)?,
                Op::Implicit { sys } => self.implicit(*sys)?,
                Op::NetSend { delay, flag } => {
                    let (dl, fl) = (self.reg(*delay), self.reg(*flag));
                    let m = self.mask();
                    for l in 0..len {
                        if m[l] {
                            self.sink.net_send(base + l, self.env.t + dl[l], fl[l]);
                        }
                    }
                }
                Op::NetEvent { t } => {
                    let x = self.reg(*t);
                    let m = self.mask();
                    for l in 0..len {
                        if m[l] {
                            self.sink.net_event(base + l, x[l]);
                        }
                    }
                }
                Op::NetMove { t } => {
                    let x = self.reg(*t);
                    let m = self.mask();
                    for l in 0..len {
                        if m[l] {
                            self.sink.net_move(base + l, x[l]);
                        }
                    }
                }
                Op::WatchArm { w, cond, flag } => {
                    let (c, f) = (self.reg(*cond), self.reg(*flag));
                    let m = self.mask();
                    for l in 0..len {
                        if !m[l] {
                            continue;
                        }
                        let i = base + l;
                        if !self.watch_cleared[l] {
                            self.watch_cleared[l] = true;
                            for a in self.watch.armed.iter_mut() {
                                if let Some(x) = a.get_mut(i) {
                                    *x = false;
                                }
                            }
                        }
                        let ws = &mut self.watch;
                        if let (Some(a), Some(fl), Some(la)) = (
                            ws.armed.get_mut(*w).and_then(|v| v.get_mut(i)),
                            ws.flag.get_mut(*w).and_then(|v| v.get_mut(i)),
                            ws.last.get_mut(*w).and_then(|v| v.get_mut(i)),
                        ) {
                            *a = true;
                            *fl = f[l];
                            *la = c[l] != 0.0;
                        }
                    }
                }
                Op::Deriv { k, s } => {
                    let x = self.reg(*s);
                    let m = self.mask();
                    if let Some(f) = self.s.f.get_mut(*k) {
                        for l in 0..W {
                            if m[l] {
                                f[l] = x[l];
                            }
                        }
                    }
                }
                Op::Reaction {
                    lhs,
                    rhs,
                    kf,
                    kb,
                    ff,
                    bf,
                } => self.reaction(lhs, rhs, *kf, *kb, *ff, *bf)?,
                Op::Flux { x, v } => {
                    let val = self.reg(*v);
                    for l in 0..len {
                        if let Some(k) = self.slot(x, l)? {
                            if let Some(f) = self.s.f.get_mut(k) {
                                f[l] += val[l];
                            }
                        }
                    }
                }
                Op::Compartment { vol, xs } => {
                    let val = self.reg(*vol);
                    for x in xs {
                        for l in 0..len {
                            if let Some(k) = self.slot(x, l)? {
                                if let Some(v) = self.s.vol.get_mut(k) {
                                    v[l] = val[l];
                                }
                            }
                        }
                    }
                }
                Op::Conserve { terms, rhs } => self.conserve(terms, *rhs)?,
            }
        }
        Ok(())
    }

    fn table(&mut self, t: usize, arg: R, ret: Option<R>) -> Result<()> {
        let c = self.c;
        let Some(def) = c.tables.get(t) else {
            return Err(self.err("table missing"));
        };
        refresh_table(c, t, self.tables, self.globals, self.env)?;
        let Some(data) = self.tables.get(t) else {
            return Err(self.err("table missing"));
        };
        let x = self.reg(arg);
        let m = self.mask();
        let (base, len) = (self.base, self.len);
        let scale = data.with as f64 / (data.to - data.from);
        let mut xi = [0.0; W];
        for l in 0..W {
            xi[l] = (x[l] - data.from) * scale;
        }
        let mut vals = data.values.iter();
        for (o, (_, n_el)) in def.outputs.iter().zip(&def.out_cols) {
            for e in 0..*n_el {
                let Some(vs) = vals.next() else { break };
                let mut y = [0.0; W];
                for l in 0..W {
                    y[l] = interp(vs, xi[l], data.with);
                }
                match o.map(|v| c.layout.homes.get(v)) {
                    None => {
                        if let Some(r) = ret.and_then(|r| self.s.regs.get_mut(r)) {
                            *r = y;
                        }
                    }
                    Some(Some(Home::Col { first, .. })) => {
                        if let Some(col) = self.cols.get_mut(first + e) {
                            for l in 0..len {
                                if m[l] {
                                    col[base + l] = y[l];
                                }
                            }
                        }
                    }
                    Some(Some(Home::Global { first, .. })) => {
                        // A GLOBAL output: the last active lane's value remains (NEURON's
                        // GLOBAL is shared, so instances overwrite each other as well).
                        if let Some(l) = (0..len).rev().find(|&l| m[l]) {
                            if let Some(g) = self.globals.get_mut(first + e) {
                                *g = y[l];
                            }
                        }
                    }
                    Some(None) => {}
                }
            }
        }
        Ok(())
    }

    /// State slot of a species in lane `l` (None: not a solved state).
    fn slot(&self, sp: &Species, l: usize) -> Result<Option<usize>> {
        let sys = self.cur_sys.and_then(|s| self.c.systems.get(s));
        let Some(sys) = sys else { return Ok(None) };
        match sp {
            Species::Col(c) => Ok(sys.slot_of_col.get(c).copied()),
            Species::Dyn { first, len, idx } => {
                let i = self.reg(*idx)[l];
                match elem(i, *len) {
                    Some(k) => Ok(sys.slot_of_col.get(&(first + k)).copied()),
                    None => Err(self.err(format!("array index {i} out of 0..{len}"))),
                }
            }
            Species::Value(_) => Ok(None),
        }
    }

    fn species_value(&self, sp: &Species, l: usize) -> Result<f64> {
        Ok(match sp {
            Species::Col(c) => self
                .cols
                .get(*c)
                .map(|c| c[self.base + l])
                .unwrap_or(f64::NAN),
            Species::Dyn { first, len, idx } => {
                let i = self.reg(*idx)[l];
                match elem(i, *len) {
                    Some(k) => self
                        .cols
                        .get(first + k)
                        .map(|c| c[self.base + l])
                        .unwrap_or(f64::NAN),
                    None => return Err(self.err(format!("array index {i} out of 0..{len}"))),
                }
            }
            Species::Value(r) => self.reg(*r)[l],
        })
    }
}

/// Array element `x` if it is a valid index below `n`.
fn elem(x: f64, n: usize) -> Option<usize> {
    if x >= 0.0 && x < n as f64 {
        Some(x as usize)
    } else {
        None
    }
}

/// NEURON's table lookup: `xi = (x − from)·with/(to − from)`; `xi ≤ 0` gives the first point,
/// `xi ≥ with` the last, else linear interpolation; NaN stays NaN.
fn interp(vals: &[f64], xi: f64, with: usize) -> f64 {
    if xi.is_nan() {
        return f64::NAN;
    }
    let first = vals.first().copied().unwrap_or(f64::NAN);
    let last = vals.get(with).copied().unwrap_or(f64::NAN);
    if xi <= 0.0 {
        return first;
    }
    if xi >= with as f64 {
        return last;
    }
    let i = xi as usize;
    let th = xi - i as f64;
    match (vals.get(i), vals.get(i + 1)) {
        (Some(a), Some(b)) => a + th * (b - a),
        _ => f64::NAN,
    }
}

fn un1(f: F1, x: f64) -> f64 {
    let mut o = [0.0; W];
    un(f, &[x; W], &mut o);
    o[0]
}

fn bin1(f: F2, x: f64, y: f64) -> f64 {
    let mut o = [0.0; W];
    bin(f, &[x; W], &[y; W], &mut o);
    o[0]
}

#[inline]
fn un(f: F1, x: &[f64; W], o: &mut [f64; W]) {
    macro_rules! lanes {
        ($e:expr) => {
            for l in 0..W {
                let a = x[l];
                o[l] = $e(a);
            }
        };
    }
    match f {
        F1::Neg => lanes!(|a: f64| -a),
        F1::Not => lanes!(|a: f64| if a == 0.0 { 1.0 } else { 0.0 }),
        F1::Exp => lanes!(f64::exp),
        F1::Log => lanes!(f64::ln),
        F1::Log10 => lanes!(f64::log10),
        F1::Sqrt => lanes!(f64::sqrt),
        F1::Fabs => lanes!(f64::abs),
        F1::Sin => lanes!(f64::sin),
        F1::Cos => lanes!(f64::cos),
        F1::Tan => lanes!(f64::tan),
        F1::Asin => lanes!(f64::asin),
        F1::Acos => lanes!(f64::acos),
        F1::Atan => lanes!(f64::atan),
        F1::Sinh => lanes!(f64::sinh),
        F1::Cosh => lanes!(f64::cosh),
        F1::Tanh => lanes!(f64::tanh),
        F1::Floor => lanes!(f64::floor),
        F1::Ceil => lanes!(f64::ceil),
        F1::Erf => lanes!(mathx::erf),
        F1::Erfc => lanes!(mathx::erfc),
        F1::Exprelr => lanes!(mathx::exprelr),
        F1::Zero => *o = [0.0; W],
    }
}

#[inline]
fn bin(f: F2, x: &[f64; W], y: &[f64; W], o: &mut [f64; W]) {
    macro_rules! lanes {
        ($e:expr) => {
            for l in 0..W {
                let (a, b) = (x[l], y[l]);
                o[l] = $e(a, b);
            }
        };
    }
    let t = |c: bool| if c { 1.0 } else { 0.0 };
    match f {
        F2::Add => lanes!(|a: f64, b: f64| a + b),
        F2::Sub => lanes!(|a: f64, b: f64| a - b),
        F2::Mul => lanes!(|a: f64, b: f64| a * b),
        F2::Div => lanes!(|a: f64, b: f64| a / b),
        F2::Pow => lanes!(f64::powf),
        F2::Lt => lanes!(|a: f64, b: f64| t(a < b)),
        F2::Le => lanes!(|a: f64, b: f64| t(a <= b)),
        F2::Gt => lanes!(|a: f64, b: f64| t(a > b)),
        F2::Ge => lanes!(|a: f64, b: f64| t(a >= b)),
        F2::Eq => lanes!(|a: f64, b: f64| t(a == b)),
        F2::Ne => lanes!(|a: f64, b: f64| t(a != b)),
        F2::And => lanes!(|a: f64, b: f64| t(a != 0.0 && b != 0.0)),
        F2::Or => lanes!(|a: f64, b: f64| t(a != 0.0 || b != 0.0)),
        F2::Atan2 => lanes!(f64::atan2),
        F2::Fmod => lanes!(|a: f64, b: f64| a % b),
        F2::Fmin => lanes!(f64::min),
        F2::Fmax => lanes!(f64::max),
    }
}

const MAX_TERMS: usize = 8;

/// A reaction term in one lane: (state slot, value, stoichiometric coefficient).
type TermVal = (Option<usize>, f64, u32);

impl Vm<'_> {
    fn reaction(
        &mut self,
        lhs: &[(Species, u32)],
        rhs: &[(Species, u32)],
        kf: R,
        kb: R,
        ff: R,
        bf: R,
    ) -> Result<()> {
        if lhs.len() > MAX_TERMS || rhs.len() > MAX_TERMS {
            return Err(self.err(format!(
                "a reaction with more than {MAX_TERMS} terms a side"
            )));
        }
        let n = self.s.f.len();
        let (kf, kb) = (self.reg(kf), self.reg(kb));
        let mut ffo = [0.0; W];
        let mut bfo = [0.0; W];
        for l in 0..self.len {
            let mut ls = [(None, 0.0, 0u32); MAX_TERMS];
            let mut rs = [(None, 0.0, 0u32); MAX_TERMS];
            for (k, (sp, c)) in lhs.iter().enumerate() {
                ls[k] = (self.slot(sp, l)?, self.species_value(sp, l)?, *c);
            }
            for (k, (sp, c)) in rhs.iter().enumerate() {
                rs[k] = (self.slot(sp, l)?, self.species_value(sp, l)?, *c);
            }
            let (ls, rs) = (&ls[..lhs.len()], &rs[..rhs.len()]);
            let prod = |ts: &[TermVal], skip: usize| -> f64 {
                ts.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, (_, x, c))| x.powi(*c as i32))
                    .product()
            };
            let fwd = kf[l] * prod(ls, usize::MAX);
            let bwd = kb[l] * prod(rs, usize::MAX);
            ffo[l] = fwd;
            bfo[l] = bwd;
            let net = fwd - bwd;
            for (s, _, c) in ls {
                if let Some(f) = s.and_then(|s| self.s.f.get_mut(s)) {
                    f[l] -= *c as f64 * net;
                }
            }
            for (s, _, c) in rs {
                if let Some(f) = s.and_then(|s| self.s.f.get_mut(s)) {
                    f[l] += *c as f64 * net;
                }
            }
            // d(net)/dx_m for each state on either side, spread to every affected row.
            let sides: [(&[TermVal], f64, f64); 2] = [(ls, kf[l], 1.0), (rs, kb[l], -1.0)];
            for (side, k, sign) in sides {
                for (i, (m, x, c)) in side.iter().enumerate() {
                    let Some(m) = m else { continue };
                    let d = sign * k * *c as f64 * x.powi(*c as i32 - 1) * prod(side, i);
                    for (s, _, c2) in ls {
                        if let Some(j) = s.and_then(|s| self.s.jac.get_mut(s * n + m)) {
                            j[l] -= *c2 as f64 * d;
                        }
                    }
                    for (s, _, c2) in rs {
                        if let Some(j) = s.and_then(|s| self.s.jac.get_mut(s * n + m)) {
                            j[l] += *c2 as f64 * d;
                        }
                    }
                }
            }
        }
        self.set(ff, ffo);
        self.set(bf, bfo);
        Ok(())
    }

    fn conserve(&mut self, terms: &[(Species, R)], rhs: R) -> Result<()> {
        let n = self.s.f.len();
        let rhsv = self.reg(rhs);
        // The replaced row: the last state of the expression whose row is still free
        // (decided on the first lane; the same for every lane in practice).
        let mut row = None;
        for (sp, _) in terms.iter().rev() {
            if let Some(s) = self.slot(sp, 0)? {
                if !self.s.cons_row.get(s).copied().unwrap_or(true) {
                    row = Some(s);
                    break;
                }
            }
        }
        let Some(row) = row else {
            return Err(self.err("CONSERVE names no free state of the scheme"));
        };
        if let Some(x) = self.s.cons_row.get_mut(row) {
            *x = true;
        }
        for k in 0..n {
            if let Some(c) = self.s.cons.get_mut(row * n + k) {
                *c = [0.0; W];
            }
        }
        if let Some(r) = self.s.cons_rhs.get_mut(row) {
            *r = rhsv;
        }
        for (sp, coef) in terms {
            let a = self.reg(*coef);
            for l in 0..self.len {
                match self.slot(sp, l)? {
                    Some(s) => {
                        if let Some(c) = self.s.cons.get_mut(row * n + s) {
                            c[l] += a[l];
                        }
                    }
                    None => {
                        // A non-state term is a constant: move it to the right-hand side.
                        let v = self.species_value(sp, l)?;
                        if let Some(r) = self.s.cons_rhs.get_mut(row) {
                            r[l] -= a[l] * v;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn load_states(&self, cols: &[usize], out_k: usize) -> [f64; W] {
        let mut o = [0.0; W];
        if let Some(c) = cols.get(out_k).and_then(|c| self.cols.get(*c)) {
            o[..self.len].copy_from_slice(&c[self.base..self.base + self.len]);
        }
        o
    }

    fn store_state(&mut self, col: usize, x: &[f64; W], active: &[bool; W]) {
        let (base, len) = (self.base, self.len);
        if let Some(c) = self.cols.get_mut(col) {
            for l in 0..len {
                if active[l] {
                    c[base + l] = x[l];
                }
            }
        }
    }

    /// Fills `s.f` with the residual G and `s.jac` with dG/dx at the stored states.
    fn eval_system(&mut self, sys: &ImplicitSystem, dt: f64, active: &[bool; W]) -> Result<()> {
        let n = sys.cols.len();
        match sys.kind {
            SysKind::Ode | SysKind::Algebraic => {
                let ode = sys.kind == SysKind::Ode;
                self.run_body(&sys.body)?;
                for k in 0..n {
                    let f = self.s.f.get(k).copied().unwrap_or([0.0; W]);
                    if let Some(fb) = self.s.fb.get_mut(k) {
                        *fb = f;
                    }
                }
                for j in 0..n {
                    let col = sys.cols.get(j).copied().unwrap_or(usize::MAX);
                    let xj = self.load_states(&sys.cols, j);
                    let mut h = [0.0; W];
                    let mut xp = [0.0; W];
                    for l in 0..W {
                        h[l] = 1e-7 * xj[l].abs() + 1e-10;
                        xp[l] = xj[l] + h[l];
                    }
                    self.store_state(col, &xp, active);
                    self.run_body(&sys.body)?;
                    self.store_state(col, &xj, active);
                    for k in 0..n {
                        let fp = self.s.f.get(k).copied().unwrap_or([0.0; W]);
                        let fb = self.s.fb.get(k).copied().unwrap_or([0.0; W]);
                        if let Some(jac) = self.s.jac.get_mut(k * n + j) {
                            for l in 0..W {
                                let dfdx = (fp[l] - fb[l]) / h[l];
                                jac[l] = if ode {
                                    let d = if k == j { 1.0 } else { 0.0 };
                                    d - dt * dfdx
                                } else {
                                    dfdx
                                };
                            }
                        }
                    }
                }
                for k in 0..n {
                    let x = self.load_states(&sys.cols, k);
                    let x0 = self.s.x0.get(k).copied().unwrap_or([0.0; W]);
                    let fb = self.s.fb.get(k).copied().unwrap_or([0.0; W]);
                    if let Some(f) = self.s.f.get_mut(k) {
                        for l in 0..W {
                            f[l] = if ode {
                                x[l] - x0[l] - dt * fb[l]
                            } else {
                                fb[l]
                            };
                        }
                    }
                }
            }
            SysKind::Kinetic => {
                for k in 0..n {
                    if let Some(f) = self.s.f.get_mut(k) {
                        *f = [0.0; W];
                    }
                    if let Some(v) = self.s.vol.get_mut(k) {
                        *v = [1.0; W];
                    }
                    if let Some(c) = self.s.cons_row.get_mut(k) {
                        *c = false;
                    }
                }
                for j in self.s.jac.iter_mut().take(n * n) {
                    *j = [0.0; W];
                }
                self.run_body(&sys.body)?;
                for k in 0..n {
                    let x = self.load_states(&sys.cols, k);
                    let x0 = self.s.x0.get(k).copied().unwrap_or([0.0; W]);
                    let vol = self.s.vol.get(k).copied().unwrap_or([1.0; W]);
                    if self.s.cons_row.get(k).copied().unwrap_or(false) {
                        let mut g = [0.0; W];
                        for m in 0..n {
                            let xm = self.load_states(&sys.cols, m);
                            let mut a = self.s.cons.get(k * n + m).copied().unwrap_or([0.0; W]);
                            // As NEURON: a CONSERVE counts amounts, i.e. each state times its
                            // COMPARTMENT volume.
                            let vm = self.s.vol.get(m).copied().unwrap_or([1.0; W]);
                            for l in 0..W {
                                a[l] *= vm[l];
                                g[l] += a[l] * xm[l];
                            }
                            if let Some(j) = self.s.jac.get_mut(k * n + m) {
                                *j = a;
                            }
                        }
                        let r = self.s.cons_rhs.get(k).copied().unwrap_or([0.0; W]);
                        if let Some(f) = self.s.f.get_mut(k) {
                            for l in 0..W {
                                f[l] = g[l] - r[l];
                            }
                        }
                    } else {
                        if let Some(f) = self.s.f.get_mut(k) {
                            for l in 0..W {
                                f[l] = vol[l] * (x[l] - x0[l]) / dt - f[l];
                            }
                        }
                        for m in 0..n {
                            if let Some(j) = self.s.jac.get_mut(k * n + m) {
                                for l in 0..W {
                                    j[l] = -j[l];
                                }
                                if m == k {
                                    for l in 0..W {
                                        j[l] += vol[l] / dt;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Backward Euler with Newton iterations on one implicit system, per lane.
    fn implicit(&mut self, id: usize) -> Result<()> {
        let c = self.c;
        let Some(sys) = c.systems.get(id) else {
            return Err(self.err("implicit system missing"));
        };
        let saved = self.cur_sys.replace(id);
        let active = self.mask();
        // STEADYSTATE: backward-Euler steps of 1e9 ms. A derivimplicit or linear KINETIC
        // system: one Newton-converged step; this reproduces NEURON 9.0.2's initial states of
        // slow cyclic schemes (corpus neuwon/Kv11.mod) to the recorded digits. A nonlinear
        // KINETIC scheme, as NEURON's steady-state sparse: up to 7 steps of one Newton
        // iteration each, states below -1e-6 reset to 0 after each, until a step leaves none
        // negative; then one converged step (reproduces corpus nrn/capmp.mod).
        let dt = if sys.steady { 1e9 } else { self.env.dt };
        if sys.steady && sys.nonlinear {
            let mut pending = active;
            for _ in 0..7 {
                if !pending.iter().any(|p| *p) {
                    break;
                }
                self.newton_step(sys, dt, &pending, true)?;
                for l in 0..self.len {
                    if !pending[l] {
                        continue;
                    }
                    let mut negative = false;
                    for col in &sys.cols {
                        if let Some(x) = self
                            .cols
                            .get_mut(*col)
                            .and_then(|c| c.get_mut(self.base + l))
                        {
                            if *x < -1e-6 {
                                *x = 0.0;
                                negative = true;
                            }
                        }
                    }
                    pending[l] = negative;
                }
            }
        }
        let done = self.newton_step(sys, dt, &active, false)?;
        if !done && !sys.steady {
            self.cur_sys = saved;
            return Err(self.err(format!(
                "Newton iteration did not converge in {NEWTON_MAX} iterations"
            )));
        }
        // Re-run the body once at the solution so assigned variables match it.
        self.run_body(&sys.body)?;
        self.cur_sys = saved;
        Ok(())
    }

    /// One backward-Euler step of `dt` on the `active` lanes: Newton iterations to
    /// convergence (or one iteration when `single`); whether it converged.
    fn newton_step(
        &mut self,
        sys: &ImplicitSystem,
        dt: f64,
        active: &[bool; W],
        single: bool,
    ) -> Result<bool> {
        let n = sys.cols.len();
        let active = *active;
        for k in 0..n {
            let x = self.load_states(&sys.cols, k);
            if let Some(x0) = self.s.x0.get_mut(k) {
                *x0 = x;
            }
        }
        let mut done = false;
        let mut worst = 0.0f64;
        for _ in 0..NEWTON_MAX {
            worst = 0.0;
            self.eval_system(sys, dt, &active)?;
            let mut all_ok = true;
            for d in self.s.dx.iter_mut() {
                *d = [0.0; W];
            }
            for l in 0..self.len {
                if !active[l] {
                    continue;
                }
                for r in 0..n {
                    for m in 0..n {
                        let v = self.s.jac.get(r * n + m).map(|j| j[l]).unwrap_or(0.0);
                        if let Some(a) = self.s.a.get_mut(r * n + m) {
                            *a = v;
                        }
                    }
                    let g = self.s.f.get(r).map(|f| -f[l]).unwrap_or(0.0);
                    if let Some(b) = self.s.b.get_mut(r) {
                        *b = g;
                    }
                }
                if !gauss(&mut self.s.a, &mut self.s.b, n) {
                    return Err(self.err("singular matrix in an implicit (Newton) solve"));
                }
                let mut scale = 0.0f64;
                let mut step = 0.0f64;
                for k in 0..n {
                    let x = sys
                        .cols
                        .get(k)
                        .and_then(|c| self.cols.get(*c))
                        .map(|c| c[self.base + l])
                        .unwrap_or(0.0);
                    let d = self.s.b.get(k).copied().unwrap_or(0.0);
                    scale = scale.max(x.abs());
                    step = step.max(d.abs());
                    if let Some(slot) = self.s.dx.get_mut(k) {
                        slot[l] = d;
                    }
                }
                let rel = step / scale.max(1e-300);
                worst = if rel.is_nan() {
                    f64::INFINITY
                } else {
                    worst.max(rel)
                };
                let converged = step.is_finite() && step <= 1e-13 * scale.max(1e-300);
                if !converged {
                    all_ok = false;
                }
            }
            for (k, col) in sys.cols.iter().enumerate() {
                let mut x = self.load_states(&sys.cols, k);
                let d = self.s.dx.get(k).copied().unwrap_or([0.0; W]);
                for l in 0..W {
                    x[l] += d[l];
                }
                self.store_state(*col, &x, &active);
            }
            if all_ok || single {
                done = true;
                break;
            }
        }
        // Badly scaled systems (COMPARTMENT volumes 1e9 against 13) stall at rounding
        // level above 1e-13; accept what NEURON's Newton tolerance would.
        Ok(done || worst <= NEWTON_ACCEPT)
    }
}

/// Solves `a·x = b` in place (row-major `n×n`, partial pivoting); `b` becomes `x`.
fn gauss(a: &mut [f64], b: &mut [f64], n: usize) -> bool {
    if a.len() < n * n || b.len() < n {
        return false;
    }
    for c in 0..n {
        let mut p = c;
        for r in c + 1..n {
            if a[r * n + c].abs() > a[p * n + c].abs() {
                p = r;
            }
        }
        if a[p * n + c] == 0.0 || !a[p * n + c].is_finite() {
            return false;
        }
        if p != c {
            for k in 0..n {
                a.swap(c * n + k, p * n + k);
            }
            b.swap(c, p);
        }
        let piv = a[c * n + c];
        for r in c + 1..n {
            let f = a[r * n + c] / piv;
            if f != 0.0 {
                for k in c..n {
                    a[r * n + k] -= f * a[c * n + k];
                }
                b[r] -= f * b[c];
            }
        }
    }
    for c in (0..n).rev() {
        let mut s = b[c];
        for k in c + 1..n {
            s -= a[c * n + k] * b[k];
        }
        b[c] = s / a[c * n + c];
    }
    true
}
