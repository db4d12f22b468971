//! A straightforward O(N²) implementation of NEUWON's greedy growth rule, written
//! independently of the crate's lazy-ring-expansion version: every new node enqueues every
//! free carrier point within the distance limit. Used by the tests (same trees) and by the
//! benchmark (speed ratio).

#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use morpho_grow::region::Region;

/// Parameters of the naive run (lengths µm, angles rad).
#[derive(Debug, Clone, Copy)]
pub struct NaiveParams {
    pub bf: f64,
    pub trees_cost: bool,
    pub ext_angle: f64,
    pub ext_dist: f64,
    pub bif_angle: f64,
    pub bif_dist: f64,
    pub extend_first: bool,
    pub only_bifurcate: bool,
    /// Lexicographic extend-first (key: parent's children, then cost) instead of two queues.
    pub lexicographic: bool,
    /// At most m + 1 children per non-root node.
    pub maximum_branches: Option<u32>,
    /// When the queues are dry, connect the least-cost (node, point) pair ignoring the limits.
    pub reach_all: bool,
}

impl Default for NaiveParams {
    fn default() -> Self {
        NaiveParams {
            bf: 0.5,
            trees_cost: false,
            ext_angle: std::f64::consts::PI,
            ext_dist: f64::INFINITY,
            bif_angle: std::f64::consts::PI,
            bif_dist: f64::INFINITY,
            extend_first: false,
            only_bifurcate: false,
            lexicographic: false,
            maximum_branches: None,
            reach_all: false,
        }
    }
}

/// One node of the naive tree.
#[derive(Debug, Clone, Copy)]
pub struct NaiveNode {
    pub at: [f64; 3],
    pub parent: Option<usize>,
    pub neuron: usize,
    pub path: f64,
    pub children: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(u32, f64, usize, usize);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0
            .cmp(&o.0)
            .then(self.1.total_cmp(&o.1))
            .then(self.2.cmp(&o.2))
            .then(self.3.cmp(&o.3))
    }
}

fn d3(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Grows `pts` onto `nodes` (the roots: all given nodes). Returns, for every point, the
/// index of its parent node (None: not connected); `nodes` is extended in creation order.
pub fn naive_grow(
    nodes: &mut Vec<NaiveNode>,
    pts: &[[f64; 3]],
    p: &NaiveParams,
    region: Option<(&Region, &[[f64; 3]])>,
) -> Vec<Option<usize>> {
    let dmax = p.ext_dist.max(p.bif_dist);
    let mut free = vec![true; pts.len()];
    let mut parent_of = vec![None; pts.len()];
    let mut q: BinaryHeap<Reverse<Key>> = BinaryHeap::new();
    let mut qb: BinaryHeap<Reverse<Key>> = BinaryHeap::new();
    let lex = p.extend_first && p.lexicographic;
    let push =
        |q: &mut BinaryHeap<Reverse<Key>>, nodes: &Vec<NaiveNode>, n: usize, free: &[bool]| {
            let node = nodes[n];
            let rank = if lex { node.children } else { 0 };
            for (x, pt) in pts.iter().enumerate() {
                if !free[x] {
                    continue;
                }
                let d = d3(&node.at, pt);
                if d > dmax {
                    continue;
                }
                if let Some((r, somas)) = region {
                    let s = somas[node.neuron];
                    if !r.contains(&[pt[0] - s[0], pt[1] - s[1], pt[2] - s[2]]) {
                        continue;
                    }
                }
                let c = if p.trees_cost {
                    d + p.bf * node.path
                } else {
                    d + p.bf * (node.path + d)
                };
                q.push(Reverse(Key(rank, c, n, x)));
            }
        };
    for n in 0..nodes.len() {
        push(&mut q, nodes, n, &free);
    }
    loop {
        let k = if let Some(Reverse(k)) = q.pop() {
            if !free[k.3] {
                continue;
            }
            if lex && k.0 != nodes[k.2].children {
                q.push(Reverse(Key(nodes[k.2].children, k.1, k.2, k.3)));
                continue;
            }
            if !lex && p.extend_first && nodes[k.2].children > 0 {
                qb.push(Reverse(k));
                continue;
            }
            k
        } else if let Some(Reverse(k)) = qb.pop() {
            if !free[k.3] {
                continue;
            }
            k
        } else if p.reach_all {
            // brute force over every node (not the split points: none here) and free point
            let mut best: Option<(f64, usize, usize)> = None;
            for (n, node) in nodes.iter().enumerate() {
                for (x, pt) in pts.iter().enumerate() {
                    if !free[x] {
                        continue;
                    }
                    if let Some((r, somas)) = region {
                        let s = somas[node.neuron];
                        if !r.contains(&[pt[0] - s[0], pt[1] - s[1], pt[2] - s[2]]) {
                            continue;
                        }
                    }
                    let d = d3(&node.at, pt);
                    let c = if p.trees_cost {
                        d + p.bf * node.path
                    } else {
                        d + p.bf * (node.path + d)
                    };
                    let better = match best {
                        None => true,
                        Some((bc, bn, bx)) => {
                            c.total_cmp(&bc).then(n.cmp(&bn)).then(x.cmp(&bx)).is_lt()
                        }
                    };
                    if better {
                        best = Some((c, n, x));
                    }
                }
            }
            let Some((_, pn, x)) = best else { break };
            let par = nodes[pn];
            let d = d3(&par.at, &pts[x]);
            free[x] = false;
            parent_of[x] = Some(pn);
            nodes[pn].children += 1;
            nodes.push(NaiveNode {
                at: pts[x],
                parent: Some(pn),
                neuron: par.neuron,
                path: par.path + d,
                children: 0,
            });
            let n = nodes.len() - 1;
            push(&mut q, nodes, n, &free);
            continue;
        } else {
            break;
        };
        let (pn, x) = (k.2, k.3);
        let par = nodes[pn];
        let d = d3(&par.at, &pts[x]);
        if p.only_bifurcate && par.parent.is_some() && par.children >= 2 {
            continue;
        }
        if let Some(m) = p.maximum_branches {
            if par.parent.is_some() && par.children > m {
                continue;
            }
        }
        let (lim_d, lim_a) = if par.children == 0 {
            (p.ext_dist, p.ext_angle)
        } else {
            (p.bif_dist, p.bif_angle)
        };
        if d > lim_d {
            continue;
        }
        if let Some(g) = par.parent {
            let u: Vec<f64> = (0..3).map(|i| par.at[i] - nodes[g].at[i]).collect();
            let v: Vec<f64> = (0..3).map(|i| pts[x][i] - par.at[i]).collect();
            let nu = u.iter().map(|a| a * a).sum::<f64>().sqrt();
            let nv = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            if nu > 0.0 && nv > 0.0 {
                let c = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (nu * nv);
                if c.clamp(-1.0, 1.0).acos() > lim_a {
                    continue;
                }
            }
        }
        free[x] = false;
        parent_of[x] = Some(pn);
        nodes[pn].children += 1;
        nodes.push(NaiveNode {
            at: pts[x],
            parent: Some(pn),
            neuron: par.neuron,
            path: par.path + d,
            children: 0,
        });
        let n = nodes.len() - 1;
        push(&mut q, nodes, n, &free);
    }
    parent_of
}
