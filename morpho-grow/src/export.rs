//! SWC export of grown forests.
//!
//! Ids are 1..N in the forest's topological order; a root (soma) is one sample with parent
//! −1 and the soma's radius; radius = diameter / 2. With
//! [`ExportOptions::soma_surface_node`] (the default) every segment that leaves a soma starts
//! at an extra sample on the soma surface, on the line to its first point (at the centre when
//! that point lies inside the soma), so the first dendritic segment does not start in the
//! soma's centre.

use crate::grow::{dist, Forest};
use crate::swc::{write_samples, SwcSample};

/// Options of [`forest_to_samples`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// Insert a sample on the soma surface where a segment leaves a soma (default true).
    pub soma_surface_node: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            soma_surface_node: true,
        }
    }
}

/// The forest as SWC samples (several roots when it holds several neurons).
pub fn forest_to_samples(forest: &Forest, opts: ExportOptions) -> Vec<SwcSample> {
    let mut out = Vec::with_capacity(forest.nodes.len());
    let mut id_of = vec![0i64; forest.nodes.len()];
    let mut next = 1i64;
    for (i, n) in forest.nodes.iter().enumerate() {
        let mut parent_id = -1;
        if let Some(p) = n.parent {
            let pn = &forest.nodes[p as usize];
            parent_id = id_of[p as usize];
            if opts.soma_surface_node && pn.parent.is_none() {
                let r = 0.5 * pn.diameter;
                let d = dist(&pn.coords, &n.coords);
                let f = if d > r { r / d } else { 0.0 };
                let c = [
                    pn.coords[0] + f * (n.coords[0] - pn.coords[0]),
                    pn.coords[1] + f * (n.coords[1] - pn.coords[1]),
                    pn.coords[2] + f * (n.coords[2] - pn.coords[2]),
                ];
                out.push(SwcSample {
                    id: next,
                    kind: n.kind,
                    x: c[0],
                    y: c[1],
                    z: c[2],
                    radius: 0.5 * n.diameter,
                    parent: parent_id,
                    line: 0,
                });
                parent_id = next;
                next += 1;
            }
        }
        out.push(SwcSample {
            id: next,
            kind: n.kind,
            x: n.coords[0],
            y: n.coords[1],
            z: n.coords[2],
            radius: 0.5 * n.diameter,
            parent: parent_id,
            line: 0,
        });
        id_of[i] = next;
        next += 1;
    }
    out
}

/// The forest as SWC text.
pub fn forest_to_swc(forest: &Forest, opts: ExportOptions) -> String {
    write_samples(&forest_to_samples(forest, opts))
}
