//! # backend-cpu — mechanism execution on the CPU
//!
//! Runs NMODL mechanisms with no C compiler: a lowered [`nmodl::Mechanism`] is compiled once
//! ([`Compiled::new`]) into block bytecode for a vectorised interpreter (every register holds
//! [`LANES`] instances; each op runs over a whole block, so dispatch is shared by the block) and
//! executed over instances stored structure-of-arrays ([`Instances`]: one column per RANGE
//! variable, GLOBALs once, the compartment of each instance). Ion pools with NEURON's defaults
//! live in [`IonPools`]; the standard library NEURON users expect (`hh`, `pas`, `IClamp`,
//! `SEClamp`, `ExpSyn`, `Exp2Syn`) is embedded as our own `.mod` sources ([`library`]).
//!
//! **What exists.** Mechanism execution, and the cell [`engine`]: compartments (from
//! `morpho-grow`'s discretisation), placements of mechanisms and point processes, an event
//! queue (timed events, `net_send`/`net_move`, connections from spike detectors with delays),
//! spike detection with the crossing time interpolated in the step, and probes; the cable is
//! solved by `integrate`'s Hines solver, with backward Euler (NEURON's default) or
//! Crank–Nicolson (NEURON's `secondorder = 2`), or by NEUWON's exact propagator
//! ([`Method::Exact`]: zero-area nodes eliminated, Strang split, staggered with the
//! mechanisms; second order, the most accurate at a given dt). Cells are batched into blocks ([`Network`]) stepped in parallel with
//! rayon. Output events of point processes (ARTIFICIAL_CELL `net_event`) are routed to their
//! connections ([`Engine::connect_output`]), and each connection keeps its NET_RECEIVE
//! arguments between events, as a NetCon does in NEURON. Models made only of the shipped
//! `hh`, `pas` and `IClamp` under backward Euler or Crank–Nicolson take a fast path
//! ([`Engine::fast_path_active`]): native kernels fused with the cable solve, vectorised, about
//! 7× faster than the interpreter path on the peers' HH tree benchmark and equal to it within
//! 1e-9 relative (`src/fast.rs`).
//!
//! [`conform`] runs the NMODL corpus's conformance protocol (one compartment under a voltage
//! clamp, NetCon events, drivers; `neuwon nmodl conform`) and judges a run against NEURON's
//! references by the corpus README's two tiers; `CONFORMANCE.md` holds the per-file status.
//!
//! Goals, in order: NEURON's results (the `conformance` tests compare with NEURON 9.0.2's
//! recorded runs of the corpus); no panics and typed errors ([`Error`]), an unsupported construct
//! being [`Error::Unsupported`] naming it; speed (the `hh` bench: interpreter against a
//! hand-written kernel, see `benches/hh.rs`).
//!
//! ## Phases, in the order the engine calls them (NEURON's fixed step, `secondorder = 0`)
//!
//! 1. once: [`Compiled::instantiate`], `constructor` hook, set parameters
//!    ([`Compiled::column_mut`], [`Compiled::set_global`]); `before INITIAL` hook,
//!    [`Compiled::init`] (INITIAL; events it sends go to the caller's [`EventSink`]),
//!    [`Compiled::net_receive_init`] per NetCon, `after INITIAL` hook; then
//!    [`Compiled::write_ions`] and [`IonPools::update_reversals`];
//! 2. each step from `t_n` to `t_n + dt`:
//!    1. deliver the events due by `t_n + dt/2` ([`Compiled::net_receive`] with the event's
//!       time in `env.t`, the NetCon weights and the flag; `net_send`/`net_event` go to the
//!       [`EventSink`]);
//!    2. [`IonPools::reset_currents`], `before BREAKPOINT` hook, then
//!       [`Compiled::compute_currents`] with `v_n` and `env.t = t_n + dt/2` (NEURON's time at
//!       the current evaluation): current and dI/dv (from `v + 0.001` and `v`) into
//!       [`Instances::i`]/[`Instances::g`] and the ion pools; the engine adds them to its
//!       compartments and solves the cable equation for `v_{n+1}`;
//!    3. [`Compiled::advance_state`] with `v_{n+1}` and `env.t = t_n + dt` (cnexp, euler,
//!       derivimplicit, KINETIC, LINEAR/NONLINEAR), `after SOLVE` hook;
//!    4. [`Compiled::write_ions`], then [`IonPools::update_reversals`];
//!    5. [`Compiled::check_watches`]: armed WATCH conditions that became true send a self-event
//!       with the WATCH's flag.
//!
//! This order and these times reproduce NEURON's recorded `hh`, `ExpSyn` and `Exp2Syn` runs to
//! their printed precision (tests `conformance`). `before STEP` is run at the start of a step
//! by our reading of NEURON's documentation (not checked against NEURON). Kernels never
//! allocate in these calls (only a TABLE rebuild after a DEPEND change does).
//!
//! ## Units and sign conventions (NEURON's)
//!
//! v mV, t and dt ms, celsius °C, area µm², diam µm, concentrations mM. A density mechanism's
//! current is mA/cm² and its dI/dv S/cm²; a POINT_PROCESS current is nA and dI/dv µS; NetCon
//! weights are in the NET_RECEIVE argument's units (µS for the shipped synapses). Membrane
//! currents are outward positive. An ELECTRODE_CURRENT (IClamp, SEClamp) is positive when it
//! depolarises, so it enters [`Instances::i`] with the opposite sign. A point process's nA are
//! `100 / area(µm²)` mA/cm² of its compartment (applied for ion currents in the pools).
//!
//! ## Coverage
//!
//! Executed: cnexp, euler, derivimplicit (Newton, numeric Jacobian), KINETIC/sparse (mass-action
//! Jacobian, COMPARTMENT, CONSERVE, `~ x << flux`, `f_flux`/`b_flux`), STEADYSTATE,
//! LINEAR/NONLINEAR, TABLE, NET_RECEIVE (with its INITIAL), `net_send`/`net_event`/`net_move`,
//! WATCH, BEFORE/AFTER/CONSTRUCTOR/DESTRUCTOR, RANDOM variables, the NMODL built-in functions.
//! Refused ([`Error::Unsupported`]): FOR_NETCONS, FUNCTION_TABLE, recursion, assignment to
//! built-ins other than `v`, RANGE-dependent TABLE DEPEND. Ignored with a note
//! ([`Compiled::notes`]): LONGITUDINAL_DIFFUSION (inter-compartment; the engine's). How each
//! construct is read: the `exec` module's documentation (`src/exec.rs`).
//!
//! ```
//! use backend_cpu::{library, Compiled, CompileOptions, Env, EventLog, IonPools};
//! let pas = library::compile("pas", CompileOptions::default()).unwrap();
//! let mut ions = IonPools::new(1);
//! let mut inst = pas.instantiate(&[0], &mut ions).unwrap();
//! let (v, area, diam) = ([-65.0], [100.0], [10.0]);
//! let env = Env { t: 0.0, dt: 0.025, celsius: 6.3, v: &v, area: &area, diam: &diam };
//! pas.init(&mut inst, &env, &mut ions, &mut EventLog::default()).unwrap();
//! pas.compute_currents(&mut inst, &env, &mut ions).unwrap();
//! // i = g (v − e) with g = 0.001 S/cm², e = −70 mV.
//! assert!((inst.i()[0] - 0.001 * 5.0).abs() < 1e-15);
//! assert!((inst.g()[0] - 0.001).abs() < 1e-9);
//! ```

pub mod conform;
pub mod engine;
mod error;
mod exec;
mod fast;
pub mod ions;
pub mod kernels;
pub mod library;
mod mathx;
mod program;
pub mod simd;

pub use engine::{
    Cable, Detector, Engine, Method, Network, PhaseTimes, Placement, Probe, Recording, Settings,
    SpikeTarget,
};
pub use error::{Error, Result};
pub use exec::{CompileOptions, Compiled, Env, EventLog, EventSink, Instances};
pub use ions::{IonPool, IonPools};
pub use program::LANES;
pub use simd::{set_simd_limit, Simd};
