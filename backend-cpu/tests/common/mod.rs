//! What the corpus tests share: where the reference material is, and its `.mod` files.

use std::path::{Path, PathBuf};

/// `$NEUWON_SHARED`, default the workspace's `../shared`.
pub fn shared() -> PathBuf {
    std::env::var_os("NEUWON_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")))
}

/// Every `.mod` file one level below `dir` (the corpus's origin folders), sorted; empty when
/// `dir` does not exist.
pub fn mod_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(origins) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = origins
        .flatten()
        .filter_map(|o| std::fs::read_dir(o.path()).ok())
        .flat_map(|d| d.flatten().map(|f| f.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mod"))
        .collect();
    out.sort();
    out
}
