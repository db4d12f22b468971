//! The growth-spec file (TOML) read by `neuwon grow`. The format is documented in
//! `morpho-grow/GROW.md`; an example is `examples/grow/pyramidal.toml`.
//!
//! Errors name the file, the line and column, and the field (`neuron[0].grow[1]:
//! balancing_factor …`). Per-segment-type defaults (`[defaults.<segment_type>]`) are merged
//! field by field into every growth step of that type; the step's own values win.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::{Spanned, Value};

use crate::error::{MorphoError, Result};
use crate::grow::{Competition, CostForm, ExtendFirst, GrowthParams, PathOrigin, SubdivideMode};
use crate::program::{
    GrowthInstruction, GrowthProgram, NeuronType, SomaDiameter, SomaInstruction, SomaPlacement,
};
use crate::region::{Region, RegionLibrary, RegionSpec, Vec3};
use crate::taper::{Taper, TaperTable};

/// A parsed spec: the program and the seed it names (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct GrowthSpec {
    /// The program.
    pub program: GrowthProgram,
    /// `seed = N` from the file.
    pub seed: Option<u64>,
    /// The named regions.
    pub regions: RegionLibrary,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    seed: Option<u64>,
    #[serde(default)]
    regions: BTreeMap<String, Spanned<Value>>,
    #[serde(default)]
    segment_types: BTreeMap<String, u32>,
    #[serde(default)]
    defaults: BTreeMap<String, StepSpec>,
    neuron: Vec<Spanned<NeuronSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NeuronSpec {
    name: String,
    soma: Spanned<SomaSpec>,
    #[serde(default)]
    grow: Vec<Spanned<StepSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SomaSpec {
    segment_type: Option<String>,
    region: Option<Spanned<Value>>,
    number: Option<u32>,
    density: Option<f64>,
    at: Option<Vec<Vec3>>,
    diameter: Spanned<Value>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    segment_type: Option<String>,
    region: Option<Spanned<Value>>,
    diameter: Option<f64>,
    carrier_point_density: Option<f64>,
    neuron_region: Option<Spanned<Value>>,
    competitive: Option<bool>,
    balancing_factor: Option<f64>,
    cost_form: Option<String>,
    extension_angle: Option<Spanned<Value>>,
    extension_distance: Option<f64>,
    bifurcation_angle: Option<Spanned<Value>>,
    bifurcation_distance: Option<f64>,
    extend_before_bifurcate: Option<bool>,
    only_bifurcate: Option<bool>,
    maximum_branches: Option<u32>,
    extend_first: Option<String>,
    path_origin: Option<String>,
    reach_all_carrier_points: Option<bool>,
    maximum_segment_length: Option<f64>,
    subdivide: Option<String>,
    competition: Option<String>,
    taper: Option<Spanned<Value>>,
}

impl StepSpec {
    fn merged_with(self, d: &StepSpec) -> StepSpec {
        let d = d.clone();
        StepSpec {
            segment_type: self.segment_type.or(d.segment_type),
            region: self.region.or(d.region),
            diameter: self.diameter.or(d.diameter),
            carrier_point_density: self.carrier_point_density.or(d.carrier_point_density),
            neuron_region: self.neuron_region.or(d.neuron_region),
            competitive: self.competitive.or(d.competitive),
            balancing_factor: self.balancing_factor.or(d.balancing_factor),
            cost_form: self.cost_form.or(d.cost_form),
            extension_angle: self.extension_angle.or(d.extension_angle),
            extension_distance: self.extension_distance.or(d.extension_distance),
            bifurcation_angle: self.bifurcation_angle.or(d.bifurcation_angle),
            bifurcation_distance: self.bifurcation_distance.or(d.bifurcation_distance),
            extend_before_bifurcate: self.extend_before_bifurcate.or(d.extend_before_bifurcate),
            only_bifurcate: self.only_bifurcate.or(d.only_bifurcate),
            maximum_branches: self.maximum_branches.or(d.maximum_branches),
            extend_first: self.extend_first.or(d.extend_first),
            path_origin: self.path_origin.or(d.path_origin),
            reach_all_carrier_points: self.reach_all_carrier_points.or(d.reach_all_carrier_points),
            maximum_segment_length: self.maximum_segment_length.or(d.maximum_segment_length),
            subdivide: self.subdivide.or(d.subdivide),
            competition: self.competition.or(d.competition),
            taper: self.taper.or(d.taper),
        }
    }
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    dir: &'a Path,
}

impl Ctx<'_> {
    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        field: &str,
        msg: impl std::fmt::Display,
    ) -> Result<T> {
        let (l, c) = line_col(self.text, span.start);
        Err(MorphoError::Growth(format!(
            "{}:{l}:{c}: {field}: {msg}",
            self.file
        )))
    }
}

fn as_vec3(v: &Value) -> Option<Vec3> {
    let a = v.as_array()?;
    if a.len() != 3 {
        return None;
    }
    let mut out = [0.0; 3];
    for (o, x) in out.iter_mut().zip(a) {
        *o = match x {
            Value::Float(f) => *f,
            Value::Integer(i) => *i as f64,
            _ => return None,
        };
    }
    Some(out)
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

const REGION_HELP: &str =
    "expected a region name, \"everywhere\", \"nowhere\", or a table with one \
     key: sphere = { center, radius }, rectangle = { lo, hi }, cylinder = { p1, p2, radius }, \
     cone = { apex, base, radius }, union = [..], intersection = [..], not = <region>";

fn region_spec(v: &Value) -> std::result::Result<RegionSpec, String> {
    match v {
        Value::String(s) => Ok(match s.as_str() {
            "everywhere" => RegionSpec::Shape(Region::Everywhere),
            "nowhere" => RegionSpec::Shape(Region::Nowhere),
            name => RegionSpec::Named(name.to_string()),
        }),
        Value::Table(t) if t.len() == 1 => {
            let (kind, body) = t.iter().next().ok_or(REGION_HELP)?;
            let field = |name: &str| -> std::result::Result<&Value, String> {
                body.get(name)
                    .ok_or_else(|| format!("{kind}: missing field `{name}`"))
            };
            let vec3 = |name: &str| -> std::result::Result<Vec3, String> {
                as_vec3(field(name)?)
                    .ok_or_else(|| format!("{kind}.{name}: expected [x, y, z] in µm"))
            };
            let num = |name: &str| -> std::result::Result<f64, String> {
                as_f64(field(name)?).ok_or_else(|| format!("{kind}.{name}: expected a number (µm)"))
            };
            let only = |names: &[&str]| -> std::result::Result<(), String> {
                if let Some(t) = body.as_table() {
                    if let Some(k) = t.keys().find(|k| !names.contains(&k.as_str())) {
                        return Err(format!("{kind}: unknown field `{k}` (expected {names:?})"));
                    }
                }
                Ok(())
            };
            let parts = || -> std::result::Result<Vec<RegionSpec>, String> {
                let a = body
                    .as_array()
                    .ok_or_else(|| format!("{kind}: expected an array of regions"))?;
                a.iter().map(region_spec).collect()
            };
            match kind.as_str() {
                "sphere" => {
                    only(&["center", "radius"])?;
                    Ok(RegionSpec::Shape(Region::Sphere {
                        center: vec3("center")?,
                        radius: num("radius")?,
                    }))
                }
                "rectangle" => {
                    only(&["lo", "hi"])?;
                    Ok(RegionSpec::Shape(Region::Rectangle {
                        lo: vec3("lo")?,
                        hi: vec3("hi")?,
                    }))
                }
                "cylinder" => {
                    only(&["p1", "p2", "radius"])?;
                    Ok(RegionSpec::Shape(Region::Cylinder {
                        p1: vec3("p1")?,
                        p2: vec3("p2")?,
                        radius: num("radius")?,
                    }))
                }
                "cone" => {
                    only(&["apex", "base", "radius"])?;
                    Ok(RegionSpec::Shape(Region::Cone {
                        apex: vec3("apex")?,
                        base: vec3("base")?,
                        radius: num("radius")?,
                    }))
                }
                "union" => Ok(RegionSpec::Union(parts()?)),
                "intersection" => Ok(RegionSpec::Intersection(parts()?)),
                "not" => Ok(RegionSpec::Not(Box::new(region_spec(body)?))),
                other => Err(format!("unknown region kind `{other}`; {REGION_HELP}")),
            }
        }
        _ => Err(REGION_HELP.to_string()),
    }
}

fn angle(v: &Value) -> std::result::Result<f64, String> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            let num = t
                .strip_suffix("deg")
                .or_else(|| t.strip_suffix('°'))
                .ok_or_else(|| format!("expected radians or \"<n> deg\", found {s:?}"))?;
            num.trim()
                .parse::<f64>()
                .map(f64::to_radians)
                .map_err(|_| format!("expected \"<n> deg\", found {s:?}"))
        }
        other => as_f64(other).ok_or_else(|| "expected an angle in radians or \"<n> deg\"".into()),
    }
}

fn type_code(name: &str, custom: &BTreeMap<String, u32>) -> Option<u32> {
    if let Some(&c) = custom.get(name) {
        return Some(c);
    }
    match name {
        "soma" => Some(1),
        "axon" => Some(2),
        "dendrite" | "basal" | "basal_dendrite" => Some(3),
        "apical" | "apical_dendrite" => Some(4),
        _ => None,
    }
}

impl GrowthSpec {
    /// Reads a spec file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| MorphoError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses spec text; `path` names the file in errors and is the base of relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let dir = path.parent().unwrap_or(Path::new("."));
        let ctx = Ctx {
            text,
            file: &file,
            dir,
        };
        let spec: FileSpec = toml::from_str(text).map_err(|e| {
            let loc = e
                .span()
                .map(|s| {
                    let (l, c) = line_col(text, s.start);
                    format!("{l}:{c}: ")
                })
                .unwrap_or_default();
            MorphoError::Growth(format!("{file}:{loc}{}", e.message()))
        })?;
        let mut lib = RegionLibrary::new();
        for (name, v) in &spec.regions {
            match region_spec(v.get_ref()) {
                Ok(r) => lib.insert(name, r),
                Err(m) => return ctx.err(v.span(), &format!("regions.{name}"), m),
            }
        }
        for (name, v) in &spec.regions {
            if let Err(e) = lib.get(name) {
                return ctx.err(v.span(), &format!("regions.{name}"), e);
            }
        }
        for (name, &code) in &spec.segment_types {
            if code == 0 {
                return Err(MorphoError::Growth(format!(
                    "{file}: segment_types.{name}: SWC type code must be ≥ 1"
                )));
            }
        }
        let resolve = |v: &Spanned<Value>, field: &str| -> Result<Region> {
            match region_spec(v.get_ref()) {
                Ok(s) => match lib.resolve(&s) {
                    Ok(r) => Ok(r),
                    Err(e) => ctx.err(v.span(), field, e),
                },
                Err(m) => ctx.err(v.span(), field, m),
            }
        };
        let mut types = Vec::new();
        for (ni, n) in spec.neuron.iter().enumerate() {
            let n = n.get_ref();
            let at = format!("neuron[{ni}] ({})", n.name);
            let s = n.soma.get_ref();
            let sspan = n.soma.span();
            let seg_name = s.segment_type.clone().unwrap_or_else(|| "soma".into());
            let kind = type_code(&seg_name, &spec.segment_types).map_or_else(
                || {
                    ctx.err(
                        sspan.clone(),
                        &format!("{at}.soma.segment_type"),
                        format!(
                            "unknown segment type {seg_name:?} (declare it in [segment_types])"
                        ),
                    )
                },
                Ok,
            )?;
            let diameter = match s.diameter.get_ref() {
                Value::Table(t) => match (
                    t.get("mean").and_then(as_f64),
                    t.get("std").and_then(as_f64),
                    t.len(),
                ) {
                    (Some(mean), Some(std), 2)
                        if mean.is_finite() && std.is_finite() && std >= 0.0 =>
                    {
                        SomaDiameter::Normal { mean, std }
                    }
                    _ => {
                        return ctx.err(
                            s.diameter.span(),
                            &format!("{at}.soma.diameter"),
                            "expected a number (µm) or { mean, std } with std ≥ 0",
                        )
                    }
                },
                v => match as_f64(v) {
                    Some(d) if d.is_finite() && d > 0.0 => SomaDiameter::Fixed(d),
                    _ => {
                        return ctx.err(
                            s.diameter.span(),
                            &format!("{at}.soma.diameter"),
                            "expected a diameter > 0 (µm)",
                        )
                    }
                },
            };
            let placement = match (s.number, s.density, &s.at) {
                (Some(k), None, None) => SomaPlacement::Number(k),
                (None, Some(d), None) if d.is_finite() && d > 0.0 => SomaPlacement::Lattice(d),
                (None, None, Some(p)) => SomaPlacement::At(p.clone()),
                _ => return ctx.err(sspan.clone(), &format!("{at}.soma"), "give exactly one of `number`, `density` (> 0, µm⁻³, lattice) or `at` (list of [x, y, z])"),
            };
            let region = match (&s.region, &placement) {
                (Some(r), _) => resolve(r, &format!("{at}.soma.region"))?,
                (None, SomaPlacement::At(_)) => Region::Everywhere,
                (None, _) => {
                    return ctx.err(sspan, &format!("{at}.soma"), "missing field `region`")
                }
            };
            let soma = SomaInstruction {
                kind,
                region,
                diameter,
                placement,
            };
            let mut growth = Vec::new();
            for (gi, g) in n.grow.iter().enumerate() {
                let gspan = g.span();
                let at = format!("{at}.grow[{gi}]");
                let raw = g.get_ref().clone();
                let Some(seg_name) = raw.segment_type.clone() else {
                    return ctx.err(gspan, &at, "missing field `segment_type`");
                };
                let step = match spec.defaults.get(&seg_name) {
                    Some(d) => raw.merged_with(d),
                    None => raw,
                };
                growth.push(step_instruction(
                    &ctx,
                    &step,
                    &seg_name,
                    &at,
                    gspan,
                    &spec.segment_types,
                    &resolve,
                )?);
            }
            types.push(NeuronType {
                name: n.name.clone(),
                soma,
                growth,
            });
        }
        Ok(GrowthSpec {
            program: GrowthProgram { types },
            seed: spec.seed,
            regions: lib,
        })
    }
}

fn step_instruction(
    ctx: &Ctx<'_>,
    s: &StepSpec,
    seg_name: &str,
    at: &str,
    span: std::ops::Range<usize>,
    custom: &BTreeMap<String, u32>,
    resolve: &dyn Fn(&Spanned<Value>, &str) -> Result<Region>,
) -> Result<GrowthInstruction> {
    let kind = match type_code(seg_name, custom) {
        Some(k) => k,
        None => {
            return ctx.err(
                span,
                &format!("{at}.segment_type"),
                format!("unknown segment type {seg_name:?} (declare it in [segment_types])"),
            )
        }
    };
    let Some(region) = &s.region else {
        return ctx.err(span, at, "missing field `region`");
    };
    let region = resolve(region, &format!("{at}.region"))?;
    let neuron_region = match &s.neuron_region {
        Some(r) => Some(resolve(r, &format!("{at}.neuron_region"))?),
        None => None,
    };
    let Some(density) = s.carrier_point_density else {
        return ctx.err(span, at, "missing field `carrier_point_density` (µm⁻³)");
    };
    if !(density.is_finite() && density >= 0.0) {
        return ctx.err(
            span,
            &format!("{at}.carrier_point_density"),
            format!("{density} must be ≥ 0 (µm⁻³)"),
        );
    }
    let Some(diameter) = s.diameter else {
        return ctx.err(span, at, "missing field `diameter` (µm)");
    };
    if !(diameter.is_finite() && diameter > 0.0) {
        return ctx.err(
            span,
            &format!("{at}.diameter"),
            format!("{diameter} must be > 0 (µm)"),
        );
    }
    let mut p = GrowthParams::default();
    if let Some(v) = s.balancing_factor {
        p.balancing_factor = v;
    }
    if let Some(v) = &s.cost_form {
        p.cost_form = match v.as_str() {
            "neuwon" => CostForm::Neuwon,
            "trees" => CostForm::Trees,
            o => {
                return ctx.err(
                    span,
                    &format!("{at}.cost_form"),
                    format!("{o:?}: expected \"neuwon\" or \"trees\""),
                )
            }
        };
    }
    for (field, src, dst) in [
        (
            "extension_angle",
            &s.extension_angle,
            &mut p.extension_angle,
        ),
        (
            "bifurcation_angle",
            &s.bifurcation_angle,
            &mut p.bifurcation_angle,
        ),
    ] {
        if let Some(v) = src {
            match angle(v.get_ref()) {
                Ok(a) => *dst = a,
                Err(m) => return ctx.err(v.span(), &format!("{at}.{field}"), m),
            }
        }
    }
    if let Some(v) = s.extension_distance {
        p.extension_distance = v;
    }
    if let Some(v) = s.bifurcation_distance {
        p.bifurcation_distance = v;
    }
    if let Some(v) = s.extend_before_bifurcate {
        p.extend_before_bifurcate = v;
    }
    if let Some(v) = s.only_bifurcate {
        p.only_bifurcate = v;
    }
    p.maximum_branches = s.maximum_branches;
    if let Some(v) = s.reach_all_carrier_points {
        p.reach_all_carrier_points = v;
    }
    if let Some(v) = &s.extend_first {
        p.extend_first = match v.as_str() {
            "two_queue" => ExtendFirst::TwoQueue,
            "lexicographic" => ExtendFirst::Lexicographic,
            o => {
                return ctx.err(
                    span,
                    &format!("{at}.extend_first"),
                    format!("{o:?}: expected \"two_queue\" or \"lexicographic\""),
                )
            }
        };
    }
    if let Some(v) = &s.path_origin {
        p.path_origin = match v.as_str() {
            "centre" | "center" => PathOrigin::Centre,
            "surface" => PathOrigin::Surface,
            o => {
                return ctx.err(
                    span,
                    &format!("{at}.path_origin"),
                    format!("{o:?}: expected \"centre\" or \"surface\""),
                )
            }
        };
    }
    if let Some(v) = s.maximum_segment_length {
        p.maximum_segment_length = v;
    }
    if let Some(v) = &s.subdivide {
        p.subdivide = match v.as_str() {
            "split" => SubdivideMode::Split,
            "ignore" => SubdivideMode::Ignore,
            o => {
                return ctx.err(
                    span,
                    &format!("{at}.subdivide"),
                    format!("{o:?}: expected \"split\" or \"ignore\""),
                )
            }
        };
    }
    if let Some(v) = &s.competition {
        p.competition = match v.as_str() {
            "global_min" => Competition::GlobalMin,
            "round_robin" => Competition::RoundRobin,
            o => {
                return ctx.err(
                    span,
                    &format!("{at}.competition"),
                    format!("{o:?}: expected \"global_min\" or \"round_robin\""),
                )
            }
        };
    }
    if let Err(e) = p.validate() {
        return ctx.err(span, at, e);
    }
    let taper = match &s.taper {
        None => Taper::Constant,
        Some(t) => match taper(ctx, t.get_ref()) {
            Ok(t) => t,
            Err(m) => return ctx.err(t.span(), &format!("{at}.taper"), m),
        },
    };
    Ok(GrowthInstruction {
        kind,
        region,
        carrier_point_density: density,
        diameter,
        neuron_region,
        competitive: s.competitive.unwrap_or(true),
        params: p,
        taper,
    })
}

fn taper(ctx: &Ctx<'_>, v: &Value) -> std::result::Result<Taper, String> {
    const HELP: &str = "expected \"constant\", \"distance_to_tips\", or a table with `rule` = \
        \"distance_to_tips\" (q), \"trees_quadratic\" (table, scale, offset) or \
        \"normalized_quadratic\" (table, scale, minimum_diameter)";
    let t = match v {
        Value::String(s) if s == "constant" => return Ok(Taper::Constant),
        Value::String(s) if s == "distance_to_tips" => return Ok(Taper::distance_to_tips()),
        Value::Table(t) => t,
        _ => return Err(HELP.into()),
    };
    let rule = t.get("rule").and_then(Value::as_str).ok_or(HELP)?;
    let num = |name: &str, default: f64| -> std::result::Result<f64, String> {
        match t.get(name) {
            None => Ok(default),
            Some(v) => as_f64(v).ok_or_else(|| format!("`{name}`: expected a number")),
        }
    };
    let table = || -> std::result::Result<TaperTable, String> {
        let p = t
            .get("table")
            .and_then(Value::as_str)
            .ok_or("`table`: expected the path of a file of rows `ell P0 P1 P2`")?;
        let path = ctx.dir.join(p);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        TaperTable::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())
    };
    let allowed: &[&str] = match rule {
        "constant" => &["rule"],
        "distance_to_tips" => &["rule", "q"],
        "trees_quadratic" => &["rule", "table", "scale", "offset"],
        "normalized_quadratic" => &["rule", "table", "scale", "minimum_diameter"],
        _ => return Err(HELP.into()),
    };
    if let Some(k) = t.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "unknown field `{k}` for rule {rule:?} (expected {allowed:?})"
        ));
    }
    Ok(match rule {
        "distance_to_tips" => Taper::DistanceToTips {
            q: match t.get("q") {
                None => [0.0, 0.01, 1e-6],
                Some(v) => as_vec3(v).ok_or("`q`: expected [Q0, Q1, Q2]")?,
            },
        },
        "trees_quadratic" => Taper::TreesQuadratic {
            table: table()?,
            scale: num("scale", 0.5)?,
            offset_um: num("offset", 0.5)?,
        },
        "normalized_quadratic" => Taper::NormalizedQuadratic {
            table: table()?,
            scale: num("scale", 0.2)?,
            minimum_diameter_um: num("minimum_diameter", 1.0)?,
        },
        _ => Taper::Constant,
    })
}
