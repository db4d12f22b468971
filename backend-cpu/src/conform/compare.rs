//! Reference tables (CSV), our CSV output, and the two tiers of the corpus README.

use std::fmt::Write as _;

use super::protocol::Protocol;
use super::runner::Trace;
use crate::error::{Error, Result};

/// A CSV table of numbers: header and rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each `columns.len()` long.
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// Parses CSV text (header row, then numbers; `nan`/`inf` accepted). `file` names the
    /// source in errors, which give the line and column.
    pub fn parse(file: &str, text: &str) -> Result<Table> {
        let bad = |line: usize, what: String| Error::Protocol {
            field: format!("{file}:{line}"),
            what,
        };
        let mut lines = text.lines().enumerate();
        let columns: Vec<String> = match lines.next() {
            Some((_, h)) if !h.trim().is_empty() => {
                h.split(',').map(|s| s.trim().to_string()).collect()
            }
            _ => return Err(bad(1, "expected a header row".into())),
        };
        let mut rows = Vec::new();
        for (k, l) in lines {
            if l.trim().is_empty() {
                continue;
            }
            let row = l
                .split(',')
                .enumerate()
                .map(|(c, x)| {
                    x.trim().parse::<f64>().map_err(|_| {
                        bad(
                            k + 1,
                            format!("column {}: expected a number, found `{x}`", c + 1),
                        )
                    })
                })
                .collect::<Result<Vec<f64>>>()?;
            if row.len() != columns.len() {
                return Err(bad(
                    k + 1,
                    format!("expected {} values, found {}", columns.len(), row.len()),
                ));
            }
            rows.push(row);
        }
        Ok(Table { columns, rows })
    }
}

/// `x` with `sig` significant digits, as C's `%.{sig}g` prints it (the references' format).
pub fn fmt_g(x: f64, sig: usize) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sig = sig.max(1);
    let sci = format!("{:.*e}", sig - 1, x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp < -4 || exp >= sig as i32 {
        format!(
            "{}e{}{:02}",
            trim(mant),
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else {
        let decimals = (sig as i32 - 1 - exp).max(0) as usize;
        trim(&format!("{:.*}", decimals, x))
    }
}

/// The trace as CSV: the protocol's column names as header, 9 significant digits.
pub fn to_csv(trace: &Trace) -> String {
    let mut s = trace.columns.join(",");
    s.push('\n');
    for r in &trace.rows {
        for (k, x) in r.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            let _ = write!(s, "{}", fmt_g(*x, 9));
        }
        s.push('\n');
    }
    s
}

/// How one tier went.
#[derive(Clone, Debug, PartialEq)]
pub struct TierResult {
    /// Passed.
    pub pass: bool,
    /// The worst column and its error divided by the tier's bound (≤ 1 passes), or why the
    /// comparison failed (row count, missing column, spike count).
    pub worst: String,
    /// Worst error / bound over the columns (`inf` when not comparable).
    pub ratio: f64,
}

/// A file's verdict against the README's tiers.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Tier 1: same scheme as NEURON (≤ 1e-6 of each column's range from ref.csv).
    pub tier1: TierResult,
    /// Tier 2: at least as accurate as NEURON at dt = 0.025 against fine.csv (passes when
    /// tier 1 does).
    pub tier2: TierResult,
    /// Every value of the run is finite.
    pub finite: bool,
}

/// Per column: max over rows of |ours − want| / bound(column); `Err` when not comparable.
fn ratios(
    ours: &Trace,
    want: &Table,
    reference: &Table,
    bound: &dyn Fn(&str, f64, f64) -> f64,
) -> std::result::Result<(String, f64), String> {
    if ours.rows.len() != want.rows.len() {
        return Err(format!(
            "{} rows, reference has {}",
            ours.rows.len(),
            want.rows.len()
        ));
    }
    let mut worst = (String::from("-"), 0.0f64);
    for (cw, name) in want.columns.iter().enumerate() {
        let Some(co) = ours.columns.iter().position(|c| c == name) else {
            return Err(format!("column `{name}` not produced"));
        };
        let Some(cr) = reference.columns.iter().position(|c| c == name) else {
            return Err(format!("column `{name}` not in ref.csv"));
        };
        let (mut lo, mut hi, mut mx) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
        for r in &reference.rows {
            let x = r[cr];
            lo = lo.min(x);
            hi = hi.max(x);
            mx = mx.max(x.abs());
        }
        let range = if hi >= lo { hi - lo } else { 0.0 };
        let b = bound(name, range, mx);
        let mut e = 0.0f64;
        let mut beyond_print = false;
        for (ro, rw) in ours.rows.iter().zip(&want.rows) {
            let d = (ro[co] - rw[cw]).abs();
            e = if d.is_nan() { f64::INFINITY } else { e.max(d) };
            // NaN counts as beyond both.
            if d.is_nan() || (d > b && d > print_resolution(rw[cw])) {
                beyond_print = true;
            }
        }
        let ratio = e / b;
        let label = if ratio > 1.0 && !beyond_print {
            format!("{name} (every excess within the 9-digit printing of the reference)")
        } else {
            name.clone()
        };
        if ratio > worst.1 || worst.0 == "-" {
            worst = (label, ratio);
        }
    }
    Ok(worst)
}

/// Half a unit in the 9th significant digit of `x` (the references' printing), with a
/// margin for the decimal rounding itself.
fn print_resolution(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    0.5 * 10f64.powf(x.abs().log10().floor() - 8.0) * 1.001
}

fn spike_check(ours: &[f64], want: &[f64], tol: f64) -> Option<String> {
    if ours.len() != want.len() {
        return Some(format!(
            "{} output events, reference has {}",
            ours.len(),
            want.len()
        ));
    }
    let e = ours
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    (e > tol).then(|| format!("output event times differ by {e:.3e} ms (> {tol:e})"))
}

/// Compares a run with the reference (`ref.csv`), the fine run (`fine.csv`) and, for
/// ARTIFICIAL_CELL, the output events (`spikes.json`: ref and fine times), per the README:
///
/// * tier 1, per column x with range R and largest magnitude M in ref.csv:
///   `|x − x_ref| ≤ 1e-6·R + 1e-9·M + 1e-12` on every row; output events: same count, each
///   within 1e-9 ms;
/// * tier 2: `|x − x_fine| ≤ 2·D_x + 1e-6·R + 1e-8·M + 1e-12` with `D_x` the protocol's
///   `dt_max_abs_diff` (0 when absent); output events: same count as the fine run, each
///   within dt.
///
/// Stochastic protocols pass both tiers when the run is finite (the README's rule: NEURON's
/// random streams are not reproduced).
pub fn compare(
    p: &Protocol,
    ours: &Trace,
    reference: &Table,
    fine: Option<&Table>,
    spikes: Option<(&[f64], &[f64])>,
) -> Verdict {
    let finite = ours.rows.iter().flatten().all(|x| x.is_finite());
    if p.stochastic {
        let r = TierResult {
            pass: finite,
            worst: if finite {
                "stochastic: run finite".into()
            } else {
                "stochastic: non-finite values".into()
            },
            ratio: if finite { 0.0 } else { f64::INFINITY },
        };
        return Verdict {
            tier1: r.clone(),
            tier2: r,
            finite,
        };
    }
    let tier = |res: std::result::Result<(String, f64), String>, sp: Option<String>| match (res, sp)
    {
        (Err(e), _) => TierResult {
            pass: false,
            worst: e,
            ratio: f64::INFINITY,
        },
        (Ok(_), Some(s)) => TierResult {
            pass: false,
            worst: s,
            ratio: f64::INFINITY,
        },
        (Ok((c, r)), None) => TierResult {
            pass: r <= 1.0,
            worst: format!("{c}: {r:.3e} of the bound"),
            ratio: r,
        },
    };
    let b1 = |_: &str, range: f64, mx: f64| 1e-6 * range + 1e-9 * mx + 1e-12;
    let tier1 = tier(
        ratios(ours, reference, reference, &b1),
        spikes.and_then(|(r, _)| spike_check(&ours.spikes_ms, r, 1e-9)),
    );
    let d_of = |name: &str| {
        p.dt_max_abs_diff
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0.0, |(_, d)| *d)
    };
    let b2 = |name: &str, range: f64, mx: f64| 2.0 * d_of(name) + 1e-6 * range + 1e-8 * mx + 1e-12;
    let mut tier2 = match fine {
        Some(f) => tier(
            ratios(ours, f, reference, &b2),
            spikes.and_then(|(_, fs)| spike_check(&ours.spikes_ms, fs, p.dt_ms)),
        ),
        None => TierResult {
            pass: false,
            worst: "no fine run".into(),
            ratio: f64::INFINITY,
        },
    };
    if tier1.pass && !tier2.pass {
        tier2 = TierResult {
            pass: true,
            worst: format!("tier 1 passes ({})", tier2.worst),
            ratio: tier2.ratio,
        };
    }
    Verdict {
        tier1,
        tier2,
        finite,
    }
}
