//! The growth algorithm: TREES' greedy minimum-spanning-tree growth with a balancing factor
//! (Cuntz et al. 2010) and the ROOTS constraints (Bingham et al. 2020), as NEUWON runs it
//! (`shared/specs/morpho-grow.md` §4).
//!
//! Each step connects the free carrier point x and tree node p of least cost
//!
//! * [`CostForm::Neuwon`]: (1 + bf)·‖x − p‖ + bf·path_len(p) (default),
//! * [`CostForm::Trees`]: ‖x − p‖ + bf·path_len(p).
//!
//! The two give the same trees when bf_TREES = bf_NEUWON / (1 + bf_NEUWON) (NEUWON 0.5 ≙
//! TREES 1/3, NEUWON 1 ≙ TREES 0.5); TREES values ≥ 1 exist only in the TREES form.
//!
//! Candidates are checked against the constraints when they are popped (the parent's child
//! count *then* decides extension or branch); a rejected candidate is dropped, the point
//! stays free for other parents.
//!
//! ## Complexity: lazy ring expansion
//!
//! The naïve scheme enqueues every free point for every new node: O(N²) memory. Here a new
//! node p looks only at the free points within r₀ (1.5 carrier spacings), sorted by
//! (cost, point) into p's *candidate stream*; the queue holds one entry per node, the head of
//! its stream. When the stream runs out its head becomes a *sentinel* keyed by the cost of a
//! point at distance r_k — a lower bound of every point farther away; when the sentinel pops,
//! the next shell r_k < d ≤ 2·r_k is sorted into the stream. Sentinels sort after real
//! candidates of equal key, a head whose point was taken meanwhile is replaced by the stream's
//! next free point, so the sequence of candidates judged, and hence the tree, is the one the
//! naïve algorithm gives (ties broken by (cost, parent index, point index); tested against an
//! independent O(N²) implementation). Points come from a kd-tree that counts free points per
//! subtree, so consumed neighbourhoods cost nothing to query. Memory is O(N·k) with k ≈ points
//! per initial ball (4 bytes each) plus one queue entry per node; time ≈ O(N·k·log N).
//!
//! Extend-before-bifurcate: a stream whose node has a child lives in NEUWON's second queue
//! (served only when the first is empty); in the lexicographic variant there is one queue
//! per child count, lowest first, and a head whose node gained a child is queued again.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::error::{MorphoError, Result};
use crate::kdtree::KdTree;
use crate::region::{Region, Vec3};

/// How a candidate connection is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CostForm {
    /// NEUWON: d + bf·(path_len(p) + d).
    #[default]
    Neuwon,
    /// TREES `MST_tree`: d + bf·path_len(p).
    Trees,
}

/// How several roots share the carrier points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Competition {
    /// One queue for all roots; the global least-cost candidate wins each step (NEUWON).
    #[default]
    GlobalMin,
    /// Each neuron in turn adds its own best valid point (TREES' multi-tree mode).
    RoundRobin,
}

/// How `extend_before_bifurcate` orders candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExtendFirst {
    /// NEUWON: candidates whose parent already has a child wait in a second queue that is
    /// drained only when the first is empty.
    #[default]
    TwoQueue,
    /// `morphology_wizard`: one queue keyed by (children of the parent, cost); a candidate whose
    /// parent gained a child since it was queued is queued again with the new count.
    Lexicographic,
}

/// Where path lengths start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathOrigin {
    /// At the soma centre (NEUWON).
    #[default]
    Centre,
    /// On the soma surface: a soma's children get path length d − r (not below 0).
    Surface,
}

/// What `maximum_segment_length` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubdivideMode {
    /// Split a chosen edge longer than the maximum into equal collinear pieces (the evident
    /// intent; topology and path lengths unchanged).
    #[default]
    Split,
    /// Ignore the maximum (what NEUWON's code actually does).
    Ignore,
}

/// Parameters of one growth run (NEUWON names; lengths µm, angles radians).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthParams {
    /// Balancing factor bf ≥ 0: weight of conduction path against wiring (default 0.5).
    pub balancing_factor: f64,
    /// Cost convention (default NEUWON's).
    pub cost_form: CostForm,
    /// Largest turn angle of a node's first child, rad (default π: off).
    pub extension_angle: f64,
    /// Longest edge to a node's first child, µm (default ∞).
    pub extension_distance: f64,
    /// Largest turn angle of later children, rad (default π).
    pub bifurcation_angle: f64,
    /// Longest edge to later children, µm (default ∞).
    pub bifurcation_distance: f64,
    /// Prefer every possible extension over every branch (axon-like growth).
    pub extend_before_bifurcate: bool,
    /// Non-root nodes get at most two children.
    pub only_bifurcate: bool,
    /// `morphology_wizard`'s generalisation: a non-root node that already has more than m
    /// children takes no more (at most m + 1 children; m = 1 ≙ `only_bifurcate`).
    pub maximum_branches: Option<u32>,
    /// How extensions are preferred when `extend_before_bifurcate` is set.
    pub extend_first: ExtendFirst,
    /// Where path lengths start.
    pub path_origin: PathOrigin,
    /// When no valid candidate is left, connect the least-cost (free point, node) pair
    /// ignoring the angle, distance and branch limits (the neuron region still applies), then
    /// resume (`morphology_wizard`; default off, NEUWON has no such pass). O(nodes · log N) per
    /// relaxed point.
    pub reach_all_carrier_points: bool,
    /// Longest segment, µm (default ∞); see [`SubdivideMode`].
    pub maximum_segment_length: f64,
    /// What the maximum segment length does.
    pub subdivide: SubdivideMode,
    /// How several roots compete.
    pub competition: Competition,
}

impl Default for GrowthParams {
    fn default() -> Self {
        GrowthParams {
            balancing_factor: 0.5,
            cost_form: CostForm::Neuwon,
            extension_angle: std::f64::consts::PI,
            extension_distance: f64::INFINITY,
            bifurcation_angle: std::f64::consts::PI,
            bifurcation_distance: f64::INFINITY,
            extend_before_bifurcate: false,
            only_bifurcate: false,
            maximum_branches: None,
            extend_first: ExtendFirst::TwoQueue,
            path_origin: PathOrigin::Centre,
            reach_all_carrier_points: false,
            maximum_segment_length: f64::INFINITY,
            subdivide: SubdivideMode::Split,
            competition: Competition::GlobalMin,
        }
    }
}

impl GrowthParams {
    /// Checks every value; the error names the parameter and the allowed range.
    pub fn validate(&self) -> Result<()> {
        let bad =
            |what: &str, v: f64| Err(MorphoError::Growth(format!("{what} = {v} is out of range")));
        let bf = self.balancing_factor;
        if !(bf.is_finite() && bf >= 0.0) {
            return bad("balancing_factor (must be finite and ≥ 0)", bf);
        }
        for (name, a) in [
            ("extension_angle (rad, in [0, π])", self.extension_angle),
            ("bifurcation_angle (rad, in [0, π])", self.bifurcation_angle),
        ] {
            if !(0.0..=std::f64::consts::PI + 1e-12).contains(&a) {
                return bad(name, a);
            }
        }
        for (name, d) in [
            ("extension_distance (µm, ≥ 0)", self.extension_distance),
            ("bifurcation_distance (µm, ≥ 0)", self.bifurcation_distance),
        ] {
            if d.is_nan() || d < 0.0 {
                return bad(name, d);
            }
        }
        let l = self.maximum_segment_length;
        if l.is_nan() || l <= 0.0 {
            return bad("maximum_segment_length (µm, > 0)", l);
        }
        Ok(())
    }

    fn cost(&self, d: f64, path_len: f64) -> f64 {
        let bf = self.balancing_factor;
        match self.cost_form {
            CostForm::Neuwon => (1.0 + bf) * d + bf * path_len,
            CostForm::Trees => d + bf * path_len,
        }
    }

    /// Longest edge any candidate may have, µm.
    fn d_max(&self) -> f64 {
        self.extension_distance.max(self.bifurcation_distance)
    }
}

/// One node of a grown forest. Nodes are kept in creation order, which is topological
/// (a parent's index is smaller than its children's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowNode {
    /// Position, µm.
    pub coords: Vec3,
    /// Parent node (None for a root, i.e. a soma).
    pub parent: Option<u32>,
    /// Neuron this node belongs to.
    pub neuron: u32,
    /// Diameter, µm.
    pub diameter: f64,
    /// Path length from the root's centre, µm.
    pub path_len: f64,
    /// Number of children.
    pub n_children: u32,
    /// SWC type code (1 soma, 2 axon, 3 basal, 4 apical, ≥ 5 custom).
    pub kind: u32,
    /// True for nodes at carrier points (false for roots and split points).
    pub is_carrier: bool,
}

/// A forest of grown neurons.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Forest {
    /// Nodes in topological order.
    pub nodes: Vec<GrowNode>,
}

impl Forest {
    /// An empty forest.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a root (soma) of `neuron`; returns its index.
    pub fn add_root(&mut self, coords: Vec3, diameter: f64, neuron: u32, kind: u32) -> u32 {
        self.nodes.push(GrowNode {
            coords,
            parent: None,
            neuron,
            diameter,
            path_len: 0.0,
            n_children: 0,
            kind,
            is_carrier: false,
        });
        (self.nodes.len() - 1) as u32
    }

    /// Sum of the lengths of all edges, µm.
    pub fn total_length_um(&self) -> f64 {
        self.nodes
            .iter()
            .filter_map(|n| {
                n.parent
                    .map(|p| dist(&n.coords, &self.nodes[p as usize].coords))
            })
            .sum()
    }

    /// The nodes of one neuron as a forest of their own (parents renumbered, order kept).
    pub fn neuron(&self, neuron: u32) -> Forest {
        let mut index = vec![u32::MAX; self.nodes.len()];
        let mut out = Forest::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.neuron != neuron {
                continue;
            }
            index[i] = out.nodes.len() as u32;
            out.nodes.push(GrowNode {
                parent: n
                    .parent
                    .and_then(|p| Some(index[p as usize]).filter(|&q| q != u32::MAX)),
                ..*n
            });
        }
        out
    }

    /// Neuron ids present, ascending.
    pub fn neuron_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.nodes.iter().map(|n| n.neuron).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Appends another forest, renumbering its parents; returns the offset of its nodes.
    pub fn append(&mut self, other: &Forest) -> u32 {
        let off = self.nodes.len() as u32;
        self.nodes.extend(other.nodes.iter().map(|n| GrowNode {
            parent: n.parent.map(|p| p + off),
            ..*n
        }));
        off
    }
}

/// Euclidean distance, µm.
pub fn dist(a: &Vec3, b: &Vec3) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Turn angle at p between the edge g → p and the edge p → x, rad in [0, π] (0 for a
/// zero-length edge). The cosine is clamped to [−1, 1] (NEUWON lets collinear rounding make NaN).
pub fn turn_angle(g: &Vec3, p: &Vec3, x: &Vec3) -> f64 {
    let u = [p[0] - g[0], p[1] - g[1], p[2] - g[2]];
    let v = [x[0] - p[0], x[1] - p[1], x[2] - p[2]];
    let nu = (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt();
    let nv = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if nu == 0.0 || nv == 0.0 {
        return 0.0;
    }
    let c = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (nu * nv);
    c.clamp(-1.0, 1.0).acos()
}

/// What a new segment looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentSpec {
    /// SWC type code of the new nodes.
    pub kind: u32,
    /// Diameter of the new nodes, µm.
    pub diameter: f64,
}

/// A soma-relative region: point x may join neuron k only if the region contains
/// x − soma_k.
#[derive(Debug, Clone, Copy)]
pub struct NeuronRegion<'a> {
    /// Region in soma-relative coordinates, µm.
    pub region: &'a Region,
    /// Soma centre of every neuron id, µm (indexed by [`GrowNode::neuron`]).
    pub somas: &'a [Vec3],
}

/// What became of the carrier points.
#[derive(Debug, Clone, PartialEq)]
pub struct GrowthOutcome {
    /// Node made at each carrier point (None: never connected).
    pub carrier_node: Vec<Option<u32>>,
    /// Candidates rejected by the constraints.
    pub rejected: u64,
    /// Points connected by the `reach_all_carrier_points` pass, ignoring the constraints.
    pub relaxed: u64,
    /// Largest number of queue entries held at once (memory measure).
    pub peak_queue: usize,
}

const SENTINEL: u32 = 1 << 31;

/// A queue entry: a real candidate (parent, point) or a sentinel (parent, level | SENTINEL).
/// 16 bytes; the lexicographic mode keeps one heap per rank instead of a rank field.
#[derive(Debug, Clone, Copy)]
struct Entry {
    cost: f64,
    parent: u32,
    point: u32,
}

impl Entry {
    fn is_sentinel(&self) -> bool {
        self.point & SENTINEL != 0
    }
    fn key(&self) -> (bool, u32, u32) {
        (self.is_sentinel(), self.parent, self.point)
    }
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Reversed: `BinaryHeap` pops the least (cost, sentinel-last, parent, point).
    fn cmp(&self, o: &Self) -> Ordering {
        o.cost
            .total_cmp(&self.cost)
            .then_with(|| o.key().cmp(&self.key()))
    }
}

struct Queues {
    /// NEUWON's primary queue (all candidates unless lexicographic).
    q: BinaryHeap<Entry>,
    /// NEUWON's deferred branches (two-queue extend-first).
    qb: BinaryHeap<Entry>,
    /// Lexicographic extend-first: heap k holds candidates whose parent had k children when
    /// they were queued; the lowest non-empty heap is served first.
    ranked: Vec<BinaryHeap<Entry>>,
    lex: bool,
}

impl Queues {
    fn new(lex: bool) -> Self {
        Queues {
            q: BinaryHeap::new(),
            qb: BinaryHeap::new(),
            ranked: Vec::new(),
            lex,
        }
    }

    fn len(&self) -> usize {
        self.q.len() + self.qb.len() + self.ranked.iter().map(BinaryHeap::len).sum::<usize>()
    }

    fn push_ranked(&mut self, e: Entry, rank: u32) {
        let r = rank as usize;
        if self.ranked.len() <= r {
            self.ranked.resize_with(r + 1, BinaryHeap::new);
        }
        self.ranked[r].push(e);
    }

    /// Least entry of the lowest non-empty rank, with its rank.
    fn pop_ranked(&mut self) -> Option<(Entry, u32)> {
        self.ranked
            .iter_mut()
            .enumerate()
            .find_map(|(r, h)| h.pop().map(|e| (e, r as u32)))
    }
}

struct Grower<'a> {
    forest: &'a mut Forest,
    carriers: &'a [Vec3],
    params: &'a GrowthParams,
    seg: SegmentSpec,
    filter: Option<NeuronRegion<'a>>,
    tree: KdTree,
    r0: f64,
    d_max: f64,
    outcome: GrowthOutcome,
    scratch: Vec<(u32, f64)>,
    /// Candidate stream of every node (empty for nodes that never grew candidates).
    streams: Vec<Stream>,
    /// The streams' sorted candidate points, one range per expanded shell.
    pool: Vec<u32>,
    /// Nodes that grow candidates (the roots and every new carrier node).
    growers: Vec<u32>,
}

const DONE: u32 = u32::MAX;

/// A node's candidates: `pool[pos..end]` sorted by (cost, point), then the shell
/// `next_level` (DONE: none) whose sentinel key is `sentinel_cost`.
#[derive(Debug, Clone, Copy)]
struct Stream {
    pos: u64,
    end: u64,
    next_level: u32,
    sentinel_cost: f64,
}

impl Stream {
    const EMPTY: Stream = Stream {
        pos: 0,
        end: 0,
        next_level: DONE,
        sentinel_cost: 0.0,
    };
}

impl Grower<'_> {
    fn allowed(&self, node: &GrowNode, x: &Vec3) -> bool {
        match &self.filter {
            None => true,
            Some(f) => match f.somas.get(node.neuron as usize) {
                Some(s) => f.region.contains(&[x[0] - s[0], x[1] - s[1], x[2] - s[2]]),
                None => false,
            },
        }
    }

    /// Farthest any carrier point can be from c, µm.
    fn far(&self, c: &Vec3) -> f64 {
        let Some((lo, hi)) = self.tree.bounds() else {
            return 0.0;
        };
        let mut s = 0.0;
        for a in 0..3 {
            let f = (c[a] - lo[a]).abs().max((hi[a] - c[a]).abs());
            s += f * f;
        }
        s.sqrt()
    }

    /// Sorts the free points of shell `level` around node `p` into p's candidate stream
    /// (by cost, then point index) and queues the stream's head.
    fn expand(&mut self, p: u32, level: u32, qs: &mut Queues) {
        let node = self.forest.nodes[p as usize];
        let r_lo = if level == 0 {
            -1.0
        } else {
            (self.r0 * 2f64.powi(level as i32 - 1)).min(self.d_max)
        };
        let r_hi = (self.r0 * 2f64.powi(level as i32)).min(self.d_max);
        let mut found = std::mem::take(&mut self.scratch);
        found.clear();
        self.tree.shell(&node.coords, r_lo, r_hi, &mut found);
        let mut cands: Vec<(f64, u32)> = found
            .iter()
            .filter(|&&(x, _)| self.allowed(&node, &self.carriers[x as usize]))
            .map(|&(x, d)| (self.params.cost(d, node.path_len), x))
            .collect();
        self.scratch = found;
        cands.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let more = r_hi < self.d_max && r_hi < self.far(&node.coords) && level < 60;
        let start = self.pool.len() as u64;
        self.pool.extend(cands.iter().map(|c| c.1));
        let st = &mut self.streams[p as usize];
        st.pos = start;
        st.end = self.pool.len() as u64;
        st.next_level = if more { level + 1 } else { DONE };
        st.sentinel_cost = self.params.cost(r_hi, node.path_len);
        self.refill(p, qs);
    }

    /// Queues the head of p's stream: its first free candidate, else the sentinel of its next
    /// shell, else nothing. The queue is the one p's candidates belong to now.
    fn refill(&mut self, p: u32, qs: &mut Queues) {
        let node = self.forest.nodes[p as usize];
        let st = self.streams[p as usize];
        let mut pos = st.pos;
        while pos < st.end && !self.tree.is_free(self.pool[pos as usize]) {
            pos += 1;
        }
        self.streams[p as usize].pos = pos;
        let e = if pos < st.end {
            let x = self.pool[pos as usize];
            let d = dist(&node.coords, &self.carriers[x as usize]);
            Entry {
                cost: self.params.cost(d, node.path_len),
                parent: p,
                point: x,
            }
        } else if st.next_level != DONE {
            Entry {
                cost: st.sentinel_cost,
                parent: p,
                point: SENTINEL | st.next_level,
            }
        } else {
            return;
        };
        let rank = node.n_children;
        if qs.lex {
            qs.push_ranked(e, rank);
        } else if self.params.extend_before_bifurcate && rank > 0 {
            qs.qb.push(e);
        } else {
            qs.q.push(e);
        }
        self.outcome.peak_queue = self.outcome.peak_queue.max(qs.len());
    }

    /// Moves p's stream past its head.
    fn advance(&mut self, p: u32) {
        self.streams[p as usize].pos += 1;
    }

    fn lexicographic(&self) -> bool {
        self.params.extend_before_bifurcate
            && self.params.extend_first == ExtendFirst::Lexicographic
    }

    fn constraints_ok(&self, p: u32, x: &Vec3) -> bool {
        let prm = self.params;
        let node = &self.forest.nodes[p as usize];
        let d = dist(&node.coords, x);
        if node.parent.is_some() {
            let most = match (prm.only_bifurcate, prm.maximum_branches) {
                (true, Some(m)) => m.saturating_add(1).min(2),
                (true, None) => 2,
                (false, Some(m)) => m.saturating_add(1),
                (false, None) => u32::MAX,
            };
            if node.n_children >= most {
                return false;
            }
        }
        let (max_d, max_a) = if node.n_children == 0 {
            (prm.extension_distance, prm.extension_angle)
        } else {
            (prm.bifurcation_distance, prm.bifurcation_angle)
        };
        if d > max_d {
            return false;
        }
        match node.parent {
            Some(g) => turn_angle(&self.forest.nodes[g as usize].coords, &node.coords, x) <= max_a,
            None => true,
        }
    }

    /// Pops candidates until one is accepted (true) or the queues run dry (false).
    fn step(&mut self, qs: &mut Queues) -> bool {
        loop {
            let (e, rank, deferred) = if qs.lex {
                match qs.pop_ranked() {
                    Some((e, r)) => (e, r, false),
                    None => return false,
                }
            } else if let Some(e) = qs.q.pop() {
                (e, 0, false)
            } else if let Some(e) = qs.qb.pop() {
                (e, 0, true)
            } else {
                return false;
            };
            let p = e.parent;
            let children = self.forest.nodes[p as usize].n_children;
            if qs.lex && rank != children {
                // the parent gained a child since this was queued: queue it again
                qs.push_ranked(e, children);
                continue;
            }
            if e.is_sentinel() {
                self.expand(p, e.point & !SENTINEL, qs);
                continue;
            }
            if !self.tree.is_free(e.point) {
                self.advance(p);
                self.refill(p, qs);
                continue;
            }
            if !qs.lex && !deferred && self.params.extend_before_bifurcate && children > 0 {
                qs.qb.push(e);
                continue;
            }
            let x = self.carriers[e.point as usize];
            self.advance(p);
            if !self.constraints_ok(p, &x) {
                self.outcome.rejected += 1;
                self.refill(p, qs);
                continue;
            }
            self.tree.take(e.point);
            let n = self.attach(p, x);
            self.outcome.carrier_node[e.point as usize] = Some(n);
            self.streams.resize(self.forest.nodes.len(), Stream::EMPTY);
            self.refill(p, qs);
            self.growers.push(n);
            self.expand(n, 0, qs);
            return true;
        }
    }

    /// The `reach_all_carrier_points` pass: the least-cost (node, free point) pair over the
    /// nodes that grow candidates, ignoring the constraints (None: no free point is allowed).
    fn best_relaxation(&self) -> Option<(u32, u32)> {
        let mut best: Option<(f64, u32, u32)> = None;
        for &p in &self.growers {
            let node = self.forest.nodes[p as usize];
            let keep = |x: u32| self.allowed(&node, &self.carriers[x as usize]);
            if let Some((x, d)) = self.tree.nearest_free(&node.coords, &keep) {
                let c = self.params.cost(d, node.path_len);
                let better = match best {
                    None => true,
                    Some((bc, bp, bx)) => {
                        c.total_cmp(&bc).then(p.cmp(&bp)).then(x.cmp(&bx)) == Ordering::Less
                    }
                };
                if better {
                    best = Some((c, p, x));
                }
            }
        }
        best.map(|(_, p, x)| (p, x))
    }

    /// Connects x to p ignoring the constraints and queues the new node's candidates.
    fn connect_relaxed(&mut self, p: u32, x: u32, qs: &mut Queues) {
        self.tree.take(x);
        let n = self.attach(p, self.carriers[x as usize]);
        self.outcome.carrier_node[x as usize] = Some(n);
        self.outcome.relaxed += 1;
        self.streams.resize(self.forest.nodes.len(), Stream::EMPTY);
        self.growers.push(n);
        self.expand(n, 0, qs);
    }

    /// Adds the edge p → x (split into equal pieces when longer than the maximum segment
    /// length); returns the node at x.
    fn attach(&mut self, p: u32, x: Vec3) -> u32 {
        let parent = self.forest.nodes[p as usize];
        let d = dist(&parent.coords, &x);
        let base = match (self.params.path_origin, parent.parent) {
            (PathOrigin::Surface, None) => parent.path_len - 0.5 * parent.diameter,
            _ => parent.path_len,
        };
        let lmax = self.params.maximum_segment_length;
        let pieces = if self.params.subdivide == SubdivideMode::Split && d > lmax {
            ((d / lmax).ceil() as u64).clamp(1, 1 << 20) as u32
        } else {
            1
        };
        let mut prev = p;
        for k in 1..=pieces {
            let f = k as f64 / pieces as f64;
            let coords = if k == pieces {
                x
            } else {
                [
                    parent.coords[0] + f * (x[0] - parent.coords[0]),
                    parent.coords[1] + f * (x[1] - parent.coords[1]),
                    parent.coords[2] + f * (x[2] - parent.coords[2]),
                ]
            };
            self.forest.nodes[prev as usize].n_children += 1;
            self.forest.nodes.push(GrowNode {
                coords,
                parent: Some(prev),
                neuron: parent.neuron,
                diameter: self.seg.diameter,
                path_len: (base + f * d).max(0.0),
                n_children: 0,
                kind: self.seg.kind,
                is_carrier: k == pieces,
            });
            prev = (self.forest.nodes.len() - 1) as u32;
        }
        prev
    }
}

/// Grows the carrier points onto the trees of `roots` (indices of existing nodes of
/// `forest`: somas or nodes of earlier steps). Every root keeps its neuron id; new nodes get
/// `seg`'s type and diameter. With a `neuron_region`, point x may join neuron k only when
/// the region contains x − soma_k.
pub fn grow(
    forest: &mut Forest,
    roots: &[u32],
    carriers: &[Vec3],
    params: &GrowthParams,
    seg: SegmentSpec,
    neuron_region: Option<NeuronRegion<'_>>,
) -> Result<GrowthOutcome> {
    params.validate()?;
    if !(seg.diameter.is_finite() && seg.diameter > 0.0) {
        return Err(MorphoError::BadValue {
            what: "segment diameter (µm)",
            value: seg.diameter,
        });
    }
    if let Some(p) = carriers.iter().find(|p| p.iter().any(|v| !v.is_finite())) {
        return Err(MorphoError::Growth(format!(
            "carrier point {p:?} has a coordinate that is not finite"
        )));
    }
    if carriers.len() >= SENTINEL as usize {
        return Err(MorphoError::Growth(format!(
            "{} carrier points in one run (limit 2^31)",
            carriers.len()
        )));
    }
    for &r in roots {
        if r as usize >= forest.nodes.len() {
            return Err(MorphoError::Growth(format!(
                "root node {r} does not exist (the forest has {} nodes)",
                forest.nodes.len()
            )));
        }
    }
    // each root's candidate stream is queued once
    let mut roots: Vec<u32> = roots.to_vec();
    roots.sort_unstable();
    roots.dedup();
    let tree = KdTree::new(carriers);
    // initial ring radius: 1.5 mean carrier spacings over the points' bounding box
    let r0 = match tree.bounds() {
        Some((lo, hi)) => {
            let ext: Vec<f64> = (0..3).map(|a| hi[a] - lo[a]).collect();
            let maxe = ext.iter().cloned().fold(0.0, f64::max);
            let vol: f64 = ext.iter().map(|e| e.max(maxe * 1e-3).max(1e-9)).product();
            let spacing = (vol / carriers.len() as f64).cbrt();
            (1.5 * spacing).max(1e-6)
        }
        None => 1.0,
    };
    let mut g = Grower {
        forest,
        carriers,
        params,
        seg,
        filter: neuron_region,
        tree,
        r0,
        d_max: params.d_max(),
        outcome: GrowthOutcome {
            carrier_node: vec![None; carriers.len()],
            rejected: 0,
            relaxed: 0,
            peak_queue: 0,
        },
        scratch: Vec::new(),
        streams: Vec::new(),
        pool: Vec::new(),
        growers: roots.clone(),
    };
    g.streams.resize(g.forest.nodes.len(), Stream::EMPTY);
    let lex = g.lexicographic();
    match params.competition {
        Competition::GlobalMin => {
            let mut qs = Queues::new(lex);
            for &r in &roots {
                g.expand(r, 0, &mut qs);
            }
            loop {
                while g.tree.free_count() > 0 && g.step(&mut qs) {}
                if !params.reach_all_carrier_points || g.tree.free_count() == 0 {
                    break;
                }
                let Some((p, x)) = g.best_relaxation() else {
                    break;
                };
                g.connect_relaxed(p, x, &mut qs);
            }
        }
        Competition::RoundRobin => {
            // one queue per neuron, neurons in order of first appearance among the roots
            let mut order: Vec<u32> = Vec::new();
            let mut qss: Vec<Queues> = Vec::new();
            for &r in &roots {
                let nid = g.forest.nodes[r as usize].neuron;
                let k = match order.iter().position(|&n| n == nid) {
                    Some(k) => k,
                    None => {
                        order.push(nid);
                        qss.push(Queues::new(lex));
                        order.len() - 1
                    }
                };
                g.expand(r, 0, &mut qss[k]);
            }
            let mut active = vec![true; qss.len()];
            loop {
                while active.iter().any(|&a| a) && g.tree.free_count() > 0 {
                    for (k, qs) in qss.iter_mut().enumerate() {
                        if active[k] && !g.step(qs) {
                            active[k] = false;
                        }
                    }
                }
                if !params.reach_all_carrier_points || g.tree.free_count() == 0 {
                    break;
                }
                let Some((p, x)) = g.best_relaxation() else {
                    break;
                };
                let nid = g.forest.nodes[p as usize].neuron;
                let Some(k) = order.iter().position(|&n| n == nid) else {
                    break;
                };
                g.connect_relaxed(p, x, &mut qss[k]);
                active[k] = true;
            }
        }
    }
    Ok(g.outcome)
}
