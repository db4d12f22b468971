//! Ion pools: per-compartment reversal potentials, concentrations and summed currents.
//!
//! Defaults are NEURON 9's (the values `finitialize` leaves when no mechanism changes them;
//! the `eca` figure is the one NEURON 9.0.2 reports after initialisation in the corpus
//! protocols, `ions_after_init`):
//!
//! | ion | valence | inside (mM) | outside (mM) | reversal (mV) |
//! | --- | --- | --- | --- | --- |
//! | na | 1 | 10 | 140 | 50 |
//! | k | 1 | 54.4 | 2.5 | −77 |
//! | ca | 2 | 5e-5 | 2 | 132.4579341637009 |
//! | any other | VALENCE or 1 | 1 | 1 | 0 |
//!
//! Reversal potentials follow NEURON's `ion_style` defaults: while no mechanism WRITEs a
//! concentration of the ion, `e` is a parameter (the value above or what the caller sets);
//! once some mechanism WRITEs `<ion>i` or `<ion>o` and none WRITEs `e<ion>`, `e` is
//! recomputed from the Nernst equation at initialisation and after every step
//! ([`IonPools::update_reversals`]); a mechanism that WRITEs `e<ion>` owns it.

/// Gas constant (J/(K·mol)), 2019 SI value as in NEURON 9.
pub const GAS_CONSTANT: f64 = 8.31446261815324;
/// Faraday constant (C/mol), 2019 SI value as in NEURON 9.
pub const FARADAY: f64 = 96485.33212331001;

/// Nernst potential (mV) of an ion of valence `z` at `celsius` (°C) for inside/outside
/// concentrations `cin`, `cout` (mM). As NEURON: 0 for `z = 0`, +1e6 mV when `cin ≤ 0`,
/// −1e6 mV when `cout ≤ 0` (NEURON 9.0.2's `eca` of a cell whose `cai` starts at 0 is 1e6).
pub fn nernst(celsius: f64, z: f64, cin: f64, cout: f64) -> f64 {
    if z == 0.0 {
        0.0
    } else if cin <= 0.0 {
        1e6
    } else if cout <= 0.0 {
        -1e6
    } else {
        1000.0 * GAS_CONSTANT * (celsius + 273.15) / (z * FARADAY) * (cout / cin).ln()
    }
}

/// One ion species over every compartment.
#[derive(Clone, Debug)]
pub struct IonPool {
    /// Name (`na`, `k`, `ca`, …).
    pub name: String,
    /// Valence.
    pub valence: f64,
    /// Reversal potential per compartment (mV).
    pub e: Vec<f64>,
    /// Inside concentration per compartment (mM).
    pub conc_in: Vec<f64>,
    /// Outside concentration per compartment (mM).
    pub conc_out: Vec<f64>,
    /// Summed membrane current of this ion per compartment (mA/cm², outward positive), added to
    /// by `compute_currents`; zero it with [`IonPools::reset_currents`] each step.
    pub current: Vec<f64>,
    /// Summed dI/dv of this ion per compartment (S/cm²).
    pub didv: Vec<f64>,
    /// Some mechanism WRITEs a concentration of this ion.
    pub conc_written: bool,
    /// Some mechanism WRITEs the reversal potential.
    pub e_written: bool,
}

/// The default (valence, inside, outside, reversal) of an ion, as NEURON's.
pub fn ion_defaults(name: &str) -> (f64, f64, f64, f64) {
    match name {
        "na" => (1.0, 10.0, 140.0, 50.0),
        "k" => (1.0, 54.4, 2.5, -77.0),
        "ca" => (2.0, 5e-5, 2.0, 132.4579341637009),
        _ => (1.0, 1.0, 1.0, 0.0),
    }
}

/// All ion pools of a model, indexed by name.
#[derive(Clone, Debug)]
pub struct IonPools {
    n: usize,
    pools: Vec<IonPool>,
}

impl IonPools {
    /// Pools for `n_compartments` compartments holding na, k and ca at NEURON's defaults.
    pub fn new(n_compartments: usize) -> Self {
        let mut p = IonPools {
            n: n_compartments,
            pools: Vec::new(),
        };
        for name in ["na", "k", "ca"] {
            p.ensure(name, None);
        }
        p
    }

    /// Number of compartments.
    pub fn n_compartments(&self) -> usize {
        self.n
    }

    /// The pool index of `name`, creating it at its defaults (valence from `valence` when
    /// given) when it does not exist.
    pub fn ensure(&mut self, name: &str, valence: Option<f64>) -> usize {
        if let Some(i) = self.pools.iter().position(|p| p.name == name) {
            return i;
        }
        let (z, cin, cout, e) = ion_defaults(name);
        let n = self.n;
        self.pools.push(IonPool {
            name: name.to_string(),
            valence: valence.unwrap_or(z),
            e: vec![e; n],
            conc_in: vec![cin; n],
            conc_out: vec![cout; n],
            current: vec![0.0; n],
            didv: vec![0.0; n],
            conc_written: false,
            e_written: false,
        });
        self.pools.len() - 1
    }

    /// The pool named `name`.
    pub fn get(&self, name: &str) -> Option<&IonPool> {
        self.pools.iter().find(|p| p.name == name)
    }

    /// The pool named `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut IonPool> {
        self.pools.iter_mut().find(|p| p.name == name)
    }

    /// Pool by index.
    pub fn pool(&self, i: usize) -> Option<&IonPool> {
        self.pools.get(i)
    }

    pub(crate) fn pool_mut(&mut self, i: usize) -> Option<&mut IonPool> {
        self.pools.get_mut(i)
    }

    /// Every pool.
    pub fn pools(&self) -> &[IonPool] {
        &self.pools
    }

    /// Zeroes the summed currents and conductances (call before `compute_currents`).
    pub fn reset_currents(&mut self) {
        for p in &mut self.pools {
            p.current.iter_mut().for_each(|x| *x = 0.0);
            p.didv.iter_mut().for_each(|x| *x = 0.0);
        }
    }

    /// Recomputes `e` by Nernst for pools whose concentrations some mechanism writes and whose
    /// reversal potential none writes (NEURON's `eadvance`).
    pub fn update_reversals(&mut self, celsius: f64) {
        for p in &mut self.pools {
            if p.conc_written && !p.e_written {
                for ((e, ci), co) in p.e.iter_mut().zip(&p.conc_in).zip(&p.conc_out) {
                    *e = nernst(celsius, p.valence, *ci, *co);
                }
            }
        }
    }
}
