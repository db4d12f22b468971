//! The showcase behind `neuwon demo`: grow a neuron whose axon is confined to a spiral,
//! give it Hodgkin–Huxley channels, start an action potential at the soma, and write
//!
//! * `demo_cell.swc` — the grown morphology;
//! * `demo_voltage.png` — membrane potential at the soma and at points along the axon;
//! * `demo_voltage.gif` — an animation of the membrane potential on the 3-D morphology
//!   (oblique projection), coloured from blue at −70 mV to red at +55 mV;
//! * `demo_frame.png` — the animation's middle frame as a still.
//!
//! Growth uses `morpho-grow` directly (regions, [`grow()`], tapers); simulation goes through
//! the public model API ([`ModelBuilder`] → [`build`]) with the SWC file as the morphology,
//! exactly as a user's model file would.
//!
//! Geometry (µm): the axon's carrier points fill a tube of radius `tube_radius_um` around a
//! helix of radius 100 µm (the spiral is 200 µm wide) whose centre recedes 600 µm along −z
//! over `turns` turns, plus a straight lead-in from the soma along the helix's tangent.
//! Dendrites grow in a 120 µm sphere around the soma, away from the tube.

use std::path::{Path, PathBuf};
use std::time::Instant;

use morpho_grow::region::{sample_points, Region, Vec3};
use morpho_grow::swc::{read_swc, SwcOptions};
use morpho_grow::{
    forest_to_swc, grow, ExportOptions, Forest, GrowthParams, Morphology, SampleType, SegmentSpec,
    Taper,
};
use plotters::prelude::*;
use rand::SeedableRng;

use crate::builder::{Cell, Mechanism, ModelBuilder};
use crate::plot::{plot_png, Trace};
use crate::run::build;

/// Voltage shown as pure blue, mV.
pub const V_BLUE_MV: f64 = -70.0;
/// Voltage shown as pure red, mV.
pub const V_RED_MV: f64 = 55.0;

/// Sizes of the demo. [`DemoOptions::default`] is the showcase; [`DemoOptions::small`] is a
/// reduced version for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Random seed of the growth.
    pub seed: u64,
    /// Radius of the helix, µm (the spiral is twice as wide).
    pub spiral_radius_um: f64,
    /// How far the helix centre recedes along −z, µm.
    pub recede_um: f64,
    /// Number of turns.
    pub turns: f64,
    /// Radius of the tube of axon carrier points around the helix, µm.
    pub tube_radius_um: f64,
    /// Axon carrier points per µm³.
    pub axon_density_per_um3: f64,
    /// Dendrite carrier points per µm³.
    pub dendrite_density_per_um3: f64,
    /// Simulated time, ms.
    pub tstop_ms: f64,
    /// Temperature, °C.
    pub celsius: f64,
    /// Animation frames.
    pub frames: usize,
    /// Animation width and height, pixels.
    pub size_px: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 1,
            spiral_radius_um: 100.0,
            recede_um: 600.0,
            turns: 3.0,
            tube_radius_um: 10.0,
            axon_density_per_um3: 2e-3,
            dendrite_density_per_um3: 6e-5,
            tstop_ms: 12.0,
            celsius: 16.0,
            frames: 120,
            size_px: 480,
        }
    }
}

impl DemoOptions {
    /// A reduced demo (one turn, fewer points, few frames) for tests.
    pub fn small() -> Self {
        DemoOptions {
            turns: 1.0,
            recede_um: 200.0,
            axon_density_per_um3: 1.5e-3,
            dendrite_density_per_um3: 2e-5,
            tstop_ms: 5.0,
            frames: 8,
            size_px: 160,
            ..Self::default()
        }
    }
}

/// What the demo made.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoReport {
    /// The morphology.
    pub swc: PathBuf,
    /// The voltage plot.
    pub png: PathBuf,
    /// The animation.
    pub gif: PathBuf,
    /// Grown nodes (soma, dendrites, axon).
    pub nodes: usize,
    /// Axon nodes.
    pub axon_nodes: usize,
    /// Total axon length, µm.
    pub axon_length_um: f64,
    /// Compartments simulated.
    pub compartments: usize,
    /// Voltage probes recorded.
    pub probes: usize,
    /// Path distance from the soma of each plotted axon point, µm.
    pub axon_probe_distance_um: Vec<f64>,
    /// Time of the first crossing of 0 mV at the soma and at each plotted axon point, ms
    /// (None: no action potential there).
    pub arrival_ms: Vec<Option<f64>>,
    /// Animation frames.
    pub frames: usize,
    /// Size of the GIF file, bytes.
    pub gif_bytes: u64,
    /// Seconds spent growing, simulating, and drawing.
    pub seconds: [f64; 3],
}

fn helix(o: &DemoOptions, theta: f64) -> Vec3 {
    let total = 2.0 * std::f64::consts::PI * o.turns;
    [
        o.spiral_radius_um * theta.cos(),
        o.spiral_radius_um * theta.sin(),
        -o.recede_um * theta / total,
    ]
}

/// Soma centre: 60 µm back from the helix start along its tangent.
fn soma_position(o: &DemoOptions) -> Vec3 {
    let total = 2.0 * std::f64::consts::PI * o.turns;
    let t = [0.0, o.spiral_radius_um, -o.recede_um / total];
    let n = (t[0] * t[0] + t[1] * t[1] + t[2] * t[2]).sqrt();
    let h = helix(o, 0.0);
    [
        h[0] - 60.0 * t[0] / n,
        h[1] - 60.0 * t[1] / n,
        h[2] - 60.0 * t[2] / n,
    ]
}

/// The tube around the lead-in and the helix: a union of short cylinders (every 10°) with
/// spheres at their joints.
fn spiral_tube(o: &DemoOptions, radius: f64) -> Region {
    let steps = (36.0 * o.turns).ceil().max(1.0) as usize;
    let total = 2.0 * std::f64::consts::PI * o.turns;
    let mut parts = vec![Region::Cylinder {
        p1: soma_position(o),
        p2: helix(o, 0.0),
        radius,
    }];
    for k in 0..steps {
        let (a, b) = (
            helix(o, total * k as f64 / steps as f64),
            helix(o, total * (k + 1) as f64 / steps as f64),
        );
        parts.push(Region::Cylinder {
            p1: a,
            p2: b,
            radius,
        });
        parts.push(Region::sphere(b, radius));
    }
    Region::Union(parts)
}

fn grow_cell(o: &DemoOptions) -> Result<(Forest, f64), String> {
    let e = |x: morpho_grow::MorphoError| x.to_string();
    let soma = soma_position(o);
    let mut f = Forest::new();
    let root = f.add_root(soma, 20.0, 0, SampleType::Soma.code());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(o.seed);
    // axon: a long trunk that extends before it branches, turning at most 45° per step
    let axon_pts = sample_points(
        &spiral_tube(o, o.tube_radius_um),
        o.axon_density_per_um3,
        &mut rng,
    )
    .map_err(e)?;
    let axon = GrowthParams {
        balancing_factor: 0.0,
        extend_before_bifurcate: true,
        extension_angle: 45f64.to_radians(),
        extension_distance: 40.0,
        bifurcation_angle: 60f64.to_radians(),
        bifurcation_distance: 40.0,
        ..GrowthParams::default()
    };
    let seg = SegmentSpec {
        kind: SampleType::Axon.code(),
        diameter: 1.0,
    };
    grow(&mut f, &[root], &axon_pts, &axon, seg, None).map_err(e)?;
    let axon_length = f.total_length_um();
    // dendrites: a bushy tree around the soma, kept away from the axon's tube
    let zone = Region::Intersection(vec![
        Region::sphere(soma, 120.0),
        Region::Not(Box::new(spiral_tube(o, o.tube_radius_um + 20.0))),
    ]);
    let dend_pts = sample_points(&zone, o.dendrite_density_per_um3, &mut rng).map_err(e)?;
    let start = f.nodes.len();
    let dend = GrowthParams {
        balancing_factor: 0.5,
        maximum_segment_length: 20.0,
        ..GrowthParams::default()
    };
    let seg = SegmentSpec {
        kind: SampleType::Basal.code(),
        diameter: 1.0,
    };
    grow(&mut f, &[root], &dend_pts, &dend, seg, None).map_err(e)?;
    Taper::DistanceToTips {
        q: [0.0, 0.01, 0.4],
    }
    .apply(&mut f, start)
    .map_err(e)?;
    Ok((f, axon_length))
}

/// Path distance from the soma of every section's x = 0 end, µm.
fn section_starts(m: &Morphology) -> Vec<f64> {
    let mut d = vec![0.0; m.len()];
    for (i, s) in m.sections().iter().enumerate() {
        if let Some(a) = s.parent() {
            let p = a.parent.index();
            d[i] = d[p] + a.x * m.sections()[p].length_um();
        }
    }
    d
}

/// (section, x, distance µm) at fractions of the path from the soma to the farthest axon tip.
fn axon_path_points(m: &Morphology, fractions: &[f64]) -> Vec<(usize, f64, f64)> {
    let starts = section_starts(m);
    let secs = m.sections();
    let Some(tip) = (0..secs.len())
        .filter(|&i| secs[i].kind() == SampleType::Axon)
        .max_by(|&a, &b| {
            (starts[a] + secs[a].length_um()).total_cmp(&(starts[b] + secs[b].length_um()))
        })
    else {
        return Vec::new();
    };
    let mut chain = vec![tip];
    while let Some(a) = secs[*chain.last().unwrap_or(&0)].parent() {
        if secs[a.parent.index()].kind() != SampleType::Axon {
            break;
        }
        chain.push(a.parent.index());
    }
    let total = starts[tip] + secs[tip].length_um();
    let first = starts[*chain.last().unwrap_or(&tip)];
    fractions
        .iter()
        .map(|&fr| {
            let want = first + fr * (total - first);
            let sec = chain
                .iter()
                .copied()
                .find(|&s| starts[s] <= want + 1e-9)
                .unwrap_or(tip);
            let len = secs[sec].length_um().max(1e-9);
            let x = ((want - starts[sec]) / len).clamp(0.0, 1.0);
            (sec, x, want)
        })
        .collect()
}

fn colour_of(v: f64) -> RGBColor {
    let c = ((v - V_BLUE_MV) / (V_RED_MV - V_BLUE_MV)).clamp(0.0, 1.0);
    RGBColor(
        (255.0 * c).round() as u8,
        0,
        (255.0 * (1.0 - c)).round() as u8,
    )
}

/// The GIF palette: 200 voltage colours, then 56 greys.
fn palette() -> Vec<[u8; 3]> {
    let mut p: Vec<[u8; 3]> = (0..200)
        .map(|k| {
            let c = colour_of(V_BLUE_MV + (V_RED_MV - V_BLUE_MV) * k as f64 / 199.0);
            [c.0, c.1, c.2]
        })
        .collect();
    for k in 0..56u32 {
        let g = (255 * k / 55) as u8;
        p.push([g, g, g]);
    }
    p
}

/// Nearest palette entry of every 5-bit-per-channel colour.
fn palette_lut(pal: &[[u8; 3]]) -> Vec<u8> {
    let mut lut = vec![0u8; 32 * 32 * 32];
    for (i, slot) in lut.iter_mut().enumerate() {
        let c = [
            ((i >> 10) & 31) as i32 * 255 / 31,
            ((i >> 5) & 31) as i32 * 255 / 31,
            (i & 31) as i32 * 255 / 31,
        ];
        let mut best = (i32::MAX, 0usize);
        for (k, p) in pal.iter().enumerate() {
            let d: i32 = (0..3).map(|j| (c[j] - i32::from(p[j])).pow(2)).sum();
            if d < best.0 {
                best = (d, k);
            }
        }
        *slot = best.1 as u8;
    }
    lut
}

/// A drawn piece of neurite: projected end points, depth, width (px) and its probe.
struct Piece {
    a: (i32, i32),
    b: (i32, i32),
    depth: f64,
    width: u32,
    probe: usize,
    /// Soma pieces are drawn as a disc of this radius, px.
    disc: Option<i32>,
}

/// The camera looks down the helix axis (−z) from 700 µm in front of the soma, turned
/// 20° about x and 15° about y, with perspective: returns (screen x, screen y, depth µm).
fn project(p: &Point3Like) -> (f64, f64, f64) {
    let (sa, ca) = 20f64.to_radians().sin_cos();
    let (y, z) = (ca * p.1 - sa * p.2, sa * p.1 + ca * p.2);
    let (sb, cb) = 15f64.to_radians().sin_cos();
    let (x, z) = (cb * p.0 + sb * z, -sb * p.0 + cb * z);
    let depth = 700.0 - z; // distance from the camera
    let f = 700.0 / depth.max(1.0);
    (x * f, -y * f, depth)
}

type Point3Like = (f64, f64, f64);

/// Runs the demo and writes its files into `out`.
pub fn run_demo(o: &DemoOptions, out: &Path) -> Result<DemoReport, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let t0 = Instant::now();
    let (forest, axon_length_um) = grow_cell(o)?;
    let swc = out.join("demo_cell.swc");
    std::fs::write(&swc, forest_to_swc(&forest, ExportOptions::default()))
        .map_err(|e| format!("writing {}: {e}", swc.display()))?;
    let grow_s = t0.elapsed().as_secs_f64();

    // the morphology as the simulator reads it (sections named soma[0], axon[k], dend[k])
    let morph = read_swc(&swc, SwcOptions::default())
        .map_err(|e| e.to_string())?
        .morphology;
    let swc_abs = std::fs::canonicalize(&swc).map_err(|e| format!("{}: {e}", swc.display()))?;

    // probes: one per ≤ 25 µm piece of every section (animation), then the plotted points
    let mut probes: Vec<(usize, f64)> = Vec::new();
    let mut pieces_of: Vec<(usize, usize)> = Vec::new(); // (first probe, count) per section
    for s in morph.sections() {
        let m = (s.length_um() / 25.0).ceil().clamp(1.0, 40.0) as usize;
        pieces_of.push((probes.len(), m));
        let sec = pieces_of.len() - 1;
        for k in 0..m {
            probes.push((sec, (k as f64 + 0.5) / m as f64));
        }
    }
    let path_pts = axon_path_points(&morph, &[0.25, 0.5, 0.75, 1.0]);
    let soma_sec = morph
        .sections()
        .iter()
        .position(|s| s.kind() == SampleType::Soma)
        .ok_or("the grown cell has no soma section")?;
    let mut model = ModelBuilder::new(o.tstop_ms)
        .dt(0.025)
        .celsius(o.celsius)
        .v_init(-65.0);
    let cell = Cell::new("demo")
        .morphology(&swc_abs)
        .ra(100.0)
        .cm(1.0)
        .d_lambda(0.1, 100.0)
        .mechanism(Mechanism::new("hh"));
    model = model.cell(cell).stimulus(
        "IClamp",
        &format!("{}(0.5)", morph.sections()[soma_sec].name()),
        &[("del", 0.5), ("dur", 1.0), ("amp", 5.0)],
    );
    let name = |sec: usize, x: f64| format!("{}({x})", morph.sections()[sec].name());
    for (k, &(sec, x)) in probes.iter().enumerate() {
        model = model.probe(&format!("p{k}"), &name(sec, x), "v");
    }
    model = model.probe("soma", &name(soma_sec, 0.5), "v");
    let labels: Vec<String> = path_pts
        .iter()
        .map(|&(_, _, d)| format!("axon, {d:.0} µm"))
        .collect();
    for (k, &(sec, x, _)) in path_pts.iter().enumerate() {
        model = model.probe(&format!("axon{k}"), &name(sec, x), "v");
    }
    let model = model.build().map_err(|e| e.to_string())?;
    let t1 = Instant::now();
    let mut built = build(&model).map_err(|e| e.to_string())?;
    let rec = built.run(|_| {})?;
    let sim_s = t1.elapsed().as_secs_f64();

    // (a) the plot
    let t2 = Instant::now();
    let n_anim = probes.len();
    let mut traces = vec![Trace {
        name: "soma",
        unit: "mV",
        values: &rec.series[n_anim],
    }];
    for (k, l) in labels.iter().enumerate() {
        traces.push(Trace {
            name: l,
            unit: "mV",
            values: &rec.series[n_anim + 1 + k],
        });
    }
    let png = out.join("demo_voltage.png");
    plot_png(
        &png,
        "neuwon demo: action potential from the soma along the spiral axon",
        &rec.t_ms,
        &traces,
    )?;
    let arrival_ms: Vec<Option<f64>> = rec.series[n_anim..]
        .iter()
        .map(|s| {
            s.iter()
                .position(|&v| v >= 0.0)
                .and_then(|i| rec.t_ms.get(i).copied())
        })
        .collect();

    // (b) the animation
    let gif = out.join("demo_voltage.gif");
    let frames = render_gif(o, &morph, &pieces_of, &rec.t_ms, &rec.series, &gif)?;
    let render_s = t2.elapsed().as_secs_f64();
    let gif_bytes = std::fs::metadata(&gif).map(|m| m.len()).unwrap_or(0);
    Ok(DemoReport {
        swc,
        png,
        gif,
        nodes: forest.nodes.len(),
        axon_nodes: forest.nodes.iter().filter(|n| n.kind == 2).count(),
        axon_length_um,
        compartments: built.compartments,
        probes: rec.series.len(),
        axon_probe_distance_um: path_pts.iter().map(|p| p.2).collect(),
        arrival_ms,
        frames,
        gif_bytes,
        seconds: [grow_s, sim_s, render_s],
    })
}

fn render_gif(
    o: &DemoOptions,
    morph: &Morphology,
    pieces_of: &[(usize, usize)],
    t_ms: &[f64],
    series: &[Vec<f64>],
    path: &Path,
) -> Result<usize, String> {
    let (w, h) = (o.size_px, o.size_px);
    let bar = 28i32; // colour bar and clock at the bottom
                     // project every section's polyline, split into the pieces of its probes
                     // (projected ends, depth µm, diameter µm, probe)
    type Raw = ((f64, f64), (f64, f64), f64, f64, usize, bool);
    let mut raw: Vec<Raw> = Vec::new();
    for (si, s) in morph.sections().iter().enumerate() {
        let (first, m) = pieces_of[si];
        let pts = s.points();
        let arcs = s.arc_lengths_um();
        let len = s.length_um().max(1e-9);
        for j in 1..pts.len() {
            let (p, q) = (&pts[j - 1], &pts[j]);
            let mid = 0.5 * (arcs[j - 1] + arcs[j]) / len;
            let k = ((mid * m as f64) as usize).min(m - 1);
            let a = project(&(p.x, p.y, p.z));
            let b = project(&(q.x, q.y, q.z));
            let diam = if s.kind() == SampleType::Soma {
                20.0
            } else {
                0.5 * (p.diam + q.diam)
            };
            let soma = s.kind() == SampleType::Soma;
            raw.push((
                (a.0, a.1),
                (b.0, b.1),
                0.5 * (a.2 + b.2),
                diam,
                first + k,
                soma,
            ));
        }
    }
    let (mut lo, mut hi) = (
        (f64::INFINITY, f64::INFINITY),
        (f64::NEG_INFINITY, f64::NEG_INFINITY),
    );
    for r in &raw {
        for p in [r.0, r.1] {
            lo = (lo.0.min(p.0), lo.1.min(p.1));
            hi = (hi.0.max(p.0), hi.1.max(p.1));
        }
    }
    let margin = 10.0;
    let (room_x, room_y) = (
        w as f64 - 2.0 * margin,
        h as f64 - 2.0 * margin - bar as f64,
    );
    let scale = (room_x / (hi.0 - lo.0).max(1e-9)).min(room_y / (hi.1 - lo.1).max(1e-9));
    // centre the drawing
    let off = (
        margin + 0.5 * (room_x - (hi.0 - lo.0) * scale),
        margin + 0.5 * (room_y - (hi.1 - lo.1) * scale),
    );
    let px = |p: (f64, f64)| {
        (
            (off.0 + (p.0 - lo.0) * scale).round() as i32,
            (off.1 + (p.1 - lo.1) * scale).round() as i32,
        )
    };
    let mut pieces: Vec<Piece> = raw
        .iter()
        .map(|r| Piece {
            a: px(r.0),
            b: px(r.1),
            depth: r.2,
            width: ((r.3 * scale * 0.8).round() as u32).clamp(1, 12),
            probe: r.4,
            disc: r.5.then(|| ((0.5 * r.3 * scale).round() as i32).max(3)),
        })
        .collect();
    pieces.sort_by(|a, b| b.depth.total_cmp(&a.depth)); // far first

    let pal = palette();
    let lut = palette_lut(&pal);
    let flat: Vec<u8> = pal.iter().flatten().copied().collect();
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut enc = gif::Encoder::new(std::io::BufWriter::new(file), w as u16, h as u16, &flat)
        .map_err(|e| e.to_string())?;
    enc.set_repeat(gif::Repeat::Infinite)
        .map_err(|e| e.to_string())?;
    let frames = o.frames.max(1);
    let last = t_ms.len().saturating_sub(1);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    for f in 0..frames {
        let i = if frames == 1 {
            last
        } else {
            f * last / (frames - 1)
        };
        let area = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw_frame(area, (w, h), bar, &pieces, series, i, t_ms[i])?;
        if f == frames / 2 {
            // one still frame as PNG, for documents and for looking at without a GIF viewer
            let still = path.with_file_name("demo_frame.png");
            let area = BitMapBackend::new(&still, (w, h)).into_drawing_area();
            draw_frame(area, (w, h), bar, &pieces, series, i, t_ms[i])?;
        }
        let idx: Vec<u8> = rgb
            .chunks_exact(3)
            .map(|c| {
                lut[((c[0] as usize >> 3) << 10)
                    | ((c[1] as usize >> 3) << 5)
                    | (c[2] as usize >> 3)]
            })
            .collect();
        let mut frame = gif::Frame::from_indexed_pixels(w as u16, h as u16, idx, None);
        frame.delay = 6; // 1/100 s
        enc.write_frame(&frame).map_err(|e| e.to_string())?;
    }
    Ok(frames)
}

fn draw_frame(
    root: DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    (w, h): (u32, u32),
    bar: i32,
    pieces: &[Piece],
    series: &[Vec<f64>],
    i: usize,
    t: f64,
) -> Result<(), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    for p in pieces {
        let v = series[p.probe].get(i).copied().unwrap_or(f64::NAN);
        let c = if v.is_finite() {
            colour_of(v)
        } else {
            RGBColor(128, 128, 128)
        };
        match p.disc {
            Some(r) => root.draw(&Circle::new(
                ((p.a.0 + p.b.0) / 2, (p.a.1 + p.b.1) / 2),
                r,
                c.filled(),
            )),
            None => root.draw(&PathElement::new(vec![p.a, p.b], c.stroke_width(p.width))),
        }
        .map_err(|x| e(&x))?;
    }
    // colour bar from −70 to +55 mV, and the clock
    let y0 = h as i32 - bar + 6;
    let x0 = 10;
    let x1 = (w as i32 / 2).max(x0 + 10);
    for x in x0..x1 {
        let v = V_BLUE_MV + (V_RED_MV - V_BLUE_MV) * (x - x0) as f64 / (x1 - x0) as f64;
        root.draw(&Rectangle::new(
            [(x, y0), (x + 1, y0 + 8)],
            colour_of(v).filled(),
        ))
        .map_err(|x| e(&x))?;
    }
    let font = ("sans-serif", 11).into_font().color(&BLACK);
    root.draw_text("-70 mV", &font, (x0, y0 + 9))
        .map_err(|x| e(&x))?;
    root.draw_text("+55 mV", &font, (x1 - 36, y0 + 9))
        .map_err(|x| e(&x))?;
    let clock = ("sans-serif", 14).into_font().color(&BLACK);
    root.draw_text(&format!("t = {t:5.2} ms"), &clock, (x1 + 12, y0))
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))
}
