//! The cable system as a general graph of capacitive compartments, and the elimination of
//! NEURON's zero-area nodes.
//!
//! NEURON's layout puts a node of zero membrane area at each end of every section (x = 0 and
//! x = 1). Such a node has no capacitance, so its voltage is not a state but an algebraic
//! function of its neighbours: with conductances g_zj to its neighbours and a current I_z
//! injected into it (nA, positive inward),
//!
//! v_z = (Σ_j g_zj·v_j + I_z) / Σ_j g_zj.
//!
//! Eliminating v_z (a star–mesh transform, i.e. one step of Gaussian elimination on the
//! conductance Laplacian) joins every pair of its neighbours j, k by a conductance
//! g_zj·g_zk/Σg and hands its injected current to the neighbours in proportion g_zj/Σg. The
//! result is exact for the algebraic constraint, but no longer a tree where a zero-area node had
//! three or more neighbours (a branch point): hence [`CableGraph`], which the exact propagator
//! accepts. [`Elimination`] keeps what is needed to recover the eliminated voltages and to
//! route currents injected at eliminated nodes.

use std::collections::BTreeMap;

use crate::error::{check_finite, check_len, Error, Result};
use crate::tree::CableTree;

/// Compartments with capacitances (all > 0) joined by axial conductances, in any topology.
#[derive(Debug, Clone, PartialEq)]
pub struct CableGraph {
    cap: Vec<f64>,
    /// (i, j, g µS) with i < j, sorted, no duplicates.
    edges: Vec<(u32, u32, f64)>,
}

impl CableGraph {
    /// Builds from capacitances (nF, finite and > 0) and edges (i, j, conductance µS, finite and
    /// > 0). Parallel edges are merged by adding their conductances; self-loops are refused.
    pub fn new(capacitance_nf: Vec<f64>, edges: &[(usize, usize, f64)]) -> Result<Self> {
        check_finite("capacitance_nf", &capacitance_nf)?;
        if let Some(&c) = capacitance_nf.iter().find(|&&c| c <= 0.0) {
            return Err(Error::InvalidValue {
                what: "capacitance_nf (cable graph)",
                value: c,
                reason: "must be > 0; eliminate zero-area nodes first",
            });
        }
        let n = capacitance_nf.len();
        if n > u32::MAX as usize - 1 {
            return Err(Error::InvalidValue {
                what: "number of compartments",
                value: n as f64,
                reason: "must fit in u32",
            });
        }
        let mut map: BTreeMap<(u32, u32), f64> = BTreeMap::new();
        for &(i, j, g) in edges {
            if i >= n || j >= n || i == j {
                return Err(Error::InvalidValue {
                    what: "edge (cable graph)",
                    value: i.max(j) as f64,
                    reason: "endpoints must be two different compartments of the graph",
                });
            }
            if !(g.is_finite() && g > 0.0) {
                return Err(Error::InvalidValue {
                    what: "edge conductance (cable graph)",
                    value: g,
                    reason: "must be finite and > 0",
                });
            }
            let key = (i.min(j) as u32, i.max(j) as u32);
            *map.entry(key).or_insert(0.0) += g;
        }
        Ok(CableGraph {
            cap: capacitance_nf,
            edges: map.into_iter().map(|((i, j), g)| (i, j, g)).collect(),
        })
    }

    /// The graph of a tree whose compartments all have capacitance > 0.
    pub fn from_tree(tree: &CableTree) -> Result<Self> {
        let edges: Vec<(usize, usize, f64)> = (0..tree.len())
            .filter_map(|i| tree.parent(i).map(|p| (p, i, tree.axial_us()[i])))
            .collect();
        CableGraph::new(tree.capacitance_nf().to_vec(), &edges)
    }

    /// Number of compartments.
    pub fn len(&self) -> usize {
        self.cap.len()
    }

    /// True when there are no compartments.
    pub fn is_empty(&self) -> bool {
        self.cap.is_empty()
    }

    /// Membrane capacitance per compartment, nF.
    pub fn capacitance_nf(&self) -> &[f64] {
        &self.cap
    }

    /// The edges (i, j, conductance µS), i < j, sorted.
    pub fn edges(&self) -> &[(u32, u32, f64)] {
        &self.edges
    }
}

/// One eliminated node: its voltage is Σ w·v(neighbour) + I/Σg over the neighbours it had
/// when it was eliminated (which may be nodes eliminated later).
#[derive(Debug, Clone, PartialEq)]
struct Eliminated {
    node: usize,
    /// (original neighbour index, g_zj / Σg).
    weights: Vec<(usize, f64)>,
    /// Σ g_zj, µS.
    total_us: f64,
}

/// The graph left by eliminating every zero-area node of a [`CableTree`], and the maps between
/// the original nodes and the kept ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Elimination {
    graph: CableGraph,
    kept: Vec<usize>,
    index: Vec<Option<usize>>,
    /// In elimination order.
    eliminated: Vec<Eliminated>,
}

impl Elimination {
    /// Eliminates the zero-capacitance nodes of `tree` (in index order, leaves of the
    /// elimination first). Errors when a cell has no capacitive node left to carry its
    /// voltage, or a zero-area node is isolated.
    pub fn new(tree: &CableTree) -> Result<Self> {
        let n = tree.len();
        let cap = tree.capacitance_nf();
        let mut adj: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); n];
        for i in 0..n {
            if let Some(p) = tree.parent(i) {
                let g = tree.axial_us()[i];
                *adj[i].entry(p).or_insert(0.0) += g;
                *adj[p].entry(i).or_insert(0.0) += g;
            }
        }
        let mut eliminated = Vec::new();
        for z in (0..n).filter(|&z| cap[z] == 0.0) {
            let nb = std::mem::take(&mut adj[z]);
            let total: f64 = nb.values().sum();
            if nb.is_empty() || total <= 0.0 {
                return Err(Error::InvalidValue {
                    what: "zero-area node",
                    value: z as f64,
                    reason: "has no axial connection, so its voltage is undefined",
                });
            }
            let list: Vec<(usize, f64)> = nb.iter().map(|(&j, &g)| (j, g)).collect();
            for &(j, _) in &list {
                adj[j].remove(&z);
            }
            for (a, &(j, gj)) in list.iter().enumerate() {
                for &(k, gk) in &list[a + 1..] {
                    let g = gj * gk / total;
                    *adj[j].entry(k).or_insert(0.0) += g;
                    *adj[k].entry(j).or_insert(0.0) += g;
                }
            }
            eliminated.push(Eliminated {
                node: z,
                weights: list.iter().map(|&(j, g)| (j, g / total)).collect(),
                total_us: total,
            });
        }
        let kept: Vec<usize> = (0..n).filter(|&i| cap[i] > 0.0).collect();
        let mut index = vec![None; n];
        for (r, &i) in kept.iter().enumerate() {
            index[i] = Some(r);
        }
        let mut edges = Vec::new();
        for &i in &kept {
            for (&j, &g) in &adj[i] {
                if i < j {
                    // Both ends are kept: every eliminated node's edges were removed.
                    let (Some(a), Some(b)) = (index[i], index[j]) else {
                        continue;
                    };
                    edges.push((a, b, g));
                }
            }
        }
        // A cell made only of zero-area nodes has no state.
        for w in tree.cells().windows(2) {
            let (start, end) = (w[0], w[1]);
            if (start..end).all(|i| cap[i] == 0.0) {
                return Err(Error::InvalidValue {
                    what: "cell without membrane capacitance",
                    value: start as f64,
                    reason: "every node of the cell has zero area",
                });
            }
        }
        let graph = CableGraph::new(kept.iter().map(|&i| cap[i]).collect(), &edges)?;
        Ok(Elimination {
            graph,
            kept,
            index,
            eliminated,
        })
    }

    /// The reduced graph over the kept (capacitive) nodes.
    pub fn graph(&self) -> &CableGraph {
        &self.graph
    }

    /// Original index of each kept node, in reduced order.
    pub fn kept(&self) -> &[usize] {
        &self.kept
    }

    /// Reduced index of an original node, `None` for an eliminated one.
    pub fn reduced_index(&self, node: usize) -> Option<usize> {
        self.index.get(node).copied().flatten()
    }

    /// Number of eliminated nodes.
    pub fn n_eliminated(&self) -> usize {
        self.eliminated.len()
    }

    /// Routes currents injected at eliminated nodes to the kept nodes: in elimination order,
    /// each eliminated node's current (nA, positive inward; its own plus what earlier
    /// eliminations routed to it) is added to its neighbours in proportion g_zj/Σg. Afterwards
    /// a kept node holds the current of the reduced system, and an eliminated node the
    /// current it had when eliminated (what [`Elimination::recover_voltages`] needs).
    pub fn route_currents(&self, injected: &mut [f64]) -> Result<()> {
        check_len("injected", self.index.len(), injected.len())?;
        for e in &self.eliminated {
            let i = injected[e.node];
            if i != 0.0 {
                for &(j, w) in &e.weights {
                    injected[j] += w * i;
                }
            }
        }
        Ok(())
    }

    /// Sets the voltage of every eliminated node from its neighbours' (reverse elimination
    /// order) and `routed_na`, the currents as [`Elimination::route_currents`] left them (nA,
    /// per original node).
    pub fn recover_voltages(&self, v: &mut [f64], routed_na: &[f64]) -> Result<()> {
        check_len("v", self.index.len(), v.len())?;
        check_len("routed_na", self.index.len(), routed_na.len())?;
        for e in self.eliminated.iter().rev() {
            let mut x = routed_na[e.node] / e.total_us;
            for &(j, w) in &e.weights {
                x += w * v[j];
            }
            v[e.node] = x;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::needless_range_loop)]
    use super::*;

    /// Node voltages of a resistive/capacitive network at steady state under injected
    /// currents and a leak to 0 mV at every capacitive node, by dense Gaussian elimination.
    fn steady(tree: &CableTree, leak: &[f64], inj: &[f64]) -> Vec<f64> {
        let n = tree.len();
        let mut a = vec![vec![0.0; n]; n];
        let b = inj.to_vec();
        for i in 0..n {
            a[i][i] += leak[i];
            if let Some(p) = tree.parent(i) {
                let g = tree.axial_us()[i];
                a[i][i] += g;
                a[p][p] += g;
                a[i][p] -= g;
                a[p][i] -= g;
            }
        }
        solve(a, b)
    }

    /// Solves a·x = b by Gaussian elimination without pivoting (the matrices here are
    /// diagonally dominant).
    fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
        let n = b.len();
        for c in 0..n {
            let piv = a[c][c];
            for r in c + 1..n {
                let f = a[r][c] / piv;
                if f != 0.0 {
                    for k in c..n {
                        a[r][k] -= f * a[c][k];
                    }
                    b[r] -= f * b[c];
                }
            }
        }
        let mut x = vec![0.0; n];
        for r in (0..n).rev() {
            let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
            x[r] = (b[r] - s) / a[r][r];
        }
        x
    }

    /// A Y: zero-area root, centre, zero-area branch point with two children each ending in
    /// a zero-area tip.
    fn y_tree() -> CableTree {
        let parent = [None, Some(0), Some(1), Some(2), Some(3), Some(2), Some(5)];
        let cap = [0.0, 1.0, 0.0, 0.5, 0.0, 0.7, 0.0];
        let ax = [0.0, 2.0, 3.0, 1.5, 4.0, 2.5, 1.0];
        CableTree::new(&parent, &cap, &ax, &[0.0; 7]).unwrap()
    }

    fn check_steady_state(tree: &CableTree, leak: &[f64], inj: &[f64]) -> Elimination {
        let full = steady(tree, leak, inj);
        let el = Elimination::new(tree).unwrap();
        let mut routed = inj.to_vec();
        el.route_currents(&mut routed).unwrap();
        // Solve the reduced system (Laplacian of the graph + leak) with the routed currents.
        let g = el.graph();
        let m = g.len();
        let mut a = vec![vec![0.0; m]; m];
        let b: Vec<f64> = el.kept().iter().map(|&i| routed[i]).collect();
        for (r, &i) in el.kept().iter().enumerate() {
            a[r][r] += leak[i];
        }
        for &(i, j, c) in g.edges() {
            let (i, j) = (i as usize, j as usize);
            a[i][i] += c;
            a[j][j] += c;
            a[i][j] -= c;
            a[j][i] -= c;
        }
        let x = solve(a, b);
        let mut v = vec![f64::NAN; tree.len()];
        for (r, &i) in el.kept().iter().enumerate() {
            v[i] = x[r];
        }
        el.recover_voltages(&mut v, &routed).unwrap();
        for k in 0..tree.len() {
            assert!(
                (v[k] - full[k]).abs() < 1e-12 * (1.0 + full[k].abs()),
                "node {k}: {} vs {}",
                v[k],
                full[k]
            );
        }
        el
    }

    #[test]
    fn elimination_preserves_the_steady_state() {
        let tree = y_tree();
        let leak = [0.0, 0.3, 0.0, 0.2, 0.0, 0.4, 0.0];
        let inj = [0.7, 0.1, -0.4, 0.0, 0.25, 0.0, 0.9];
        let el = check_steady_state(&tree, &leak, &inj);
        assert_eq!(el.kept(), &[1, 3, 5]);
        assert_eq!(el.n_eliminated(), 4);
        // The branch point joined its three neighbours pairwise (a triangle).
        assert_eq!(el.graph().edges().len(), 3);
    }

    #[test]
    fn adjacent_zero_area_nodes_are_eliminated_in_turn() {
        // cap > 0, two zero-area nodes in series, a branch of two more, cap > 0 ends.
        let parent = [None, Some(0), Some(1), Some(2), Some(2), Some(4)];
        let cap = [1.0, 0.0, 0.0, 0.5, 0.0, 2.0];
        let ax = [0.0, 2.0, 3.0, 1.5, 4.0, 2.5];
        let tree = CableTree::new(&parent, &cap, &ax, &[0.0; 6]).unwrap();
        let leak = [0.1, 0.0, 0.0, 0.2, 0.0, 0.4];
        let inj = [0.7, 0.1, -0.4, 0.0, 0.25, 0.3];
        let el = check_steady_state(&tree, &leak, &inj);
        assert_eq!(el.kept(), &[0, 3, 5]);
    }

    #[test]
    fn bad_graphs_are_refused() {
        assert!(CableGraph::new(vec![1.0, 0.0], &[]).is_err());
        assert!(CableGraph::new(vec![1.0, 1.0], &[(0, 0, 1.0)]).is_err());
        assert!(CableGraph::new(vec![1.0, 1.0], &[(0, 2, 1.0)]).is_err());
        assert!(CableGraph::new(vec![1.0, 1.0], &[(0, 1, f64::NAN)]).is_err());
        let g = CableGraph::new(vec![1.0, 1.0], &[(1, 0, 1.0), (0, 1, 2.0)]).unwrap();
        assert_eq!(g.edges(), &[(0, 1, 3.0)]);
        let lone = CableTree::new(&[None], &[0.0], &[0.0], &[0.0]).unwrap();
        assert!(Elimination::new(&lone).is_err());
    }
}
