//! The protocol run: one compartment (or none, for an ARTIFICIAL_CELL) stepped by NEURON's
//! fixed-step scheme, recording the protocol's columns after `finitialize` and every step.

use std::path::Path;

use nmodl::ir::{IonVarKind, MechanismKind, Role, Storage};

use super::protocol::{split_element, Kind, Protocol, POINTER_PULSE_MS};
use crate::error::{Error, Result};
use crate::exec::{CompileOptions, Compiled, Env, EventSink, Instances};
use crate::ions::IonPools;
use crate::library;

/// A run's recorded columns (the protocol's `recorded`, in order) and output events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// Column names.
    pub columns: Vec<String>,
    /// Column units (from the protocol).
    pub units: Vec<String>,
    /// One row per step from t = 0 (after initialisation) to tstop, each `columns.len()` long.
    pub rows: Vec<Vec<f64>>,
    /// Output events of the mechanism (`net_event`) in the order emitted (ms).
    pub spikes_ms: Vec<f64>,
}

/// Lowers and compiles a `.mod` file (INCLUDEs resolved beside it and in `include_dirs`);
/// diagnostics of a file that does not lower are [`Error::Frontend`].
pub fn compile_mod(
    path: &Path,
    include_dirs: &[std::path::PathBuf],
    opts: CompileOptions,
) -> Result<Compiled> {
    let mut o = nmodl::Options::default();
    o.lower.use_tables = opts.use_tables;
    o.include_dirs = include_dirs.to_vec();
    let (sources, out) = nmodl::compile_file(path, &o).map_err(|e| Error::Frontend {
        file: path.display().to_string(),
        diagnostics: e.to_string(),
    })?;
    match out.mechanism {
        Some(m) if out.error_count() == 0 => Compiled::new(&m, opts),
        _ => Err(Error::Frontend {
            file: path.display().to_string(),
            diagnostics: sources.render_all(
                &out.diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
        }),
    }
}

struct Placed {
    c: Compiled,
    inst: Instances,
    point: bool,
}

/// Where a recorded column's value comes from.
#[derive(Clone, Copy, Debug)]
enum Src {
    T,
    V,
    IClamp,
    Col(usize, usize),
    Global(usize),
    Ion(usize, IonVarKind),
}

#[derive(Default)]
struct Sink {
    sent: Vec<(f64, f64)>,
    spikes: Vec<f64>,
    moved: Vec<f64>,
}

impl EventSink for Sink {
    fn net_send(&mut self, _: usize, t: f64, flag: f64) {
        self.sent.push((t, flag));
    }
    fn net_event(&mut self, _: usize, t: f64) {
        self.spikes.push(t);
    }
    fn net_move(&mut self, _: usize, t: f64) {
        self.moved.push(t);
    }
}

/// Pending events of the one target: (time ms, flag, sequence number, self-event).
#[derive(Default)]
struct Queue {
    ev: Vec<(f64, f64, u64, bool)>,
    seq: u64,
    spikes: Vec<f64>,
}

impl Queue {
    fn push(&mut self, t: f64, flag: f64, self_event: bool) {
        self.seq += 1;
        self.ev.push((t, flag, self.seq, self_event));
    }
    fn drain(&mut self, s: &mut Sink) {
        for (t, f) in s.sent.drain(..) {
            self.push(t, f, true);
        }
        for t in s.moved.drain(..) {
            // net_move: the pending self-event (the latest sent) moves to the new time.
            if let Some(e) = self.ev.iter_mut().filter(|e| e.3).max_by_key(|e| e.2) {
                e.0 = t;
            }
        }
        self.spikes.append(&mut s.spikes);
    }
    /// The earliest event due by `t_max` (ties: first queued).
    fn pop_due(&mut self, t_max: f64) -> Option<(f64, f64)> {
        let k = self
            .ev
            .iter()
            .enumerate()
            .filter(|(_, e)| e.0 <= t_max)
            .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(a.1 .2.cmp(&b.1 .2)))
            .map(|(k, _)| k)?;
        let e = self.ev.remove(k);
        Some((e.0, e.1))
    }
}

fn set_param(p: &mut Placed, name: &str, elem: usize, x: f64, field: &str) -> Result<()> {
    if let Ok(col) = p.c.column_mut(&mut p.inst, name, elem) {
        col.iter_mut().for_each(|c| *c = x);
        return Ok(());
    }
    if elem == 0 && p.c.set_global(&mut p.inst, name, x).is_ok() {
        return Ok(());
    }
    Err(Error::Protocol {
        field: field.to_string(),
        what: format!(
            "mechanism `{}` has no parameter `{name}`{}",
            p.c.mechanism().name,
            if elem > 0 {
                format!("[{elem}]")
            } else {
                String::new()
            }
        ),
    })
}

fn ion_var(name: &str, ions: &IonPools) -> Option<(usize, IonVarKind)> {
    for (k, p) in ions.pools().iter().enumerate() {
        let n = p.name.as_str();
        let kind = if name.strip_prefix('i') == Some(n) {
            IonVarKind::Current
        } else if name.strip_prefix('e') == Some(n) {
            IonVarKind::Reversal
        } else if name.strip_suffix('i') == Some(n) {
            IonVarKind::Inside
        } else if name.strip_suffix('o') == Some(n) {
            IonVarKind::Outside
        } else {
            continue;
        };
        return Some((k, kind));
    }
    None
}

fn resolve(
    name: &str,
    field: &str,
    placed: &[Placed],
    main: usize,
    ions: &IonPools,
    clamp: Option<usize>,
) -> Result<Src> {
    match name {
        "t" => return Ok(Src::T),
        "v" => return Ok(Src::V),
        "i_clamp" if clamp.is_some() => return Ok(Src::IClamp),
        _ => {}
    }
    let bad = |what: String| Error::Protocol {
        field: field.to_string(),
        what,
    };
    let (base, elem) =
        split_element(name).ok_or_else(|| bad(format!("cannot read column name `{name}`")))?;
    let m = &placed[main];
    if let Some(var) = m.c.mechanism().variables.iter().find(|v| v.name == base) {
        if let Role::Ion(ion, kind) = var.role {
            let ion_name =
                m.c.mechanism()
                    .ions
                    .get(ion)
                    .map(|i| i.name.as_str())
                    .unwrap_or("");
            if let Some(k) = ions.pools().iter().position(|p| p.name == ion_name) {
                return Ok(Src::Ion(k, kind));
            }
        }
        let id =
            m.c.mechanism()
                .variables
                .iter()
                .position(|v| v.name == base)
                .unwrap_or(0);
        return match var.storage {
            Storage::Range if m.c.column(&m.inst, base, elem).is_ok() => Ok(Src::Col(id, elem)),
            Storage::Global if elem == 0 => Ok(Src::Global(id)),
            _ => Err(bad(format!(
                "`{name}` is not an element of `{base}` in mechanism `{}`",
                m.c.mechanism().name
            ))),
        };
    }
    // An ion variable of the compartment (a driver's current, say): only for ions that some
    // inserted mechanism uses, as NEURON has no `ik` where no mechanism uses k.
    if elem == 0 {
        if let Some((k, kind)) = ion_var(base, ions) {
            let name = ions.pool(k).map(|p| p.name.as_str()).unwrap_or("");
            if placed
                .iter()
                .any(|p| p.c.mechanism().ions.iter().any(|i| i.name == name))
            {
                return Ok(Src::Ion(k, kind));
            }
        }
    }
    Err(bad(format!(
        "mechanism `{}` has no variable `{base}` (nor is it an ion variable)",
        m.c.mechanism().name
    )))
}

/// The embedded NMODL source of a protocol driver (`refdrive_na`, `refdrive_k`,
/// `refdrive_ca`): a linear conductance `g = 1e-4 S/cm²` on one ion, `i = g·(v − e)`.
pub fn driver_source(name: &str) -> Option<&'static str> {
    match name {
        "refdrive_na" => Some(include_str!("../../mechanisms/refdrive_na.mod")),
        "refdrive_k" => Some(include_str!("../../mechanisms/refdrive_k.mod")),
        "refdrive_ca" => Some(include_str!("../../mechanisms/refdrive_ca.mod")),
        _ => None,
    }
}

/// Runs protocol `p` for `mech` with time step `dt` (ms; `p.dt_ms` for the reference run).
pub fn run(mech: &Compiled, p: &Protocol, dt: f64, opts: CompileOptions) -> Result<Trace> {
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(Error::Protocol {
            field: "dt_ms.ref".into(),
            what: format!("expected a positive time step, found {dt}"),
        });
    }
    let m = mech.mechanism();
    let artificial = p.kind == Kind::Artificial;
    let want = match p.kind {
        Kind::Density => MechanismKind::Density,
        Kind::Artificial => MechanismKind::ArtificialCell,
        Kind::Synapse | Kind::PpFree => MechanismKind::PointProcess,
    };
    // Each protocol is defined for one kind of mechanism (a SUFFIX cannot receive NetCon
    // events, an ARTIFICIAL_CELL has no membrane): a mismatch is the protocol's error.
    if m.kind != want {
        return Err(Error::Protocol {
            field: "protocol".into(),
            what: format!(
                "`{}` protocol for mechanism `{}`, which is a {:?}",
                p.kind.name(),
                m.name,
                m.kind
            ),
        });
    }
    let (diam, area, cm) = match p.geometry {
        Some(g) => (g.diam_um, g.area_um2, g.cm_uf_per_cm2),
        None => (1.0, 100.0, 1.0),
    };
    let mut ions = IonPools::new(1);
    let mut placed: Vec<Placed> = Vec::new();
    if let Some((g, e)) = p.passive {
        let c = library::compile("pas", opts)?;
        let inst = c.instantiate(&[0], &mut ions)?;
        let mut pl = Placed {
            c,
            inst,
            point: false,
        };
        set_param(&mut pl, "g", 0, g, "passive.g_pas_S_per_cm2")?;
        set_param(&mut pl, "e", 0, e, "passive.e_pas_mV")?;
        placed.push(pl);
    }
    let main = placed.len();
    placed.push(Placed {
        c: mech.clone(),
        inst: mech.instantiate(&[0], &mut ions)?,
        point: m.kind != MechanismKind::Density,
    });
    for d in &p.drivers {
        let src = driver_source(d).ok_or_else(|| Error::Protocol {
            field: "drivers".into(),
            what: format!("unknown driver `{d}`"),
        })?;
        let lowered = library::lower(&format!("{d}.mod"), src, opts.use_tables)?;
        let c = Compiled::new(&lowered, opts)?;
        let inst = c.instantiate(&[0], &mut ions)?;
        placed.push(Placed {
            c,
            inst,
            point: false,
        });
    }
    let clamp = match &p.clamp {
        Some(cl) => {
            let c = library::compile("SEClamp", opts)?;
            let inst = c.instantiate(&[0], &mut ions)?;
            let mut pl = Placed {
                c,
                inst,
                point: true,
            };
            set_param(&mut pl, "rs", 0, cl.rs_mohm, "clamp.rs_MOhm")?;
            set_param(&mut pl, "dur1", 0, 1e9, "clamp")?;
            let amp = p.command_at(0.0, dt).unwrap_or(0.0);
            set_param(&mut pl, "amp1", 0, amp, "clamp.command_mV")?;
            placed.push(pl);
            Some(placed.len() - 1)
        }
        None => None,
    };
    // Parameters of the mechanism, POINTERs at the pulse's resting value.
    for (name, elem, x) in &p.parameters {
        set_param(
            &mut placed[main],
            name,
            *elem,
            *x,
            &format!("parameters_changed.{name}"),
        )?;
    }
    for name in &p.pointers {
        set_param(
            &mut placed[main],
            name,
            0,
            0.0,
            &format!("parameters_changed.POINTER {name}"),
        )?;
    }
    let sources: Vec<Src> = p
        .recorded
        .iter()
        .enumerate()
        .map(|(k, r)| {
            resolve(
                &r.name,
                &format!("recorded[{k}].name"),
                &placed,
                main,
                &ions,
                clamp,
            )
        })
        .collect::<Result<_>>()?;

    // NEURON sets its temperature to a `celsius = value` PARAMETER of a loaded mechanism:
    // the file's value wins over the protocol's (the corpus protocols state the same value).
    let celsius = m.celsius.unwrap_or(p.celsius);
    let (areas, diams) = ([area], [diam]);
    let mut v = [p.v_init_mv.unwrap_or(0.0)];
    let mut t = 0.0f64;
    let mut sink = Sink::default();
    let mut queue = Queue::default();
    let n_args = m.net_receive.as_ref().map(|n| n.n_args).unwrap_or(0);
    let deliver = n_args > 0 && p.events.is_some();
    let mut weights = vec![0.0; n_args.max(1)];
    if let (true, Some(ev)) = (deliver, &p.events) {
        weights[0] = ev.weight;
        for &te in &ev.times_ms {
            queue.push(te, 0.0, false);
        }
    }
    macro_rules! env {
        ($t:expr, $v:expr) => {
            Env {
                t: $t,
                dt,
                celsius,
                v: $v,
                area: &areas,
                diam: &diams,
            }
        };
    }
    macro_rules! hooks {
        ($label:expr, $t:expr) => {{
            let e = env!($t, &v);
            for pl in placed.iter_mut() {
                if pl.c.hook_labels().any(|l| l == $label) {
                    pl.c.run_hook($label, &mut pl.inst, &e, &mut ions, &mut sink)?;
                }
            }
            queue.drain(&mut sink);
        }};
    }

    // finitialize
    hooks!("constructor", 0.0);
    ions.update_reversals(celsius);
    hooks!("before INITIAL", 0.0);
    {
        let e = env!(0.0, &v);
        for pl in placed.iter_mut() {
            pl.c.init(&mut pl.inst, &e, &mut ions, &mut sink)?;
            queue.drain(&mut sink);
        }
        if deliver {
            let pl = &mut placed[main];
            pl.c.net_receive_init(&mut pl.inst, 0, &mut weights, &e, &mut ions, &mut sink)?;
            queue.drain(&mut sink);
        }
    }
    hooks!("after INITIAL", 0.0);
    {
        let e = env!(0.0, &v);
        for pl in placed.iter_mut() {
            pl.c.write_ions(&mut pl.inst, &e, &mut ions)?;
        }
        ions.update_reversals(celsius);
        if !artificial {
            ions.reset_currents();
            for pl in placed.iter_mut() {
                pl.c.compute_currents(&mut pl.inst, &e, &mut ions)?;
            }
        }
    }
    let n_steps = (p.tstop_ms / dt + 1e-6).floor() as usize;
    let mut rows = Vec::with_capacity(n_steps + 1);
    let mut last_cmd = p.command_at(0.0, dt).unwrap_or(0.0);
    let rs = p.clamp.as_ref().map_or(1.0, |c| c.rs_mohm);
    let record = |placed: &[Placed], ions: &IonPools, t: f64, v: f64, cmd: f64| -> Vec<f64> {
        sources
            .iter()
            .map(|s| match *s {
                Src::T => t,
                Src::V => v,
                // NEURON's SEClamp computes its current after the solve (`after_cvode`), with
                // the new v and the command of the step just taken.
                Src::IClamp => (cmd - v) / rs,
                Src::Col(id, elem) => {
                    let pl = &placed[main];
                    let name = &pl.c.mechanism().variables[id].name;
                    pl.c.column(&pl.inst, name, elem)
                        .ok()
                        .and_then(|c| c.first().copied())
                        .unwrap_or(f64::NAN)
                }
                Src::Global(id) => {
                    let pl = &placed[main];
                    let name = &pl.c.mechanism().variables[id].name;
                    pl.c.global(&pl.inst, name).unwrap_or(f64::NAN)
                }
                Src::Ion(k, kind) => ions.pool(k).map_or(f64::NAN, |pool| {
                    let x = match kind {
                        IonVarKind::Current => &pool.current,
                        IonVarKind::Reversal => &pool.e,
                        IonVarKind::Inside => &pool.conc_in,
                        IonVarKind::Outside => &pool.conc_out,
                        IonVarKind::Conductance => &pool.didv,
                    };
                    x.first().copied().unwrap_or(f64::NAN)
                }),
            })
            .collect()
    };
    rows.push(record(&placed, &ions, t, v[0], last_cmd));
    let cfac = cm * 1e-3 / dt;
    for _ in 0..n_steps {
        // 1. Events due by t + dt/2, each at its own time.
        while let Some((te, flag)) = queue.pop_due(t + dt / 2.0) {
            let e = env!(te, &v);
            let pl = &mut placed[main];
            pl.c.net_receive(
                &mut pl.inst,
                0,
                &mut weights,
                flag,
                &e,
                &mut ions,
                &mut sink,
            )?;
            queue.drain(&mut sink);
        }
        // 2. The protocol's switches for this step.
        let on = t + dt / 2.0 >= POINTER_PULSE_MS.0 && t + dt / 2.0 < POINTER_PULSE_MS.1;
        for name in &p.pointers {
            set_param(
                &mut placed[main],
                name,
                0,
                if on { 1.0 } else { 0.0 },
                "parameters_changed",
            )?;
        }
        if let (Some(k), Some(cmd)) = (clamp, p.command_at(t, dt)) {
            set_param(&mut placed[k], "amp1", 0, cmd, "clamp.command_mV")?;
            last_cmd = cmd;
        }
        hooks!("before STEP", t);
        let t1 = t + dt;
        if !artificial {
            // 3. Currents at v_n, t + dt/2; backward Euler for v_{n+1}.
            ions.reset_currents();
            hooks!("before BREAKPOINT", t + dt / 2.0);
            let e = env!(t + dt / 2.0, &v);
            let (mut i, mut g) = (0.0, 0.0);
            for pl in placed.iter_mut() {
                pl.c.compute_currents(&mut pl.inst, &e, &mut ions)?;
                let scale = if pl.point { 100.0 / area } else { 1.0 };
                i += scale * pl.inst.i()[0];
                g += scale * pl.inst.g()[0];
            }
            let v1 = [v[0] - i / (cfac + g)];
            // 4. States with v_{n+1}.
            let e = env!(t1, &v1);
            for pl in placed.iter_mut() {
                pl.c.advance_state(&mut pl.inst, &e, &mut ions)?;
            }
            v = v1;
            hooks!("after SOLVE", t1);
            let e = env!(t1, &v);
            for pl in placed.iter_mut() {
                pl.c.write_ions(&mut pl.inst, &e, &mut ions)?;
            }
            ions.update_reversals(celsius);
            for pl in placed.iter_mut() {
                if pl.c.n_watches() > 0 {
                    pl.c.check_watches(&mut pl.inst, &e, &mut ions, &mut sink)?;
                    queue.drain(&mut sink);
                }
            }
        }
        t = t1;
        rows.push(record(&placed, &ions, t, v[0], last_cmd));
    }
    Ok(Trace {
        columns: p.recorded.iter().map(|r| r.name.clone()).collect(),
        units: p.recorded.iter().map(|r| r.units.clone()).collect(),
        rows,
        spikes_ms: queue.spikes,
    })
}
