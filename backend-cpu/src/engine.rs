//! The cell engine: compartments, mechanisms and point processes, events, spike detection and
//! probes, stepped in NEURON's fixed-step order (see the crate documentation for the phase
//! order) with the cable solved by [`integrate::Hines`].
//!
//! Methods: backward Euler (NEURON's default), Crank–Nicolson (NEURON's `secondorder = 2`) and
//! NEUWON's exact propagator ([`Method::Exact`], see the `exact` submodule). An [`Engine`] is
//! one block of whole cells; a [`Network`] steps blocks in parallel (rayon) and routes spikes
//! between them.

mod exact;

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use integrate::{CableTree, Hines, Scheme};

use crate::error::{Error, Result};
use crate::exec::{Compiled, Env, EventSink, Instances};
use crate::fast::{FastCable, FastPath};
use crate::ions::IonPools;

/// The compartments: a forest in parent-before-child order (as
/// `morpho_grow::Discretisation` produces it).
#[derive(Clone, Debug, PartialEq)]
pub struct Cable {
    /// Parent of each compartment, `None` for a cell's root.
    pub parent: Vec<Option<usize>>,
    /// Membrane capacitance, nF (0 for zero-area nodes).
    pub capacitance_nf: Vec<f64>,
    /// Axial conductance to the parent, µS.
    pub axial_us: Vec<f64>,
    /// Membrane area, µm².
    pub area_um2: Vec<f64>,
    /// Diameter, µm (what mechanisms read as `diam`).
    pub diam_um: Vec<f64>,
}

/// A mechanism placed on some compartments, one instance per listed compartment, with the
/// same parameter values for all of them.
pub struct Placement {
    /// The compiled mechanism.
    pub mechanism: Compiled,
    /// Compartment of each instance.
    pub nodes: Vec<usize>,
    /// Parameter (RANGE or GLOBAL) values to set before INITIAL.
    pub parameters: Vec<(String, f64)>,
}

/// How the membrane is integrated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// NEURON's default: backward Euler for v, then the states with the new v.
    BackwardEuler,
    /// Crank–Nicolson for v, states advanced with the new v (NEURON's `secondorder = 2`).
    CrankNicolson,
    /// NEUWON's exact propagator for the cable (zero-area nodes eliminated), staggered with
    /// the mechanisms: half a step of the cable with the membrane conductances of the previous
    /// evaluation, the states over the whole step with the mid-step voltage, the membrane
    /// re-evaluated there, and the second half step. Second order in dt.
    Exact,
}

/// Run settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Time step, ms.
    pub dt_ms: f64,
    /// Temperature, °C.
    pub celsius: f64,
    /// Initial membrane potential, mV.
    pub v_init_mv: f64,
    /// Integration method.
    pub method: Method,
}

/// Something recorded every step.
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    /// Membrane potential of a compartment, mV.
    Voltage {
        /// Compartment.
        node: usize,
    },
    /// A variable (element `elem`) of one instance of a placement.
    Variable {
        /// Placement index.
        placement: usize,
        /// Instance within it.
        instance: usize,
        /// Variable name.
        name: String,
        /// Array element (0 for scalars).
        elem: usize,
    },
    /// The membrane current of one instance (mA/cm² or nA, outward positive).
    Current {
        /// Placement index.
        placement: usize,
        /// Instance within it.
        instance: usize,
    },
}

/// Spike detection on a compartment, and where its spikes go.
#[derive(Clone, Debug, PartialEq)]
pub struct Detector {
    /// Compartment watched.
    pub node: usize,
    /// Threshold, mV (upward crossing).
    pub threshold_mv: f64,
    /// Where its spikes go.
    pub targets: Vec<SpikeTarget>,
}

/// A synapse that receives a detector's spikes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikeTarget {
    /// Block (engine) of the target in a [`Network`]; 0 for a single engine.
    pub block: usize,
    /// Placement index in that block.
    pub placement: usize,
    /// Instance within the placement.
    pub instance: usize,
    /// Weight (µS for the shipped synapses).
    pub weight: f64,
    /// Delay, ms (> 0; at least dt across blocks).
    pub delay_ms: f64,
}

#[derive(Clone, Copy, Debug)]
struct Queued {
    t: f64,
    seq: u64,
    placement: usize,
    instance: usize,
    weight: f64,
    flag: f64,
    /// Sent by the mechanism itself (`net_send`), so `net_move` can move it.
    self_event: bool,
    /// The connection (NEURON's NetCon) it travels on, whose NET_RECEIVE arguments persist
    /// between its events; `None` for a one-off event or a self-event.
    netcon: Option<NetConKey>,
}

/// Identifies a connection in the block that receives its events: (source block, source
/// spike index, target index), or (`u32::MAX`, stream, 0) for a stream of timed events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct NetConKey {
    block: u32,
    source: u32,
    index: u32,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    /// Reversed, so that `BinaryHeap` pops the earliest event (then the first queued).
    fn cmp(&self, o: &Self) -> Ordering {
        o.t.total_cmp(&self.t).then(o.seq.cmp(&self.seq))
    }
}

/// Collects what a kernel emits for one placement.
#[derive(Default)]
struct Emitted {
    sent: Vec<(usize, f64, f64)>,
    moved: Vec<(usize, f64)>,
    spikes: Vec<(usize, f64)>,
}

impl EventSink for Emitted {
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

pub(crate) struct Placed {
    pub(crate) mechanism: Compiled,
    pub(crate) inst: Instances,
    pub(crate) point: bool,
    /// No states, no ions, no NET_RECEIVE (`pas`, `IClamp`, `SEClamp`): its current depends
    /// only on v, t and parameters, so [`Method::Exact`] evaluates it on every half step.
    pub(crate) stateless: bool,
}

/// A running simulation.
pub struct Engine {
    /// The generic path's cable solver; built on first use when the fast path runs.
    hines: Option<Hines>,
    area: Vec<f64>,
    diam: Vec<f64>,
    v: Vec<f64>,
    g: Vec<f64>,
    j: Vec<f64>,
    i: Vec<f64>,
    /// The point processes' share of `i` and `g` (what [`Method::Exact`] routes through its
    /// exact source propagator); filled only for that method.
    ip: Vec<f64>,
    gp: Vec<f64>,
    placed: Vec<Placed>,
    ions: IonPools,
    queue: BinaryHeap<Queued>,
    seq: u64,
    detectors: Vec<Detector>,
    last_v: Vec<f64>,
    /// `v` is out of date: the fast path holds the present values (copied back by
    /// [`Engine::sync_v`] where all of `v` is read).
    v_stale: bool,
    spikes: Vec<(usize, f64)>,
    probes: Vec<Probe>,
    settings: Settings,
    t: f64,
    emitted: Emitted,
    /// This engine's index in a [`Network`] (0 alone).
    block: usize,
    /// Events for other blocks: (target, delivery time ms, connection).
    outbox: Vec<(SpikeTarget, f64, NetConKey)>,
    /// Output events (`net_event`) emitted during the step: (placement, instance, t ms).
    emitted_outputs: Vec<(usize, usize, f64)>,
    /// Registered event sources among the point processes: (placement, instance) → index
    /// into `output_targets`; their spikes are numbered after the detectors'.
    outputs: HashMap<(usize, usize), usize>,
    output_targets: Vec<Vec<SpikeTarget>>,
    /// NET_RECEIVE arguments of every connection that has delivered an event.
    netcons: HashMap<NetConKey, [f64; 16]>,
    /// Streams of timed events registered so far.
    streams: u32,
    /// The exact propagator's state, for [`Method::Exact`].
    exact: Option<exact::ExactState>,
    /// Per-phase time, when profiling.
    profile: Option<PhaseTimes>,
    /// Use the native kernels of the fast path where the model allows it.
    fast_enabled: bool,
    /// The fast path's data, when the model qualifies (see [`Engine::fast_path_active`]).
    fast: Option<FastPath>,
}

/// Time spent in each phase of the step, summed over steps (and over blocks in a
/// [`Network`]), ns. Filled only while profiling ([`Engine::set_profiling`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhaseTimes {
    /// Event delivery (NET_RECEIVE).
    pub events_ns: u64,
    /// Mechanism currents and their sum into the compartments (matrix assembly on the fast
    /// path, where the two are one pass).
    pub currents_ns: u64,
    /// Cable solve (Hines elimination and substitution).
    pub solve_ns: u64,
    /// State update (advance_state, write_ions, reversal potentials, WATCH).
    pub states_ns: u64,
    /// Spike detection.
    pub detect_ns: u64,
    /// Probe sampling (in [`Engine::run`] / [`Network::run`]).
    pub probes_ns: u64,
}

impl PhaseTimes {
    /// (name, ns) of every phase, in step order.
    pub fn named(&self) -> [(&'static str, u64); 6] {
        [
            ("events", self.events_ns),
            ("currents", self.currents_ns),
            ("solve", self.solve_ns),
            ("states", self.states_ns),
            ("detect", self.detect_ns),
            ("probes", self.probes_ns),
        ]
    }

    fn add(&mut self, o: &PhaseTimes) {
        self.events_ns += o.events_ns;
        self.currents_ns += o.currents_ns;
        self.solve_ns += o.solve_ns;
        self.states_ns += o.states_ns;
        self.detect_ns += o.detect_ns;
        self.probes_ns += o.probes_ns;
    }
}

/// A stopwatch that costs nothing when profiling is off.
pub(crate) struct Lap(Option<std::time::Instant>);

impl Lap {
    pub(crate) fn start(on: bool) -> Lap {
        Lap(on.then(std::time::Instant::now))
    }
    /// Restarts (when on).
    pub(crate) fn restart(&mut self) {
        if self.0.is_some() {
            self.0 = Some(std::time::Instant::now());
        }
    }
    /// Adds the time since the last lap to `slot` (when on) and restarts.
    pub(crate) fn lap(&mut self, slot: Option<&mut u64>) {
        if let (Some(t0), Some(slot)) = (self.0, slot) {
            let now = std::time::Instant::now();
            *slot += (now - t0).as_nanos() as u64;
            self.0 = Some(now);
        }
    }
}

/// What a run recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recording {
    /// Sample times, ms (t = 0 and after every step).
    pub t_ms: Vec<f64>,
    /// One series per probe, in probe order.
    pub series: Vec<Vec<f64>>,
    /// (detector index, time ms) of every detected spike, in time order.
    pub spikes: Vec<(usize, f64)>,
}

impl Engine {
    /// Builds the model and initialises it (NEURON's `finitialize(v_init)`).
    pub fn new(
        cable: &Cable,
        placements: Vec<Placement>,
        detectors: Vec<Detector>,
        probes: Vec<Probe>,
        settings: Settings,
    ) -> Result<Engine> {
        Self::new_block(0, cable, placements, detectors, probes, settings)
    }

    /// Like [`Engine::new`], for block `block` of a [`Network`]: detector targets in other
    /// blocks are collected for the network to route.
    pub fn new_block(
        block: usize,
        cable: &Cable,
        placements: Vec<Placement>,
        detectors: Vec<Detector>,
        probes: Vec<Probe>,
        settings: Settings,
    ) -> Result<Engine> {
        Self::new_block_owned(
            block,
            cable.clone(),
            placements,
            detectors,
            probes,
            settings,
        )
    }

    /// Like [`Engine::new_block`], taking the cable: the engine keeps what it needs of it and
    /// frees the rest before the mechanisms are built (a lower peak memory for large models).
    pub fn new_block_owned(
        block: usize,
        cable: Cable,
        placements: Vec<Placement>,
        detectors: Vec<Detector>,
        probes: Vec<Probe>,
        settings: Settings,
    ) -> Result<Engine> {
        if !(settings.dt_ms > 0.0 && settings.dt_ms.is_finite()) {
            return Err(Error::Engine(format!(
                "dt must be a positive number of ms, got {}",
                settings.dt_ms
            )));
        }
        let n = cable.parent.len();
        let tree =
            |c: &Cable| CableTree::new(&c.parent, &c.capacitance_nf, &c.axial_us, &c.area_um2);
        // Checks the cable now; the solver itself is built below, only if needed.
        drop(tree(&cable)?);
        if cable.diam_um.len() != n {
            return Err(Error::Shape {
                what: "diam_um",
                expected: n,
                got: cable.diam_um.len(),
            });
        }
        // The fast path's copy of the cable, in its own order; with it, the rest of the
        // cable can go now (the generic solver, if needed, is rebuilt from that copy).
        let exact = match settings.method {
            Method::Exact => Some(exact::ExactState::new(&tree(&cable)?, settings.dt_ms)?),
            _ => None,
        };
        let fast_cable = if exact.is_some() {
            None
        } else {
            FastCable::new(&cable)
        };
        let Cable {
            parent,
            capacitance_nf,
            axial_us,
            area_um2,
            diam_um,
        } = cable;
        let mut rest = Some((parent, capacitance_nf, axial_us));
        if fast_cable.is_some() {
            rest = None;
        }
        let mut ions = IonPools::new(n);
        let mut placed = Vec::with_capacity(placements.len());
        for p in placements {
            if let Some(&bad) = p.nodes.iter().find(|&&k| k >= n) {
                return Err(Error::Engine(format!(
                    "mechanism `{}` placed on compartment {bad}, but there are {n}",
                    p.mechanism.mechanism().name
                )));
            }
            let mut inst = p.mechanism.instantiate(&p.nodes, &mut ions)?;
            for (name, value) in &p.parameters {
                match p.mechanism.column_mut(&mut inst, name, 0) {
                    Ok(col) => col.iter_mut().for_each(|x| *x = *value),
                    Err(_) => p.mechanism.set_global(&mut inst, name, *value)?,
                }
            }
            let m = p.mechanism.mechanism();
            let point = m.kind != nmodl::ir::MechanismKind::Density;
            let stateless = m.advance_state.body.is_empty()
                && m.write_ions.body.is_empty()
                && m.ions.is_empty()
                && m.net_receive.is_none();
            placed.push(Placed {
                mechanism: p.mechanism,
                inst,
                point,
                stateless,
            });
        }
        for d in &detectors {
            if d.node >= n {
                return Err(Error::Engine(format!(
                    "spike detector on compartment {}, but there are {n}",
                    d.node
                )));
            }
            for tg in d.targets.iter().filter(|tg| tg.block == block) {
                let (p, i) = (tg.placement, tg.instance);
                if placed.get(p).is_none_or(|pl| i >= pl.inst.len()) {
                    return Err(Error::Engine(format!(
                        "connection to placement {p} instance {i}, which does not exist"
                    )));
                }
            }
            for tg in &d.targets {
                let delay = tg.delay_ms;
                if !(delay.is_finite() && delay > 0.0) {
                    return Err(Error::Engine(format!(
                        "connection delay must be > 0 ms, got {delay}"
                    )));
                }
            }
        }
        for pr in &probes {
            let ok = match pr {
                Probe::Voltage { node } => *node < n,
                Probe::Variable {
                    placement,
                    instance,
                    name,
                    elem,
                } => placed.get(*placement).is_some_and(|p| {
                    *instance < p.inst.len() && p.mechanism.column(&p.inst, name, *elem).is_ok()
                }),
                Probe::Current {
                    placement,
                    instance,
                } => placed
                    .get(*placement)
                    .is_some_and(|p| *instance < p.inst.len()),
            };
            if !ok {
                return Err(Error::Engine(format!(
                    "probe {pr:?} designates nothing in this model"
                )));
            }
        }
        let v = vec![settings.v_init_mv; n];
        let mut e = Engine {
            hines: None,
            area: area_um2,
            diam: diam_um,
            last_v: detectors.iter().map(|d| v[d.node]).collect(),
            v_stale: false,
            v,
            // The generic path's sums, allocated by its first use (the fast path has its own).
            g: Vec::new(),
            j: Vec::new(),
            i: Vec::new(),
            ip: Vec::new(),
            gp: Vec::new(),
            placed,
            ions,
            queue: BinaryHeap::new(),
            seq: 0,
            detectors,
            spikes: Vec::new(),
            probes,
            settings,
            t: 0.0,
            emitted: Emitted::default(),
            block,
            outbox: Vec::new(),
            emitted_outputs: Vec::new(),
            outputs: HashMap::new(),
            output_targets: Vec::new(),
            netcons: HashMap::new(),
            streams: 0,
            exact,
            profile: None,
            fast_enabled: true,
            fast: None,
        };
        e.initialise()?;
        if e.exact.is_some() {
            e.exact_initialise()?;
        }
        let (cable, fast) = match fast_cable {
            Some(fc) => {
                match FastPath::new(fc, &e.area, &e.placed, &e.ions, &e.probes, &e.settings) {
                    Ok(f) => (None, Some(f)),
                    Err(fc) => (Some(fc.cable(&e.area, &e.diam)), None),
                }
            }
            None => (
                rest.map(|(parent, capacitance_nf, axial_us)| Cable {
                    parent,
                    capacitance_nf,
                    axial_us,
                    area_um2: e.area.clone(),
                    diam_um: e.diam.clone(),
                }),
                None,
            ),
        };
        e.fast = fast;
        if let Some(cable) = cable {
            e.hines = Some(Hines::new(&tree(&cable)?));
        }
        Ok(e)
    }

    fn initialise(&mut self) -> Result<()> {
        let s = self.settings;
        let env = Env {
            t: 0.0,
            dt: s.dt_ms,
            celsius: s.celsius,
            v: &self.v,
            area: &self.area,
            diam: &self.diam,
        };
        for (k, p) in self.placed.iter_mut().enumerate() {
            p.mechanism
                .init(&mut p.inst, &env, &mut self.ions, &mut self.emitted)?;
            Self::drain(
                &mut self.emitted,
                k,
                &mut self.queue,
                &mut self.seq,
                &mut self.emitted_outputs,
            );
        }
        for p in &mut self.placed {
            p.mechanism.write_ions(&mut p.inst, &env, &mut self.ions)?;
        }
        self.ions.update_reversals(s.celsius);
        Ok(())
    }

    /// Moves what a kernel of placement `k` emitted into the queue (self-events) and into
    /// `outputs` (output events, routed after the step by [`Engine::route_outputs`]).
    fn drain(
        em: &mut Emitted,
        k: usize,
        queue: &mut BinaryHeap<Queued>,
        seq: &mut u64,
        outputs: &mut Vec<(usize, usize, f64)>,
    ) {
        for (instance, t, flag) in em.sent.drain(..) {
            *seq += 1;
            queue.push(Queued {
                t,
                seq: *seq,
                placement: k,
                instance,
                weight: 0.0,
                flag,
                self_event: true,
                netcon: None,
            });
        }
        // net_move: the instance's pending self-event (the latest sent) moves to the new time.
        for (instance, t) in em.moved.drain(..) {
            let mut events = std::mem::take(queue).into_vec();
            let latest = events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.self_event && e.placement == k && e.instance == instance)
                .max_by_key(|(_, e)| e.seq)
                .map(|(i, _)| i);
            if let Some(i) = latest {
                events[i].t = t;
            }
            *queue = BinaryHeap::from(events);
        }
        outputs.extend(em.spikes.drain(..).map(|(i, t)| (k, i, t)));
    }

    /// Routes the output events emitted since the last call to the registered sources'
    /// targets, and records them as spikes (numbered after the detectors).
    fn route_outputs(&mut self) {
        if self.emitted_outputs.is_empty() {
            return;
        }
        let n_det = self.detectors.len();
        for (p, i, t) in std::mem::take(&mut self.emitted_outputs) {
            let Some(&src) = self.outputs.get(&(p, i)) else {
                continue;
            };
            let index = n_det + src;
            self.spikes.push((index, t));
            Self::post(
                &mut self.queue,
                &mut self.seq,
                &mut self.outbox,
                self.block,
                index,
                &self.output_targets[src],
                t,
            );
        }
    }

    /// For a spike of source `source` (spike index in block `block`) at `t` (ms): queues the
    /// event of each connection to `targets` (or, for another block, posts it).
    fn post(
        queue: &mut BinaryHeap<Queued>,
        seq: &mut u64,
        outbox: &mut Vec<(SpikeTarget, f64, NetConKey)>,
        block: usize,
        source: usize,
        targets: &[SpikeTarget],
        t: f64,
    ) {
        for (k, tg) in targets.iter().enumerate() {
            let key = NetConKey {
                block: block as u32,
                source: source as u32,
                index: k as u32,
            };
            if tg.block != block {
                outbox.push((*tg, t + tg.delay_ms, key));
                continue;
            }
            *seq += 1;
            queue.push(Queued {
                t: t + tg.delay_ms,
                seq: *seq,
                placement: tg.placement,
                instance: tg.instance,
                weight: tg.weight,
                flag: 0.0,
                self_event: false,
                netcon: Some(key),
            });
        }
    }

    /// Makes instance `instance` of placement `placement` (an ARTIFICIAL_CELL, or any point
    /// process that calls `net_event`) a source of events for `targets` (in this block or,
    /// through a [`Network`], in others). Its output events are recorded as spikes with the
    /// returned index, which follows the detectors' indices.
    pub fn connect_output(
        &mut self,
        placement: usize,
        instance: usize,
        targets: Vec<SpikeTarget>,
    ) -> Result<usize> {
        if self
            .placed
            .get(placement)
            .is_none_or(|p| instance >= p.inst.len())
        {
            return Err(Error::Engine(format!(
                "output of placement {placement} instance {instance}, which does not exist"
            )));
        }
        for tg in &targets {
            if !(tg.delay_ms.is_finite() && tg.delay_ms > 0.0) {
                return Err(Error::Engine(format!(
                    "connection delay must be > 0 ms, got {}",
                    tg.delay_ms
                )));
            }
            if tg.block == self.block
                && self
                    .placed
                    .get(tg.placement)
                    .is_none_or(|p| tg.instance >= p.inst.len())
            {
                return Err(Error::Engine(format!(
                    "connection to placement {} instance {}, which does not exist",
                    tg.placement, tg.instance
                )));
            }
        }
        let src = match self.outputs.get(&(placement, instance)) {
            Some(&src) => {
                self.output_targets[src].extend(targets);
                src
            }
            None => {
                self.outputs
                    .insert((placement, instance), self.output_targets.len());
                self.output_targets.push(targets);
                self.output_targets.len() - 1
            }
        };
        Ok(self.detectors.len() + src)
    }

    /// Queues an event with weight `weight` (µS for the shipped synapses) for instance
    /// `instance` of placement `placement` at time `t_ms`.
    pub fn add_event(
        &mut self,
        placement: usize,
        instance: usize,
        t_ms: f64,
        weight: f64,
    ) -> Result<()> {
        self.queue_event(placement, instance, t_ms, weight, None)
    }

    /// Queues events at `times_ms` with weight `weight` for instance `instance` of placement
    /// `placement`, all on one connection: as with one NEURON NetCon, NET_RECEIVE arguments
    /// after the weight (and changes to the weight) persist from one event to the next.
    pub fn add_events(
        &mut self,
        placement: usize,
        instance: usize,
        times_ms: &[f64],
        weight: f64,
    ) -> Result<()> {
        let key = NetConKey {
            block: u32::MAX,
            source: self.streams,
            index: 0,
        };
        self.streams += 1;
        for &t in times_ms {
            self.queue_event(placement, instance, t, weight, Some(key))?;
        }
        Ok(())
    }

    fn queue_event(
        &mut self,
        placement: usize,
        instance: usize,
        t_ms: f64,
        weight: f64,
        netcon: Option<NetConKey>,
    ) -> Result<()> {
        if self
            .placed
            .get(placement)
            .is_none_or(|p| instance >= p.inst.len())
        {
            return Err(Error::Engine(format!(
                "event for placement {placement} instance {instance}, which does not exist"
            )));
        }
        if !(t_ms.is_finite() && weight.is_finite()) {
            return Err(Error::Engine(format!(
                "event at {t_ms} ms with weight {weight} is not finite"
            )));
        }
        self.seq += 1;
        self.queue.push(Queued {
            t: t_ms,
            seq: self.seq,
            placement,
            instance,
            weight,
            flag: 0.0,
            self_event: false,
            netcon,
        });
        Ok(())
    }

    /// Current time, ms.
    pub fn time(&self) -> f64 {
        self.t
    }

    /// Membrane potential per compartment, mV (a copy when the fast path holds them).
    pub fn voltages(&self) -> std::borrow::Cow<'_, [f64]> {
        match self.fast.as_ref().filter(|_| self.v_stale) {
            Some(f) => {
                let mut v = self.v.clone();
                f.copy_v(&mut v);
                std::borrow::Cow::Owned(v)
            }
            None => std::borrow::Cow::Borrowed(&self.v),
        }
    }

    /// The membrane potential of compartment `node`, mV.
    fn v_at(&self, node: usize) -> f64 {
        self.fast
            .as_ref()
            .filter(|_| self.v_stale)
            .and_then(|f| f.v_at(node))
            .unwrap_or(self.v[node])
    }

    /// Brings `v` up to date from the fast path.
    fn sync_v(&mut self) {
        if self.v_stale {
            if let Some(f) = self.fast.as_ref() {
                f.copy_v(&mut self.v);
            }
            self.v_stale = false;
        }
    }

    /// An empty recording sized for this engine's probes.
    pub fn start_recording(&self, steps: usize) -> Recording {
        Recording {
            t_ms: Vec::with_capacity(steps + 1),
            series: vec![Vec::with_capacity(steps + 1); self.probes.len()],
            spikes: Vec::new(),
        }
    }

    /// The spikes detected so far: (detector index, time ms).
    pub fn spikes(&self) -> &[(usize, f64)] {
        &self.spikes
    }

    /// Time step, ms.
    pub fn dt(&self) -> f64 {
        self.settings.dt_ms
    }

    /// Appends the current time and every probe's value to `out`.
    pub fn sample(&self, out: &mut Recording) {
        out.t_ms.push(self.t);
        for (s, p) in out.series.iter_mut().zip(&self.probes) {
            let x = match p {
                Probe::Voltage { node } => self.v_at(*node),
                Probe::Variable {
                    placement,
                    instance,
                    name,
                    elem,
                } => {
                    let fast = self
                        .fast
                        .as_ref()
                        .filter(|_| self.fast_enabled)
                        .and_then(|f| f.state(*placement, *instance, name));
                    let p = &self.placed[*placement];
                    fast.unwrap_or_else(|| {
                        p.mechanism
                            .column(&p.inst, name, *elem)
                            .map_or(f64::NAN, |c| c[*instance])
                    })
                }
                Probe::Current {
                    placement,
                    instance,
                } => self.placed[*placement].inst.i()[*instance],
            };
            s.push(x);
        }
    }

    /// Advances one step of `dt`.
    pub fn step(&mut self) -> Result<()> {
        let (t, dt) = (self.t, self.settings.dt_ms);
        let mut lap = Lap::start(self.profile.is_some());
        // 1. Events due by t + dt/2.
        let delivered = self.deliver_events(t + dt / 2.0 + 1e-12 * dt)?;
        lap.lap(self.profile.as_mut().map(|p| &mut p.events_ns));
        if let (true, Some(fast)) = (self.fast_enabled, self.fast.as_mut()) {
            // 2–4 fused (native kernels): booked as `solve`.
            fast.step(t, dt, &self.v, &mut self.placed, self.profile.as_mut())?;
            self.v_stale = true;
            // The detectors' compartments now; the rest when asked.
            for det in &self.detectors {
                if let Some(x) = fast.v_at(det.node) {
                    self.v[det.node] = x;
                }
            }
            lap.restart();
        } else if self.exact.is_some() {
            // 2–4. Exact propagator staggered with the mechanisms (submodule `exact`).
            self.exact_step(delivered)?;
            lap.lap(self.profile.as_mut().map(|p| &mut p.solve_ns));
        } else {
            // 2. Currents at v_n and t + dt/2, linearised: I(v) ≈ i + g·(v − v_n).
            self.membrane_currents(t + dt / 2.0, None)?;
            self.j.resize(self.v.len(), 0.0);
            for (((j, g), v), i) in self.j.iter_mut().zip(&self.g).zip(&self.v).zip(&self.i) {
                *j = g * v - i;
            }
            lap.lap(self.profile.as_mut().map(|p| &mut p.currents_ns));
            // 3. Cable. Crank–Nicolson as NEURON's `secondorder = 2`: v at t + dt from the half
            // backward-Euler step and extrapolation; the states then advance with the new v, as
            // for backward Euler (reproduces NEURON's so2 hh_soma run to its printed precision).
            let scheme = match self.settings.method {
                Method::CrankNicolson => Scheme::CrankNicolson,
                _ => Scheme::BackwardEuler,
            };
            if self.hines.is_none() {
                // After fast steps: the solver from the fast path's copy of the cable.
                let cable = self
                    .fast
                    .as_ref()
                    .map(|f| f.cable(&self.area, &self.diam))
                    .ok_or_else(|| Error::Engine("no cable solver".into()))?;
                self.hines = Some(Hines::new(&CableTree::new(
                    &cable.parent,
                    &cable.capacitance_nf,
                    &cable.axial_us,
                    &cable.area_um2,
                )?));
            }
            if let Some(h) = self.hines.as_mut() {
                h.step(scheme, dt, &mut self.v, &self.g, &self.j)?;
            }
            lap.lap(self.profile.as_mut().map(|p| &mut p.solve_ns));
            // 4. States with v_{n+1}, ions, watches.
            self.advance_states(t + dt)?;
            lap.lap(self.profile.as_mut().map(|p| &mut p.states_ns));
        }
        // 5. Spikes: upward threshold crossings, time interpolated within the step; output
        // events of point processes to their connections.
        self.detect_spikes(t, dt);
        self.route_outputs();
        lap.lap(self.profile.as_mut().map(|p| &mut p.detect_ns));
        self.t = t + dt;
        Ok(())
    }

    /// Delivers the queued events due by `until` (ms); returns how many.
    fn deliver_events(&mut self, until: f64) -> Result<usize> {
        let s = self.settings;
        let mut delivered = 0;
        if self.queue.peek().is_some_and(|ev| ev.t <= until) {
            // NET_RECEIVE may read v.
            self.sync_v();
        }
        while let Some(ev) = self.queue.peek().copied() {
            if ev.t > until {
                break;
            }
            self.queue.pop();
            delivered += 1;
            let env = Env {
                t: ev.t,
                dt: s.dt_ms,
                celsius: s.celsius,
                v: &self.v,
                area: &self.area,
                diam: &self.diam,
            };
            let p = &mut self.placed[ev.placement];
            // NET_RECEIVE's first argument is the weight; the arguments belong to the
            // connection (NEURON's NetCon): they start as (weight, 0, …) with the NET_RECEIVE
            // INITIAL block run on them at the connection's first event, and persist.
            let n_args = p
                .mechanism
                .mechanism()
                .net_receive
                .as_ref()
                .map_or(1, |n| n.n_args)
                .clamp(1, 16);
            let saved = if ev.self_event {
                None
            } else {
                ev.netcon.and_then(|k| self.netcons.get(&k).copied())
            };
            let mut w = [0.0; 16];
            match saved {
                Some(a) => w = a,
                None => {
                    w[0] = ev.weight;
                    if !ev.self_event {
                        p.mechanism.net_receive_init(
                            &mut p.inst,
                            ev.instance,
                            &mut w[..n_args],
                            &env,
                            &mut self.ions,
                            &mut self.emitted,
                        )?;
                    }
                }
            }
            p.mechanism.net_receive(
                &mut p.inst,
                ev.instance,
                &mut w[..n_args],
                ev.flag,
                &env,
                &mut self.ions,
                &mut self.emitted,
            )?;
            if let (Some(k), false) = (ev.netcon, ev.self_event) {
                self.netcons.insert(k, w);
            }
            Self::drain(
                &mut self.emitted,
                ev.placement,
                &mut self.queue,
                &mut self.seq,
                &mut self.emitted_outputs,
            );
        }
        Ok(delivered)
    }

    /// Membrane currents (`i`, nA, outward) and their slope conductances (`g`, µS) per
    /// compartment at the present voltages, with the mechanisms' time `t_eval` (ms): of every
    /// placement, or (`Some(b)`) of those whose `stateless` flag is `b`. Ion currents are
    /// reset unless only stateless placements (which use no ions) are evaluated.
    fn membrane_currents(&mut self, t_eval: f64, stateless: Option<bool>) -> Result<()> {
        let s = self.settings;
        if stateless != Some(true) {
            self.ions.reset_currents();
        }
        let n = self.v.len();
        // The point processes' share is kept apart only for the exact method.
        let split = self.exact.is_some();
        for buf in [&mut self.i, &mut self.g] {
            buf.clear();
            buf.resize(n, 0.0);
        }
        if split {
            for buf in [&mut self.ip, &mut self.gp] {
                buf.clear();
                buf.resize(n, 0.0);
            }
        }
        let env = Env {
            t: t_eval,
            dt: s.dt_ms,
            celsius: s.celsius,
            v: &self.v,
            area: &self.area,
            diam: &self.diam,
        };
        for p in &mut self.placed {
            if stateless.is_some_and(|b| b != p.stateless) {
                continue;
            }
            p.mechanism
                .compute_currents(&mut p.inst, &env, &mut self.ions)?;
            let (ii, gg) = (p.inst.i(), p.inst.g());
            for (k, &node) in p.inst.nodes().iter().enumerate() {
                // Density: mA/cm² and S/cm² over the area → nA and µS; points: already.
                let scale = if p.point { 1.0 } else { self.area[node] * 1e-2 };
                self.i[node] += ii[k] * scale;
                self.g[node] += gg[k] * scale;
                if split && p.point {
                    self.ip[node] += ii[k];
                    self.gp[node] += gg[k];
                }
            }
        }
        Ok(())
    }

    /// Advances every mechanism's states over dt with the present voltages (mechanism time
    /// `t_eval`, ms), then writes ions, updates reversal potentials and checks WATCHes.
    fn advance_states(&mut self, t_eval: f64) -> Result<()> {
        let s = self.settings;
        let env = Env {
            t: t_eval,
            dt: s.dt_ms,
            celsius: s.celsius,
            v: &self.v,
            area: &self.area,
            diam: &self.diam,
        };
        for p in &mut self.placed {
            p.mechanism
                .advance_state(&mut p.inst, &env, &mut self.ions)?;
        }
        for p in &mut self.placed {
            p.mechanism.write_ions(&mut p.inst, &env, &mut self.ions)?;
        }
        self.ions.update_reversals(s.celsius);
        for (k, p) in self.placed.iter_mut().enumerate() {
            if p.mechanism.n_watches() > 0 {
                p.mechanism
                    .check_watches(&mut p.inst, &env, &mut self.ions, &mut self.emitted)?;
                Self::drain(
                    &mut self.emitted,
                    k,
                    &mut self.queue,
                    &mut self.seq,
                    &mut self.emitted_outputs,
                );
            }
        }
        Ok(())
    }

    /// Upward threshold crossings over the step from `t` (ms), time interpolated within it;
    /// queues (or posts to other blocks) the connections' events.
    fn detect_spikes(&mut self, t: f64, dt: f64) {
        for (d, det) in self.detectors.iter().enumerate() {
            let (v0, v1) = (self.last_v[d], self.v[det.node]);
            if v0 < det.threshold_mv && v1 >= det.threshold_mv {
                let ts = t + dt * (det.threshold_mv - v0) / (v1 - v0);
                self.spikes.push((d, ts));
                Self::post(
                    &mut self.queue,
                    &mut self.seq,
                    &mut self.outbox,
                    self.block,
                    d,
                    &det.targets,
                    ts,
                );
            }
            self.last_v[d] = v1;
        }
    }

    /// Use the fast path (native fused kernels, see [`Engine::fast_path_active`]) where the
    /// model allows it (`true`, the default), or always the generic interpreter path (`false`:
    /// the reference the fast path is tested against).
    pub fn set_fast_path(&mut self, on: bool) -> Result<()> {
        if !on {
            self.sync_v();
            if let Some(f) = self.fast.as_mut() {
                // The fast path keeps some states its own way: hand them back.
                f.store(&mut self.placed)?;
            }
        }
        self.fast_enabled = on;
        Ok(())
    }

    /// Whether steps take the fast path: native kernels for the shipped `hh`, `pas` and
    /// `IClamp` fused with the cable solve, taken only for models made of those alone whose
    /// answers it reproduces (the conditions are in `backend-cpu/src/fast.rs`).
    pub fn fast_path_active(&self) -> bool {
        self.fast_enabled && self.fast.is_some()
    }

    /// Starts (clearing) or stops the per-phase timing of [`Engine::phase_times`].
    pub fn set_profiling(&mut self, on: bool) {
        self.profile = on.then(PhaseTimes::default);
    }

    /// Time per phase since profiling was started (zero when it is off).
    pub fn phase_times(&self) -> PhaseTimes {
        self.profile.unwrap_or_default()
    }

    /// Runs until `tstop_ms`, recording every probe at t = 0 and after every step; `progress`
    /// is called with the fraction done (0–1) every 1 % of the steps.
    pub fn run(&mut self, tstop_ms: f64, progress: impl FnMut(f64)) -> Result<Recording> {
        let steps = steps_until(self.t, tstop_ms, self.settings.dt_ms);
        let mut out = self.start_recording(steps);
        self.sample(&mut out);
        drive(
            steps,
            || {
                self.step()?;
                let mut lap = Lap::start(self.profile.is_some());
                self.sample(&mut out);
                lap.lap(self.profile.as_mut().map(|p| &mut p.probes_ns));
                Ok(())
            },
            progress,
        )?;
        out.spikes = self.spikes.clone();
        Ok(out)
    }
}

/// Checks connections from block `from`: the target block and point process exist, and a
/// connection to another block has a delay of at least dt (so it cannot be due before the
/// step after the one that sent it).
fn check_targets(blocks: &[Engine], from: usize, targets: &[SpikeTarget]) -> Result<()> {
    let dt = blocks.first().map_or(0.025, Engine::dt);
    for tg in targets {
        let Some(b) = blocks.get(tg.block) else {
            return Err(Error::Engine(format!(
                "connection to block {}, which does not exist",
                tg.block
            )));
        };
        if b.placed
            .get(tg.placement)
            .is_none_or(|p| tg.instance >= p.inst.len())
        {
            return Err(Error::Engine(format!(
                "connection to placement {} instance {} of block {}, which does not exist",
                tg.placement, tg.instance, tg.block
            )));
        }
        if tg.block != from && tg.delay_ms < dt {
            return Err(Error::Engine(format!(
                "a connection between cells in different blocks needs a delay of at least dt ({dt} ms), got {} ms",
                tg.delay_ms
            )));
        }
    }
    Ok(())
}

/// Number of steps of `dt` from `t` to `tstop` (ms).
fn steps_until(t: f64, tstop: f64, dt: f64) -> usize {
    ((tstop - t) / dt).round().max(0.0) as usize
}

/// Calls `step` `steps` times, reporting the fraction done to `progress` every 1 % and at
/// the end.
fn drive(
    steps: usize,
    mut step: impl FnMut() -> Result<()>,
    mut progress: impl FnMut(f64),
) -> Result<()> {
    let every = (steps / 100).max(1);
    for k in 0..steps {
        step()?;
        if k % every == 0 {
            progress(k as f64 / steps as f64);
        }
    }
    progress(1.0);
    Ok(())
}

/// Blocks of whole cells, each an [`Engine`], stepped in parallel (rayon); spikes for another
/// block are delivered between steps ([`Network::step`]) or, in [`Network::run`], between
/// epochs of [`Network::epoch_steps`] steps that each block runs on its own. Exact when every
/// connection between blocks has a delay of at least dt (checked): such an event cannot be
/// due before the next step (or epoch).
pub struct Network {
    blocks: Vec<Engine>,
}

impl Network {
    /// Joins blocks built with [`Engine::new_block`] (block `k` at index `k`).
    pub fn new(blocks: Vec<Engine>) -> Result<Network> {
        let dt = blocks.first().map_or(0.025, Engine::dt);
        for (k, b) in blocks.iter().enumerate() {
            if b.block != k {
                return Err(Error::Engine(format!(
                    "block {} given at index {k}",
                    b.block
                )));
            }
            if b.dt() != dt {
                return Err(Error::Engine("every block must use the same dt".into()));
            }
            for d in &b.detectors {
                check_targets(&blocks, k, &d.targets)?;
            }
        }
        Ok(Network { blocks })
    }

    /// Makes a point process of block `block` a source of events (see
    /// [`Engine::connect_output`]); targets may be in any block.
    pub fn connect_output(
        &mut self,
        block: usize,
        placement: usize,
        instance: usize,
        targets: Vec<SpikeTarget>,
    ) -> Result<usize> {
        check_targets(&self.blocks, block, &targets)?;
        self.blocks
            .get_mut(block)
            .ok_or_else(|| Error::Engine(format!("output of block {block}, which does not exist")))?
            .connect_output(placement, instance, targets)
    }

    /// Queues a stream of events on one connection for block `block` (see
    /// [`Engine::add_events`]).
    pub fn add_events(
        &mut self,
        block: usize,
        placement: usize,
        instance: usize,
        times_ms: &[f64],
        weight: f64,
    ) -> Result<()> {
        self.blocks
            .get_mut(block)
            .ok_or_else(|| Error::Engine(format!("event for block {block}, which does not exist")))?
            .add_events(placement, instance, times_ms, weight)
    }

    /// The blocks.
    pub fn blocks(&self) -> &[Engine] {
        &self.blocks
    }

    /// [`Engine::set_fast_path`] for every block.
    pub fn set_fast_path(&mut self, on: bool) -> Result<()> {
        self.blocks.iter_mut().try_for_each(|b| b.set_fast_path(on))
    }

    /// Whether every block takes the fast path ([`Engine::fast_path_active`]).
    pub fn fast_path_active(&self) -> bool {
        self.blocks.iter().all(Engine::fast_path_active)
    }

    /// [`Engine::set_profiling`] for every block.
    pub fn set_profiling(&mut self, on: bool) {
        self.blocks.iter_mut().for_each(|b| b.set_profiling(on));
    }

    /// Time per phase summed over the blocks (CPU time of the threads that ran them).
    pub fn phase_times(&self) -> PhaseTimes {
        let mut p = PhaseTimes::default();
        for b in &self.blocks {
            p.add(&b.phase_times());
        }
        p
    }

    /// Queues an event for block `block` (see [`Engine::add_event`]).
    pub fn add_event(
        &mut self,
        block: usize,
        placement: usize,
        instance: usize,
        t_ms: f64,
        weight: f64,
    ) -> Result<()> {
        self.blocks
            .get_mut(block)
            .ok_or_else(|| Error::Engine(format!("event for block {block}, which does not exist")))?
            .add_event(placement, instance, t_ms, weight)
    }

    /// Advances every block one step, in parallel, then routes spikes between blocks.
    pub fn step(&mut self) -> Result<()> {
        use rayon::prelude::*;
        self.blocks.par_iter_mut().try_for_each(Engine::step)?;
        self.exchange()
    }

    /// How many steps the blocks may take on their own before their spikes must reach each
    /// other: the least delay of a connection between two blocks, in whole steps (at least
    /// 1), or `None` without such connections. A spike sent within those steps is due only
    /// after them (its delay is at least their length), as in NEURON's and Arbor's
    /// minimum-delay epochs.
    pub fn epoch_steps(&self) -> Option<usize> {
        let dt = self.blocks.first().map_or(0.025, Engine::dt);
        let least = self
            .blocks
            .iter()
            .flat_map(|b| {
                let from = b.block;
                b.detectors
                    .iter()
                    .flat_map(|d| d.targets.iter())
                    .chain(b.output_targets.iter().flatten())
                    .filter(move |tg| tg.block != from)
                    .map(|tg| tg.delay_ms)
            })
            .fold(f64::INFINITY, f64::min);
        // A hair of slack for delays that are whole multiples of dt in decimal.
        least
            .is_finite()
            .then(|| ((least / dt) * (1.0 + 1e-12)).floor().max(1.0) as usize)
    }

    /// Delivers the spikes the blocks sent each other.
    fn exchange(&mut self) -> Result<()> {
        let mut mail = Vec::new();
        for b in &mut self.blocks {
            mail.append(&mut b.outbox);
        }
        for (tg, t, key) in mail {
            self.blocks
                .get_mut(tg.block)
                .ok_or_else(|| {
                    Error::Engine(format!(
                        "event for block {}, which does not exist",
                        tg.block
                    ))
                })?
                .queue_event(tg.placement, tg.instance, t, tg.weight, Some(key))?;
        }
        Ok(())
    }

    /// Runs until `tstop_ms`; returns one recording per block (spikes included).
    pub fn run(&mut self, tstop_ms: f64, mut progress: impl FnMut(f64)) -> Result<Vec<Recording>> {
        let (t, dt) = self
            .blocks
            .first()
            .map_or((0.0, 0.025), |b| (b.time(), b.dt()));
        let steps = steps_until(t, tstop_ms, dt);
        let mut recs: Vec<Recording> = self
            .blocks
            .iter()
            .map(|b| b.start_recording(steps))
            .collect();
        for (b, r) in self.blocks.iter().zip(&mut recs) {
            b.sample(r);
        }
        // Epochs: each block runs up to the least delay between blocks (and at most a
        // hundredth of the run, for progress) on its own thread, then spikes are exchanged.
        // Without connections between blocks they only meet for progress.
        use rayon::prelude::*;
        let every = (steps / 100).max(1);
        let epoch = self.epoch_steps().unwrap_or(every).min(every);
        let mut done = 0;
        progress(0.0);
        while done < steps {
            let n = epoch.min(steps - done);
            self.blocks
                .par_iter_mut()
                .zip(recs.par_iter_mut())
                .try_for_each(|(b, r)| -> Result<()> {
                    for _ in 0..n {
                        b.step()?;
                        let mut lap = Lap::start(b.profile.is_some());
                        b.sample(r);
                        lap.lap(b.profile.as_mut().map(|p| &mut p.probes_ns));
                    }
                    Ok(())
                })?;
            self.exchange()?;
            done += n;
            progress(done as f64 / steps as f64);
        }
        for (b, r) in self.blocks.iter().zip(&mut recs) {
            r.spikes = b.spikes.clone();
        }
        Ok(recs)
    }
}
