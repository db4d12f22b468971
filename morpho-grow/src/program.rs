//! Growth programs: NEUWON's way of describing neuron types (`shared/specs/morpho-grow.md` §3).
//!
//! A [`NeuronType`] is a soma instruction (where the somas go, how big they are) followed by
//! growth instructions (carrier points sampled in a region, grown onto every node the program
//! has made so far for that type — somas and earlier steps). A growth step is *competitive*
//! (default: one run with the roots of all neurons of the type and one shared point set) or
//! not (one run per neuron, each with its own points, run in parallel).
//!
//! Randomness: every draw comes from a ChaCha8 stream derived from the seed and the position
//! of the instruction (type, step, neuron), so a result depends only on the seed and the
//! program — not on the number of threads.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::error::{MorphoError, Result};
use crate::grow::{grow, Forest, GrowthParams, NeuronRegion, SegmentSpec};
use crate::region::{lattice_points, sample_point, sample_points, Region, Vec3};
use crate::taper::Taper;

/// Soma diameter: fixed, or drawn from a normal distribution (redrawn while ≤ f64::EPSILON).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SomaDiameter {
    /// Every soma gets this diameter, µm.
    Fixed(f64),
    /// Normal(mean, std), µm.
    Normal {
        /// Mean, µm.
        mean: f64,
        /// Standard deviation, µm.
        std: f64,
    },
}

/// Where somas go.
#[derive(Debug, Clone, PartialEq)]
pub enum SomaPlacement {
    /// This many uniform random points of the region.
    Number(u32),
    /// A cubic lattice of this density (µm⁻³) restricted to the region.
    Lattice(f64),
    /// Exactly these points, µm.
    At(Vec<Vec3>),
}

/// The soma instruction.
#[derive(Debug, Clone, PartialEq)]
pub struct SomaInstruction {
    /// SWC type code of the somas (1).
    pub kind: u32,
    /// Region the somas are placed in, µm.
    pub region: Region,
    /// Soma diameter.
    pub diameter: SomaDiameter,
    /// Placement.
    pub placement: SomaPlacement,
}

/// One growth step.
#[derive(Debug, Clone, PartialEq)]
pub struct GrowthInstruction {
    /// SWC type code of the new segments.
    pub kind: u32,
    /// Region the carrier points are sampled in (absolute coordinates, µm).
    pub region: Region,
    /// Carrier point density, µm⁻³.
    pub carrier_point_density: f64,
    /// Diameter of new segments, µm (before tapering).
    pub diameter: f64,
    /// Optional soma-relative region each neuron may grow into.
    pub neuron_region: Option<Region>,
    /// One shared run for all neurons of the type (true) or one run per neuron.
    pub competitive: bool,
    /// Growth parameters.
    pub params: GrowthParams,
    /// Diameter rule applied to the step's new nodes.
    pub taper: Taper,
}

/// A neuron type: somas, then growth steps in order.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronType {
    /// Name.
    pub name: String,
    /// The somas.
    pub soma: SomaInstruction,
    /// The growth steps.
    pub growth: Vec<GrowthInstruction>,
}

/// Several neuron types, grown in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GrowthProgram {
    /// The types.
    pub types: Vec<NeuronType>,
}

/// The result of a program.
#[derive(Debug, Clone, PartialEq)]
pub struct Grown {
    /// All nodes of all neurons.
    pub forest: Forest,
    /// Type index (into the program) of each neuron id.
    pub neuron_type: Vec<usize>,
    /// Soma centre of each neuron id, µm.
    pub somas: Vec<Vec3>,
    /// Carrier points sampled by each step (type, step, points drawn, points connected).
    pub steps: Vec<StepReport>,
}

/// What one growth step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepReport {
    /// Type index.
    pub neuron_type: usize,
    /// Step index within the type.
    pub step: usize,
    /// Carrier points sampled.
    pub sampled: usize,
    /// Carrier points connected.
    pub connected: usize,
}

/// One neuron's non-competitive run: its local forest (copies of its earlier nodes first),
/// the global index of each copy, points sampled, points connected.
type LocalRun = (Forest, Vec<u32>, usize, usize);

/// Most somas one soma instruction may place by number.
const MAX_SOMAS: u32 = 10_000_000;

/// RNG of one (type, step, neuron); step 0 is the soma instruction.
fn stream(seed: u64, ty: usize, step: usize, neuron: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((ty as u64) << 48) ^ ((step as u64) << 32) ^ neuron);
    rng
}

impl GrowthProgram {
    /// Runs the program with `seed`.
    pub fn run(&self, seed: u64) -> Result<Grown> {
        let mut out = Grown {
            forest: Forest::new(),
            neuron_type: Vec::new(),
            somas: Vec::new(),
            steps: Vec::new(),
        };
        for (t, ty) in self.types.iter().enumerate() {
            run_type(t, ty, seed, &mut out)
                .map_err(|e| MorphoError::Growth(format!("neuron type {:?}: {e}", ty.name)))?;
        }
        Ok(out)
    }
}

fn run_type(t: usize, ty: &NeuronType, seed: u64, out: &mut Grown) -> Result<()> {
    let soma = &ty.soma;
    soma.region.validate()?;
    let mut rng = stream(seed, t, 0, 0);
    if let SomaPlacement::Number(n) = soma.placement {
        if n > MAX_SOMAS {
            return Err(MorphoError::Growth(format!(
                "soma number {n} is more than {MAX_SOMAS}"
            )));
        }
    }
    let positions = match &soma.placement {
        SomaPlacement::Number(n) => (0..*n)
            .map(|_| sample_point(&soma.region, &mut rng))
            .collect::<Result<Vec<_>>>()?,
        SomaPlacement::Lattice(d) => lattice_points(&soma.region, *d)?,
        SomaPlacement::At(p) => p.clone(),
    };
    let mut program_nodes: Vec<u32> = Vec::new();
    let first_neuron = out.somas.len() as u32;
    for p in positions {
        let d = match soma.diameter {
            SomaDiameter::Fixed(d) => d,
            SomaDiameter::Normal { mean, std } => {
                let dist = Normal::new(mean, std).map_err(|e| {
                    MorphoError::Growth(format!("soma diameter normal({mean}, {std}): {e}"))
                })?;
                let mut tries = 0;
                loop {
                    let v = dist.sample(&mut rng);
                    if v > f64::EPSILON {
                        break v;
                    }
                    tries += 1;
                    if tries > 1000 {
                        return Err(MorphoError::Growth(format!(
                            "soma diameter normal({mean}, {std}) gave no positive value in 1000 draws"
                        )));
                    }
                }
            }
        };
        if !(d.is_finite() && d > 0.0) {
            return Err(MorphoError::BadValue {
                what: "soma diameter (µm)",
                value: d,
            });
        }
        let nid = out.somas.len() as u32;
        program_nodes.push(out.forest.add_root(p, d, nid, soma.kind));
        out.somas.push(p);
        out.neuron_type.push(t);
    }
    let neurons: Vec<u32> = (first_neuron..out.somas.len() as u32).collect();
    for (s, ins) in ty.growth.iter().enumerate() {
        let step = s + 1;
        ins.region.validate()?;
        if let Some(r) = &ins.neuron_region {
            r.validate()?;
        }
        let seg = SegmentSpec {
            kind: ins.kind,
            diameter: ins.diameter,
        };
        let start = out.forest.nodes.len();
        let (sampled, connected) = if ins.competitive {
            let mut rng = stream(seed, t, step, u64::MAX >> 16);
            let pts = sample_points(&ins.region, ins.carrier_point_density, &mut rng)?;
            let filter = ins.neuron_region.as_ref().map(|region| NeuronRegion {
                region,
                somas: &out.somas,
            });
            let o = grow(
                &mut out.forest,
                &program_nodes,
                &pts,
                &ins.params,
                seg,
                filter,
            )?;
            ins.taper.apply(&mut out.forest, start)?;
            (pts.len(), o.carrier_node.iter().flatten().count())
        } else {
            // one independent run per neuron, in parallel, merged in neuron order
            let forest = &out.forest;
            let somas = &out.somas;
            let results: Vec<Result<LocalRun>> = neurons
                .par_iter()
                .map(|&nid| {
                    let mine: Vec<u32> = program_nodes
                        .iter()
                        .copied()
                        .filter(|&i| forest.nodes[i as usize].neuron == nid)
                        .collect();
                    let mut local = Forest::new();
                    let mut local_of = std::collections::HashMap::new();
                    for &i in &mine {
                        let mut n = forest.nodes[i as usize];
                        n.parent = n.parent.and_then(|p| local_of.get(&p).copied());
                        local_of.insert(i, local.nodes.len() as u32);
                        local.nodes.push(n);
                    }
                    let roots: Vec<u32> = (0..local.nodes.len() as u32).collect();
                    let mut rng = stream(seed, t, step, nid as u64);
                    let pts = sample_points(&ins.region, ins.carrier_point_density, &mut rng)?;
                    let filter = ins
                        .neuron_region
                        .as_ref()
                        .map(|region| NeuronRegion { region, somas });
                    let o = grow(&mut local, &roots, &pts, &ins.params, seg, filter)?;
                    ins.taper.apply(&mut local, mine.len())?;
                    Ok((
                        local,
                        mine,
                        pts.len(),
                        o.carrier_node.iter().flatten().count(),
                    ))
                })
                .collect();
            let (mut sampled, mut connected) = (0, 0);
            for r in results {
                let (local, mine, s_n, c_n) = r?;
                sampled += s_n;
                connected += c_n;
                // global index of each local node: copies map back, new nodes are appended
                let mut global: Vec<u32> = mine.clone();
                let base = out.forest.nodes.len() as u32;
                for k in 0..(local.nodes.len() - mine.len()) {
                    global.push(base + k as u32);
                }
                for n in &local.nodes[mine.len()..] {
                    let mut g = *n;
                    g.parent = n.parent.map(|p| global[p as usize]);
                    out.forest.nodes.push(g);
                }
                // child counts of the copied nodes changed in the local run
                for (k, &gi) in mine.iter().enumerate() {
                    out.forest.nodes[gi as usize].n_children = local.nodes[k].n_children;
                }
            }
            (sampled, connected)
        };
        program_nodes.extend(start as u32..out.forest.nodes.len() as u32);
        out.steps.push(StepReport {
            neuron_type: t,
            step: s,
            sampled,
            connected,
        });
    }
    Ok(())
}
