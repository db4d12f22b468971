//! Sparse matrices between classes (CSR, exposed as `sprs` views) and boolean connectivity.

use sprs::CsMatView;

use crate::handle::{ClassId, NULL};

/// What a matrix holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixKind {
    /// Real-valued entries (e.g. coupling weights), in the matrix's units.
    Real,
    /// Boolean connectivity: an entry exists or not. Stored entries are exactly `1.0`, so a
    /// matrix–vector product counts connected neighbours.
    Connectivity,
}

/// CSR storage of a matrix between the objects of its class (rows) and of its target (columns).
///
/// Invariants: `indptr.len() == rows + 1`; within each row, `indices` are strictly increasing
/// and below `ncols`; `ncols` equals the target class's length.
#[derive(Clone, Debug)]
pub(crate) struct Matrix {
    pub(crate) name: String,
    pub(crate) doc: String,
    pub(crate) units: String,
    pub(crate) kind: MatrixKind,
    pub(crate) target: ClassId,
    pub(crate) ncols: usize,
    pub(crate) indptr: Vec<usize>,
    pub(crate) indices: Vec<usize>,
    pub(crate) data: Vec<f64>,
}

impl Matrix {
    pub(crate) fn nrows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub(crate) fn view(&self) -> Option<CsMatView<'_, f64>> {
        CsMatView::try_new(
            (self.nrows(), self.ncols),
            &self.indptr[..],
            &self.indices[..],
            &self.data[..],
        )
        .ok()
    }

    /// Replaces the contents from (row, col, value) triplets; duplicates are summed
    /// (connectivity: kept once). Caller has checked bounds.
    pub(crate) fn set_triplets(&mut self, nrows: usize, mut t: Vec<(usize, usize, f64)>) {
        t.sort_by_key(|a| (a.0, a.1));
        let mut indptr = vec![0usize; nrows + 1];
        let mut indices = Vec::with_capacity(t.len());
        let mut data: Vec<f64> = Vec::with_capacity(t.len());
        let mut last: Option<(usize, usize)> = None;
        for (r, c, v) in t {
            if last == Some((r, c)) {
                if self.kind == MatrixKind::Real {
                    if let Some(d) = data.last_mut() {
                        *d += v;
                    }
                }
                continue;
            }
            last = Some((r, c));
            indptr[r + 1] += 1;
            indices.push(c);
            data.push(if self.kind == MatrixKind::Connectivity {
                1.0
            } else {
                v
            });
        }
        for r in 0..nrows {
            indptr[r + 1] += indptr[r];
        }
        self.indptr = indptr;
        self.indices = indices;
        self.data = data;
    }

    /// Keeps rows `new_to_old` in that order.
    pub(crate) fn gather_rows(&mut self, new_to_old: &[u32]) {
        let mut indptr = Vec::with_capacity(new_to_old.len() + 1);
        indptr.push(0);
        let mut indices = Vec::with_capacity(self.indices.len());
        let mut data = Vec::with_capacity(self.data.len());
        for &o in new_to_old {
            let (a, b) = (self.indptr[o as usize], self.indptr[o as usize + 1]);
            indices.extend_from_slice(&self.indices[a..b]);
            data.extend_from_slice(&self.data[a..b]);
            indptr.push(indices.len());
        }
        self.indptr = indptr;
        self.indices = indices;
        self.data = data;
    }

    /// Renames columns through `old_to_new` (dropping those mapped to NULL) and re-sorts rows.
    pub(crate) fn remap_cols(&mut self, old_to_new: &[u32], ncols: usize) {
        let mut indptr = Vec::with_capacity(self.indptr.len());
        indptr.push(0);
        let mut indices = Vec::with_capacity(self.indices.len());
        let mut data = Vec::with_capacity(self.data.len());
        let mut row: Vec<(usize, f64)> = Vec::new();
        for r in 0..self.nrows() {
            row.clear();
            for k in self.indptr[r]..self.indptr[r + 1] {
                let n = old_to_new[self.indices[k]];
                if n != NULL {
                    row.push((n as usize, self.data[k]));
                }
            }
            row.sort_unstable_by_key(|e| e.0);
            for &(c, v) in &row {
                indices.push(c);
                data.push(v);
            }
            indptr.push(indices.len());
        }
        self.indptr = indptr;
        self.indices = indices;
        self.data = data;
        self.ncols = ncols;
    }
}
