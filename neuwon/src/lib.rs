//! # neuwon — conductance-based neuron simulation
//!
//! The facade: it turns a user's description into a lowered model, picks a backend and runs
//! it, and ships the `neuwon` command line (`src/main.rs`, subcommands in `src/cli/`).
//!
//! Built today:
//! - `neuwon nmodl check FILE.mod… [--emit ast|nmodl|ir]`: parse, analyse and lower NMODL
//!   files with the `nmodl` crate (exit 0 when every file lowers, 1 with diagnostics).
//! - [`model`]: the TOML model file (format in `neuwon/MODEL.md`), read and validated with
//!   located errors.
//! - [`run`]: builds a model file into `backend-cpu`'s engine (geometry through `morpho-grow`)
//!   and writes the outputs; `neuwon run MODEL.toml [--out DIR]` writes `traces.csv` (`t_ms`
//!   first, units in every header), `traces.png` ([`plot`]) and `spikes.csv`, and prints a
//!   one-line summary.
//!
//! - [`builder`]: the same models from Rust (validated by the same code as files).
//! - [`reduce`]: `neuwon reduce MODEL.toml --out REDUCED.toml`, Neuron_Reduce of every cell
//!   template (crate `reduce`) into a model file that `neuwon run` simulates.
//! - `neuwon grow SPEC.toml --out CELL.swc [--seed N]`: grow neurons from a growth spec
//!   (`morpho-grow`, format in `morpho-grow/GROW.md`) and write them as SWC.
//! - [`demo`]: `neuwon demo` grows a neuron with an axon confined to a spiral, simulates an
//!   action potential with Hodgkin–Huxley channels and writes a voltage plot (PNG) and an
//!   animation of the membrane potential on the morphology (GIF).
//!
//! ```
//! use neuwon::model::Model;
//! let text = r#"
//! [simulation]
//! tstop = 50
//!
//! [[cell]]
//! name = "soma_only"
//! [[cell.section]]
//! name = "soma"
//! type = "soma"
//! length = "20 um"
//! diam = 20
//! [[cell.mechanism]]
//! name = "hh"
//!
//! [[stimulus]]
//! mechanism = "IClamp"
//! at = "soma(0.5)"
//! parameters = { del = 5, dur = 40, amp = "200 pA" }
//! "#;
//! let model = Model::parse(text, "soma.toml".as_ref()).map_err(|e| e.to_string())?;
//! assert_eq!(model.cells[0].sections[0].length_um, 20.0);
//! assert_eq!(model.simulation.dt_ms, 0.025);
//! # Ok::<(), String>(())
//! ```

pub mod builder;
pub mod demo;
pub mod model;
pub mod plot;
pub mod reduce;
pub mod run;
