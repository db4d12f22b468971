//! `neuwon reduce`: a model file's cells → Neuron_Reduce (crate `reduce`) → a reduced model
//! file that `neuwon run` simulates with the same inputs.
//!
//! Per cell template: the morphology (SWC or inline sections) and discretisation are read as
//! `neuwon run` reads them; the density mechanisms become per-segment values (`pas` gives
//! `g_pas`/`e_pas`, every other mechanism a presence flag and its explicitly given
//! parameters); synapses, and every place the model refers to on the cell (stimuli, probes,
//! the spike source), are mapped by the reduction. The reduced cell is written with inline
//! sections: the kept soma/axon sections as they were (sections given by more than two SWC
//! points become cylinders of the same length and membrane area), and each cylinder of
//! `nseg` segments as a chain of `nseg` one-segment sections `<cyl>_<k>` (electrically the
//! same cable), so that each carries its own mapped densities. Events and connections that
//! targeted merged synapses target the synapse they were merged into (same weights, delays
//! and times).
//!
//! Limitations (reported, never silent): a mechanism parameter left at its default in some
//! original segments is averaged over the segments that set it only (the reference averages
//! the actual values, defaults included); mechanisms inserted twice on one section are refused.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use morpho_grow::{CableParams, SampleType};
use reduce::{CableTree, Geometry, ProfilePoint, ReduceOptions, SectionKind, Segment, Synapse};
use toml::{Table, Value};

use crate::model::{Location, Model, ModelErrors, Parameters, Pos, Target};
use crate::run::{err, morphology, nseg, region_matches};

/// Options of [`reduce_model`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReduceSettings {
    /// Reduction frequency, Hz.
    pub frequency_hz: f64,
    /// Segment-count rule of the cylinders.
    pub segments: reduce::SegmentPolicy,
}

/// What [`reduce_model`] produced.
#[derive(Debug, Clone)]
pub struct ReducedModel {
    /// The reduced model file (TOML, `neuwon/MODEL.md` format).
    pub toml: String,
    /// Per cell template: its name and the reduction (cylinders, impedances, mappings).
    pub reductions: Vec<(String, reduce::Reduction)>,
    /// Remarks for the user (approximations made, merged counts).
    pub notes: Vec<String>,
}

fn kind_name(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Soma => "soma",
        SectionKind::Axon => "axon",
        SectionKind::Apical => "apic",
        SectionKind::Basal | SectionKind::Dendrite => "dend",
    }
}

/// Key of a mechanism parameter in [`Segment::values`] (`mech.param`); a bare `mech` key is
/// the presence flag (1).
fn key(mech: &str, param: &str) -> String {
    format!("{mech}.{param}")
}

/// A place of the model on a cell template, mapped by the reduction.
#[derive(Clone, Debug, PartialEq)]
enum Place {
    Location(Location),
}

struct CellInput {
    tree: CableTree,
    synapses: Vec<Synapse>,
    /// For every synapse slot: `Some(synapse index in the cell)` or a place.
    slots: Vec<Result<usize, Place>>,
    units: BTreeMap<String, Option<String>>,
}

fn cell_input(model: &Model, ci: usize) -> Result<CellInput, ModelErrors> {
    let cell = &model.cells[ci];
    let m = morphology(model, cell)?;
    let params = CableParams::uniform(&m, cell.ra_ohm_cm, cell.cm_uf_per_cm2);
    let ns = nseg(model, cell, &m, &params)?;
    let index: HashMap<&str, usize> = m
        .sections()
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name(), i))
        .collect();
    let mut units: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut sections = Vec::with_capacity(m.len());
    for (i, s) in m.sections().iter().enumerate() {
        let mut seg = Segment {
            cm_uf_cm2: cell.cm_uf_per_cm2,
            ..Default::default()
        };
        let mut seen = BTreeSet::new();
        for ms in &cell.mechanisms {
            if !ms
                .regions
                .iter()
                .any(|r| region_matches(r, s.name(), s.kind()))
            {
                continue;
            }
            if !seen.insert(ms.name.clone()) {
                return Err(err(
                    model,
                    &ms.pos,
                    format!(
                        "unsupported by `neuwon reduce`: mechanism `{}` is inserted twice on section `{}`",
                        ms.name,
                        s.name()
                    ),
                ));
            }
            if ms.name == "pas" {
                // NEURON's (and the shipped pas.mod's) defaults.
                seg.g_pas_s_cm2 = ms.parameters.get("g").map_or(0.001, |p| p.value);
                seg.e_pas_mv = ms.parameters.get("e").map_or(-70.0, |p| p.value);
                continue;
            }
            seg.values.insert(ms.name.clone(), 1.0);
            for (pname, p) in &ms.parameters {
                let k = key(&ms.name, pname);
                match units.get(&k) {
                    Some(u) if *u != p.unit => {
                        return Err(err(
                            model,
                            &p.pos,
                            format!("unsupported by `neuwon reduce`: `{k}` is given with different units in different places"),
                        ))
                    }
                    _ => {
                        units.insert(k.clone(), p.unit.clone());
                    }
                }
                seg.values.insert(k, p.value);
            }
        }
        let arcs = s.arc_lengths_um();
        let profile = s
            .points()
            .iter()
            .zip(arcs)
            .map(|(p, a)| ProfilePoint {
                arc_um: *a,
                diam_um: p.diam,
            })
            .collect();
        sections.push(reduce::Section {
            name: s.name().to_string(),
            kind: match s.kind() {
                SampleType::Soma => SectionKind::Soma,
                SampleType::Axon => SectionKind::Axon,
                SampleType::Basal => SectionKind::Basal,
                SampleType::Apical => SectionKind::Apical,
                _ => SectionKind::Dendrite,
            },
            parent: s.parent().map(|a| a.parent.index()),
            parent_x: s.parent().map_or(0.0, |a| a.x),
            length_um: s.length_um(),
            geometry: Geometry::Profile(profile),
            ra_ohm_cm: cell.ra_ohm_cm,
            segments: vec![seg; ns[i].max(1) as usize],
        });
    }
    let mut synapses = Vec::new();
    let mut slots = Vec::new();
    let sec_of = |loc: &Location, pos: &Pos| {
        index.get(loc.section.as_str()).copied().ok_or_else(|| {
            err(
                model,
                pos,
                format!("cell `{}` has no section `{}`", cell.name, loc.section),
            )
        })
    };
    for (k, syn) in cell.synapses.iter().enumerate() {
        let section = sec_of(&syn.at, &syn.pos)?;
        // Units are part of the type so that equal numbers in different units never merge.
        let mut kind = syn.mechanism.clone();
        for (n, p) in &syn.parameters {
            if let Some(u) = &p.unit {
                kind.push_str(&format!("|{n}:{u}"));
            }
        }
        synapses.push(Synapse {
            section,
            x: syn.at.x,
            kind,
            params: syn
                .parameters
                .iter()
                .map(|(n, p)| (n.clone(), p.value))
                .collect(),
        });
        slots.push(Ok(k));
    }
    // Every place on this cell the model refers to, as an unmergeable pseudo-synapse.
    let mut places: Vec<(Location, Pos)> = Vec::new();
    for s in &model.stimuli {
        if let Target::Location {
            cell: c, location, ..
        } = &s.at
        {
            if *c == cell.name {
                places.push((location.clone(), s.pos.clone()));
            }
        }
    }
    for p in &model.probes {
        if let Target::Location {
            cell: c, location, ..
        } = &p.at
        {
            if *c == cell.name {
                places.push((location.clone(), p.pos.clone()));
            }
        }
    }
    if let Some(src) = &cell.spike_source {
        places.push((src.clone(), cell.pos.clone()));
    }
    for (loc, pos) in places {
        let section = sec_of(&loc, &pos)?;
        synapses.push(Synapse {
            section,
            x: loc.x,
            kind: format!("\u{0}place{}", slots.len()),
            params: Vec::new(),
        });
        slots.push(Err(Place::Location(loc)));
    }
    Ok(CellInput {
        tree: CableTree { sections },
        synapses,
        slots,
        units,
    })
}

fn num(v: f64) -> Value {
    Value::Float(v)
}

fn param_value(value: f64, unit: &Option<String>) -> Value {
    match unit {
        Some(u) => Value::String(format!("{value:e} {u}")),
        None => num(value),
    }
}

fn params_table(p: &Parameters) -> Table {
    p.iter()
        .map(|(k, v)| (k.clone(), param_value(v.value, &v.unit)))
        .collect()
}

/// Name of the one-segment section `k` of cylinder `cyl` (`apic[0]` → `apic0_k`).
fn seg_section(cyl: &str, k: usize) -> String {
    let base: String = cyl.chars().filter(|c| c.is_alphanumeric()).collect();
    format!("{base}_{k}")
}

/// Reduces every cell template of `model` and writes the reduced model.
pub fn reduce_model(model: &Model, settings: &ReduceSettings) -> Result<ReducedModel, ModelErrors> {
    let mut notes = Vec::new();
    let mut reductions = Vec::new();
    let mut cells_out = Vec::new();
    // (cell, old place) → new place text; (cell, old synapse) → new synapse name.
    let mut place_map: HashMap<(String, String, u64), String> = HashMap::new();
    let mut syn_map: HashMap<(String, String), String> = HashMap::new();
    for (ci, cell) in model.cells.iter().enumerate() {
        let input = cell_input(model, ci)?;
        let mut defaults: BTreeMap<String, f64> = BTreeMap::new();
        for ms in &cell.mechanisms {
            defaults.insert(ms.name.clone(), 1.0);
        }
        let opts = ReduceOptions {
            frequency_hz: settings.frequency_hz,
            segments: settings.segments,
            defaults,
        };
        let red = reduce::reduce(&input.tree, &input.synapses, &opts)
            .map_err(|e| err(model, &cell.pos, format!("cell `{}`: {e}", cell.name)))?;
        let tree = &red.tree;
        // Where a reduced (section, x) is written in the model.
        let cyl_of: HashMap<usize, &reduce::Cylinder> =
            red.cylinders.iter().map(|c| (c.section, c)).collect();
        let place_text = |section: usize, x: f64| -> String {
            match cyl_of.get(&section) {
                Some(c) => {
                    let k = reduce::tree::segment_index(x, c.nseg);
                    format!("{}(0.5)", seg_section(&c.name, k))
                }
                None => format!("{}({x})", tree.sections[section].name),
            }
        };
        let mut t = Table::new();
        t.insert("name".into(), Value::String(cell.name.clone()));
        t.insert("count".into(), Value::Integer(cell.count as i64));
        t.insert("Ra".into(), num(cell.ra_ohm_cm));
        t.insert("cm".into(), num(cell.cm_uf_per_cm2));
        t.insert("spike_threshold".into(), num(cell.spike_threshold_mv));
        let mut secs = Vec::new();
        let kept: Vec<usize> = (0..tree.sections.len())
            .filter(|i| !cyl_of.contains_key(i))
            .collect();
        for &i in &kept {
            let s = &tree.sections[i];
            let mut st = Table::new();
            st.insert("name".into(), Value::String(s.name.clone()));
            st.insert("type".into(), Value::String(kind_name(s.kind).into()));
            if let Some(p) = s.parent {
                st.insert(
                    "parent".into(),
                    Value::String(format!("{}({})", tree.sections[p].name, s.parent_x)),
                );
            }
            st.insert("length".into(), num(s.length_um));
            match &s.geometry {
                Geometry::Cylinder { diam_um } => {
                    st.insert("diam".into(), num(*diam_um));
                }
                Geometry::Profile(p) if p.len() == 2 => {
                    st.insert("diam".into(), num(p[0].diam_um));
                    st.insert("diam_end".into(), num(p[1].diam_um));
                }
                Geometry::Profile(_) => {
                    let area: f64 = reduce::discretise::section_geometry(s)
                        .iter()
                        .map(|g| g.area_um2)
                        .sum();
                    let d = area / (std::f64::consts::PI * s.length_um);
                    notes.push(format!(
                        "cell `{}`: kept section `{}` (3-D points) written as a cylinder of the same length and area (diam {d:.4} µm)",
                        cell.name, s.name
                    ));
                    st.insert("diam".into(), num(d));
                }
            }
            st.insert("nseg".into(), Value::Integer(s.nseg() as i64));
            secs.push(Value::Table(st));
        }
        for c in &red.cylinders {
            let s = &tree.sections[c.section];
            for k in 0..c.nseg {
                let mut st = Table::new();
                st.insert("name".into(), Value::String(seg_section(&c.name, k)));
                st.insert("type".into(), Value::String(kind_name(s.kind).into()));
                let parent = if k == 0 {
                    format!("{}({})", tree.sections[0].name, c.attach_x)
                } else {
                    format!("{}(1)", seg_section(&c.name, k - 1))
                };
                st.insert("parent".into(), Value::String(parent));
                st.insert("length".into(), num(c.length_um / c.nseg as f64));
                st.insert("diam".into(), num(c.diam_um));
                st.insert("nseg".into(), Value::Integer(1));
                secs.push(Value::Table(st));
            }
        }
        t.insert("section".into(), Value::Array(secs));
        // Mechanisms: kept sections keep the original entries; cylinder segments get theirs.
        let mut mechs = Vec::new();
        for ms in &cell.mechanisms {
            let names: Vec<Value> = kept
                .iter()
                .filter(|&&i| {
                    let s = &tree.sections[i];
                    let st = match s.kind {
                        SectionKind::Soma => SampleType::Soma,
                        SectionKind::Axon => SampleType::Axon,
                        SectionKind::Apical => SampleType::Apical,
                        _ => SampleType::Basal,
                    };
                    ms.regions.iter().any(|r| region_matches(r, &s.name, st))
                })
                .map(|&i| Value::String(tree.sections[i].name.clone()))
                .collect();
            if !names.is_empty() {
                let mut mt = Table::new();
                mt.insert("name".into(), Value::String(ms.name.clone()));
                mt.insert("where".into(), Value::Array(names));
                mt.insert(
                    "parameters".into(),
                    Value::Table(params_table(&ms.parameters)),
                );
                mechs.push(Value::Table(mt));
            }
        }
        // Per mechanism, group cylinder segments with identical parameters.
        let mut groups: BTreeMap<(String, String), (Table, Vec<Value>)> = BTreeMap::new();
        for c in &red.cylinders {
            let s = &tree.sections[c.section];
            for (k, seg) in s.segments.iter().enumerate() {
                let name = Value::String(seg_section(&c.name, k));
                let mut pas = Table::new();
                pas.insert("g".into(), num(seg.g_pas_s_cm2));
                pas.insert("e".into(), num(seg.e_pas_mv));
                let mut per: BTreeMap<String, Table> = BTreeMap::new();
                per.insert("pas".into(), pas);
                for (kname, v) in &seg.values {
                    match kname.split_once('.') {
                        None => {
                            per.entry(kname.clone()).or_default();
                        }
                        Some((mech, p)) => {
                            let unit = input.units.get(kname).cloned().flatten();
                            per.entry(mech.to_string())
                                .or_default()
                                .insert(p.to_string(), param_value(*v, &unit));
                        }
                    }
                }
                for (mech, params) in per {
                    let sig = (mech.clone(), toml::to_string(&params).unwrap_or_default());
                    groups
                        .entry(sig)
                        .or_insert_with(|| (params, Vec::new()))
                        .1
                        .push(name.clone());
                }
            }
        }
        for ((mech, _), (params, names)) in groups {
            let mut mt = Table::new();
            mt.insert("name".into(), Value::String(mech));
            mt.insert("where".into(), Value::Array(names));
            mt.insert("parameters".into(), Value::Table(params));
            mechs.push(Value::Table(mt));
        }
        t.insert("mechanism".into(), Value::Array(mechs));
        // Synapses (merged) and places.
        let mut syns = Vec::new();
        for rs in &red.synapses {
            let Some(&first) = rs.members.first() else {
                continue;
            };
            let Ok(orig) = input.slots[first] else {
                // A place: record where it went.
                if let Err(Place::Location(loc)) = &input.slots[first] {
                    place_map.insert(
                        (cell.name.clone(), loc.section.clone(), loc.x.to_bits()),
                        place_text(rs.section, rs.x),
                    );
                }
                continue;
            };
            let spec = &cell.synapses[orig];
            for &m in &rs.members {
                if let Ok(o) = input.slots[m] {
                    syn_map.insert(
                        (cell.name.clone(), cell.synapses[o].name.clone()),
                        spec.name.clone(),
                    );
                }
            }
            let mut st = Table::new();
            st.insert("name".into(), Value::String(spec.name.clone()));
            st.insert("mechanism".into(), Value::String(spec.mechanism.clone()));
            st.insert("at".into(), Value::String(place_text(rs.section, rs.x)));
            st.insert(
                "parameters".into(),
                Value::Table(params_table(&spec.parameters)),
            );
            syns.push(Value::Table(st));
        }
        let n_real = cell.synapses.len();
        let n_merged = syns.len();
        if !syns.is_empty() {
            t.insert("synapse".into(), Value::Array(syns));
        }
        if let Some(src) = &cell.spike_source {
            if let Some(p) =
                place_map.get(&(cell.name.clone(), src.section.clone(), src.x.to_bits()))
            {
                t.insert("spike_source".into(), Value::String(p.clone()));
            }
        }
        notes.push(format!(
            "cell `{}`: {} sections / {} segments → {} cylinders, {} segments in all; {n_real} synapses → {n_merged}",
            cell.name,
            input.tree.sections.len(),
            input.tree.sections.iter().map(|s| s.nseg()).sum::<usize>(),
            red.cylinders.len(),
            red.total_segments(),
        ));
        for c in &red.cylinders {
            notes.push(format!(
                "  {} ← stem `{}`: |Z_in| {:.4} MΩ, |Z_min| {:.4} MΩ, L {:.6}, length {:.3} µm, diam {:.5} µm, nseg {}",
                c.name,
                input.tree.sections[c.root].name,
                c.z_in_ohm.norm() / 1e6,
                c.z_min_ohm.norm() / 1e6,
                c.electrotonic_length,
                c.length_um,
                c.diam_um,
                c.nseg
            ));
        }
        for w in &red.warnings {
            if !w.contains("has no default") {
                notes.push(format!("cell `{}`: {w}", cell.name));
            }
        }
        cells_out.push(Value::Table(t));
        reductions.push((cell.name.clone(), red));
    }

    let mut root = Table::new();
    let title = model.title.clone().unwrap_or_else(|| {
        model
            .file
            .file_stem()
            .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned())
    });
    root.insert(
        "title".into(),
        Value::String(format!("{title} (reduced at {} Hz)", settings.frequency_hz)),
    );
    if !model.mod_files.is_empty() {
        root.insert(
            "mod_files".into(),
            Value::Array(
                model
                    .mod_files
                    .iter()
                    .map(|(p, _)| {
                        let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                        Value::String(p.display().to_string())
                    })
                    .collect(),
            ),
        );
    }
    let s = &model.simulation;
    let mut sim = Table::new();
    sim.insert("tstop".into(), num(s.tstop_ms));
    sim.insert("dt".into(), num(s.dt_ms));
    sim.insert("celsius".into(), num(s.celsius));
    sim.insert("v_init".into(), num(s.v_init_mv));
    sim.insert(
        "method".into(),
        Value::String(
            match s.method {
                crate::model::Method::BackwardEuler => "backward-euler",
                crate::model::Method::CrankNicolson => "crank-nicolson",
                crate::model::Method::Exact => "exact",
            }
            .into(),
        ),
    );
    sim.insert("tables".into(), Value::Boolean(s.tables));
    if let Some(th) = s.threads {
        sim.insert("threads".into(), Value::Integer(th as i64));
    }
    root.insert("simulation".into(), Value::Table(sim));
    root.insert("cell".into(), Value::Array(cells_out));

    let loc_text = |cell: &str, index: usize, loc: &Location| -> String {
        let p = place_map
            .get(&(cell.to_string(), loc.section.clone(), loc.x.to_bits()))
            .cloned()
            .unwrap_or_else(|| format!("{}({})", loc.section, loc.x));
        format!("{cell}[{index}].{p}")
    };
    let target_text = |t: &Target| -> String {
        match t {
            Target::Location {
                cell,
                index,
                location,
            } => loc_text(cell, *index, location),
            Target::Synapse {
                cell,
                index,
                synapse,
            } => {
                let s = syn_map
                    .get(&(cell.clone(), synapse.clone()))
                    .cloned()
                    .unwrap_or_else(|| synapse.clone());
                format!("{cell}[{index}].{s}")
            }
        }
    };
    let mut stims = Vec::new();
    for st in &model.stimuli {
        let mut t = Table::new();
        t.insert("mechanism".into(), Value::String(st.mechanism.clone()));
        t.insert("at".into(), Value::String(target_text(&st.at)));
        t.insert(
            "parameters".into(),
            Value::Table(params_table(&st.parameters)),
        );
        stims.push(Value::Table(t));
    }
    if !stims.is_empty() {
        root.insert("stimulus".into(), Value::Array(stims));
    }
    let mut events = Vec::new();
    for e in &model.events {
        let s = syn_map
            .get(&(e.cell.clone(), e.synapse.clone()))
            .cloned()
            .unwrap_or_else(|| e.synapse.clone());
        let mut t = Table::new();
        t.insert(
            "target".into(),
            Value::String(format!("{}[{}].{s}", e.cell, e.index)),
        );
        t.insert(
            "times".into(),
            Value::Array(e.times_ms.iter().map(|&x| num(x)).collect()),
        );
        t.insert("weight".into(), num(e.weight_us));
        events.push(Value::Table(t));
    }
    if !events.is_empty() {
        root.insert("event".into(), Value::Array(events));
    }
    let mut conns = Vec::new();
    for c in &model.connections {
        let (tc, ti, ts) = &c.target;
        let s = syn_map
            .get(&(tc.clone(), ts.clone()))
            .cloned()
            .unwrap_or_else(|| ts.clone());
        let mut t = Table::new();
        t.insert(
            "source".into(),
            Value::String(format!("{}[{}]", c.source.0, c.source.1)),
        );
        t.insert("target".into(), Value::String(format!("{tc}[{ti}].{s}")));
        t.insert("weight".into(), num(c.weight_us));
        t.insert("delay".into(), num(c.delay_ms));
        conns.push(Value::Table(t));
    }
    if !conns.is_empty() {
        root.insert("connection".into(), Value::Array(conns));
    }
    let mut probes = Vec::new();
    for p in &model.probes {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(p.name.clone()));
        t.insert("at".into(), Value::String(target_text(&p.at)));
        t.insert("variable".into(), Value::String(p.variable.clone()));
        probes.push(Value::Table(t));
    }
    if !probes.is_empty() {
        root.insert("probe".into(), Value::Array(probes));
    }
    let toml = toml::to_string(&root).map_err(|e| {
        err(
            model,
            &Pos { line: 1, col: 1 },
            format!("cannot write the reduced model: {e}"),
        )
    })?;
    Ok(ReducedModel {
        toml,
        reductions,
        notes,
    })
}

/// Reads `input`, reduces it and writes the reduced model to `output`.
pub fn reduce_file(
    input: &Path,
    output: &Path,
    settings: &ReduceSettings,
) -> Result<ReducedModel, String> {
    let model = Model::load(input).map_err(|e| e.to_string())?;
    let red = reduce_model(&model, settings).map_err(|e| e.to_string())?;
    let header = format!(
        "# Reduced by `neuwon reduce` (Neuron_Reduce, {} Hz) from {}\n",
        settings.frequency_hz,
        input.display()
    );
    std::fs::write(output, format!("{header}{}", red.toml))
        .map_err(|e| format!("{}: cannot write: {e}", output.display()))?;
    Ok(red)
}
