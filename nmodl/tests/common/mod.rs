//! Shared helpers for tests that read the NMODL corpus in place.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `$NEUWON_SHARED/nmodl`, default `<workspace>/../shared/nmodl`; `None` (with a visible
/// message) when it is not there.
pub fn corpus_root() -> Option<PathBuf> {
    let shared = std::env::var_os("NEUWON_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")));
    let root = shared.join("nmodl");
    if root.join("INDEX.tsv").is_file() {
        Some(root)
    } else {
        eprintln!("skipping: corpus not found at {}", root.display());
        None
    }
}

/// One row of INDEX.tsv that matters here.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Path relative to the corpus root, e.g. `corpus/nrn/hh.mod`.
    pub rel: String,
    /// NEURON 9's nocmodl translates it.
    pub neuron_accepts: bool,
    /// The file has VERBATIM blocks.
    pub verbatim: bool,
    /// nocmodl's note (why NEURON rejects it).
    pub note: String,
}

/// Every .mod file listed in INDEX.tsv, in index order.
pub fn entries(root: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (path, feats, noc, note) = (
        col("path"),
        col("features"),
        col("nocmodl_translates"),
        col("note"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or("");
            Entry {
                rel: get(path).to_string(),
                neuron_accepts: get(noc) == "yes",
                verbatim: get(feats).split(',').any(|t| t == "VERBATIM"),
                note: get(note).to_string(),
            }
        })
        .collect()
}

/// The text of every corpus .mod file (lossy UTF-8), keyed by relative path.
pub fn texts(root: &Path) -> Vec<(String, String)> {
    entries(root)
        .into_iter()
        .map(|e| {
            let bytes = std::fs::read(root.join(&e.rel)).unwrap();
            (e.rel, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

/// Our own NMODL sources in `tests/data`.
pub fn own_sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mod"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Unused-import guard for the map type some tests use.
pub type Map = HashMap<String, String>;
