//! NMODL conformance with NEURON: runs the corpus README's "Conformance protocol
//! (normative)" (`shared/nmodl/README.md`) for one mechanism and compares the result with
//! NEURON 9.0.2's recorded runs.
//!
//! Everything a run needs comes from the `.mod` file (INCLUDEs beside it) and the
//! `<stem>.protocol.json` file ([`Protocol::parse`]; a malformed field is
//! [`Error::Protocol`] naming its JSON path). [`run`] simulates:
//!
//! * **density**: one compartment (the protocol's geometry, `cm`), the mechanism alone plus the
//!   protocol's concentration drivers ([`driver_source`]: our own `refdrive_<ion>.mod`, a linear
//!   conductance `g = 1e-4 S/cm²`, `i = g·(v − e)`), and our `SEClamp` (library) at series
//!   resistance `rs` whose command follows the staircase (the command of the step from `t_n` is
//!   the staircase value at `t_n`); `i_clamp` is NEURON's SEClamp current computed after the
//!   solve, `(command − v_{n+1})/rs` nA;
//! * **synapse / pp_free**: the compartment with `pas` and the point process; NetCon events
//!   (one NetCon: `weight[0]` = the protocol's weight, further slots 0, kept between events as
//!   NEURON keeps them) at the protocol's times;
//! * **artificial**: no compartment; the same events; states change only in NET_RECEIVE
//!   (NEURON does not integrate ARTIFICIAL_CELL states between events); output events
//!   (`net_event`) are [`Trace::spikes_ms`].
//!
//! The temperature is the protocol's `celsius`, unless the file's PARAMETER block sets
//! `celsius = value` (NEURON then runs at that value, as the README states).
//! POINTER variables named in `parameters_changed` read the protocol's pulse: 0, 1 on
//! [5, 6) ms, 0. Ions start at NEURON's defaults ([`IonPools`](crate::IonPools)); an ion whose
//! concentration the mechanism writes gets its reversal potential from the Nernst equation at
//! initialisation and after every step (NEURON's ion style). Recorded ion variables (`ina`,
//! `cai`, …) are the compartment's values (pool totals, mA/cm² for currents even for a point
//! process), other columns the mechanism's own variables (`name[i]` for array elements).
//!
//! The step is NEURON's fixed step (`secondorder = 0`), as in the crate docs: events due by
//! `t_n + dt/2` (each at its own time), currents and dI/dv at `v_n` and `t_n + dt/2`,
//! backward Euler for `v_{n+1} = v_n − I/(cm·1e-3/dt + G)` (point-process nA and µS scaled
//! by `100/area`), states advanced with `v_{n+1}` at `t_n + dt`, ions written, reversal
//! potentials updated, WATCH conditions checked. A row is recorded after `finitialize`
//! (INITIAL, then currents evaluated at `v_init`) and after every step.
//!
//! [`compare`] applies the README's two tiers (tier 1: same scheme, ≤ 1e-6 of each column's
//! range against `ref.csv`; tier 2: at least NEURON's accuracy at dt = 0.025 against
//! `fine.csv`). `neuwon nmodl conform FILE.mod --protocol P.json --out OUT.csv` is the
//! command-line face of [`run`].
//!
//! Known differences (per-file status in `backend-cpu/CONFORMANCE.md`): the stiff KINETIC
//! schemes of corpus `neuwon/Kv14`, `Kv33`, `Kv34` (rates up to ~1e6/ms) miss tier 1 by up
//! to 2.2× (6e-11 absolute in states of 5e-5): an independent pivoted Gaussian solve agrees
//! with ours to 3e-14, so the difference is most likely the rounding of NEURON's sparse
//! elimination; the states of `nrn/minipump.mod` differ from ref.csv by less than its 9-digit
//! printing, which the tier-1 bound is tighter than (1e-9 of 40). Tier 2 accepts all four.
//!
//! Why a runner of its own rather than the [`Engine`](crate::Engine): the protocol's cell is
//! one compartment, whose backward-Euler cable equation is one division, and the protocol
//! needs what the engine does not expose (a clamp command changed per step, POINTERs bound to
//! a driven value, NET_RECEIVE's weight vector kept per NetCon, BEFORE/AFTER blocks, output
//! events of an artificial cell).

mod compare;
mod protocol;
mod runner;

pub use compare::{compare, fmt_g, to_csv, Table, TierResult, Verdict};
pub use protocol::{
    split_element, Clamp, Events, Geometry, Kind, Protocol, Recorded, POINTER_PULSE_MS,
};
pub use runner::{compile_mod, driver_source, run, Trace};

use crate::error::{Error, Result};

/// Reads `<stem>.spikes.json` text: `{"ref": [ms…], "fine": [ms…]}`.
pub fn parse_spikes(text: &str) -> Result<(Vec<f64>, Vec<f64>)> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Protocol {
        field: "spikes.json".into(),
        what: format!("not JSON: {e}"),
    })?;
    let list = |k: &str| -> Result<Vec<f64>> {
        v.get(k)
            .and_then(|a| a.as_array())
            .ok_or_else(|| Error::Protocol {
                field: format!("spikes.json {k}"),
                what: "expected an array of times (ms)".into(),
            })?
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_f64().ok_or_else(|| Error::Protocol {
                    field: format!("spikes.json {k}[{i}]"),
                    what: "expected a number".into(),
                })
            })
            .collect()
    };
    Ok((list("ref")?, list("fine")?))
}
