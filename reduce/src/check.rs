//! Passive comparison of a full and a reduced cell (SPEC §10 "passive check"): with only the
//! leak left, the soma input impedance of both intact cells and, per synapse, the transfer
//! impedance between soma(0.5) and the synapse (full: original site; reduced: mapped site).

use num_complex::Complex64;

use crate::error::{ReduceError, Result};
use crate::impedance::Network;
use crate::reduction::Reduction;
use crate::tree::{CableTree, Synapse};

/// Result of [`passive_check`]; impedances in Ω.
#[derive(Debug, Clone, PartialEq)]
pub struct PassiveCheck {
    /// Input impedance at soma(0.5) of the full cell.
    pub soma_input_full_ohm: Complex64,
    /// Input impedance at soma(0.5) of the reduced cell.
    pub soma_input_reduced_ohm: Complex64,
    /// Per synapse: transfer impedance soma(0.5) ↔ original site in the full cell.
    pub transfer_full_ohm: Vec<Complex64>,
    /// Per synapse: transfer impedance soma(0.5) ↔ mapped site in the reduced cell.
    pub transfer_reduced_ohm: Vec<Complex64>,
}

impl PassiveCheck {
    /// Per synapse `|Z_reduced| / |Z_full|`.
    pub fn transfer_ratios(&self) -> Vec<f64> {
        self.transfer_full_ohm
            .iter()
            .zip(&self.transfer_reduced_ohm)
            .map(|(f, r)| r.norm() / f.norm())
            .collect()
    }
}

fn soma_field(tree: &CableTree, freq_hz: f64) -> Result<(Network, Vec<Complex64>, Complex64)> {
    let soma = tree.validate()?;
    let children = tree.children();
    let net = Network::build(tree, &children, soma, &|_| true);
    let node = net
        .node_at(soma, 0.5)
        .ok_or_else(|| ReduceError::Unsupported("soma missing from its own network".into()))?;
    let v = net.solve(freq_hz, node);
    let zin = v[node];
    Ok((net, v, zin))
}

/// Compares the full cell `full` (with `synapses`) and its `reduction` at `freq_hz`.
pub fn passive_check(
    full: &CableTree,
    synapses: &[Synapse],
    reduction: &Reduction,
    freq_hz: f64,
) -> Result<PassiveCheck> {
    if synapses.len() != reduction.synapse_map.len() {
        return Err(ReduceError::Unsupported(format!(
            "{} synapses given, the reduction mapped {}",
            synapses.len(),
            reduction.synapse_map.len()
        )));
    }
    let (fnet, fv, fzin) = soma_field(full, freq_hz)?;
    let (rnet, rv, rzin) = soma_field(&reduction.tree, freq_hz)?;
    let mut tf = Vec::with_capacity(synapses.len());
    let mut tr = Vec::with_capacity(synapses.len());
    for (k, (syn, m)) in synapses.iter().zip(&reduction.synapse_map).enumerate() {
        let bad = |what: &str| ReduceError::InvalidSynapse {
            synapse: k,
            message: format!("{what} site is not in the cell"),
        };
        let nf = fnet
            .node_at(syn.section, syn.x)
            .ok_or_else(|| bad("original"))?;
        let target = reduction
            .synapses
            .get(m.target)
            .ok_or_else(|| bad("reduced"))?;
        let nr = rnet
            .node_at(target.section, target.x)
            .ok_or_else(|| bad("reduced"))?;
        tf.push(fv[nf]);
        tr.push(rv[nr]);
    }
    Ok(PassiveCheck {
        soma_input_full_ohm: fzin,
        soma_input_reduced_ohm: rzin,
        transfer_full_ohm: tf,
        transfer_reduced_ohm: tr,
    })
}
