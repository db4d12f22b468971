//! Documentation generated from the metadata: the schema as a Markdown table per class.

use std::fmt::Write;

use crate::matrix::MatrixKind;
use crate::meta::Initial;
use crate::Database;

impl Database {
    /// The schema as Markdown: per class, its doc, then a table of its attributes with type,
    /// units, initial value, valid range and policy, then its class attributes and matrices.
    pub fn schema_markdown(&self) -> String {
        let mut s = String::new();
        for c in &self.classes {
            let _ = writeln!(s, "## {}\n", c.name);
            if !c.doc.is_empty() {
                let _ = writeln!(s, "{}\n", c.doc);
            }
            let _ = writeln!(
                s,
                "| attribute | type | units | initial | valid range | policy | doc |"
            );
            let _ = writeln!(s, "|---|---|---|---|---|---|---|");
            for col in c.columns.iter().chain(&c.class_attrs) {
                let m = &col.meta;
                let class_attr = c.class_attrs.iter().any(|a| a.meta.name == m.name);
                let initial = match (&m.pointer, &m.initial) {
                    (Some(_), _) => "NULL".to_string(),
                    (None, Initial::Value(v)) if v.len() == 1 => v[0].to_string(),
                    (None, Initial::Value(v)) => format!("{v:?}"),
                    (None, Initial::Uniform { lo, hi }) => format!("U[{lo}, {hi})"),
                    (None, Initial::Normal { mean, std_dev }) => format!("N({mean}, {std_dev})"),
                };
                let range = m
                    .range
                    .map_or(String::new(), |(lo, hi)| format!("[{lo}, {hi}]"));
                let policy = match &m.pointer {
                    Some(p) if p.nullable => "nullable".to_string(),
                    Some(_) => "required (cascade destroy)".to_string(),
                    None if m.ty.is_float() && !m.allow_nan => "no NaN".to_string(),
                    None => String::new(),
                };
                let _ = writeln!(
                    s,
                    "| {}{} | {} | {} | {} | {} | {} | {} |",
                    m.name,
                    if class_attr { " (class)" } else { "" },
                    crate::database::type_name(m),
                    m.units,
                    initial,
                    range,
                    policy,
                    m.doc.replace('\n', " ")
                );
            }
            for mat in &c.matrices {
                let kind = match mat.kind {
                    MatrixKind::Real => "real",
                    MatrixKind::Connectivity => "connectivity",
                };
                let _ = writeln!(
                    s,
                    "| {} (matrix) | {} → {} | {} |  |  |  | {} |",
                    mat.name,
                    kind,
                    self.classes[mat.target.index()].name,
                    mat.units,
                    mat.doc
                );
            }
            s.push('\n');
        }
        s
    }
}
