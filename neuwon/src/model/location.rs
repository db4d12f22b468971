//! Places in a model: `section(x)` on a cell, `cell[i].section(x)`, `cell[i].synapse`.

use super::{CellSpec, SectionSpec};

/// A point on a cell: section name and x ∈ [0, 1] along it (NEURON's addressing).
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    /// Section name (an inline section, or an SWC section name such as `dend[3]`).
    pub section: String,
    /// Position along the section, 0 at its start, 1 at its end.
    pub x: f64,
}

/// A place on one copy of a cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A point on the cell.
    Location {
        /// Cell name.
        cell: String,
        /// Copy index.
        index: usize,
        /// The point.
        location: Location,
    },
    /// A synapse declared in the cell.
    Synapse {
        /// Cell name.
        cell: String,
        /// Copy index.
        index: usize,
        /// Synapse name.
        synapse: String,
    },
}

pub(crate) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// A section name: an identifier, optionally with an index (`dend[3]`).
fn is_section_name(s: &str) -> bool {
    match s.split_once('[') {
        None => is_identifier(s),
        Some((base, rest)) => {
            is_identifier(base)
                && rest
                    .strip_suffix(']')
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        }
    }
}

/// `section(x)`.
pub(crate) fn parse_section_x(s: &str) -> Result<(String, f64), String> {
    let expected = || {
        format!("expected `section(x)` with x between 0 and 1, such as `soma(0.5)`, found `{s}`")
    };
    let s = s.trim();
    let (name, rest) = s.split_once('(').ok_or_else(expected)?;
    let x: f64 = rest
        .strip_suffix(')')
        .and_then(|x| x.trim().parse().ok())
        .ok_or_else(expected)?;
    if !is_section_name(name.trim()) || !(0.0..=1.0).contains(&x) {
        return Err(expected());
    }
    Ok((name.trim().to_string(), x))
}

/// `cell[i]` (or `cell`, meaning copy 0).
pub(crate) fn parse_cell_ref(s: &str) -> Result<(String, usize), String> {
    let s = s.trim();
    let bad = || format!("expected a cell copy such as `ring[3]`, found `{s}`");
    match s.split_once('[') {
        None if is_identifier(s) => Ok((s.to_string(), 0)),
        None => Err(bad()),
        Some((name, rest)) => {
            let i = rest
                .strip_suffix(']')
                .and_then(|i| i.parse::<usize>().ok())
                .ok_or_else(bad)?;
            if is_identifier(name) {
                Ok((name.to_string(), i))
            } else {
                Err(bad())
            }
        }
    }
}

/// `cell[i].section(x)`, `cell[i].synapse`, or with one single-copy cell, `section(x)` and
/// `synapse` alone.
pub(crate) fn parse_target(s: &str, cells: &[CellSpec]) -> Result<Target, String> {
    let t = s.trim();
    // The cell part ends at the first '.' that comes after a ']' or before any '('.
    let split = t.find("].").map(|i| i + 1).or_else(|| {
        let dot = t.find('.')?;
        let paren = t.find('(').unwrap_or(usize::MAX);
        (dot < paren).then_some(dot)
    });
    let (cell, index, rest) = match split {
        Some(i) => {
            let (c, rest) = (&t[..i], &t[i + 1..]);
            let (cell, index) = parse_cell_ref(c)?;
            (cell, index, rest)
        }
        None => match cells {
            [only] if only.count == 1 => (only.name.clone(), 0, t),
            _ => {
                return Err(format!(
                "`{s}`: name the cell copy, as in `{}[0].{t}` (the model has {} cell template(s))",
                cells.first().map_or("cell", |c| c.name.as_str()),
                cells.len()
            ))
            }
        },
    };
    if rest.contains('(') {
        let (section, x) = parse_section_x(rest)?;
        Ok(Target::Location {
            cell,
            index,
            location: Location { section, x },
        })
    } else if is_identifier(rest) {
        Ok(Target::Synapse {
            cell,
            index,
            synapse: rest.to_string(),
        })
    } else {
        Err(format!(
            "expected `cell[i].section(x)` or `cell[i].synapse`, found `{s}`"
        ))
    }
}

/// A section whose parent chain loops back to itself, if any.
pub(crate) fn cycle(sections: &[SectionSpec]) -> Option<&SectionSpec> {
    sections.iter().find(|start| {
        let mut cur = start.parent.as_ref().map(|p| p.0.as_str());
        for _ in 0..=sections.len() {
            match cur {
                None => return false,
                Some(n) if n == start.name => return true,
                Some(n) => {
                    cur = sections
                        .iter()
                        .find(|s| s.name == n)
                        .and_then(|s| s.parent.as_ref().map(|p| p.0.as_str()))
                }
            }
        }
        true
    })
}
