//! Loading the reference cells and tables of `shared/reduce/`, copied into `tests/data/`
//! (the simulations that need the cells' own `.mod` files read those in place, through
//! [`shared_reduce`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use reduce::{CableTree, Geometry, ProfilePoint, Section, SectionKind, Segment, Synapse};

/// `$NEUWON_SHARED/reduce`, default the workspace's `../shared/reduce`; `None` (with a visible
/// message naming `what`) when absent.
pub fn shared_reduce(what: &str) -> Option<PathBuf> {
    let base = std::env::var_os("NEUWON_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")));
    let dir = base.join("reduce");
    if dir.join("hay_l5pc").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {what}: no reference material at {} (set NEUWON_SHARED)",
            dir.display()
        );
        None
    }
}

/// `reduce/tests/data/<rel>`.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(rel)
}

/// A CSV table: header and rows of string cells.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines
            .next()
            .unwrap_or_else(|| panic!("{}: empty", path.display()))
            .split(',')
            .map(str::to_string)
            .collect();
        let rows = lines
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        Table { header, rows }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    pub fn f(&self, row: usize, name: &str) -> f64 {
        let c = self.col(name);
        self.rows[row][c]
            .parse()
            .unwrap_or_else(|_| panic!("row {row} column {name}: `{}`", self.rows[row][c]))
    }

    pub fn s(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.col(name)]
    }
}

/// Columns of `full_segments.csv` that are not mechanism values (or are computed by NEURON).
pub const NOT_VALUES: &[&str] = &[
    "section", "x", "area_um2", "diam_um", "cm", "Ra", "L_sec", "nseg", "g_pas", "e_pas", "eca",
];

/// A reference cell: the tree, section names → index.
pub struct Cell {
    pub tree: CableTree,
    pub index: HashMap<String, usize>,
}

/// Builds the cell of `dir` (`sections.csv`, `morphology.swc`, `full_segments.csv`).
pub fn load_cell(dir: &Path) -> Cell {
    let secs = Table::read(&dir.join("sections.csv"));
    let segs = Table::read(&dir.join("full_segments.csv"));
    let swc = std::fs::read_to_string(dir.join("morphology.swc")).expect("morphology.swc");
    let mut pts: HashMap<i64, ([f64; 3], f64)> = HashMap::new();
    for line in swc.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| -> f64 { f[i].parse().expect("swc number") };
        pts.insert(
            f[0].parse().expect("swc id"),
            ([num(2), num(3), num(4)], 2.0 * num(5)),
        );
    }
    let mut index = HashMap::new();
    for r in 0..secs.rows.len() {
        index.insert(secs.s(r, "section").to_string(), r);
    }
    // Segments per section, in file order.
    let mut seg_rows: HashMap<&str, Vec<usize>> = HashMap::new();
    for r in 0..segs.rows.len() {
        seg_rows
            .entry(segs.rows[r][segs.col("section")].as_str())
            .or_default()
            .push(r);
    }
    let mut sections = Vec::new();
    for r in 0..secs.rows.len() {
        let name = secs.s(r, "section").to_string();
        let parent = match secs.s(r, "parent") {
            "" => None,
            p => Some(index[p]),
        };
        let parent_x = if parent.is_some() {
            secs.f(r, "parent_x")
        } else {
            0.0
        };
        let first = secs.f(r, "swc_first_id") as i64;
        let last = secs.f(r, "swc_last_id") as i64;
        let mut arc = 0.0;
        let mut prev: Option<[f64; 3]> = None;
        let mut profile = Vec::new();
        for id in first..=last {
            let (p, d) = pts[&id];
            if let Some(q) = prev {
                arc +=
                    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
            }
            prev = Some(p);
            profile.push(ProfilePoint {
                arc_um: arc,
                diam_um: d,
            });
        }
        let rows = &seg_rows[name.as_str()];
        let mut ra = 100.0;
        let segments = rows
            .iter()
            .map(|&sr| {
                ra = segs.f(sr, "Ra");
                let mut values = BTreeMap::new();
                for (c, h) in segs.header.iter().enumerate() {
                    if NOT_VALUES.contains(&h.as_str()) || segs.rows[sr][c].is_empty() {
                        continue;
                    }
                    values.insert(h.clone(), segs.rows[sr][c].parse().expect("value"));
                }
                Segment {
                    cm_uf_cm2: segs.f(sr, "cm"),
                    g_pas_s_cm2: segs.f(sr, "g_pas"),
                    e_pas_mv: segs.f(sr, "e_pas"),
                    values,
                }
            })
            .collect();
        sections.push(Section {
            name,
            kind: SectionKind::from_swc_type(secs.f(r, "swc_type") as i64),
            parent,
            parent_x,
            length_um: secs.f(r, "L"),
            geometry: Geometry::Profile(profile),
            ra_ohm_cm: ra,
            segments,
        });
    }
    Cell {
        tree: CableTree { sections },
        index,
    }
}

/// The Hay cell's 10 000 synapses (`synapses.csv`).
pub fn load_synapses(dir: &Path, cell: &Cell) -> Vec<Synapse> {
    let t = Table::read(&dir.join("synapses.csv"));
    (0..t.rows.len())
        .map(|r| Synapse {
            section: cell.index[t.s(r, "section")],
            x: t.f(r, "x"),
            kind: "Exp2Syn".into(),
            params: vec![
                ("e".into(), t.f(r, "e")),
                ("tau1".into(), t.f(r, "tau1")),
                ("tau2".into(), t.f(r, "tau2")),
            ],
        })
        .collect()
}

/// Relative difference.
pub fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}
