//! The units database: the unit names and physical constants NEURON's `nrnunits.lib` defines
//! that appear in real `.mod` files, and the evaluation of unit expressions such as `mA/cm2`,
//! `k-mole` or `10000 coulomb`.
//!
//! As in NEURON, `mole` is a number (Avogadro's) rather than a dimension, so that
//! `(k-mole) (joule/degC)` is the gas constant and `(faraday) (coulomb)` is Faraday's constant.
//! Values are the 2019 SI (CODATA 2018) ones NEURON 9 uses by default.

/// Dimensions: exponents of metre, kilogram, second, ampere, kelvin.
pub type Dims = [i8; 5];

/// A unit: a factor to SI and its dimensions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitValue {
    /// Multiply a value in this unit by `factor` to get SI.
    pub factor: f64,
    /// Dimensions.
    pub dims: Dims,
}

/// Avogadro's number (mol⁻¹ as a pure number).
pub const AVOGADRO: f64 = 6.022_140_76e23;
/// Elementary charge (C).
pub const ELECTRON_CHARGE: f64 = 1.602_176_634e-19;
/// Boltzmann's constant (J/K).
pub const BOLTZMANN: f64 = 1.380_649e-23;
/// Faraday's constant (C/mol) = e·N_A.
pub const FARADAY: f64 = ELECTRON_CHARGE * AVOGADRO;
/// The gas constant (J/(K·mol)) = k·N_A.
pub const GAS_CONSTANT: f64 = BOLTZMANN * AVOGADRO;

const NONE: Dims = [0, 0, 0, 0, 0];

fn base(name: &str) -> Option<UnitValue> {
    let u = |factor: f64, dims: Dims| Some(UnitValue { factor, dims });
    match name {
        "1" | "" => u(1.0, NONE),
        "m" | "meter" | "metre" => u(1.0, [1, 0, 0, 0, 0]),
        "micron" => u(1e-6, [1, 0, 0, 0, 0]),
        "angstrom" => u(1e-10, [1, 0, 0, 0, 0]),
        "g" | "gram" | "gm" => u(1e-3, [0, 1, 0, 0, 0]),
        "s" | "sec" | "second" => u(1.0, [0, 0, 1, 0, 0]),
        "min" | "minute" => u(60.0, [0, 0, 1, 0, 0]),
        "h" | "hr" | "hour" => u(3600.0, [0, 0, 1, 0, 0]),
        "A" | "amp" | "ampere" => u(1.0, [0, 0, 0, 1, 0]),
        "K" | "degK" | "kelvin" | "degC" | "degree" | "celsius" => u(1.0, [0, 0, 0, 0, 1]),
        "mol" | "mole" | "avogadro" => u(AVOGADRO, NONE),
        "V" | "volt" => u(1.0, [2, 1, -3, -1, 0]),
        "ohm" => u(1.0, [2, 1, -3, -2, 0]),
        // NEURON's units database spells it both ways; SEClamp declares `rs (megohm)`.
        "megohm" => u(1e6, [2, 1, -3, -2, 0]),
        "S" | "siemens" | "mho" => u(1.0, [-2, -1, 3, 2, 0]),
        "C" | "coul" | "coulomb" => u(1.0, [0, 0, 1, 1, 0]),
        "F" | "farad" => u(1.0, [-2, -1, 4, 2, 0]),
        "J" | "joule" => u(1.0, [2, 1, -2, 0, 0]),
        "erg" => u(1e-7, [2, 1, -2, 0, 0]),
        "cal" | "calorie" => u(4.184, [2, 1, -2, 0, 0]),
        "W" | "watt" => u(1.0, [2, 1, -3, 0, 0]),
        "N" | "newton" => u(1.0, [1, 1, -2, 0, 0]),
        "Hz" | "hertz" => u(1.0, [0, 0, -1, 0, 0]),
        "l" | "L" | "liter" | "litre" => u(1e-3, [3, 0, 0, 0, 0]),
        "M" | "molar" => u(AVOGADRO / 1e-3, [-3, 0, 0, 0, 0]),
        "faraday" => u(FARADAY, [0, 0, 1, 1, 0]),
        "k" | "boltzmann" => u(BOLTZMANN, [2, 1, -2, 0, -1]),
        "e" | "electron" => u(ELECTRON_CHARGE, [0, 0, 1, 1, 0]),
        "R" => u(GAS_CONSTANT, [2, 1, -2, 0, -1]),
        "pi" | "PI" => u(std::f64::consts::PI, NONE),
        "percent" => u(0.01, NONE),
        _ => None,
    }
}

const PREFIXES: &[(&str, f64)] = &[
    ("yotta", 1e24),
    ("zetta", 1e21),
    ("exa", 1e18),
    ("peta", 1e15),
    ("tera", 1e12),
    ("giga", 1e9),
    ("mega", 1e6),
    ("kilo", 1e3),
    ("hecto", 1e2),
    ("deka", 1e1),
    ("deci", 1e-1),
    ("centi", 1e-2),
    ("milli", 1e-3),
    ("micro", 1e-6),
    ("nano", 1e-9),
    ("pico", 1e-12),
    ("femto", 1e-15),
    ("atto", 1e-18),
    ("da", 1e1),
    ("Y", 1e24),
    ("Z", 1e21),
    ("E", 1e18),
    ("P", 1e15),
    ("T", 1e12),
    ("G", 1e9),
    ("M", 1e6),
    ("k", 1e3),
    ("h", 1e2),
    ("d", 1e-1),
    ("c", 1e-2),
    ("m", 1e-3),
    ("u", 1e-6),
    ("n", 1e-9),
    ("p", 1e-12),
    ("f", 1e-15),
    ("a", 1e-18),
];

fn powi(u: UnitValue, p: i32) -> UnitValue {
    let mut dims = u.dims;
    for d in dims.iter_mut() {
        *d = d.saturating_mul(p.clamp(-20, 20) as i8);
    }
    UnitValue {
        factor: u.factor.powi(p),
        dims,
    }
}

fn mul(a: UnitValue, b: UnitValue) -> UnitValue {
    let mut dims = a.dims;
    for (d, e) in dims.iter_mut().zip(b.dims) {
        *d = d.saturating_add(e);
    }
    UnitValue {
        factor: a.factor * b.factor,
        dims,
    }
}

/// A units database: NEURON's built-in names plus aliases from a file's UNITS block.
#[derive(Clone, Debug, Default)]
pub struct UnitsDb {
    aliases: Vec<(String, UnitValue)>,
}

impl UnitsDb {
    /// The built-in database.
    pub fn new() -> Self {
        UnitsDb::default()
    }

    /// Defines `name` (e.g. from `(mM) = (milli/liter)`).
    pub fn define(&mut self, name: &str, value: UnitValue) {
        self.aliases.push((name.to_string(), value));
    }

    fn word(&self, w: &str) -> Option<UnitValue> {
        if let Some((_, v)) = self.aliases.iter().rev().find(|(n, _)| n == w) {
            return Some(*v);
        }
        if let Some(v) = base(w) {
            return Some(v);
        }
        // Trailing digits are a power: cm2, um3, s2.
        let stem = w.trim_end_matches(|c: char| c.is_ascii_digit());
        if stem.len() < w.len() && !stem.is_empty() {
            let p: i32 = w
                .get(stem.len()..)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1);
            return self.word(stem).map(|u| powi(u, p));
        }
        for (pre, f) in PREFIXES {
            if let Some(rest) = w.strip_prefix(pre) {
                if rest.is_empty() {
                    return Some(UnitValue {
                        factor: *f,
                        dims: NONE,
                    });
                }
                if let Some(v) = self
                    .aliases
                    .iter()
                    .rev()
                    .find(|(n, _)| n == rest)
                    .map(|(_, v)| *v)
                    .or_else(|| base(rest))
                {
                    return Some(UnitValue {
                        factor: v.factor * f,
                        dims: v.dims,
                    });
                }
            }
        }
        if let Some(sing) = w.strip_suffix('s') {
            if !sing.is_empty() {
                return self.word(sing);
            }
        }
        None
    }

    /// Evaluates a unit expression such as `mA/cm2`, `/ms`, `k-mole`, `10000 coulomb`.
    /// Juxtaposition and `-` multiply; every factor after a `/` divides. Returns the first
    /// word that is not a unit on failure.
    pub fn eval(&self, text: &str) -> Result<UnitValue, String> {
        let mut acc = UnitValue {
            factor: 1.0,
            dims: NONE,
        };
        let mut divide = false;
        let mut cur = String::new();
        let flush = |cur: &mut String, divide: bool, acc: &mut UnitValue| -> Result<(), String> {
            if cur.is_empty() {
                return Ok(());
            }
            let w = std::mem::take(cur);
            let v = if let Ok(x) = w.parse::<f64>() {
                UnitValue {
                    factor: x,
                    dims: NONE,
                }
            } else {
                self.word(&w).ok_or(w)?
            };
            *acc = mul(*acc, if divide { powi(v, -1) } else { v });
            Ok(())
        };
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            match c {
                ' ' | '-' | '*' | '.'
                    if !(c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    flush(&mut cur, divide, &mut acc)?
                }
                '/' => {
                    flush(&mut cur, divide, &mut acc)?;
                    divide = true;
                }
                _ => cur.push(c),
            }
            i += 1;
        }
        flush(&mut cur, divide, &mut acc)?;
        Ok(acc)
    }

    /// The value of one `from` expressed in `to` units: `(faraday) (coulomb)` is 96485.33…
    /// Errors name the unknown unit or the dimension mismatch.
    pub fn factor(&self, from: &str, to: &str) -> Result<f64, String> {
        let a = self
            .eval(from)
            .map_err(|w| format!("`{w}` is not a known unit"))?;
        let b = self
            .eval(to)
            .map_err(|w| format!("`{w}` is not a known unit"))?;
        if a.dims != b.dims {
            return Err(format!("`{from}` and `{to}` have different dimensions"));
        }
        Ok(a.factor / b.factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs()
    }

    #[test]
    fn neuron_constants() {
        let db = UnitsDb::new();
        assert!(close(
            db.factor("faraday", "coulomb").unwrap_or(0.0),
            96485.33212331
        ));
        assert!(close(
            db.factor("faraday", "kilocoulombs").unwrap_or(0.0),
            96.48533212331
        ));
        assert!(close(
            db.factor("k-mole", "joule/degC").unwrap_or(0.0),
            8.31446261815324
        ));
        assert!(close(db.factor("mV", "V").unwrap_or(0.0), 1e-3));
        assert!(close(db.factor("1/ms", "/s").unwrap_or(0.0), 1e3));
        assert!(close(db.factor("mA/cm2", "A/m2").unwrap_or(0.0), 10.0));
        assert!(close(db.factor("um2", "cm2").unwrap_or(0.0), 1e-8));
        assert!(close(db.factor("mM", "mol/m3").unwrap_or(0.0), 1.0));
        assert!(close(db.factor("degC", "K").unwrap_or(0.0), 1.0));
        assert!(db.factor("mV", "mA").is_err());
        assert!(db.factor("furlong", "m").is_err());
    }
}
