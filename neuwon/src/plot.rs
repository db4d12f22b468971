//! PNG plots of recorded traces: one panel per unit (all voltages together, all currents
//! together, …), time in ms on the x axis, a legend per trace.
//!
//! Text is drawn with DejaVu Sans, embedded (`neuwon/assets`, license beside it), so plotting
//! needs no system fonts.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::FontStyle;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// One recorded series with its label and unit.
pub struct Trace<'a> {
    /// Label.
    pub name: &'a str,
    /// Unit (panel title).
    pub unit: &'a str,
    /// Values, one per time.
    pub values: &'a [f64],
}

const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draws `traces` against `t_ms` into a PNG at `path`.
pub fn plot_png(path: &Path, title: &str, t_ms: &[f64], traces: &[Trace]) -> Result<(), String> {
    // Registering twice is harmless; an error means the embedded font is unreadable.
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the embedded font could not be read".to_string())?;
    let mut units: Vec<&str> = Vec::new();
    for t in traces {
        if !units.contains(&t.unit) {
            units.push(t.unit);
        }
    }
    if units.is_empty() || t_ms.len() < 2 {
        return Err("nothing to plot (no probes, or fewer than two samples)".into());
    }
    let height = 60 + 300 * units.len() as u32;
    let root = BitMapBackend::new(path, (1000, height)).into_drawing_area();
    let e = |x: &dyn std::fmt::Display| x.to_string();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let root = root.titled(title, ("sans-serif", 24)).map_err(|x| e(&x))?;
    let panels = root.split_evenly((units.len(), 1));
    let (t0, t1) = (t_ms[0], t_ms[t_ms.len() - 1]);
    for (panel, unit) in panels.iter().zip(&units) {
        let mine: Vec<&Trace> = traces.iter().filter(|t| t.unit == *unit).collect();
        let finite = mine
            .iter()
            .flat_map(|t| t.values.iter().copied())
            .filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.05).max(1e-9);
        let mut chart = ChartBuilder::on(panel)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(t0..t1, (lo - pad)..(hi + pad))
            .map_err(|x| e(&x))?;
        chart
            .configure_mesh()
            .x_desc("t (ms)")
            .y_desc(*unit)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|x| e(&x))?;
        for (k, tr) in mine.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let points = t_ms
                .iter()
                .copied()
                .zip(tr.values.iter().copied())
                .filter(|p| p.1.is_finite());
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(tr.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(|x| e(&x))?;
    }
    root.present().map_err(|x| e(&x))
}
