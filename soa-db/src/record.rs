//! Recording attributes into time series, playing time series into attributes, CSV export.

use std::io::{self, Write};

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::Database;

/// One recorded quantity.
#[derive(Clone, Debug)]
struct Probe {
    handle: Handle,
    attribute: String,
    component: usize,
    header: String,
}

/// Records chosen attributes of chosen objects at every [`tick`](Recorder::tick).
///
/// Probes follow their objects through sorts and compactions (they hold handles). If an
/// object is destroyed, its probe records NaN from then on.
///
/// ```
/// use soa_db::{Attribute, Database, Recorder};
/// let mut db = Database::new();
/// let n = db.add_class("Neuron")?
///     .add_attribute(Attribute::new::<f64>("voltage").units("mV").initial(-70.0))?
///     .id();
/// let h = db.create(n)?;
/// let mut rec = Recorder::new("t", "ms");
/// rec.add(&db, h, "voltage")?;
/// for step in 0..3 {
///     rec.tick(&db, step as f64 * 0.5);
///     db.set(h, "voltage", -70.0 + step as f64)?;
/// }
/// let csv = rec.to_csv_string();
/// assert!(csv.starts_with("t (ms),Neuron.voltage[0v1] (mV)\n0,-70\n"));
/// # Ok::<(), soa_db::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Recorder {
    time_header: String,
    probes: Vec<Probe>,
    times: Vec<f64>,
    /// `samples[p]` is the series of probe `p`.
    samples: Vec<Vec<f64>>,
}

impl Recorder {
    /// A recorder whose time column is called `time_name` in `time_units`.
    pub fn new(time_name: &str, time_units: &str) -> Self {
        Recorder {
            time_header: header(time_name, time_units),
            probes: Vec::new(),
            times: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// Records a scalar attribute of an object.
    pub fn add(&mut self, db: &Database, h: Handle, attribute: &str) -> Result<()> {
        self.add_component(db, h, attribute, 0)
    }

    /// Records one component of an array attribute.
    pub fn add_component(
        &mut self,
        db: &Database,
        h: Handle,
        attribute: &str,
        component: usize,
    ) -> Result<()> {
        let meta = db.attribute(h.class(), attribute)?;
        db.row(h)?;
        if meta.pointer.is_some() {
            return Err(Error::PointerMisuse {
                class: db.class_name(h.class())?.into(),
                attribute: attribute.into(),
                reason: "pointers cannot be recorded",
            });
        }
        if component >= meta.width {
            return Err(Error::WidthMismatch {
                class: db.class_name(h.class())?.into(),
                attribute: attribute.into(),
                expected: meta.width,
                found: component + 1,
            });
        }
        let comp = if meta.width > 1 {
            format!("[{component}]")
        } else {
            String::new()
        };
        let name = format!("{}.{}[{}]{}", db.class_name(h.class())?, attribute, h, comp);
        self.probes.push(Probe {
            handle: h,
            attribute: attribute.into(),
            component,
            header: header(&name, &meta.units),
        });
        // A probe added late has NaN for the ticks before it.
        self.samples.push(vec![f64::NAN; self.times.len()]);
        Ok(())
    }

    /// Samples every probe at time `t`.
    pub fn tick(&mut self, db: &Database, t: f64) {
        self.times.push(t);
        for (p, s) in self.probes.iter().zip(&mut self.samples) {
            let v = db
                .get_array(p.handle, &p.attribute)
                .ok()
                .and_then(|v| v.get(p.component).copied())
                .unwrap_or(f64::NAN);
            s.push(v);
        }
    }

    /// The sample times.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The series of probe `i` (in the order probes were added).
    pub fn series(&self, i: usize) -> Option<&[f64]> {
        self.samples.get(i).map(|s| s.as_slice())
    }

    /// Column headers: time first, then one per probe, each `name (units)`.
    pub fn headers(&self) -> Vec<&str> {
        std::iter::once(self.time_header.as_str())
            .chain(self.probes.iter().map(|p| p.header.as_str()))
            .collect()
    }

    /// Writes the recording as CSV: a header row with units, then one row per tick.
    pub fn write_csv<W: Write>(&self, mut w: W) -> io::Result<()> {
        writeln!(w, "{}", self.headers().join(","))?;
        for (i, t) in self.times.iter().enumerate() {
            write!(w, "{t}")?;
            for s in &self.samples {
                write!(w, ",{}", s[i])?;
            }
            writeln!(w)?;
        }
        Ok(())
    }

    /// The CSV as a string.
    pub fn to_csv_string(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_csv(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn header(name: &str, units: &str) -> String {
    let name = name.replace(',', ";");
    if units.is_empty() {
        name
    } else {
        format!("{name} ({units})")
    }
}

/// How a played-back series is read between its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// Hold the last sample at or before `t`.
    Step,
    /// Linear between the samples around `t`.
    Linear,
}

/// Plays a time series into an attribute of one object: before the first sample the first
/// value holds, after the last the last value holds.
#[derive(Clone, Debug)]
pub struct Playback {
    handle: Handle,
    attribute: String,
    times: Vec<f64>,
    values: Vec<f64>,
    mode: Interpolation,
}

impl Playback {
    /// A playback of `values` at `times` (strictly increasing, same length, at least one).
    pub fn new(
        handle: Handle,
        attribute: &str,
        times: Vec<f64>,
        values: Vec<f64>,
        mode: Interpolation,
    ) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidTimeSeries {
            attribute: attribute.into(),
            reason: reason.into(),
        };
        if times.is_empty() || times.len() != values.len() {
            return Err(bad(
                "times and values must be non-empty and of equal length",
            ));
        }
        if times.iter().any(|t| !t.is_finite()) || times.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("times must be finite and strictly increasing"));
        }
        Ok(Playback {
            handle,
            attribute: attribute.into(),
            times,
            values,
            mode,
        })
    }

    /// The value at time `t`.
    pub fn value_at(&self, t: f64) -> f64 {
        let k = self.times.partition_point(|&x| x <= t);
        if k == 0 {
            return self.values[0];
        }
        if k == self.times.len() || self.mode == Interpolation::Step {
            return self.values[k - 1];
        }
        let (t0, t1) = (self.times[k - 1], self.times[k]);
        let (v0, v1) = (self.values[k - 1], self.values[k]);
        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    }

    /// Writes the value at time `t` into the attribute (with the attribute's checks).
    pub fn apply(&self, db: &mut Database, t: f64) -> Result<()> {
        db.set(self.handle, &self.attribute, self.value_at(t))
    }
}
