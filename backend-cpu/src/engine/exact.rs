//! [`Method::Exact`](super::Method::Exact): NEUWON's exact cable propagator in the engine.
//!
//! The zero-area nodes of NEURON's layout are eliminated first ([`integrate::Elimination`]):
//! what remains is a graph of capacitive compartments whose axial propagator P = exp(h·A) is
//! built once ([`integrate::ExactCable`], Strang split of the membrane and the cable within
//! each half step). One step of dt, staggered as NEUWON does:
//!
//! 1. half a step (dt/2) of the cable with the membrane linearised at the previous evaluation
//!    (conductance G and source G·v₀ − I per compartment, held constant);
//! 2. every mechanism's states advance over dt with this mid-step voltage;
//! 3. the membrane currents are evaluated at the mid-step voltage with the new states;
//! 4. the second half step with these.
//!
//! Each linearisation is thus applied over the two half steps that straddle the time at which
//! it was made, and the states see voltages at half-integer times: second order in dt.
//! Mechanisms without states, ions or NET_RECEIVE (`pas`, `IClamp`, `SEClamp`) are instead
//! evaluated at the start of each half step, at its centre time: their current is a function
//! of v and t only, and a stimulus switching on at a step boundary then acts from that
//! boundary, not half a step early.
//!
//! Currents of point processes placed on a zero-area node (for instance an `IClamp` at x = 0 of
//! a section) reach the neighbouring compartments in proportion to their axial conductances,
//! evaluated at the node's recovered voltage; their slope conductance is not folded into the
//! elimination (exact for current sources such as `IClamp`, lagged by half a step for
//! conductances). Voltages at zero-area nodes are recovered after every half step.

use integrate::{CableTree, Elimination, ExactCable, ExactOptions, Membrane, Split};

use super::Engine;
use crate::error::Result;

/// Absolute pruning tolerance of P: far below the voltages' resolution, with the charge of the
/// pruned entries returned to the diagonal.
const PRUNE: f64 = 1e-13;

pub(super) struct ExactState {
    el: Elimination,
    cable: ExactCable,
    /// Linearisation of the stateful mechanisms, per original node: slope conductance µS,
    /// source g·v₀ − i nA (and the point processes' share of it), outward current i nA.
    gs: Vec<f64>,
    js: Vec<f64>,
    jps: Vec<f64>,
    is: Vec<f64>,
    /// Membrane of the reduced compartments for the half step: conductance µS, source nA
    /// relaxed locally, and point-process source nA propagated exactly.
    g: Vec<f64>,
    j: Vec<f64>,
    src: Vec<f64>,
    /// Reduced voltages, mV.
    v: Vec<f64>,
    /// Per original node: inward current at zero-area nodes after routing (nA), what the
    /// voltage recovery needs.
    routed: Vec<f64>,
}

impl ExactState {
    pub(super) fn new(tree: &CableTree, dt: f64) -> Result<Self> {
        let el = Elimination::new(tree)?;
        let (n, m) = (tree.len(), el.kept().len());
        // Point-process currents go through the exact source propagator: folded into the
        // local relaxation, a current into a small compartment overshoots there by about
        // h·I/(2C) (a lasting offset under a steady current).
        let opts = ExactOptions {
            tol: PRUNE,
            exact_sources: true,
        };
        let cable = ExactCable::from_graph(el.graph(), dt / 2.0, Split::Strang, opts)?;
        Ok(ExactState {
            cable,
            gs: vec![0.0; n],
            js: vec![0.0; n],
            jps: vec![0.0; n],
            is: vec![0.0; n],
            g: vec![0.0; m],
            j: vec![0.0; m],
            src: vec![0.0; m],
            v: vec![0.0; m],
            routed: vec![0.0; n],
            el,
        })
    }
}

impl Engine {
    /// After INITIAL: the first linearisation, at v_init and t = 0.
    pub(super) fn exact_initialise(&mut self) -> Result<()> {
        self.exact_linearise(0.0)
    }

    /// Steps 1–4 of the module documentation, from t to t + dt. When events were delivered
    /// at the start of the step (a synapse's conductance may jump), the membrane is linearised
    /// again first, so that the jump acts from t on rather than from t + dt/2.
    pub(super) fn exact_step(&mut self, events_delivered: usize) -> Result<()> {
        let (t, dt) = (self.t, self.settings.dt_ms);
        if events_delivered > 0 {
            self.exact_linearise(t)?;
        }
        self.exact_half_step(t + dt / 4.0)?;
        self.advance_states(t + dt / 2.0)?;
        self.exact_linearise(t + dt)?;
        self.exact_half_step(t + 3.0 * dt / 4.0)
    }

    /// Evaluates the stateful mechanisms at the present voltages and stores their
    /// linearisation.
    fn exact_linearise(&mut self, t_eval: f64) -> Result<()> {
        self.membrane_currents(t_eval, Some(false))?;
        let Some(x) = self.exact.as_mut() else {
            return Ok(());
        };
        for k in 0..self.v.len() {
            x.gs[k] = self.g[k];
            x.js[k] = self.g[k] * self.v[k] - self.i[k];
            x.jps[k] = self.gp[k] * self.v[k] - self.ip[k];
            x.is[k] = self.i[k];
        }
        Ok(())
    }

    /// Half a step of the cable centred on `t_mid` (ms): the stateless mechanisms are
    /// evaluated now, the stateful ones from the stored linearisation; scatters the voltages
    /// back and recovers those of the zero-area nodes.
    fn exact_half_step(&mut self, t_mid: f64) -> Result<()> {
        self.membrane_currents(t_mid, Some(true))?;
        let Some(x) = self.exact.as_mut() else {
            return Ok(());
        };
        // Inward current at the zero-area nodes, routed to the kept ones.
        for k in 0..self.v.len() {
            x.routed[k] = -(x.is[k] + self.i[k]);
        }
        for &k in x.el.kept() {
            x.routed[k] = 0.0;
        }
        x.el.route_currents(&mut x.routed)?;
        for (r, &k) in x.el.kept().iter().enumerate() {
            let v = self.v[k];
            let point = x.jps[k] + self.gp[k] * v - self.ip[k] + x.routed[k];
            x.g[r] = x.gs[k] + self.g[k];
            x.j[r] = x.js[k] + self.g[k] * v - self.i[k] + x.routed[k] - point;
            x.src[r] = point;
            x.v[r] = v;
        }
        let m = Membrane {
            g_us: &x.g,
            ge_na: &x.j,
            i_na: &x.src,
        };
        x.cable.step(&mut x.v, m, None)?;
        for (r, &k) in x.el.kept().iter().enumerate() {
            self.v[k] = x.v[r];
        }
        x.el.recover_voltages(&mut self.v, &x.routed)?;
        Ok(())
    }
}
