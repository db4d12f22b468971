//! The TOML model file: parsing, unit conversion and validation, with every error located
//! (`file:line:col`) and saying what was expected. The format is documented in
//! `neuwon/MODEL.md`; `examples/*.toml` has one file per reference model.
//!
//! This layer checks everything that can be checked from the file alone: structure, units,
//! ranges, names and references between cells, sections, synapses and probes. Mechanism names
//! and parameter names are checked when the model is built against the compiled mechanisms.

mod location;
mod quantity;
mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use location::{Location, Target};
pub use quantity::{Dimension, RawQuantity};

use raw::{RawModel, S};

/// A place in the model file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
}

/// One problem found in a model file.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelError {
    /// The file.
    pub file: PathBuf,
    /// Where in it.
    pub pos: Pos,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file.display(),
            self.pos.line,
            self.pos.col,
            self.message
        )
    }
}

/// Every problem found in a model file (at least one).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct ModelErrors(pub Vec<ModelError>);

impl fmt::Display for ModelErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// How the cable equation is stepped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Backward Euler, as NEURON by default.
    BackwardEuler,
    /// Crank–Nicolson with staggered states, as NEURON's `secondorder = 2`.
    CrankNicolson,
    /// NEUWON's exact propagator (Strang split).
    Exact,
}

/// Run settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    /// Simulated time, ms.
    pub tstop_ms: f64,
    /// Time step, ms (default 0.025).
    pub dt_ms: f64,
    /// Temperature, °C (default 6.3).
    pub celsius: f64,
    /// Initial membrane potential, mV (default −65).
    pub v_init_mv: f64,
    /// Integration method (default backward Euler).
    pub method: Method,
    /// Use NEURON-style rate tables where a mechanism declares TABLE (default true).
    pub tables: bool,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
}

/// A mechanism parameter as written; its units are checked against the mechanism's.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The number as written.
    pub value: f64,
    /// The unit, when given as `"<number> <unit>"`.
    pub unit: Option<String>,
    /// Where it was written.
    pub pos: Pos,
}

/// Parameters by name.
pub type Parameters = BTreeMap<String, Parameter>;

/// An unbranched section given inline (a cylinder, or a frustum with `diam_end`).
#[derive(Clone, Debug, PartialEq)]
pub struct SectionSpec {
    /// Name, unique in the cell.
    pub name: String,
    /// Sample type: "soma", "axon", "dend" or "apic".
    pub kind: String,
    /// Parent section and the x on it where this section's x = 0 end attaches.
    pub parent: Option<(String, f64)>,
    /// Length, µm.
    pub length_um: f64,
    /// Diameter at x = 0, µm.
    pub diam_um: f64,
    /// Diameter at x = 1, µm (equal to `diam_um` for a cylinder).
    pub diam_end_um: f64,
    /// Segments, if given for this section.
    pub nseg: Option<usize>,
    /// Where it was declared.
    pub pos: Pos,
}

/// How sections are cut into compartments (the first rule given wins per section: a
/// section's own `nseg`, then the cell's `nseg`, `d_lambda`, `max_length`; default nseg 1).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Discretisation {
    /// Segments per section.
    pub nseg: Option<usize>,
    /// NEURON's d_lambda rule: fraction of the AC length constant.
    pub d_lambda: Option<f64>,
    /// Frequency of the d_lambda rule, Hz (default 100).
    pub frequency_hz: f64,
    /// Maximum segment length, µm.
    pub max_length_um: Option<f64>,
}

/// A density mechanism inserted in some sections.
#[derive(Clone, Debug, PartialEq)]
pub struct MechanismSpec {
    /// Mechanism (SUFFIX) name.
    pub name: String,
    /// Section names, types ("soma", "axon", "dend", "apic") or "all".
    pub regions: Vec<String>,
    /// Parameter values.
    pub parameters: Parameters,
    /// Where it was declared.
    pub pos: Pos,
}

/// A point process placed on every copy of a cell (a synapse that receives events).
#[derive(Clone, Debug, PartialEq)]
pub struct SynapseSpec {
    /// Name, unique in the cell; events and connections target `cell[i].name`.
    pub name: String,
    /// Point-process name.
    pub mechanism: String,
    /// Where on the cell.
    pub at: Location,
    /// Parameter values.
    pub parameters: Parameters,
    /// Where it was declared.
    pub pos: Pos,
}

/// A cell template and how many copies of it the model holds.
#[derive(Clone, Debug, PartialEq)]
pub struct CellSpec {
    /// Name, unique in the model.
    pub name: String,
    /// Number of copies (gids are assigned in file order).
    pub count: usize,
    /// An SWC file (relative to the model file), or none when sections are given inline.
    pub morphology: Option<PathBuf>,
    /// Inline sections.
    pub sections: Vec<SectionSpec>,
    /// Discretisation rule.
    pub discretisation: Discretisation,
    /// Axial resistivity, Ω·cm (default 35.4, NEURON's).
    pub ra_ohm_cm: f64,
    /// Specific capacitance, µF/cm² (default 1).
    pub cm_uf_per_cm2: f64,
    /// Density mechanisms.
    pub mechanisms: Vec<MechanismSpec>,
    /// Synapses.
    pub synapses: Vec<SynapseSpec>,
    /// Where spikes are detected (default: the first section's centre).
    pub spike_source: Option<Location>,
    /// Spike threshold, mV (default 0, upward crossing).
    pub spike_threshold_mv: f64,
    /// Where it was declared.
    pub pos: Pos,
}

/// A stimulating point process (IClamp, SEClamp, …) on one cell.
#[derive(Clone, Debug, PartialEq)]
pub struct StimulusSpec {
    /// Point-process name.
    pub mechanism: String,
    /// Which cell copy and where.
    pub at: Target,
    /// Parameter values.
    pub parameters: Parameters,
    /// Where it was declared.
    pub pos: Pos,
}

/// Events delivered to one synapse at given times.
#[derive(Clone, Debug, PartialEq)]
pub struct EventsSpec {
    /// Cell, copy index and synapse name.
    pub cell: String,
    /// Copy index.
    pub index: usize,
    /// Synapse name.
    pub synapse: String,
    /// Delivery times, ms.
    pub times_ms: Vec<f64>,
    /// Weight, µS.
    pub weight_us: f64,
    /// Where it was declared.
    pub pos: Pos,
}

/// A connection from a cell's spike source to a synapse.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionSpec {
    /// Source cell and copy.
    pub source: (String, usize),
    /// `None`: the copy's spike source (threshold detector); `Some(name)`: the output events
    /// (`net_event`) of that copy's synapse `name`, e.g. an ARTIFICIAL_CELL.
    pub source_synapse: Option<String>,
    /// Target cell, copy and synapse.
    pub target: (String, usize, String),
    /// Weight, µS.
    pub weight_us: f64,
    /// Delay, ms (> 0).
    pub delay_ms: f64,
    /// Where it was declared.
    pub pos: Pos,
}

/// A recorded quantity.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeSpec {
    /// Column name in the output (default built from the location).
    pub name: String,
    /// Where: a location on a cell, or a synapse (`cell[i].synapse`).
    pub at: Target,
    /// What: `v`, a mechanism variable `mech.var`, an ion variable (`ina`, `cai`), or for a
    /// synapse one of its variables (`g`, `i`).
    pub variable: String,
    /// Where it was declared.
    pub pos: Pos,
}

/// A validated model file.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The file it came from.
    pub file: PathBuf,
    /// Title.
    pub title: Option<String>,
    /// NMODL files to compile (paths relative to the model file), with where each is named.
    pub mod_files: Vec<(PathBuf, Pos)>,
    /// Run settings.
    pub simulation: Simulation,
    /// Cell templates.
    pub cells: Vec<CellSpec>,
    /// Stimuli.
    pub stimuli: Vec<StimulusSpec>,
    /// Timed events.
    pub events: Vec<EventsSpec>,
    /// Connections.
    pub connections: Vec<ConnectionSpec>,
    /// Probes.
    pub probes: Vec<ProbeSpec>,
}

impl Model {
    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Model, ModelErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ModelErrors(vec![ModelError {
                file: path.to_path_buf(),
                pos: Pos { line: 1, col: 1 },
                message: format!("cannot read the model file: {e}"),
            }])
        })?;
        Model::parse(&text, path)
    }

    /// Parses and validates model text; `file` names it in errors and anchors relative paths.
    pub fn parse(text: &str, file: &Path) -> Result<Model, ModelErrors> {
        let mut cx = Checker {
            text,
            file,
            errors: Vec::new(),
        };
        let raw: RawModel = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let pos = cx.pos(e.span().map_or(0, |s| s.start));
                return Err(ModelErrors(vec![ModelError {
                    file: file.to_path_buf(),
                    pos,
                    message: e.message().trim().to_string(),
                }]));
            }
        };
        let model = cx.model(raw);
        if cx.errors.is_empty() {
            Ok(model)
        } else {
            Err(ModelErrors(cx.errors))
        }
    }
}

struct Checker<'a> {
    text: &'a str,
    file: &'a Path,
    errors: Vec<ModelError>,
}

impl Checker<'_> {
    fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Pos { line, col }
    }

    fn at<T>(&self, s: &S<T>) -> Pos {
        self.pos(s.span().start)
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(ModelError {
            file: self.file.to_path_buf(),
            pos,
            message: message.into(),
        });
    }

    /// A quantity in `dim`, checked against `ok` (a predicate and its description).
    fn quantity(
        &mut self,
        what: &str,
        q: &S<RawQuantity>,
        dim: Dimension,
        ok: (fn(f64) -> bool, &str),
    ) -> f64 {
        match q.get_ref().resolve(dim) {
            Ok(v) if (ok.0)(v) => v,
            Ok(v) => {
                self.error(
                    self.at(q),
                    format!("{what}: expected {}, found {v} {}", ok.1, dim.unit()),
                );
                f64::NAN
            }
            Err(m) => {
                self.error(self.at(q), format!("{what}: {m}"));
                f64::NAN
            }
        }
    }

    fn opt_quantity(
        &mut self,
        what: &str,
        q: &Option<S<RawQuantity>>,
        dim: Dimension,
        ok: (fn(f64) -> bool, &str),
        default: f64,
    ) -> f64 {
        match q {
            Some(q) => self.quantity(what, q, dim, ok),
            None => default,
        }
    }

    fn count(&mut self, what: &str, n: &S<i64>) -> usize {
        match usize::try_from(*n.get_ref()) {
            Ok(v) if v >= 1 => v,
            _ => {
                self.error(
                    self.at(n),
                    format!("{what}: expected a whole number ≥ 1, found {}", n.get_ref()),
                );
                1
            }
        }
    }

    fn parameters(&mut self, what: &str, raw: &raw::Params) -> Parameters {
        let mut out = Parameters::new();
        for (name, q) in raw {
            match q.get_ref().number_and_unit() {
                Ok((value, unit)) if value.is_finite() => {
                    out.insert(
                        name.clone(),
                        Parameter {
                            value,
                            unit,
                            pos: self.at(q),
                        },
                    );
                }
                Ok((value, _)) => self.error(
                    self.at(q),
                    format!("{what}.{name}: expected a finite number, found {value}"),
                ),
                Err(m) => self.error(self.at(q), format!("{what}.{name}: {m}")),
            }
        }
        out
    }

    fn model(&mut self, raw: RawModel) -> Model {
        let simulation = self.simulation(&raw.simulation);
        let mut cells = Vec::new();
        for c in &raw.cell {
            let cell = self.cell(c);
            if cells.iter().any(|o: &CellSpec| o.name == cell.name) {
                self.error(
                    self.at(&c.get_ref().name),
                    format!("cell `{}` is declared twice", cell.name),
                );
            }
            cells.push(cell);
        }
        let mut stimuli = Vec::new();
        for s in &raw.stimulus {
            let r = s.get_ref();
            let parameters = self.parameters(
                &format!("stimulus `{}`", r.mechanism.get_ref()),
                &r.parameters,
            );
            if let Some(at) = self.target(&r.at, &cells, false) {
                stimuli.push(StimulusSpec {
                    mechanism: r.mechanism.get_ref().clone(),
                    at,
                    parameters,
                    pos: self.at(s),
                });
            }
        }
        let mut events = Vec::new();
        for e in &raw.event {
            let r = e.get_ref();
            let mut times = Vec::new();
            for t in r.times.get_ref() {
                match t.resolve(Dimension::Time) {
                    Ok(v) if v >= 0.0 => times.push(v),
                    Ok(v) => self.error(
                        self.at(&r.times),
                        format!("event times: expected times ≥ 0 ms, found {v}"),
                    ),
                    Err(m) => self.error(self.at(&r.times), format!("event times: {m}")),
                }
            }
            let weight = self.quantity(
                "event weight",
                &r.weight,
                Dimension::Conductance,
                (|w| w >= 0.0, "a weight ≥ 0"),
            );
            if let Some(Target::Synapse {
                cell,
                index,
                synapse,
            }) = self.target(&r.target, &cells, true)
            {
                events.push(EventsSpec {
                    cell,
                    index,
                    synapse,
                    times_ms: times,
                    weight_us: weight,
                    pos: self.at(e),
                });
            }
        }
        let mut connections = Vec::new();
        for c in &raw.connection {
            let r = c.get_ref();
            let weight = self.quantity(
                "connection weight",
                &r.weight,
                Dimension::Conductance,
                (|w| w >= 0.0, "a weight ≥ 0"),
            );
            let delay = self.quantity(
                "connection delay",
                &r.delay,
                Dimension::Time,
                (|d| d > 0.0, "a delay > 0"),
            );
            let source = if r.source.get_ref().contains('.') {
                match self.target(&r.source, &cells, true) {
                    Some(Target::Synapse {
                        cell,
                        index,
                        synapse,
                    }) => Some((cell, index, Some(synapse))),
                    _ => None,
                }
            } else {
                match location::parse_cell_ref(r.source.get_ref()) {
                    Ok((cell, index)) => self
                        .check_cell(&r.source, &cells, &cell, index)
                        .then_some((cell, index, None)),
                    Err(m) => {
                        self.error(self.at(&r.source), format!("connection source: {m}"));
                        None
                    }
                }
            };
            let target = self.target(&r.target, &cells, true);
            if let (
                Some((scell, sindex, source_synapse)),
                Some(Target::Synapse {
                    cell,
                    index,
                    synapse,
                }),
            ) = (source, target)
            {
                connections.push(ConnectionSpec {
                    source: (scell, sindex),
                    source_synapse,
                    target: (cell, index, synapse),
                    weight_us: weight,
                    delay_ms: delay,
                    pos: self.at(c),
                });
            }
        }
        let mut probes = Vec::new();
        for p in &raw.probe {
            let r = p.get_ref();
            if let Some(at) = self.target(&r.at, &cells, false) {
                let variable = r.variable.get_ref().clone();
                let name = r.name.as_ref().map_or_else(
                    || format!("{}:{variable}", r.at.get_ref()),
                    |n| n.get_ref().clone(),
                );
                if probes.iter().any(|o: &ProbeSpec| o.name == name) {
                    self.error(self.at(p), format!("probe name `{name}` is used twice"));
                }
                probes.push(ProbeSpec {
                    name,
                    at,
                    variable,
                    pos: self.at(p),
                });
            }
        }
        let mod_files = raw
            .mod_files
            .iter()
            .map(|f| {
                let p = PathBuf::from(f.get_ref());
                let p = if p.is_relative() {
                    self.file.parent().unwrap_or(Path::new(".")).join(p)
                } else {
                    p
                };
                (p, self.at(f))
            })
            .collect();
        Model {
            file: self.file.to_path_buf(),
            title: raw.title,
            mod_files,
            simulation,
            cells,
            stimuli,
            events,
            connections,
            probes,
        }
    }

    fn simulation(&mut self, s: &S<raw::RawSimulation>) -> Simulation {
        let r = s.get_ref();
        let tstop = self.quantity(
            "simulation.tstop",
            &r.tstop,
            Dimension::Time,
            (|t| t > 0.0, "a duration > 0"),
        );
        let dt = self.opt_quantity(
            "simulation.dt",
            &r.dt,
            Dimension::Time,
            (|t| t > 0.0, "a step > 0"),
            0.025,
        );
        let celsius = self.opt_quantity(
            "simulation.celsius",
            &r.celsius,
            Dimension::Temperature,
            (|c| c > -273.15, "a temperature above absolute zero"),
            6.3,
        );
        let v_init = self.opt_quantity(
            "simulation.v_init",
            &r.v_init,
            Dimension::Voltage,
            (|_| true, ""),
            -65.0,
        );
        let method = match r
            .method
            .as_ref()
            .map(|m| (m.get_ref().as_str(), self.at(m)))
        {
            None | Some(("backward-euler", _)) => Method::BackwardEuler,
            Some(("crank-nicolson", _)) => Method::CrankNicolson,
            Some(("exact", _)) => Method::Exact,
            Some((other, pos)) => {
                self.error(
                    pos,
                    format!("simulation.method: expected \"backward-euler\", \"crank-nicolson\" or \"exact\", found \"{other}\""),
                );
                Method::BackwardEuler
            }
        };
        let threads = r
            .threads
            .as_ref()
            .map(|t| self.count("simulation.threads", t));
        if tstop.is_finite() && dt.is_finite() && dt > tstop {
            self.error(
                self.at(s),
                format!("simulation: dt ({dt} ms) is longer than tstop ({tstop} ms)"),
            );
        }
        Simulation {
            tstop_ms: tstop,
            dt_ms: dt,
            celsius,
            v_init_mv: v_init,
            method,
            tables: r.tables.unwrap_or(true),
            threads,
        }
    }

    fn cell(&mut self, c: &S<raw::RawCell>) -> CellSpec {
        let r = c.get_ref();
        let name = r.name.get_ref().clone();
        if !location::is_identifier(&name) {
            self.error(
                self.at(&r.name),
                format!("cell name: expected letters, digits and `_`, found `{name}`"),
            );
        }
        let count = r.count.as_ref().map_or(1, |n| self.count("cell.count", n));
        let morphology = r.morphology.as_ref().map(|m| {
            let p = PathBuf::from(m.get_ref());
            if p.is_relative() {
                self.file.parent().unwrap_or(Path::new(".")).join(p)
            } else {
                p
            }
        });
        if morphology.is_some() != r.section.is_empty() {
            self.error(
                self.at(c),
                format!("cell `{name}`: give either `morphology = \"file.swc\"` or [[cell.section]] tables, not both or neither"),
            );
        }
        let mut sections: Vec<SectionSpec> = Vec::new();
        for s in &r.section {
            let sec = self.section(&name, s);
            if sections.iter().any(|o| o.name == sec.name) {
                self.error(
                    sec.pos.clone(),
                    format!("cell `{name}`: section `{}` is declared twice", sec.name),
                );
            }
            sections.push(sec);
        }
        // Parents must exist, and the sections must form one tree.
        let roots = sections.iter().filter(|s| s.parent.is_none()).count();
        for s in &sections {
            if let Some((p, _)) = &s.parent {
                if !sections.iter().any(|o| &o.name == p) {
                    self.error(
                        s.pos.clone(),
                        format!(
                            "cell `{name}`: parent section `{p}` of `{}` is not declared",
                            s.name
                        ),
                    );
                }
            }
        }
        if !sections.is_empty() && roots != 1 {
            self.error(
                self.at(c),
                format!(
                    "cell `{name}`: expected exactly one section without a parent, found {roots}"
                ),
            );
        } else if let Some(s) = location::cycle(&sections) {
            self.error(
                s.pos.clone(),
                format!("cell `{name}`: section `{}` is its own ancestor", s.name),
            );
        }
        let discretisation = match &r.discretisation {
            Some(d) => self.discretisation(d),
            None => Discretisation {
                frequency_hz: 100.0,
                ..Default::default()
            },
        };
        let ra = self.opt_quantity(
            "cell.Ra",
            &r.ra,
            Dimension::Resistivity,
            (|v| v > 0.0, "a resistivity > 0"),
            35.4,
        );
        let cm = self.opt_quantity(
            "cell.cm",
            &r.cm,
            Dimension::SpecificCapacitance,
            (|v| v > 0.0, "a capacitance > 0"),
            1.0,
        );
        let mut mechanisms = Vec::new();
        for m in &r.mechanism {
            let mr = m.get_ref();
            let regions: Vec<String> = match &mr.regions {
                None => vec!["all".to_string()],
                Some(v) => v.iter().map(|s| s.get_ref().clone()).collect(),
            };
            if let Some(list) = &mr.regions {
                for reg in list {
                    let known = ["all", "soma", "axon", "dend", "apic"]
                        .contains(&reg.get_ref().as_str())
                        || sections.iter().any(|s| &s.name == reg.get_ref())
                        || morphology.is_some();
                    if !known {
                        self.error(
                            self.at(reg),
                            format!(
                                "mechanism `{}`: `{}` is neither a section of cell `{name}` nor one of all, soma, axon, dend, apic",
                                mr.name.get_ref(),
                                reg.get_ref()
                            ),
                        );
                    }
                }
            }
            let parameters = self.parameters(
                &format!("mechanism `{}`", mr.name.get_ref()),
                &mr.parameters,
            );
            mechanisms.push(MechanismSpec {
                name: mr.name.get_ref().clone(),
                regions,
                parameters,
                pos: self.at(m),
            });
        }
        let mut synapses: Vec<SynapseSpec> = Vec::new();
        for s in &r.synapse {
            let sr = s.get_ref();
            let syn_name = sr.name.get_ref().clone();
            if !location::is_identifier(&syn_name) {
                self.error(
                    self.at(&sr.name),
                    format!("synapse name: expected letters, digits and `_`, found `{syn_name}`"),
                );
            }
            if synapses.iter().any(|o| o.name == syn_name) {
                self.error(
                    self.at(&sr.name),
                    format!("cell `{name}`: synapse `{syn_name}` is declared twice"),
                );
            }
            let at = self.location(&sr.at, &sections, morphology.is_some());
            let parameters = self.parameters(&format!("synapse `{syn_name}`"), &sr.parameters);
            if let Some(at) = at {
                synapses.push(SynapseSpec {
                    name: syn_name,
                    mechanism: sr.mechanism.get_ref().clone(),
                    at,
                    parameters,
                    pos: self.at(s),
                });
            }
        }
        let spike_source = r
            .spike_source
            .as_ref()
            .and_then(|s| self.location(s, &sections, morphology.is_some()));
        let spike_threshold = self.opt_quantity(
            "cell.spike_threshold",
            &r.spike_threshold,
            Dimension::Voltage,
            (|_| true, ""),
            0.0,
        );
        CellSpec {
            name,
            count,
            morphology,
            sections,
            discretisation,
            ra_ohm_cm: ra,
            cm_uf_per_cm2: cm,
            mechanisms,
            synapses,
            spike_source,
            spike_threshold_mv: spike_threshold,
            pos: self.at(c),
        }
    }

    fn section(&mut self, cell: &str, s: &S<raw::RawSection>) -> SectionSpec {
        let r = s.get_ref();
        let name = r.name.get_ref().clone();
        let what = format!("cell `{cell}` section `{name}`");
        let kind = match r.kind.as_ref() {
            None => "dend".to_string(),
            Some(k) if ["soma", "axon", "dend", "apic"].contains(&k.get_ref().as_str()) => {
                k.get_ref().clone()
            }
            Some(k) => {
                self.error(
                    self.at(k),
                    format!(
                        "{what}: type: expected soma, axon, dend or apic, found `{}`",
                        k.get_ref()
                    ),
                );
                "dend".to_string()
            }
        };
        let parent = r
            .parent
            .as_ref()
            .and_then(|p| match location::parse_section_x(p.get_ref()) {
                Ok(v) => Some(v),
                Err(m) => {
                    self.error(self.at(p), format!("{what}: parent: {m}"));
                    None
                }
            });
        let length = self.quantity(
            &format!("{what}: length"),
            &r.length,
            Dimension::Length,
            (|v| v > 0.0, "a length > 0"),
        );
        let diam = self.quantity(
            &format!("{what}: diam"),
            &r.diam,
            Dimension::Length,
            (|v| v > 0.0, "a diameter > 0"),
        );
        let diam_end = match &r.diam_end {
            Some(d) => self.quantity(
                &format!("{what}: diam_end"),
                d,
                Dimension::Length,
                (|v| v > 0.0, "a diameter > 0"),
            ),
            None => diam,
        };
        let nseg = r
            .nseg
            .as_ref()
            .map(|n| self.count(&format!("{what}: nseg"), n));
        SectionSpec {
            name,
            kind,
            parent,
            length_um: length,
            diam_um: diam,
            diam_end_um: diam_end,
            nseg,
            pos: self.at(s),
        }
    }

    fn discretisation(&mut self, d: &S<raw::RawDiscretisation>) -> Discretisation {
        let r = d.get_ref();
        let d_lambda = r.d_lambda.as_ref().and_then(|v| {
            let x = *v.get_ref();
            if x > 0.0 && x.is_finite() {
                Some(x)
            } else {
                self.error(
                    self.at(v),
                    format!("discretisation.d_lambda: expected a fraction > 0, found {x}"),
                );
                None
            }
        });
        Discretisation {
            nseg: r
                .nseg
                .as_ref()
                .map(|n| self.count("discretisation.nseg", n)),
            d_lambda,
            frequency_hz: self.opt_quantity(
                "discretisation.frequency",
                &r.frequency,
                Dimension::Frequency,
                (|f| f > 0.0, "a frequency > 0"),
                100.0,
            ),
            max_length_um: r.max_length.as_ref().map(|m| {
                self.quantity(
                    "discretisation.max_length",
                    m,
                    Dimension::Length,
                    (|v| v > 0.0, "a length > 0"),
                )
            }),
        }
    }

    /// `section(x)` on the cell being read.
    fn location(
        &mut self,
        s: &S<String>,
        sections: &[SectionSpec],
        from_swc: bool,
    ) -> Option<Location> {
        match location::parse_section_x(s.get_ref()) {
            Ok((section, x)) => {
                if !from_swc && !sections.iter().any(|o| o.name == section) {
                    self.error(
                        self.at(s),
                        format!("`{}`: no section `{section}` in this cell", s.get_ref()),
                    );
                    return None;
                }
                Some(Location { section, x })
            }
            Err(m) => {
                self.error(self.at(s), m);
                None
            }
        }
    }

    fn check_cell(&mut self, s: &S<String>, cells: &[CellSpec], cell: &str, index: usize) -> bool {
        match cells.iter().find(|c| c.name == cell) {
            None => {
                self.error(
                    self.at(s),
                    format!("`{}`: no cell named `{cell}`", s.get_ref()),
                );
                false
            }
            Some(c) if index >= c.count => {
                self.error(
                    self.at(s),
                    format!(
                        "`{}`: cell `{cell}` has {} cop(ies), index {index} is out of range",
                        s.get_ref(),
                        c.count
                    ),
                );
                false
            }
            Some(_) => true,
        }
    }

    /// `cell[i].section(x)` or `cell[i].synapse`; the cell part may be left out when the model
    /// has one cell with one copy.
    fn target(&mut self, s: &S<String>, cells: &[CellSpec], synapse_only: bool) -> Option<Target> {
        let t = match location::parse_target(s.get_ref(), cells) {
            Ok(t) => t,
            Err(m) => {
                self.error(self.at(s), m);
                return None;
            }
        };
        let (cell, index) = match &t {
            Target::Location { cell, index, .. } | Target::Synapse { cell, index, .. } => {
                (cell.clone(), *index)
            }
        };
        if !self.check_cell(s, cells, &cell, index) {
            return None;
        }
        let c = cells.iter().find(|c| c.name == cell)?;
        match &t {
            Target::Location { location, .. } => {
                if synapse_only {
                    self.error(
                        self.at(s),
                        format!(
                            "`{}`: expected a synapse (`cell[i].name`), found a location",
                            s.get_ref()
                        ),
                    );
                    return None;
                }
                if c.morphology.is_none() && !c.sections.iter().any(|o| o.name == location.section)
                {
                    self.error(
                        self.at(s),
                        format!(
                            "`{}`: cell `{cell}` has no section `{}`",
                            s.get_ref(),
                            location.section
                        ),
                    );
                    return None;
                }
            }
            Target::Synapse { synapse, .. } => {
                if !c.synapses.iter().any(|o| &o.name == synapse) {
                    self.error(
                        self.at(s),
                        format!(
                            "`{}`: cell `{cell}` has no synapse `{synapse}`",
                            s.get_ref()
                        ),
                    );
                    return None;
                }
            }
        }
        Some(t)
    }
}
