//! # backend-cpu — mechanism execution on the CPU
//!
//! Runs NMODL mechanisms with no C compiler: a lowered [`nmodl::Mechanism`] is compiled once
//! ([`Compiled::new`]) into block bytecode for a vectorised interpreter (every register holds
//! [`LANES`] instances; each op runs over a whole block) and executed over instances stored
//! structure-of-arrays ([`Instances`]: one column per RANGE variable, GLOBALs once, the
//! compartment of each instance). Ion pools with NEURON's defaults live in [`IonPools`]; the
//! standard library NEURON users expect (`hh`, `pas`, `IClamp`, `SEClamp`, `ExpSyn`,
//! `Exp2Syn`) is embedded as our own `.mod` sources ([`library`]).
//!
//! The cable equation, the event queue, morphology and recording are not here yet: the engine
//! that will own them calls the phases below.
//!
//! ## Phases, in the order the engine calls them (NEURON's fixed step, `secondorder = 0`)
//!
//! 1. once: [`Compiled::instantiate`], set parameters ([`Compiled::column_mut`]), then
//!    [`Compiled::init`] (INITIAL; events it sends go to the caller's [`EventSink`]) and
//!    [`Compiled::net_receive_init`] per NetCon, then [`Compiled::write_ions`] and
//!    [`IonPools::update_reversals`];
//! 2. each step from `t` to `t + dt`:
//!    1. deliver due events: [`Compiled::net_receive`] (weights, flag; `net_send`/`net_event`
//!       go to the [`EventSink`]);
//!    2. [`IonPools::reset_currents`], then [`Compiled::compute_currents`] for every mechanism
//!       (at `v + 0.001` and `v`: current and dI/dv into [`Instances::i`]/[`Instances::g`] and
//!       the ion pools); the engine adds them to its compartments and solves the cable
//!       equation for the new `v`;
//!    3. [`Compiled::advance_state`] with the new `v` (cnexp, euler, derivimplicit, KINETIC,
//!       LINEAR/NONLINEAR);
//!    4. [`Compiled::write_ions`], then [`IonPools::update_reversals`];
//!    5. [`Compiled::check_watches`]: armed WATCH conditions that became true send a
//!       self-event (flag of the WATCH) for the current time.
//!
//! BEFORE/AFTER blocks run through [`Compiled::run_hook`]: `before INITIAL` / `after INITIAL`
//! around `init`, `before BREAKPOINT` just before `compute_currents`, `after SOLVE` just after
//! `advance_state`, `before STEP` at the start of a step; `constructor` once after
//! [`Compiled::instantiate`], `destructor` when instances are dropped. (The placement of
//! `before STEP` and `after SOLVE` follows our reading of NEURON's documentation; check it
//! against NEURON's `fadvance` before relying on it.)
//!
//! Kernels never allocate in these calls (only a TABLE rebuild after a DEPEND change does).
//!
//! ## Units and sign conventions (NEURON's)
//!
//! v mV, t and dt ms, celsius °C, area µm², diam µm, concentrations mM. A density mechanism's
//! current is mA/cm² and its dI/dv S/cm²; a POINT_PROCESS current is nA and dI/dv µS.
//! Membrane currents are outward positive. An ELECTRODE_CURRENT (IClamp, SEClamp) is positive
//! when it depolarises, so it enters [`Instances::i`] with the opposite sign. To turn a point
//! process's nA into the density of its compartment multiply by `100 / area(µm²)`.
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
//! assert!((inst.i[0] - 0.001 * 5.0).abs() < 1e-15);
//! assert!((inst.g[0] - 0.001).abs() < 1e-9);
//! ```

mod error;
mod exec;
pub mod ions;
pub mod library;
mod mathx;
mod program;

pub use error::{Error, Result};
pub use exec::{CompileOptions, Compiled, Env, EventLog, EventSink, Instances};
pub use ions::{IonPool, IonPools};
pub use program::LANES;
