//! Physical quantities in model files: a bare number in the documented unit, or a string
//! `"<number> <unit>"` converted to it. A unit of the wrong dimension is an error.

use serde::Deserialize;

/// What a quantity measures, and the unit neuwon uses for it (NEURON's conventions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// µm
    Length,
    /// ms
    Time,
    /// mV
    Voltage,
    /// nA
    Current,
    /// µS
    Conductance,
    /// S/cm²
    SpecificConductance,
    /// Ω·cm
    Resistivity,
    /// µF/cm²
    SpecificCapacitance,
    /// °C
    Temperature,
    /// mM
    Concentration,
    /// Hz
    Frequency,
    /// no unit
    Dimensionless,
}

impl Dimension {
    /// The unit values are stored in.
    pub fn unit(self) -> &'static str {
        match self {
            Dimension::Length => "µm",
            Dimension::Time => "ms",
            Dimension::Voltage => "mV",
            Dimension::Current => "nA",
            Dimension::Conductance => "µS",
            Dimension::SpecificConductance => "S/cm²",
            Dimension::Resistivity => "Ω·cm",
            Dimension::SpecificCapacitance => "µF/cm²",
            Dimension::Temperature => "°C",
            Dimension::Concentration => "mM",
            Dimension::Frequency => "Hz",
            Dimension::Dimensionless => "1",
        }
    }

    /// A word for messages ("a length", "a time", …).
    pub fn noun(self) -> &'static str {
        match self {
            Dimension::Length => "a length",
            Dimension::Time => "a time",
            Dimension::Voltage => "a voltage",
            Dimension::Current => "a current",
            Dimension::Conductance => "a conductance",
            Dimension::SpecificConductance => "a conductance density",
            Dimension::Resistivity => "a resistivity",
            Dimension::SpecificCapacitance => "a capacitance density",
            Dimension::Temperature => "a temperature",
            Dimension::Concentration => "a concentration",
            Dimension::Frequency => "a frequency",
            Dimension::Dimensionless => "a plain number",
        }
    }
}

/// Units accepted in quantity strings: (spelling, dimension, factor to the dimension's unit).
const UNITS: &[(&str, Dimension, f64)] = &[
    ("nm", Dimension::Length, 1e-3),
    ("um", Dimension::Length, 1.0),
    ("µm", Dimension::Length, 1.0),
    ("micron", Dimension::Length, 1.0),
    ("mm", Dimension::Length, 1e3),
    ("cm", Dimension::Length, 1e4),
    ("m", Dimension::Length, 1e6),
    ("us", Dimension::Time, 1e-3),
    ("µs", Dimension::Time, 1e-3),
    ("ms", Dimension::Time, 1.0),
    ("s", Dimension::Time, 1e3),
    ("uV", Dimension::Voltage, 1e-3),
    ("µV", Dimension::Voltage, 1e-3),
    ("mV", Dimension::Voltage, 1.0),
    ("V", Dimension::Voltage, 1e3),
    ("pA", Dimension::Current, 1e-3),
    ("nA", Dimension::Current, 1.0),
    ("uA", Dimension::Current, 1e3),
    ("µA", Dimension::Current, 1e3),
    ("mA", Dimension::Current, 1e6),
    ("pS", Dimension::Conductance, 1e-6),
    ("nS", Dimension::Conductance, 1e-3),
    ("uS", Dimension::Conductance, 1.0),
    ("µS", Dimension::Conductance, 1.0),
    ("mS", Dimension::Conductance, 1e3),
    ("S", Dimension::Conductance, 1e6),
    ("S/cm2", Dimension::SpecificConductance, 1.0),
    ("S/cm²", Dimension::SpecificConductance, 1.0),
    ("mS/cm2", Dimension::SpecificConductance, 1e-3),
    ("mS/cm²", Dimension::SpecificConductance, 1e-3),
    ("pS/um2", Dimension::SpecificConductance, 1e-4),
    ("pS/µm²", Dimension::SpecificConductance, 1e-4),
    ("ohm cm", Dimension::Resistivity, 1.0),
    ("ohm*cm", Dimension::Resistivity, 1.0),
    ("ohm.cm", Dimension::Resistivity, 1.0),
    ("Ω·cm", Dimension::Resistivity, 1.0),
    ("Ω cm", Dimension::Resistivity, 1.0),
    ("uF/cm2", Dimension::SpecificCapacitance, 1.0),
    ("µF/cm²", Dimension::SpecificCapacitance, 1.0),
    ("uF/cm²", Dimension::SpecificCapacitance, 1.0),
    ("degC", Dimension::Temperature, 1.0),
    ("°C", Dimension::Temperature, 1.0),
    ("uM", Dimension::Concentration, 1e-3),
    ("µM", Dimension::Concentration, 1e-3),
    ("mM", Dimension::Concentration, 1.0),
    ("M", Dimension::Concentration, 1e3),
    ("Hz", Dimension::Frequency, 1.0),
    ("kHz", Dimension::Frequency, 1e3),
];

/// A quantity as written in the file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RawQuantity {
    /// An integer, in the documented unit.
    Int(i64),
    /// A float, in the documented unit.
    Float(f64),
    /// `"<number> <unit>"`.
    Text(String),
}

impl RawQuantity {
    /// The value in `dim`'s unit, or a message saying what was expected.
    pub fn resolve(&self, dim: Dimension) -> Result<f64, String> {
        let v = match self {
            RawQuantity::Int(i) => *i as f64,
            RawQuantity::Float(f) => *f,
            RawQuantity::Text(t) => parse_text(t, dim)?,
        };
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!(
                "expected {} in {}, found {v}",
                dim.noun(),
                dim.unit()
            ))
        }
    }

    /// The number and, if given, the unit spelling (for mechanism parameters, whose units
    /// are only known once the mechanism is compiled).
    pub fn number_and_unit(&self) -> Result<(f64, Option<String>), String> {
        match self {
            RawQuantity::Int(i) => Ok((*i as f64, None)),
            RawQuantity::Float(f) => Ok((*f, None)),
            RawQuantity::Text(t) => {
                let (num, unit) = split(t).ok_or_else(|| {
                    format!("expected a number or \"<number> <unit>\", found \"{t}\"")
                })?;
                Ok((num, Some(unit.to_string())))
            }
        }
    }
}

fn split(t: &str) -> Option<(f64, &str)> {
    let t = t.trim();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(t.len());
    // "1e-3 mV": the number may contain 'e'; a unit never starts right after a digit+e.
    let num: f64 = t.get(..end)?.trim().parse().ok()?;
    Some((num, t.get(end..)?.trim()))
}

fn parse_text(t: &str, dim: Dimension) -> Result<f64, String> {
    let (num, unit) = split(t).ok_or_else(|| {
        format!(
            "expected {} in {} (a number, or a string such as \"2.5 {}\"), found \"{t}\"",
            dim.noun(),
            dim.unit(),
            dim.unit()
        )
    })?;
    if unit.is_empty() {
        return Ok(num);
    }
    match UNITS.iter().find(|(s, _, _)| *s == unit) {
        Some((_, d, f)) if *d == dim => Ok(num * f),
        Some((_, d, _)) => Err(format!(
            "expected {} in {}, but \"{unit}\" is {} unit",
            dim.noun(),
            dim.unit(),
            d.noun()
        )),
        None => Err(format!(
            "unknown unit \"{unit}\"; {} can be given in {}",
            dim.noun(),
            UNITS
                .iter()
                .filter(|(_, d, _)| *d == dim)
                .map(|(s, _, _)| *s)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers_and_unit_strings_convert() {
        let q = |s: &str| RawQuantity::Text(s.into());
        assert_eq!(q("0.5 mm").resolve(Dimension::Length).unwrap(), 500.0);
        assert_eq!(q("20um").resolve(Dimension::Length).unwrap(), 20.0);
        assert_eq!(q("1e-3 V").resolve(Dimension::Voltage).unwrap(), 1.0);
        assert_eq!(q("200 pA").resolve(Dimension::Current).unwrap(), 0.2);
        assert_eq!(RawQuantity::Int(3).resolve(Dimension::Time).unwrap(), 3.0);
        let e = q("20 mV").resolve(Dimension::Length).unwrap_err();
        assert_eq!(e, "expected a length in µm, but \"mV\" is a voltage unit");
        assert!(q("20 parsecs")
            .resolve(Dimension::Length)
            .unwrap_err()
            .starts_with("unknown unit"));
        assert!(q("fast").resolve(Dimension::Time).is_err());
        assert!(RawQuantity::Float(f64::NAN)
            .resolve(Dimension::Time)
            .is_err());
    }
}
