//! A static kd-tree over carrier points with per-subtree counts of free (unused) points.
//!
//! Built once in O(N log N) (median splits on the widest axis, leaves of ≤ [`LEAF`]
//! points). [`KdTree::shell`] reports the free points at distance r_lo < d ≤ r_hi from a
//! centre, pruning subtrees whose box misses the shell or that hold no free point;
//! [`KdTree::take`] marks a point used in O(log N). Pruning fully used subtrees keeps the
//! queries of old tree nodes cheap once their neighbourhood has been consumed.

use crate::region::Vec3;

const LEAF: usize = 8;
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct KdNode {
    lo: Vec3,
    hi: Vec3,
    start: u32,
    end: u32,
    left: u32,
    right: u32,
    parent: u32,
    free: u32,
}

/// The tree. Point indices are those of the slice it was built from.
#[derive(Debug, Clone)]
pub(crate) struct KdTree {
    /// Points in tree order.
    pts: Vec<Vec3>,
    /// Original index of each tree slot.
    idx: Vec<u32>,
    /// Tree slot of each original index.
    slot: Vec<u32>,
    /// Leaf node holding each tree slot.
    leaf_of: Vec<u32>,
    /// Free flag per tree slot.
    free: Vec<bool>,
    nodes: Vec<KdNode>,
}

impl KdTree {
    pub(crate) fn new(points: &[Vec3]) -> Self {
        let n = points.len();
        let mut idx: Vec<u32> = (0..n as u32).collect();
        let mut nodes = Vec::with_capacity(2 * n / LEAF + 2);
        if n > 0 {
            build(points, &mut idx, 0, n, NONE, &mut nodes);
        }
        let pts: Vec<Vec3> = idx.iter().map(|&i| points[i as usize]).collect();
        let mut slot = vec![0u32; n];
        for (s, &i) in idx.iter().enumerate() {
            slot[i as usize] = s as u32;
        }
        let mut leaf_of = vec![0u32; n];
        for (k, node) in nodes.iter().enumerate() {
            if node.left == NONE {
                for s in node.start..node.end {
                    leaf_of[s as usize] = k as u32;
                }
            }
        }
        KdTree {
            pts,
            idx,
            slot,
            leaf_of,
            free: vec![true; n],
            nodes,
        }
    }

    /// Bounding box of all points (None when there are none).
    pub(crate) fn bounds(&self) -> Option<(Vec3, Vec3)> {
        self.nodes.first().map(|n| (n.lo, n.hi))
    }

    /// Number of free points.
    pub(crate) fn free_count(&self) -> usize {
        self.nodes.first().map_or(0, |n| n.free as usize)
    }

    /// True when original point `i` is free.
    pub(crate) fn is_free(&self, i: u32) -> bool {
        self.free[self.slot[i as usize] as usize]
    }

    /// Marks original point `i` used.
    pub(crate) fn take(&mut self, i: u32) {
        let s = self.slot[i as usize] as usize;
        if !self.free[s] {
            return;
        }
        self.free[s] = false;
        let mut k = self.leaf_of[s];
        while k != NONE {
            let node = &mut self.nodes[k as usize];
            node.free -= 1;
            k = node.parent;
        }
    }

    /// Appends to `out` (original index, distance µm) of every free point with
    /// r_lo < d ≤ r_hi from `c` (r_lo < 0 includes d = 0).
    #[allow(clippy::needless_range_loop)] // three axes of several arrays
    pub(crate) fn shell(&self, c: &Vec3, r_lo: f64, r_hi: f64, out: &mut Vec<(u32, f64)>) {
        if self.nodes.is_empty() {
            return;
        }
        let hi2 = r_hi * r_hi;
        let lo2 = if r_lo > 0.0 { r_lo * r_lo } else { -1.0 };
        let mut stack = vec![0u32];
        while let Some(k) = stack.pop() {
            let node = &self.nodes[k as usize];
            if node.free == 0 {
                continue;
            }
            let (mut dmin2, mut dmax2) = (0.0, 0.0);
            for a in 0..3 {
                let below = node.lo[a] - c[a];
                let above = c[a] - node.hi[a];
                let g = below.max(above).max(0.0);
                dmin2 += g * g;
                let f = (c[a] - node.lo[a]).abs().max((node.hi[a] - c[a]).abs());
                dmax2 += f * f;
            }
            // slack of a few ulps: the exact test below decides
            if dmin2 > hi2 * (1.0 + 1e-12) || dmax2 * (1.0 + 1e-12) < lo2 {
                continue;
            }
            if node.left == NONE {
                for s in node.start as usize..node.end as usize {
                    if !self.free[s] {
                        continue;
                    }
                    let p = &self.pts[s];
                    let d = ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2))
                        .sqrt();
                    if d > r_lo && d <= r_hi {
                        out.push((self.idx[s], d));
                    }
                }
            } else {
                stack.push(node.left);
                stack.push(node.right);
            }
        }
    }
}

impl KdTree {
    /// The free point nearest to `c` among those `keep` accepts: (original index, distance µm),
    /// ties broken by the smaller index.
    #[allow(clippy::needless_range_loop)] // three axes of several arrays
    pub(crate) fn nearest_free(&self, c: &Vec3, keep: &dyn Fn(u32) -> bool) -> Option<(u32, f64)> {
        let mut best: Option<(u32, f64)> = None;
        let mut stack = vec![0u32];
        if self.nodes.is_empty() {
            return None;
        }
        while let Some(k) = stack.pop() {
            let node = &self.nodes[k as usize];
            if node.free == 0 {
                continue;
            }
            let mut dmin2 = 0.0;
            for a in 0..3 {
                let g = (node.lo[a] - c[a]).max(c[a] - node.hi[a]).max(0.0);
                dmin2 += g * g;
            }
            if let Some((_, bd)) = best {
                if dmin2 > bd * bd * (1.0 + 1e-12) {
                    continue;
                }
            }
            if node.left == NONE {
                for s in node.start as usize..node.end as usize {
                    if !self.free[s] || !keep(self.idx[s]) {
                        continue;
                    }
                    let p = &self.pts[s];
                    let d = ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2))
                        .sqrt();
                    let i = self.idx[s];
                    let better = match best {
                        None => true,
                        Some((bi, bd)) => d < bd || (d == bd && i < bi),
                    };
                    if better {
                        best = Some((i, d));
                    }
                }
            } else {
                // visit the nearer child first (pushed last)
                let (l, r) = (
                    &self.nodes[node.left as usize],
                    &self.nodes[node.right as usize],
                );
                let dist2 = |n: &KdNode| {
                    (0..3)
                        .map(|a| {
                            let g = (n.lo[a] - c[a]).max(c[a] - n.hi[a]).max(0.0);
                            g * g
                        })
                        .sum::<f64>()
                };
                if dist2(l) <= dist2(r) {
                    stack.push(node.right);
                    stack.push(node.left);
                } else {
                    stack.push(node.left);
                    stack.push(node.right);
                }
            }
        }
        best
    }
}

fn build(
    points: &[Vec3],
    idx: &mut [u32],
    start: usize,
    end: usize,
    parent: u32,
    nodes: &mut Vec<KdNode>,
) -> u32 {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for &i in &idx[start..end] {
        let p = &points[i as usize];
        for a in 0..3 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let me = nodes.len() as u32;
    nodes.push(KdNode {
        lo,
        hi,
        start: start as u32,
        end: end as u32,
        left: NONE,
        right: NONE,
        parent,
        free: (end - start) as u32,
    });
    if end - start > LEAF {
        let axis = (0..3)
            .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
            .unwrap_or(0);
        let mid = (start + end) / 2;
        idx[start..end].select_nth_unstable_by(mid - start, |&a, &b| {
            points[a as usize][axis]
                .total_cmp(&points[b as usize][axis])
                .then(a.cmp(&b))
        });
        let l = build(points, idx, start, mid, me, nodes);
        let r = build(points, idx, mid, end, me, nodes);
        nodes[me as usize].left = l;
        nodes[me as usize].right = r;
    }
    me
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn shell_matches_brute_force_and_take_hides_points() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let pts: Vec<Vec3> = (0..500)
            .map(|_| [rng.gen::<f64>(), rng.gen::<f64>(), rng.gen::<f64>()])
            .collect();
        let mut t = KdTree::new(&pts);
        for i in (0..500).step_by(3) {
            t.take(i);
        }
        assert_eq!(t.free_count(), 500 - 167);
        for q in 0..20 {
            let c = [rng.gen::<f64>(), rng.gen::<f64>(), rng.gen::<f64>()];
            let dist = |i: u32| {
                let p = pts[i as usize];
                ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2)).sqrt()
            };
            let even = |i: u32| i.is_multiple_of(2);
            let want = (0..500u32)
                .filter(|&i| i % 3 != 0 && even(i))
                .min_by(|&a, &b| dist(a).total_cmp(&dist(b)).then(a.cmp(&b)));
            assert_eq!(t.nearest_free(&c, &even).map(|x| x.0), want);
            let (lo, hi) = (0.05 * q as f64 - 0.2, 0.1 + 0.05 * q as f64);
            let mut got = Vec::new();
            t.shell(&c, lo, hi, &mut got);
            let mut got: Vec<u32> = got.into_iter().map(|g| g.0).collect();
            got.sort_unstable();
            let want: Vec<u32> = (0..500u32)
                .filter(|&i| i % 3 != 0)
                .filter(|&i| {
                    let p = pts[i as usize];
                    let d = ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2))
                        .sqrt();
                    d > lo && d <= hi
                })
                .collect();
            assert_eq!(got, want);
        }
    }
}
