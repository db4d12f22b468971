//! The protocol file (`<stem>.protocol.json`): parsed field by field, every error naming the
//! field's JSON path and what was expected.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Which of the four protocols of the corpus README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A SUFFIX mechanism alone under a voltage-clamp staircase.
    Density,
    /// A POINT_PROCESS with NET_RECEIVE on a passive cell, receiving NetCon events.
    Synapse,
    /// A POINT_PROCESS without NET_RECEIVE on a passive cell.
    PpFree,
    /// An ARTIFICIAL_CELL receiving NetCon events; its output events are recorded.
    Artificial,
}

impl Kind {
    /// The name used in protocol files (`density`, `synapse`, `pp_free`, `artificial`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Density => "density",
            Kind::Synapse => "synapse",
            Kind::PpFree => "pp_free",
            Kind::Artificial => "artificial",
        }
    }
}

/// The single compartment (`nseg = 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geometry {
    /// Diameter (µm).
    pub diam_um: f64,
    /// Membrane area (µm²); `π·L·diam` when the file does not give it.
    pub area_um2: f64,
    /// Specific capacitance (µF/cm²).
    pub cm_uf_per_cm2: f64,
}

/// NEURON's SEClamp with a command staircase.
#[derive(Clone, Debug, PartialEq)]
pub struct Clamp {
    /// Series resistance (MΩ).
    pub rs_mohm: f64,
    /// (from ms, command mV), in time order: the command for the step from `t_n` is the last
    /// entry with `from ≤ t_n`.
    pub command_mv: Vec<(f64, f64)>,
}

/// NetCon events delivered to the mechanism.
#[derive(Clone, Debug, PartialEq)]
pub struct Events {
    /// Delivery times (ms).
    pub times_ms: Vec<f64>,
    /// `weight[0]` of the NetCon (other weight slots 0), in the NET_RECEIVE argument's units.
    pub weight: f64,
}

/// One recorded column.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// Column name (`t`, `v`, `i_clamp`, a variable, `name[i]` for an array element).
    pub name: String,
    /// Units as the protocol states them (empty: dimensionless or undeclared).
    pub units: String,
}

/// Everything a conformance run needs, from `<stem>.protocol.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Protocol {
    /// Which protocol.
    pub kind: Kind,
    /// Mechanism name as the reference names it (informative).
    pub mechanism: String,
    /// The compartment; `None` for ARTIFICIAL_CELL.
    pub geometry: Option<Geometry>,
    /// Temperature (°C).
    pub celsius: f64,
    /// Parameters set before initialisation: (name, array element, value in the variable's
    /// units).
    pub parameters: Vec<(String, usize, f64)>,
    /// POINTER variables bound to the protocol's pulse (0, 1 on [5, 6) ms, 0).
    pub pointers: Vec<String>,
    /// Passive leak `(g S/cm², e mV)`.
    pub passive: Option<(f64, f64)>,
    /// Initial membrane potential (mV); `None` for ARTIFICIAL_CELL.
    pub v_init_mv: Option<f64>,
    /// Voltage clamp.
    pub clamp: Option<Clamp>,
    /// NetCon events.
    pub events: Option<Events>,
    /// End time (ms).
    pub tstop_ms: f64,
    /// The reference's time step (ms).
    pub dt_ms: f64,
    /// The fine run's time step (ms), when given.
    pub dt_fine_ms: Option<f64>,
    /// Recorded columns, in order.
    pub recorded: Vec<Recorded>,
    /// Driver mechanisms (`refdrive_na`, `refdrive_k`, `refdrive_ca`).
    pub drivers: Vec<String>,
    /// The mechanism draws random numbers.
    pub stochastic: bool,
    /// NEURON's own `max |ref − fine|` per recorded variable (tier 2's `D_x`).
    pub dt_max_abs_diff: Vec<(String, f64)>,
}

/// The pulse every POINTER is bound to: 1 on [5, 6) ms, else 0.
pub const POINTER_PULSE_MS: (f64, f64) = (5.0, 6.0);

fn err(field: impl Into<String>, what: impl Into<String>) -> Error {
    Error::Protocol {
        field: field.into(),
        what: what.into(),
    }
}

fn get<'a>(o: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a Value> {
    o.get(key)
        .ok_or_else(|| err(join(path, key), "missing (required)"))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn num(v: &Value, field: &str) -> Result<f64> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(err(
            field,
            format!("expected a finite number, found {}", brief(v)),
        )),
    }
}

fn pos(v: &Value, field: &str) -> Result<f64> {
    let x = num(v, field)?;
    if x > 0.0 {
        Ok(x)
    } else {
        Err(err(field, format!("expected a positive number, found {x}")))
    }
}

fn string<'a>(v: &'a Value, field: &str) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| err(field, format!("expected a string, found {}", brief(v))))
}

fn object<'a>(v: &'a Value, field: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| err(field, format!("expected an object, found {}", brief(v))))
}

fn array<'a>(v: &'a Value, field: &str) -> Result<&'a Vec<Value>> {
    v.as_array()
        .ok_or_else(|| err(field, format!("expected an array, found {}", brief(v))))
}

fn brief(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(40).map_or(s.len(), |c| c.0)]
        )
    } else {
        s
    }
}

/// `name` or `name[i]` → (name, i).
pub fn split_element(name: &str) -> Option<(&str, usize)> {
    match name.strip_suffix(']').and_then(|s| s.split_once('[')) {
        Some((n, i)) if !n.is_empty() && !n.contains(['[', ']']) => {
            i.trim().parse().ok().map(|i| (n, i))
        }
        Some(_) => None,
        None if name.contains(['[', ']']) => None,
        None => Some((name, 0)),
    }
}

impl Protocol {
    /// Parses protocol JSON text. Unknown fields are ignored; a missing or ill-typed field
    /// that the run needs is [`Error::Protocol`] naming it.
    pub fn parse(text: &str) -> Result<Protocol> {
        let root: Value = serde_json::from_str(text).map_err(|e| {
            err(
                "(document)",
                format!("not JSON: {e} (line {}, column {})", e.line(), e.column()),
            )
        })?;
        let o = object(&root, "(document)")?;
        let kind = match string(get(o, "", "protocol")?, "protocol")? {
            "density" => Kind::Density,
            "synapse" => Kind::Synapse,
            "pp_free" => Kind::PpFree,
            "artificial" => Kind::Artificial,
            other => {
                return Err(err(
                    "protocol",
                    format!("expected density, synapse, pp_free or artificial, found `{other}`"),
                ))
            }
        };
        let mechanism = match o.get("mechanism") {
            Some(v) => string(v, "mechanism")?.to_string(),
            None => String::new(),
        };
        let geometry = match o.get("geometry") {
            None | Some(Value::Null) if kind == Kind::Artificial => None,
            None | Some(Value::Null) => {
                return Err(err("geometry", "missing (required for a cell protocol)"))
            }
            Some(g) => {
                let g = object(g, "geometry")?;
                let diam = pos(get(g, "geometry", "diam_um")?, "geometry.diam_um")?;
                let area = match g.get("area_um2") {
                    Some(a) => pos(a, "geometry.area_um2")?,
                    None => {
                        std::f64::consts::PI
                            * diam
                            * pos(get(g, "geometry", "L_um")?, "geometry.L_um")?
                    }
                };
                let cm = match g.get("cm_uF_per_cm2") {
                    Some(c) => pos(c, "geometry.cm_uF_per_cm2")?,
                    None => 1.0,
                };
                Some(Geometry {
                    diam_um: diam,
                    area_um2: area,
                    cm_uf_per_cm2: cm,
                })
            }
        };
        let celsius = num(get(o, "", "celsius")?, "celsius")?;
        let mut parameters = Vec::new();
        let mut pointers = Vec::new();
        if let Some(pc) = o.get("parameters_changed").filter(|v| !v.is_null()) {
            for (k, v) in object(pc, "parameters_changed")? {
                let field = format!("parameters_changed.{k}");
                if let Some(p) = k.strip_prefix("POINTER ") {
                    pointers.push(p.trim().to_string());
                } else if k.starts_with("driver ") || k == "events" {
                    // Informative: drivers are listed in `drivers`, events in `events`.
                } else if v.is_number() {
                    let (n, i) = split_element(k)
                        .ok_or_else(|| err(&field, "expected `name` or `name[index]`"))?;
                    parameters.push((n.to_string(), i, num(v, &field)?));
                } else {
                    return Err(err(
                        field,
                        format!(
                            "expected a number (or a `POINTER name` / `driver name` entry), \
                             found {}",
                            brief(v)
                        ),
                    ));
                }
            }
        }
        let passive = match o.get("passive") {
            None | Some(Value::Null) => None,
            Some(p) => {
                let p = object(p, "passive")?;
                Some((
                    num(
                        get(p, "passive", "g_pas_S_per_cm2")?,
                        "passive.g_pas_S_per_cm2",
                    )?,
                    num(get(p, "passive", "e_pas_mV")?, "passive.e_pas_mV")?,
                ))
            }
        };
        let v_init_mv = match o.get("v_init_mV") {
            None | Some(Value::Null) if kind == Kind::Artificial => None,
            None | Some(Value::Null) => return Err(err("v_init_mV", "missing (required)")),
            Some(v) => Some(num(v, "v_init_mV")?),
        };
        let clamp = match o.get("clamp") {
            None | Some(Value::Null) => None,
            Some(c) => {
                let c = object(c, "clamp")?;
                if let Some(t) = c.get("type") {
                    let t = string(t, "clamp.type")?;
                    if t != "SEClamp" {
                        return Err(err("clamp.type", format!("expected SEClamp, found `{t}`")));
                    }
                }
                let rs = pos(get(c, "clamp", "rs_MOhm")?, "clamp.rs_MOhm")?;
                let mut cmd = Vec::new();
                for (k, s) in array(get(c, "clamp", "command_mV")?, "clamp.command_mV")?
                    .iter()
                    .enumerate()
                {
                    let f = format!("clamp.command_mV[{k}]");
                    let s = object(s, &f)?;
                    let from = num(get(s, &f, "from_ms")?, &format!("{f}.from_ms"))?;
                    let v = num(get(s, &f, "v_mV")?, &format!("{f}.v_mV"))?;
                    if cmd.last().is_some_and(|(t, _)| from < *t) {
                        return Err(err(
                            format!("{f}.from_ms"),
                            "expected times in increasing order",
                        ));
                    }
                    cmd.push((from, v));
                }
                if cmd.is_empty() {
                    return Err(err("clamp.command_mV", "expected at least one level"));
                }
                Some(Clamp {
                    rs_mohm: rs,
                    command_mv: cmd,
                })
            }
        };
        let events = match o.get("events") {
            None | Some(Value::Null) => None,
            Some(e) => {
                let e = object(e, "events")?;
                let mut times = Vec::new();
                for (k, t) in array(get(e, "events", "times_ms")?, "events.times_ms")?
                    .iter()
                    .enumerate()
                {
                    times.push(num(t, &format!("events.times_ms[{k}]"))?);
                }
                Some(Events {
                    times_ms: times,
                    weight: num(get(e, "events", "weight")?, "events.weight")?,
                })
            }
        };
        let tstop_ms = pos(get(o, "", "tstop_ms")?, "tstop_ms")?;
        let dt = get(o, "", "dt_ms")?;
        let (dt_ms, dt_fine_ms) = match dt {
            Value::Object(d) => (
                pos(get(d, "dt_ms", "ref")?, "dt_ms.ref")?,
                match d.get("fine") {
                    Some(f) => Some(pos(f, "dt_ms.fine")?),
                    None => None,
                },
            ),
            v => (pos(v, "dt_ms")?, None),
        };
        if tstop_ms / dt_ms > 1e8 {
            return Err(err("tstop_ms", "expected at most 1e8 steps of dt_ms.ref"));
        }
        let mut recorded = Vec::new();
        for (k, r) in array(get(o, "", "recorded")?, "recorded")?
            .iter()
            .enumerate()
        {
            let f = format!("recorded[{k}]");
            let (name, units) = match r {
                Value::String(s) => (s.clone(), String::new()),
                Value::Object(m) => (
                    string(get(m, &f, "name")?, &format!("{f}.name"))?.to_string(),
                    match m.get("units") {
                        Some(u) => string(u, &format!("{f}.units"))?.to_string(),
                        None => String::new(),
                    },
                ),
                v => {
                    return Err(err(
                        f,
                        format!("expected {{\"name\", \"units\"}}, found {}", brief(v)),
                    ))
                }
            };
            if split_element(&name).is_none() || name.is_empty() {
                return Err(err(
                    format!("{f}.name"),
                    format!("expected `name` or `name[index]`, found `{name}`"),
                ));
            }
            recorded.push(Recorded { name, units });
        }
        let mut drivers = Vec::new();
        if let Some(d) = o.get("drivers").filter(|v| !v.is_null()) {
            for (k, x) in array(d, "drivers")?.iter().enumerate() {
                let f = format!("drivers[{k}]");
                let name = string(x, &f)?;
                if super::driver_source(name).is_none() {
                    return Err(err(
                        f,
                        format!("expected refdrive_na, refdrive_k or refdrive_ca, found `{name}`"),
                    ));
                }
                drivers.push(name.to_string());
            }
        }
        let stochastic = match o.get("stochastic") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                return Err(err(
                    "stochastic",
                    format!("expected true or false, found {}", brief(v)),
                ))
            }
        };
        let mut dt_max_abs_diff = Vec::new();
        if let Some(d) = o.get("dt_max_abs_diff").filter(|v| !v.is_null()) {
            for (k, v) in object(d, "dt_max_abs_diff")? {
                if k.starts_with("spike_") {
                    continue;
                }
                dt_max_abs_diff.push((k.clone(), num(v, &format!("dt_max_abs_diff.{k}"))?));
            }
        }
        Ok(Protocol {
            kind,
            mechanism,
            geometry,
            celsius,
            parameters,
            pointers,
            passive,
            v_init_mv,
            clamp,
            events,
            tstop_ms,
            dt_ms,
            dt_fine_ms,
            recorded,
            drivers,
            stochastic,
            dt_max_abs_diff,
        })
    }

    /// The clamp command (mV) for the step that starts at `t` (ms).
    pub fn command_at(&self, t: f64, dt: f64) -> Option<f64> {
        let c = self.clamp.as_ref()?;
        let mut v = c.command_mv.first()?.1;
        for (from, x) in &c.command_mv {
            if *from <= t + dt / 2.0 {
                v = *x;
            }
        }
        Some(v)
    }
}
