//! Diameters of grown trees (`shared/specs/morpho-grow.md` §4.6).
//!
//! Growth gives every new segment its instruction's constant diameter; a [`Taper`] then
//! reassigns the diameters of the non-root nodes of a forest:
//!
//! * [`Taper::DistanceToTips`]: for node n, the mean over the terminals t below n of
//!   Q0·ℓ² + Q1·ℓ + Q2 with ℓ = path distance from n to t (default Q = (0, 0.01, 1e-6):
//!   0.01 µm of diameter per µm to the tips);
//! * [`Taper::TreesQuadratic`]: TREES' quadratic taper (Cuntz, Borst & Segev 2007): each
//!   terminal t picks the row of a [`TaperTable`] whose reference length ℓ_i is nearest its
//!   path length L_t; node n gets scale · mean_t(P_i0·s² + P_i1·s + P_i2) + offset with
//!   s = path_len(n);
//! * [`Taper::NormalizedQuadratic`]: the same table in the normalised coordinate u = s/L_t,
//!   interpolated linearly between the two rows that bracket L_t (with the correct weights),
//!   d = max(min_d, scale · mean + min_d).
//!
//! Every rule is one reverse pass over the topologically ordered nodes that accumulates
//! per-subtree sums, so it costs O(N).
//!
//! The TREES table itself ships with TREES under GPL-3 and is not embedded here: load it
//! from a file of rows `ell P0 P1 P2` ([`TaperTable::parse`]).

use crate::error::{MorphoError, Result};
use crate::grow::Forest;

/// Rows (ℓ_i µm, P_i0 µm⁻¹, P_i1, P_i2 µm) of quadratic diameter profiles, sorted by ℓ.
#[derive(Debug, Clone, PartialEq)]
pub struct TaperTable {
    rows: Vec<[f64; 4]>,
}

impl TaperTable {
    /// A table from rows (ℓ, P0, P1, P2); ℓ must be finite, positive and strictly increasing.
    pub fn new(rows: Vec<[f64; 4]>) -> Result<Self> {
        if rows.is_empty() {
            return Err(MorphoError::Growth(
                "a taper table needs at least one row".into(),
            ));
        }
        for (i, r) in rows.iter().enumerate() {
            if r.iter().any(|v| !v.is_finite()) || r[0] <= 0.0 {
                return Err(MorphoError::Growth(format!(
                    "taper table row {}: {r:?} (need finite values and ℓ > 0)",
                    i + 1
                )));
            }
            if i > 0 && rows[i - 1][0] >= r[0] {
                return Err(MorphoError::Growth(format!(
                    "taper table row {}: ℓ = {} is not larger than the previous row's",
                    i + 1,
                    r[0]
                )));
            }
        }
        Ok(TaperTable { rows })
    }

    /// Parses rows `ell P0 P1 P2` separated by whitespace or commas; `#` starts a comment;
    /// a first non-comment line that is not numeric is taken as a header. Errors name `file:line`.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let mut rows = Vec::new();
        let mut header_allowed = true;
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .collect();
            let nums: std::result::Result<Vec<f64>, _> =
                fields.iter().map(|s| s.parse::<f64>()).collect();
            match nums {
                Ok(v) if v.len() == 4 => {
                    header_allowed = false;
                    rows.push([v[0], v[1], v[2], v[3]]);
                }
                Err(_) if header_allowed => {
                    header_allowed = false;
                    continue;
                }
                _ => {
                    return Err(MorphoError::Growth(format!(
                        "{file}:{}: expected 4 numbers `ell P0 P1 P2`, found {line:?}",
                        i + 1
                    )))
                }
            }
        }
        Self::new(rows)
    }

    /// The rows.
    pub fn rows(&self) -> &[[f64; 4]] {
        &self.rows
    }

    /// Row nearest to path length `l` (first on ties).
    fn nearest(&self, l: f64) -> &[f64; 4] {
        let mut best = &self.rows[0];
        for r in &self.rows[1..] {
            if (r[0] - l).abs() < (best[0] - l).abs() {
                best = r;
            }
        }
        best
    }

    /// Normalised coefficients (A, B, C) of u = s/L for path length `l`: rows rewritten as
    /// (P0·ℓ², P1·ℓ, P2) and interpolated linearly between the rows that bracket `l`
    /// (clamped to the first/last row outside the table).
    fn normalised(&self, l: f64) -> [f64; 3] {
        let norm = |r: &[f64; 4]| [r[1] * r[0] * r[0], r[2] * r[0], r[3]];
        let rows = &self.rows;
        let first = &rows[0];
        let last = &rows[rows.len() - 1];
        if l <= first[0] {
            return norm(first);
        }
        if l >= last[0] {
            return norm(last);
        }
        let hi = rows.partition_point(|r| r[0] < l).min(rows.len() - 1);
        let (a, b) = (&rows[hi - 1], &rows[hi]);
        let w_lo = (b[0] - l) / (b[0] - a[0]);
        let (na, nb) = (norm(a), norm(b));
        [
            w_lo * na[0] + (1.0 - w_lo) * nb[0],
            w_lo * na[1] + (1.0 - w_lo) * nb[1],
            w_lo * na[2] + (1.0 - w_lo) * nb[2],
        ]
    }
}

/// A diameter rule.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Taper {
    /// Keep the diameters growth gave.
    #[default]
    Constant,
    /// Mean over the tips below of `q[0]·ℓ² + q[1]·ℓ + q[2]` (ℓ µm to the tip).
    DistanceToTips {
        /// Coefficients (µm⁻¹, 1, µm); NEUWON's default (0, 0.01, 1e-6).
        q: [f64; 3],
    },
    /// TREES' quadratic taper.
    TreesQuadratic {
        /// The rows.
        table: TaperTable,
        /// Scale (default 0.5).
        scale: f64,
        /// Offset, µm (default 0.5).
        offset_um: f64,
    },
    /// `morphology_wizard`'s normalised quadratic taper.
    NormalizedQuadratic {
        /// The rows.
        table: TaperTable,
        /// `dendrite_taper` scale (default 0.2).
        scale: f64,
        /// `minimum_diameter`, µm: offset and lower bound (default 1).
        minimum_diameter_um: f64,
    },
}

impl Taper {
    /// NEUWON's distance-to-tips default.
    pub fn distance_to_tips() -> Self {
        Taper::DistanceToTips {
            q: [0.0, 0.01, 1e-6],
        }
    }

    /// Reassigns the diameters of the non-root nodes of `forest` whose index is ≥ `from`
    /// (earlier nodes, e.g. other neurons' or other steps', keep theirs; terminals are the
    /// childless nodes among them).
    pub fn apply(&self, forest: &mut Forest, from: usize) -> Result<()> {
        let n = forest.nodes.len();
        if matches!(self, Taper::Constant) || from >= n {
            return Ok(());
        }
        // per node: number of tips below, and sums of the tip-dependent coefficients
        let mut count = vec![0f64; n];
        let mut sums = vec![[0f64; 3]; n];
        for i in (from..n).rev() {
            let node = forest.nodes[i];
            if node.parent.is_none() {
                continue;
            }
            if count[i] == 0.0 {
                // a terminal among the reassigned nodes
                let l = node.path_len;
                count[i] = 1.0;
                sums[i] = match self {
                    Taper::Constant => [0.0; 3],
                    Taper::DistanceToTips { .. } => [l, l * l, 0.0],
                    Taper::TreesQuadratic { table, .. } => {
                        let r = table.nearest(l);
                        [r[1], r[2], r[3]]
                    }
                    Taper::NormalizedQuadratic { table, .. } => {
                        let [a, b, c] = table.normalised(l);
                        let l = l.max(f64::MIN_POSITIVE);
                        [a / (l * l), b / l, c]
                    }
                };
            }
            if let Some(p) = node.parent {
                let p = p as usize;
                if p >= from {
                    count[p] += count[i];
                    let mine = sums[i];
                    for (dst, src) in sums[p].iter_mut().zip(mine) {
                        *dst += src;
                    }
                }
            }
        }
        for i in from..n {
            let node = &mut forest.nodes[i];
            if node.parent.is_none() || count[i] == 0.0 {
                continue;
            }
            let c = count[i];
            let [m0, m1, m2] = [sums[i][0] / c, sums[i][1] / c, sums[i][2] / c];
            let s = node.path_len;
            let d = match self {
                Taper::Constant => node.diameter,
                Taper::DistanceToTips { q } => {
                    // mean of ℓ = L_t − s and of ℓ²
                    let mean_l = m0 - s;
                    let mean_l2 = m1 - 2.0 * s * m0 + s * s;
                    q[0] * mean_l2 + q[1] * mean_l + q[2]
                }
                Taper::TreesQuadratic {
                    scale, offset_um, ..
                } => scale * (m0 * s * s + m1 * s + m2) + offset_um,
                Taper::NormalizedQuadratic {
                    scale,
                    minimum_diameter_um,
                    ..
                } => (scale * (m0 * s * s + m1 * s + m2) + minimum_diameter_um)
                    .max(*minimum_diameter_um),
            };
            if !(d.is_finite() && d > 0.0) {
                return Err(MorphoError::Growth(format!(
                    "taper gives diameter {d} µm at node {i} (path length {s} µm): \
                     choose coefficients that stay positive"
                )));
            }
            node.diameter = d;
        }
        Ok(())
    }
}
