//! What the cross-crate tests share: reading the reference CSVs copied into `tests/data`.

#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;

/// The header and the numeric rows of `tests/data/<name>`.
pub fn csv(name: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let (header, rows) = csv_text(name);
    let rows = rows
        .iter()
        .map(|r| r.iter().map(|x| x.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

/// The header and the rows of `tests/data/<name>` as text (for tables with label columns).
pub fn csv_text(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data")
            .join(name),
    )
    .unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}
