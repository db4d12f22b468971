//! The model file as written: serde structures with source spans.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::quantity::RawQuantity;

pub(crate) type S<T> = Spanned<T>;
pub(crate) type Params = BTreeMap<String, S<RawQuantity>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModel {
    pub title: Option<String>,
    #[serde(default)]
    pub mod_files: Vec<S<String>>,
    pub simulation: S<RawSimulation>,
    #[serde(default)]
    pub cell: Vec<S<RawCell>>,
    #[serde(default)]
    pub stimulus: Vec<S<RawStimulus>>,
    #[serde(default)]
    pub event: Vec<S<RawEvents>>,
    #[serde(default)]
    pub connection: Vec<S<RawConnection>>,
    #[serde(default)]
    pub probe: Vec<S<RawProbe>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSimulation {
    pub tstop: S<RawQuantity>,
    pub dt: Option<S<RawQuantity>>,
    pub celsius: Option<S<RawQuantity>>,
    pub v_init: Option<S<RawQuantity>>,
    pub method: Option<S<String>>,
    pub tables: Option<bool>,
    pub threads: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCell {
    pub name: S<String>,
    pub count: Option<S<i64>>,
    pub morphology: Option<S<String>>,
    #[serde(default)]
    pub section: Vec<S<RawSection>>,
    pub discretisation: Option<S<RawDiscretisation>>,
    #[serde(rename = "Ra")]
    pub ra: Option<S<RawQuantity>>,
    pub cm: Option<S<RawQuantity>>,
    #[serde(default)]
    pub mechanism: Vec<S<RawMechanism>>,
    #[serde(default)]
    pub synapse: Vec<S<RawSynapse>>,
    pub spike_source: Option<S<String>>,
    pub spike_threshold: Option<S<RawQuantity>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSection {
    pub name: S<String>,
    #[serde(rename = "type")]
    pub kind: Option<S<String>>,
    pub parent: Option<S<String>>,
    pub length: S<RawQuantity>,
    pub diam: S<RawQuantity>,
    pub diam_end: Option<S<RawQuantity>>,
    pub nseg: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDiscretisation {
    pub nseg: Option<S<i64>>,
    pub d_lambda: Option<S<f64>>,
    pub frequency: Option<S<RawQuantity>>,
    pub max_length: Option<S<RawQuantity>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMechanism {
    pub name: S<String>,
    #[serde(rename = "where")]
    pub regions: Option<Vec<S<String>>>,
    #[serde(default)]
    pub parameters: Params,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSynapse {
    pub name: S<String>,
    pub mechanism: S<String>,
    pub at: S<String>,
    #[serde(default)]
    pub parameters: Params,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStimulus {
    pub mechanism: S<String>,
    pub at: S<String>,
    #[serde(default)]
    pub parameters: Params,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvents {
    pub target: S<String>,
    pub times: S<Vec<RawQuantity>>,
    pub weight: S<RawQuantity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConnection {
    pub source: S<String>,
    pub target: S<String>,
    pub weight: S<RawQuantity>,
    pub delay: S<RawQuantity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProbe {
    pub name: Option<S<String>>,
    pub at: S<String>,
    #[serde(default = "default_variable")]
    pub variable: S<String>,
}

fn default_variable() -> S<String> {
    Spanned::new(0..0, "v".to_string())
}
