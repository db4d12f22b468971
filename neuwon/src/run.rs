//! From a validated [`Model`] to a running [`Engine`]: morphology and discretisation through
//! `morpho-grow`, mechanisms through `backend-cpu`'s library, then outputs (CSV traces with
//! `t_ms` first and units in every header, spike times).
//!
//! Status: inline sections and SWC morphologies; the shipped mechanism library (`hh`, `pas`,
//! `IClamp`, `SEClamp`, `ExpSyn`, `Exp2Syn`) and the model's own `mod_files`; backward Euler
//! Crank–Nicolson and the exact propagator (`method = "exact"`).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use backend_cpu::{
    library, Cable, CompileOptions, Compiled, Detector, Engine, Network, Placement, Probe,
    Recording, Settings, SpikeTarget,
};
use morpho_grow::{CableParams, Discretisation, Morphology, NodeKind, SampleType, SectionId};

use crate::model::{
    CellSpec, Location, Method, Model, ModelError, ModelErrors, Parameters, Pos, Target,
};

/// A model ready to run, with what is needed to label its outputs.
pub struct Built {
    /// The blocks of cells, initialised.
    pub network: Network,
    /// Simulated time, ms.
    pub tstop_ms: f64,
    /// CSV header of each probe (`name_unit`).
    pub probe_headers: Vec<String>,
    /// Name of each probe.
    pub probe_names: Vec<String>,
    /// Unit of each probe (as the mechanism declares it; `mV` for voltages).
    pub probe_units: Vec<String>,
    /// (cell, copy) of each spike detector.
    pub detector_cells: Vec<(String, usize)>,
    /// Number of compartments.
    pub compartments: usize,
    /// (block, probe index in the block) of each probe.
    probe_at: Vec<(usize, usize)>,
    /// (block, detector index in the block) of each detector.
    detector_at: Vec<(usize, usize)>,
    /// Worker threads the model file asks for (`None`: rayon's default pool, all cores).
    threads: Option<usize>,
}

/// Most compartments a model may have (about 10 GB of state at the limit).
const MAX_COMPARTMENTS: u64 = 50_000_000;
/// Most recorded values (probes × samples) kept in memory: 8 GB of f64.
const MAX_SAMPLES: f64 = 1e9;

struct CellLayout {
    morph: Morphology,
    /// (block, node offset in that block's cable) of each copy.
    offsets: Vec<(usize, usize)>,
    /// Discretisation of one copy.
    disc: Discretisation,
}

pub(crate) fn err(model: &Model, pos: &Pos, message: impl Into<String>) -> ModelErrors {
    ModelErrors(vec![ModelError {
        file: model.file.clone(),
        pos: pos.clone(),
        message: message.into(),
    }])
}

fn kind_of(kind: &str) -> SampleType {
    match kind {
        "soma" => SampleType::Soma,
        "axon" => SampleType::Axon,
        "apic" => SampleType::Apical,
        _ => SampleType::Basal,
    }
}

pub(crate) fn region_matches(region: &str, name: &str, kind: SampleType) -> bool {
    match region {
        "all" => true,
        "soma" => kind == SampleType::Soma || name == "soma",
        "axon" => kind == SampleType::Axon || name == "axon",
        "dend" => kind == SampleType::Basal || name == "dend",
        "apic" => kind == SampleType::Apical || name == "apic",
        _ => region == name,
    }
}

pub(crate) fn morphology(model: &Model, cell: &CellSpec) -> Result<Morphology, ModelErrors> {
    if let Some(path) = &cell.morphology {
        let swc = morpho_grow::swc::read_swc(path, morpho_grow::swc::SwcOptions::default())
            .map_err(|e| err(model, &cell.pos, format!("cell `{}`: {e}", cell.name)))?;
        return Ok(swc.morphology);
    }
    let mut m = Morphology::new();
    let mut ids: HashMap<&str, SectionId> = HashMap::new();
    // Parents first: repeat passes until every section is placed (validation ruled out cycles).
    let mut left: Vec<_> = cell.sections.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        let mut rest = Vec::new();
        for s in left {
            let parent = match &s.parent {
                None => None,
                Some((p, x)) => match ids.get(p.as_str()) {
                    Some(&id) => Some((id, *x)),
                    None => {
                        rest.push(s);
                        continue;
                    }
                },
            };
            let id = m
                .add_frustum(
                    kind_of(&s.kind),
                    parent,
                    s.length_um,
                    s.diam_um,
                    s.diam_end_um,
                )
                .and_then(|id| m.set_name(id, &s.name).map(|_| id))
                .map_err(|e| err(model, &s.pos, format!("section `{}`: {e}", s.name)))?;
            ids.insert(&s.name, id);
        }
        if rest.len() == before {
            return Err(err(
                model,
                &cell.pos,
                format!("cell `{}`: sections do not form one tree", cell.name),
            ));
        }
        left = rest;
    }
    Ok(m)
}

pub(crate) fn nseg(
    model: &Model,
    cell: &CellSpec,
    m: &Morphology,
    params: &[CableParams],
) -> Result<Vec<u32>, ModelErrors> {
    let d = &cell.discretisation;
    let fail =
        |e: morpho_grow::MorphoError| err(model, &cell.pos, format!("cell `{}`: {e}", cell.name));
    let base: Vec<u32> = if let Some(n) = d.nseg {
        vec![n as u32; m.len()]
    } else if let Some(dl) = d.d_lambda {
        morpho_grow::nseg_d_lambda(m, params, dl, d.frequency_hz).map_err(fail)?
    } else if let Some(max) = d.max_length_um {
        morpho_grow::nseg_max_length(m, max).map_err(fail)?
    } else {
        vec![1; m.len()]
    };
    // A section's own nseg wins.
    Ok(m.sections()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            cell.sections
                .iter()
                .find(|o| o.name == s.name())
                .and_then(|o| o.nseg)
                .map_or(base[i], |n| n as u32)
        })
        .collect())
}

fn compile(
    model: &Model,
    name: &str,
    pos: &Pos,
    cache: &mut HashMap<String, Compiled>,
) -> Result<Compiled, ModelErrors> {
    if let Some(c) = cache.get(name) {
        return Ok(c.clone());
    }
    let opts = CompileOptions {
        use_tables: model.simulation.tables,
    };
    let names: Vec<&str> = library::SOURCES.iter().map(|(n, _)| *n).collect();
    if !names.contains(&name) {
        return Err(err(
            model,
            pos,
            format!(
                "unknown mechanism `{name}`; the library has {}, and `mod_files` can add more",
                names.join(", ")
            ),
        ));
    }
    let c = library::compile(name, opts).map_err(|e| err(model, pos, e.to_string()))?;
    cache.insert(name.to_string(), c.clone());
    Ok(c)
}

/// Parameter values checked against the mechanism's variables and units.
fn parameters(
    model: &Model,
    mech: &Compiled,
    given: &Parameters,
) -> Result<Vec<(String, f64)>, ModelErrors> {
    let ir = mech.mechanism();
    let mut out = Vec::new();
    for (name, p) in given {
        let Some(var) = ir.variables.iter().find(|v| &v.name == name) else {
            return Err(err(
                model,
                &p.pos,
                format!("mechanism `{}` has no parameter `{name}`", ir.name),
            ));
        };
        if let Some(unit) = &p.unit {
            let declared = var.unit.as_deref().unwrap_or("1");
            let norm = |u: &str| u.replace(['²'], "2").replace(' ', "");
            if norm(unit) != norm(declared) {
                return Err(err(
                    model,
                    &p.pos,
                    format!("`{}.{name}` is in ({declared}); write the value in those units, found \"{unit}\"", ir.name),
                ));
            }
        }
        out.push((name.clone(), p.value));
    }
    Ok(out)
}

fn section_id(m: &Morphology, loc: &Location) -> Option<SectionId> {
    m.find(&loc.section)
}

/// Builds and initialises the model.
pub fn build(model: &Model) -> Result<Built, ModelErrors> {
    // Cell copies in gid order, split into contiguous blocks of whole cells.
    let gids: Vec<(usize, usize)> = model
        .cells
        .iter()
        .enumerate()
        .flat_map(|(ci, c)| (0..c.count).map(move |copy| (ci, copy)))
        .collect();
    let threads = model
        .simulation
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    let n_blocks = gids.len().clamp(1, 2 * threads);
    let block_of_gid = |g: usize| g * n_blocks / gids.len().max(1);
    let mut cables: Vec<Cable> = (0..n_blocks)
        .map(|_| Cable {
            parent: vec![],
            capacitance_nf: vec![],
            axial_us: vec![],
            area_um2: vec![],
            diam_um: vec![],
        })
        .collect();
    // Geometry of every copy, in its block.
    let mut layouts = Vec::new();
    let mut total: u64 = 0;
    let mut gid = 0;
    for cell in &model.cells {
        let morph = morphology(model, cell)?;
        let params = CableParams::uniform(&morph, cell.ra_ohm_cm, cell.cm_uf_per_cm2);
        let ns = nseg(model, cell, &morph, &params)?;
        // Refuse sizes that would exhaust memory instead of crashing (nodes: nseg + 1 per
        // section, plus a root end node).
        let per_copy: u64 = ns.iter().map(|&n| u64::from(n) + 1).sum::<u64>() + 1;
        total = total.saturating_add(per_copy.saturating_mul(cell.count as u64));
        if total > MAX_COMPARTMENTS {
            return Err(err(
                model,
                &cell.pos,
                format!(
                    "cell `{}`: {total} compartments in all is more than this build handles ({MAX_COMPARTMENTS}); lower nseg, d_lambda precision or count",
                    cell.name
                ),
            ));
        }
        let disc = Discretisation::new(&morph, &ns, &params)
            .map_err(|e| err(model, &cell.pos, format!("cell `{}`: {e}", cell.name)))?;
        let mut offsets = Vec::new();
        for _ in 0..cell.count {
            let block = block_of_gid(gid);
            gid += 1;
            let cable = &mut cables[block];
            let off = cable.parent.len();
            offsets.push((block, off));
            for node in disc.nodes() {
                cable.parent.push(node.parent.map(|p| p as usize + off));
                cable.capacitance_nf.push(node.capacitance_nf());
                cable.axial_us.push(node.g_axial_us());
                cable.area_um2.push(node.area_um2);
                let d = morph.sections()[node.section.index()]
                    .point_at(node.x)
                    .map_or(0.0, |p| p.diam);
                cable.diam_um.push(d);
            }
        }
        layouts.push(CellLayout {
            morph,
            offsets,
            disc,
        });
    }
    // (block, node) of a place on a cell copy.
    let node_at = |ci: usize,
                   copy: usize,
                   loc: &Location,
                   pos: &Pos|
     -> Result<(usize, usize), ModelErrors> {
        let l = &layouts[ci];
        let sec = section_id(&l.morph, loc).ok_or_else(|| {
            err(
                model,
                pos,
                format!(
                    "cell `{}` has no section `{}`",
                    model.cells[ci].name, loc.section
                ),
            )
        })?;
        let n = l
            .disc
            .node_at(0, sec, loc.x)
            .map_err(|e| err(model, pos, e.to_string()))?;
        let (block, off) = l.offsets[copy];
        Ok((block, off + n as usize))
    };
    let cell_index = |name: &str| model.cells.iter().position(|c| c.name == name).unwrap_or(0);
    // Position of each copy among the copies of its template in its block (its instance in
    // that block's synapse placements).
    let mut slot: HashMap<(usize, usize), usize> = HashMap::new();
    {
        let mut next: HashMap<(usize, usize), usize> = HashMap::new();
        for &(ci, copy) in &gids {
            let b = layouts[ci].offsets[copy].0;
            let k = next.entry((ci, b)).or_insert(0);
            slot.insert((ci, copy), *k);
            *k += 1;
        }
    }

    let mut cache = HashMap::new();
    // The model's own .mod files, compiled with no C compiler; they take precedence over the
    // shipped library.
    for (path, pos) in &model.mod_files {
        let mut opts = nmodl::Options::default();
        opts.lower.use_tables = model.simulation.tables;
        let (sources, out) = nmodl::compile_file(path, &opts)
            .map_err(|e| err(model, pos, format!("cannot read `{}`: {e}", path.display())))?;
        let mech = match out.mechanism {
            Some(m) if out.error_count() == 0 => m,
            _ => {
                return Err(err(
                    model,
                    pos,
                    format!(
                        "`{}` does not compile:\n{}",
                        path.display(),
                        sources.render_all(&out.diagnostics).trim_end()
                    ),
                ))
            }
        };
        let compiled = Compiled::new(
            &mech,
            CompileOptions {
                use_tables: model.simulation.tables,
            },
        )
        .map_err(|e| err(model, pos, format!("`{}`: {e}", path.display())))?;
        cache.insert(mech.name.clone(), compiled);
    }
    let mut placements: Vec<Vec<Placement>> = (0..n_blocks).map(|_| Vec::new()).collect();
    // Density mechanisms: every non-zero-area node of the matching sections, per block.
    let mut density: HashMap<(usize, String, usize), usize> = HashMap::new();
    for (ci, cell) in model.cells.iter().enumerate() {
        let l = &layouts[ci];
        for ms in &cell.mechanisms {
            let mech = compile(model, &ms.name, &ms.pos, &mut cache)?;
            let params = parameters(model, &mech, &ms.parameters)?;
            let mut nodes: Vec<Vec<usize>> = vec![Vec::new(); n_blocks];
            for &(block, off) in &l.offsets {
                for (k, node) in l.disc.nodes().iter().enumerate() {
                    let s = &l.morph.sections()[node.section.index()];
                    let inside = ms
                        .regions
                        .iter()
                        .any(|r| region_matches(r, s.name(), s.kind()));
                    if inside && matches!(node.kind, NodeKind::Centre(_)) {
                        nodes[block].push(off + k);
                    }
                }
            }
            for (block, nodes) in nodes.into_iter().enumerate().filter(|(_, n)| !n.is_empty()) {
                density.insert((ci, ms.name.clone(), block), placements[block].len());
                placements[block].push(Placement {
                    mechanism: mech.clone(),
                    nodes,
                    parameters: params.clone(),
                });
            }
        }
    }
    // Synapses: one placement per (cell, synapse, block), instance = the copy's slot.
    let mut synapse_placement: HashMap<(String, String, usize), usize> = HashMap::new();
    for (ci, cell) in model.cells.iter().enumerate() {
        for syn in &cell.synapses {
            let mech = compile(model, &syn.mechanism, &syn.pos, &mut cache)?;
            let params = parameters(model, &mech, &syn.parameters)?;
            let mut nodes: Vec<Vec<usize>> = vec![Vec::new(); n_blocks];
            for copy in 0..cell.count {
                let (block, node) = node_at(ci, copy, &syn.at, &syn.pos)?;
                nodes[block].push(node);
            }
            for (block, nodes) in nodes.into_iter().enumerate().filter(|(_, n)| !n.is_empty()) {
                synapse_placement.insert(
                    (cell.name.clone(), syn.name.clone(), block),
                    placements[block].len(),
                );
                placements[block].push(Placement {
                    mechanism: mech.clone(),
                    nodes,
                    parameters: params.clone(),
                });
            }
        }
    }
    // (block, placement, instance) of a synapse of a cell copy.
    let synapse = |cell: &str,
                   copy: usize,
                   syn: &str,
                   pos: &Pos|
     -> Result<(usize, usize, usize), ModelErrors> {
        let ci = cell_index(cell);
        let block = layouts[ci].offsets.get(copy).map(|o| o.0).unwrap_or(0);
        let p = *synapse_placement
            .get(&(cell.to_string(), syn.to_string(), block))
            .ok_or_else(|| err(model, pos, format!("no synapse `{syn}` on cell `{cell}`")))?;
        Ok((block, p, slot[&(ci, copy)]))
    };
    // Stimuli.
    for st in &model.stimuli {
        let mech = compile(model, &st.mechanism, &st.pos, &mut cache)?;
        let params = parameters(model, &mech, &st.parameters)?;
        let Target::Location {
            cell,
            index,
            location,
        } = &st.at
        else {
            return Err(err(
                model,
                &st.pos,
                "a stimulus goes on a location, not a synapse",
            ));
        };
        let (block, node) = node_at(cell_index(cell), *index, location, &st.pos)?;
        placements[block].push(Placement {
            mechanism: mech,
            nodes: vec![node],
            parameters: params,
        });
    }
    // Spike detectors: one per copy of every cell, at its spike source (default: the centre
    // of its first section); connections add targets to their source's detector.
    let mut detectors: Vec<Vec<Detector>> = (0..n_blocks).map(|_| Vec::new()).collect();
    let mut detector_cells: Vec<(String, usize)> = Vec::new();
    let mut detector_at: Vec<(usize, usize)> = Vec::new();
    for (ci, spec) in model.cells.iter().enumerate() {
        let loc = spec.spike_source.clone().unwrap_or_else(|| Location {
            section: layouts[ci]
                .morph
                .sections()
                .first()
                .map_or(String::new(), |s| s.name().to_string()),
            x: 0.5,
        });
        for copy in 0..spec.count {
            let (block, node) = node_at(ci, copy, &loc, &spec.pos)?;
            detector_at.push((block, detectors[block].len()));
            detectors[block].push(Detector {
                node,
                threshold_mv: spec.spike_threshold_mv,
                targets: vec![],
            });
            detector_cells.push((spec.name.clone(), copy));
        }
    }
    // Connections from point processes' output events, registered once the network exists.
    // (source (block, placement, instance), target, spikes.csv label (cell.synapse, copy)).
    type Output = ((usize, usize, usize), SpikeTarget, (String, usize));
    let mut outputs: Vec<Output> = Vec::new();
    for c in &model.connections {
        let (cell, copy) = &c.source;
        if let Some(name) = &c.source_synapse {
            let src = synapse(cell, *copy, name, &c.pos)?;
            let (tcell, tcopy, tsyn) = &c.target;
            let (block, placement, instance) = synapse(tcell, *tcopy, tsyn, &c.pos)?;
            let tg = SpikeTarget {
                block,
                placement,
                instance,
                weight: c.weight_us,
                delay_ms: c.delay_ms,
            };
            outputs.push((src, tg, (format!("{cell}.{name}"), *copy)));
            continue;
        }
        let d = detector_cells
            .iter()
            .position(|x| x.0 == *cell && x.1 == *copy)
            .ok_or_else(|| err(model, &c.pos, format!("no cell copy `{cell}[{copy}]`")))?;
        let (tcell, tcopy, tsyn) = &c.target;
        let (block, placement, instance) = synapse(tcell, *tcopy, tsyn, &c.pos)?;
        let (sb, sd) = detector_at[d];
        detectors[sb][sd].targets.push(SpikeTarget {
            block,
            placement,
            instance,
            weight: c.weight_us,
            delay_ms: c.delay_ms,
        });
    }
    // Probes.
    let mut probes: Vec<Vec<Probe>> = (0..n_blocks).map(|_| Vec::new()).collect();
    let mut probe_at = Vec::new();
    let mut probe_headers = Vec::new();
    let mut probe_names = Vec::new();
    let mut probe_units = Vec::new();
    for pr in &model.probes {
        let (block, probe, unit) = match &pr.at {
            Target::Location {
                cell,
                index,
                location,
            } => {
                let ci = cell_index(cell);
                let (block, node) = node_at(ci, *index, location, &pr.pos)?;
                if pr.variable == "v" {
                    (block, Probe::Voltage { node }, "mV".to_string())
                } else {
                    let Some((mech, var)) = pr.variable.split_once('.') else {
                        return Err(err(
                            model,
                            &pr.pos,
                            format!(
                                "variable `{}`: expected `v` or `mechanism.variable`",
                                pr.variable
                            ),
                        ));
                    };
                    let placement =
                        *density.get(&(ci, mech.to_string(), block)).ok_or_else(|| {
                            err(
                                model,
                                &pr.pos,
                                format!("mechanism `{mech}` is not inserted in cell `{cell}`"),
                            )
                        })?;
                    let pl = &placements[block][placement];
                    let instance = pl.nodes.iter().position(|&n| n == node).ok_or_else(|| {
                        err(
                            model,
                            &pr.pos,
                            format!(
                                "mechanism `{mech}` is not present at `{}({})`",
                                location.section, location.x
                            ),
                        )
                    })?;
                    let unit = unit_of(&pl.mechanism, var).ok_or_else(|| {
                        err(
                            model,
                            &pr.pos,
                            format!("mechanism `{mech}` has no variable `{var}`"),
                        )
                    })?;
                    (
                        block,
                        Probe::Variable {
                            placement,
                            instance,
                            name: var.to_string(),
                            elem: 0,
                        },
                        unit,
                    )
                }
            }
            Target::Synapse {
                cell,
                index,
                synapse: syn,
            } => {
                let (block, placement, instance) = synapse(cell, *index, syn, &pr.pos)?;
                let unit = unit_of(&placements[block][placement].mechanism, &pr.variable)
                    .ok_or_else(|| {
                        err(
                            model,
                            &pr.pos,
                            format!("synapse `{syn}` has no variable `{}`", pr.variable),
                        )
                    })?;
                (
                    block,
                    Probe::Variable {
                        placement,
                        instance,
                        name: pr.variable.clone(),
                        elem: 0,
                    },
                    unit,
                )
            }
        };
        probe_at.push((block, probes[block].len()));
        probes[block].push(probe);
        probe_headers.push(format!("{}_{}", pr.name, unit.replace('/', "_per_")));
        probe_names.push(pr.name.clone());
        probe_units.push(unit);
    }
    // Events: each `[[event]]` is one connection (its NET_RECEIVE arguments persist).
    let mut events = Vec::new();
    for e in &model.events {
        let (block, placement, instance) = synapse(&e.cell, e.index, &e.synapse, &e.pos)?;
        events.push((block, placement, instance, &e.times_ms, e.weight_us));
    }
    let s = &model.simulation;
    let method = match s.method {
        Method::BackwardEuler => backend_cpu::Method::BackwardEuler,
        Method::CrankNicolson => backend_cpu::Method::CrankNicolson,
        Method::Exact => backend_cpu::Method::Exact,
    };
    let steps = (s.tstop_ms / s.dt_ms).ceil();
    let samples = (steps + 1.0) * (model.probes.len() as f64 + 1.0);
    if samples > MAX_SAMPLES {
        return Err(err(
            model,
            &Pos { line: 1, col: 1 },
            format!(
                "{steps} steps × {} probes would record {samples:.3e} values, more than {MAX_SAMPLES:.0e}; raise dt, shorten tstop or record less",
                model.probes.len()
            ),
        ));
    }
    let settings = Settings {
        dt_ms: s.dt_ms,
        celsius: s.celsius,
        v_init_mv: s.v_init_mv,
        method,
    };
    let compartments = cables.iter().map(|c| c.parent.len()).sum();
    let top = Pos { line: 1, col: 1 };
    let mut blocks = Vec::with_capacity(n_blocks);
    // Each block takes its cable (and frees what the engine does not keep).
    for (k, ((cable, pl), (det, pr))) in cables
        .into_iter()
        .zip(placements)
        .zip(detectors.into_iter().zip(probes))
        .enumerate()
    {
        blocks.push(
            Engine::new_block_owned(k, cable, pl, det, pr, settings)
                .map_err(|e| err(model, &top, e.to_string()))?,
        );
    }
    let mut network = Network::new(blocks).map_err(|e| err(model, &top, e.to_string()))?;
    for (b, p, i, times, w) in events {
        network
            .add_events(b, p, i, times, w)
            .map_err(|e| err(model, &top, e.to_string()))?;
    }
    // Output events of point processes: their spikes are recorded after the detectors'.
    for ((b, p, i), tg, label) in outputs {
        let local = network
            .connect_output(b, p, i, vec![tg])
            .map_err(|e| err(model, &top, e.to_string()))?;
        if !detector_at.contains(&(b, local)) {
            detector_at.push((b, local));
            detector_cells.push(label);
        }
    }
    Ok(Built {
        network,
        tstop_ms: s.tstop_ms,
        probe_headers,
        probe_names,
        probe_units,
        detector_cells,
        compartments,
        probe_at,
        detector_at,
        threads: model.simulation.threads,
    })
}

impl Built {
    /// Runs to `tstop` and merges the blocks' recordings: series in probe order, spikes by
    /// global detector index (the order of `detector_cells`), sorted by time.
    /// With `threads` set in the model file, the blocks run on a pool of that many threads.
    pub fn run(&mut self, progress: impl FnMut(f64) + Send) -> Result<Recording, String> {
        let (network, tstop) = (&mut self.network, self.tstop_ms);
        let recs = match self.threads {
            Some(n) => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| format!("starting {n} worker threads: {e}"))?
                .install(|| network.run(tstop, progress)),
            None => network.run(tstop, progress),
        }
        .map_err(|e| e.to_string())?;
        let mut out = Recording {
            t_ms: recs.first().map(|r| r.t_ms.clone()).unwrap_or_default(),
            ..Default::default()
        };
        for &(b, k) in &self.probe_at {
            out.series.push(recs[b].series[k].clone());
        }
        for (g, &(b, d)) in self.detector_at.iter().enumerate() {
            out.spikes
                .extend(recs[b].spikes.iter().filter(|s| s.0 == d).map(|s| (g, s.1)));
        }
        out.spikes
            .sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        Ok(out)
    }
}

fn unit_of(mech: &Compiled, var: &str) -> Option<String> {
    let v = mech.mechanism().variables.iter().find(|v| v.name == var)?;
    Some(v.unit.clone().unwrap_or_else(|| "1".into()))
}

/// Writes the traces as CSV: `t_ms` first, then one column per probe (`name_unit`).
pub fn write_traces(path: &Path, headers: &[String], rec: &Recording) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(w, "t_ms")?;
    for h in headers {
        write!(w, ",{}", h.replace(',', ";"))?;
    }
    writeln!(w)?;
    for (k, t) in rec.t_ms.iter().enumerate() {
        write!(w, "{}", round_t(*t))?;
        for s in &rec.series {
            write!(w, ",{}", s[k])?;
        }
        writeln!(w)?;
    }
    w.flush()
}

/// Writes the spikes as CSV: `cell,index,t_ms`.
pub fn write_spikes(
    path: &Path,
    cells: &[(String, usize)],
    rec: &Recording,
) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "cell,index,t_ms")?;
    for &(d, t) in &rec.spikes {
        if let Some((c, i)) = cells.get(d) {
            writeln!(w, "{c},{i},{t}")?;
        }
    }
    w.flush()
}

/// Times accumulate rounding (k·dt); print them as the step grid does.
fn round_t(t: f64) -> f64 {
    (t * 1e9).round() / 1e9
}
