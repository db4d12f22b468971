//! The Rust builder: the model file's structure as Rust calls. A built model goes through the
//! same validation as a file (`Model::parse`), so the two can never disagree; errors name the
//! attribute as a file error would, at a position in the generated model text.
//!
//! ```
//! use neuwon::builder::{Cell, Mechanism, ModelBuilder, Section};
//! let model = ModelBuilder::new(50.0)
//!     .cell(
//!         Cell::new("soma_only")
//!             .section(Section::cylinder("soma", 20.0, 20.0).kind("soma"))
//!             .mechanism(Mechanism::new("hh")),
//!     )
//!     .stimulus("IClamp", "soma(0.5)", &[("del", 5.0), ("dur", 40.0), ("amp", 0.2)])
//!     .probe("v_soma", "soma(0.5)", "v")
//!     .build()
//!     .map_err(|e| e.to_string())?;
//! assert_eq!(model.cells[0].sections[0].length_um, 20.0);
//! let mut built = neuwon::run::build(&model).map_err(|e| e.to_string())?;
//! let rec = built.run(|_| {})?;
//! assert_eq!(rec.t_ms.len(), 2001);
//! # Ok::<(), String>(())
//! ```

use std::path::Path;

use toml::{Table, Value};

use crate::model::{Model, ModelErrors};

/// Appends `v` to the array `table[key]`, creating it when absent.
fn append(table: &mut Table, key: &str, v: Value) {
    if let Value::Array(a) = table.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
        a.push(v);
    }
}

fn params(p: &[(&str, f64)]) -> Value {
    Value::Table(
        p.iter()
            .map(|(k, v)| ((*k).to_string(), Value::Float(*v)))
            .collect(),
    )
}

/// An unbranched section: a cylinder or a frustum (µm).
#[derive(Clone, Debug)]
pub struct Section(Table);

impl Section {
    /// A cylinder of `length_um` × `diam_um`.
    pub fn cylinder(name: &str, length_um: f64, diam_um: f64) -> Self {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(name.into()));
        t.insert("length".into(), Value::Float(length_um));
        t.insert("diam".into(), Value::Float(diam_um));
        Section(t)
    }
    /// A frustum whose diameter goes from `diam0_um` (x = 0) to `diam1_um` (x = 1).
    pub fn frustum(name: &str, length_um: f64, diam0_um: f64, diam1_um: f64) -> Self {
        let mut s = Self::cylinder(name, length_um, diam0_um);
        s.0.insert("diam_end".into(), Value::Float(diam1_um));
        s
    }
    /// Sample type: "soma", "axon", "dend" (default) or "apic".
    pub fn kind(mut self, kind: &str) -> Self {
        self.0.insert("type".into(), Value::String(kind.into()));
        self
    }
    /// Attaches this section's x = 0 end to `parent(x)`.
    pub fn parent(mut self, parent: &str, x: f64) -> Self {
        self.0
            .insert("parent".into(), Value::String(format!("{parent}({x})")));
        self
    }
    /// Segments of this section.
    pub fn nseg(mut self, n: u32) -> Self {
        self.0.insert("nseg".into(), Value::Integer(i64::from(n)));
        self
    }
}

/// A density mechanism inserted in regions of a cell.
#[derive(Clone, Debug)]
pub struct Mechanism(Table);

impl Mechanism {
    /// Mechanism `name` everywhere in the cell.
    pub fn new(name: &str) -> Self {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(name.into()));
        Mechanism(t)
    }
    /// Only in these regions (section names, or all / soma / axon / dend / apic).
    pub fn on(mut self, regions: &[&str]) -> Self {
        self.0.insert(
            "where".into(),
            Value::Array(regions.iter().map(|r| Value::String((*r).into())).collect()),
        );
        self
    }
    /// A parameter value, in the mechanism's units.
    pub fn param(mut self, name: &str, value: f64) -> Self {
        let t = self
            .0
            .entry("parameters")
            .or_insert_with(|| Value::Table(Table::new()));
        if let Value::Table(t) = t {
            t.insert(name.into(), Value::Float(value));
        }
        self
    }
}

/// A cell template.
#[derive(Clone, Debug)]
pub struct Cell(Table);

impl Cell {
    /// A cell template with one copy.
    pub fn new(name: &str) -> Self {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(name.into()));
        Cell(t)
    }
    fn push(mut self, key: &str, v: Table) -> Self {
        append(&mut self.0, key, Value::Table(v));
        self
    }
    fn set(mut self, key: &str, v: Value) -> Self {
        self.0.insert(key.into(), v);
        self
    }
    /// Number of copies.
    pub fn count(self, n: u32) -> Self {
        self.set("count", Value::Integer(i64::from(n)))
    }
    /// Axial resistivity, Ω·cm.
    pub fn ra(self, ohm_cm: f64) -> Self {
        self.set("Ra", Value::Float(ohm_cm))
    }
    /// Specific capacitance, µF/cm².
    pub fn cm(self, uf_per_cm2: f64) -> Self {
        self.set("cm", Value::Float(uf_per_cm2))
    }
    /// An SWC morphology file instead of sections.
    pub fn morphology(self, swc: &Path) -> Self {
        self.set("morphology", Value::String(swc.display().to_string()))
    }
    /// Where spikes are detected, `section(x)`, and the threshold (mV).
    pub fn spike_source(self, at: &str, threshold_mv: f64) -> Self {
        self.set("spike_source", Value::String(at.into()))
            .set("spike_threshold", Value::Float(threshold_mv))
    }
    /// Segments per section for sections without their own nseg.
    pub fn nseg(self, n: u32) -> Self {
        let mut t = Table::new();
        t.insert("nseg".into(), Value::Integer(i64::from(n)));
        self.set("discretisation", Value::Table(t))
    }
    /// NEURON's d_lambda rule at `frequency_hz`.
    pub fn d_lambda(self, d_lambda: f64, frequency_hz: f64) -> Self {
        let mut t = Table::new();
        t.insert("d_lambda".into(), Value::Float(d_lambda));
        t.insert("frequency".into(), Value::Float(frequency_hz));
        self.set("discretisation", Value::Table(t))
    }
    /// Adds a section.
    pub fn section(self, s: Section) -> Self {
        self.push("section", s.0)
    }
    /// Inserts a density mechanism.
    pub fn mechanism(self, m: Mechanism) -> Self {
        self.push("mechanism", m.0)
    }
    /// Places a synapse (point process) `name` at `at` (`section(x)`) on every copy.
    pub fn synapse(
        self,
        name: &str,
        mechanism: &str,
        at: &str,
        parameters: &[(&str, f64)],
    ) -> Self {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(name.into()));
        t.insert("mechanism".into(), Value::String(mechanism.into()));
        t.insert("at".into(), Value::String(at.into()));
        t.insert("parameters".into(), params(parameters));
        self.push("synapse", t)
    }
}

/// A whole model; [`build`](Self::build) validates it into a [`Model`].
#[derive(Clone, Debug)]
pub struct ModelBuilder(Table);

impl ModelBuilder {
    /// A model simulated for `tstop_ms`, with the file format's defaults (dt 0.025 ms,
    /// 6.3 °C, v_init −65 mV, backward Euler, tables on).
    pub fn new(tstop_ms: f64) -> Self {
        let mut sim = Table::new();
        sim.insert("tstop".into(), Value::Float(tstop_ms));
        let mut t = Table::new();
        t.insert("simulation".into(), Value::Table(sim));
        ModelBuilder(t)
    }
    fn sim(mut self, key: &str, v: Value) -> Self {
        if let Some(Value::Table(s)) = self.0.get_mut("simulation") {
            s.insert(key.into(), v);
        }
        self
    }
    fn push(mut self, key: &str, v: Table) -> Self {
        append(&mut self.0, key, Value::Table(v));
        self
    }
    /// Time step, ms.
    pub fn dt(self, ms: f64) -> Self {
        self.sim("dt", Value::Float(ms))
    }
    /// Temperature, °C.
    pub fn celsius(self, c: f64) -> Self {
        self.sim("celsius", Value::Float(c))
    }
    /// Initial membrane potential, mV.
    pub fn v_init(self, mv: f64) -> Self {
        self.sim("v_init", Value::Float(mv))
    }
    /// "backward-euler", "crank-nicolson" or "exact".
    pub fn method(self, method: &str) -> Self {
        self.sim("method", Value::String(method.into()))
    }
    /// NEURON's rate tables on or off.
    pub fn tables(self, on: bool) -> Self {
        self.sim("tables", Value::Boolean(on))
    }
    /// Compiles an NMODL file of your own with the model.
    pub fn mod_file(mut self, path: &Path) -> Self {
        append(
            &mut self.0,
            "mod_files",
            Value::String(path.display().to_string()),
        );
        self
    }
    /// Adds a cell template.
    pub fn cell(self, c: Cell) -> Self {
        self.push("cell", c.0)
    }
    /// A stimulating point process at `at` (`cell[i].section(x)`).
    pub fn stimulus(self, mechanism: &str, at: &str, parameters: &[(&str, f64)]) -> Self {
        let mut t = Table::new();
        t.insert("mechanism".into(), Value::String(mechanism.into()));
        t.insert("at".into(), Value::String(at.into()));
        t.insert("parameters".into(), params(parameters));
        self.push("stimulus", t)
    }
    /// Events of weight `weight_us` into synapse `target` (`cell[i].synapse`) at `times_ms`.
    pub fn events(self, target: &str, times_ms: &[f64], weight_us: f64) -> Self {
        let mut t = Table::new();
        t.insert("target".into(), Value::String(target.into()));
        t.insert(
            "times".into(),
            Value::Array(times_ms.iter().map(|x| Value::Float(*x)).collect()),
        );
        t.insert("weight".into(), Value::Float(weight_us));
        self.push("event", t)
    }
    /// Spikes of `source` (`cell[i]`) to synapse `target` (`cell[i].synapse`).
    pub fn connect(self, source: &str, target: &str, weight_us: f64, delay_ms: f64) -> Self {
        let mut t = Table::new();
        t.insert("source".into(), Value::String(source.into()));
        t.insert("target".into(), Value::String(target.into()));
        t.insert("weight".into(), Value::Float(weight_us));
        t.insert("delay".into(), Value::Float(delay_ms));
        self.push("connection", t)
    }
    /// Records `variable` (`v`, `mech.var`, or a synapse variable) at `at`, as column `name`.
    pub fn probe(self, name: &str, at: &str, variable: &str) -> Self {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(name.into()));
        t.insert("at".into(), Value::String(at.into()));
        t.insert("variable".into(), Value::String(variable.into()));
        self.push("probe", t)
    }
    /// The model as TOML (the model file format).
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.0).unwrap_or_default()
    }
    /// Validates the model (paths are relative to the current directory).
    pub fn build(&self) -> Result<Model, ModelErrors> {
        Model::parse(&self.to_toml(), Path::new("<builder>"))
    }
}
