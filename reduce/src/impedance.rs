//! Complex impedances of a passive compartmental tree (NEURON's discretisation).
//!
//! Nodes: one per segment centre (membrane area of the segment) plus a membrane-free node at
//! every section's 1-end and one at the root's 0-end. A node of area `A` has admittance
//! `A · (g_pas + j ω cm · 1e-6)` (S; `A` in cm², `g_pas` in S/cm², `cm` in µF/cm²); neighbouring
//! nodes are joined by the sum of their half-segment axial resistances. The linear system is
//! solved by Hines elimination in complex arithmetic (O(n)).

use num_complex::Complex64;

use crate::discretise::section_geometry;
use crate::tree::{segment_index, CableTree};

/// One node of a [`Network`] (for callers that simulate or inspect the compartmental tree).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkNode {
    /// Parent node (`None` for the root); parents have smaller indices than their children.
    pub parent: Option<usize>,
    /// Axial conductance to the parent, µS (0 for the root).
    pub g_axial_us: f64,
    /// Membrane area, µm² (0 for section-end nodes).
    pub area_um2: f64,
    /// Specific capacitance, µF/cm².
    pub cm_uf_cm2: f64,
    /// Leak conductance, S/cm².
    pub g_pas_s_cm2: f64,
}

/// The nodes of one section inside a [`Network`].
#[derive(Debug, Clone)]
struct SectionNodes {
    zero: usize,
    first_centre: usize,
    nseg: usize,
    one: usize,
}

/// A passive compartmental tree built from part of a [`CableTree`].
#[derive(Debug, Clone)]
pub struct Network {
    parent: Vec<usize>,
    g_axial_s: Vec<f64>,
    area_cm2: Vec<f64>,
    g_pas_s_cm2: Vec<f64>,
    cm_uf_cm2: Vec<f64>,
    sections: Vec<Option<SectionNodes>>,
}

const NO_PARENT: usize = usize::MAX;

impl Network {
    /// The subtree of `tree` hanging from section `root` (its parent link ignored: the root's
    /// 0-end becomes an isolated node), following children for which `include` is true.
    pub fn build(
        tree: &CableTree,
        children: &[Vec<usize>],
        root: usize,
        include: &dyn Fn(usize) -> bool,
    ) -> Network {
        let mut net = Network {
            parent: Vec::new(),
            g_axial_s: Vec::new(),
            area_cm2: Vec::new(),
            g_pas_s_cm2: Vec::new(),
            cm_uf_cm2: Vec::new(),
            sections: vec![None; tree.sections.len()],
        };
        let root_node = net.push(NO_PARENT, 0.0, 0.0, 0.0, 0.0);
        let mut stack = vec![(root, root_node)];
        while let Some((s, zero)) = stack.pop() {
            let sec = &tree.sections[s];
            let geo = section_geometry(sec);
            let nseg = geo.len();
            let first = net.parent.len();
            let mut prev = zero;
            let mut r_prev = 0.0;
            for (k, g) in geo.iter().enumerate() {
                let seg = &sec.segments[k];
                let r = r_prev + g.r_left_ohm;
                prev = net.push(
                    prev,
                    1.0 / r,
                    g.area_um2 * 1e-8,
                    seg.g_pas_s_cm2,
                    seg.cm_uf_cm2,
                );
                r_prev = g.r_right_ohm;
            }
            let one = net.push(prev, 1.0 / r_prev, 0.0, 0.0, 0.0);
            net.sections[s] = Some(SectionNodes {
                zero,
                first_centre: first,
                nseg,
                one,
            });
            // Push children in reverse so they are numbered in section order (cosmetic).
            for &c in children[s].iter().rev() {
                if include(c) {
                    let x = tree.sections[c].parent_x;
                    let node = net.node_at_raw(s, x);
                    stack.push((c, node));
                }
            }
        }
        net
    }

    fn push(&mut self, parent: usize, g: f64, area_cm2: f64, g_pas: f64, cm: f64) -> usize {
        self.parent.push(parent);
        self.g_axial_s.push(g);
        self.area_cm2.push(area_cm2);
        self.g_pas_s_cm2.push(g_pas);
        self.cm_uf_cm2.push(cm);
        self.parent.len() - 1
    }

    fn node_at_raw(&self, section: usize, x: f64) -> usize {
        match &self.sections[section] {
            Some(n) => {
                if x <= 0.0 {
                    n.zero
                } else if x >= 1.0 {
                    n.one
                } else {
                    n.first_centre + segment_index(x, n.nseg)
                }
            }
            None => NO_PARENT,
        }
    }

    /// The node that represents position `x` of `section` (`None` if the section is not part
    /// of this network).
    pub fn node_at(&self, section: usize, x: f64) -> Option<usize> {
        let n = self.node_at_raw(section, x);
        (n != NO_PARENT).then_some(n)
    }

    /// Node of the 1-end of `section`.
    pub fn end_node(&self, section: usize) -> Option<usize> {
        self.sections[section].as_ref().map(|n| n.one)
    }

    /// Every node, in order (parents first).
    pub fn nodes(&self) -> Vec<NetworkNode> {
        (0..self.len())
            .map(|i| NetworkNode {
                parent: (self.parent[i] != NO_PARENT).then_some(self.parent[i]),
                g_axial_us: if self.parent[i] == NO_PARENT {
                    0.0
                } else {
                    self.g_axial_s[i] * 1e6
                },
                area_um2: self.area_cm2[i] * 1e8,
                cm_uf_cm2: self.cm_uf_cm2[i],
                g_pas_s_cm2: self.g_pas_s_cm2[i],
            })
            .collect()
    }

    /// The whole cell `tree` as one network rooted at its soma's 0-end (NEURON's layout).
    pub fn whole_cell(tree: &CableTree) -> crate::error::Result<Network> {
        let soma = tree.validate()?;
        let children = tree.children();
        Ok(Network::build(tree, &children, soma, &|_| true))
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True if the network has no node.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// Node voltages (V, i.e. impedances in Ω) for a unit current (1 A) injected at `inject`,
    /// at frequency `freq_hz`.
    pub fn solve(&self, freq_hz: f64, inject: usize) -> Vec<Complex64> {
        let n = self.len();
        let omega = 2.0 * std::f64::consts::PI * freq_hz;
        let mut d: Vec<Complex64> = (0..n)
            .map(|i| {
                Complex64::new(
                    self.area_cm2[i] * self.g_pas_s_cm2[i],
                    self.area_cm2[i] * omega * self.cm_uf_cm2[i] * 1e-6,
                )
            })
            .collect();
        for i in 0..n {
            let p = self.parent[i];
            if p != NO_PARENT {
                d[i] += self.g_axial_s[i];
                d[p] += self.g_axial_s[i];
            }
        }
        let mut rhs = vec![Complex64::new(0.0, 0.0); n];
        if inject < n {
            rhs[inject] = Complex64::new(1.0, 0.0);
        }
        // Children always have larger indices than their parents: eliminate leaves first.
        for i in (0..n).rev() {
            let p = self.parent[i];
            if p != NO_PARENT {
                let g = self.g_axial_s[i];
                let f = g / d[i];
                d[p] -= f * g;
                let r = rhs[i] * f;
                rhs[p] += r;
            }
        }
        let mut v = vec![Complex64::new(0.0, 0.0); n];
        for i in 0..n {
            let p = self.parent[i];
            v[i] = if p == NO_PARENT {
                rhs[i] / d[i]
            } else {
                (rhs[i] + v[p] * self.g_axial_s[i]) / d[i]
            };
        }
        v
    }
}
