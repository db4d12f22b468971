//! Sorting classes by their keys, in dependency order, rewriting every reference.

use std::cmp::Ordering;

use crate::element::private::ColumnData;
use crate::element::Scalar;
use crate::error::{Error, Result};
use crate::handle::{ClassId, NULL};
use crate::Database;

/// A reordering of one class's rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permutation {
    new_to_old: Vec<u32>,
}

impl Permutation {
    /// `new_to_old()[i]` is the row that the object now in row `i` occupied before.
    pub fn new_to_old(&self) -> &[u32] {
        &self.new_to_old
    }
    /// The inverse: `old_to_new()[r]` is the new row of the object that was in row `r`.
    pub fn old_to_new(&self) -> Vec<u32> {
        let mut inv = vec![NULL; self.new_to_old.len()];
        for (n, &o) in self.new_to_old.iter().enumerate() {
            inv[o as usize] = n as u32;
        }
        inv
    }
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.new_to_old.len()
    }
    /// Is the class empty?
    pub fn is_empty(&self) -> bool {
        self.new_to_old.is_empty()
    }
}

/// What [`Database::sort`] moved: one permutation per class whose order changed (classes that
/// were already in order are absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SortReport {
    /// `(class, permutation)` in the order the classes were sorted.
    pub permutations: Vec<(ClassId, Permutation)>,
}

impl SortReport {
    /// Did the sort change nothing?
    pub fn is_noop(&self) -> bool {
        self.permutations.is_empty()
    }
    /// The permutation applied to `class`, if its order changed.
    pub fn get(&self, class: ClassId) -> Option<&Permutation> {
        self.permutations
            .iter()
            .find(|(c, _)| *c == class)
            .map(|(_, p)| p)
    }
}

/// Key values of one column as `f64` (pointers: target row, NULL last).
fn key_values(data: &ColumnData) -> Vec<f64> {
    crate::element::with_data!(data, v => v.iter().map(|x| x.to_f64()).collect())
}

impl Database {
    /// Sorts every class that declares a sort key, stably, by that key.
    ///
    /// A class whose key goes through a pointer is sorted after the class it points to, so
    /// that it sorts by its targets' *new* rows; a cycle of such dependencies is an
    /// [`Error::SortCycle`] (a key through a pointer to the class itself is such a cycle).
    /// Every column is moved, every pointer and matrix that refers to a moved class is
    /// rewritten, and handles stay valid. Sorting an already sorted database moves nothing and
    /// returns an empty report.
    pub fn sort(&mut self) -> Result<SortReport> {
        let order = self.sort_order()?;
        let mut report = SortReport::default();
        for class in order {
            let c = &self.classes[class.index()];
            if c.sort_key.is_empty() || c.len() < 2 {
                continue;
            }
            let keys: Vec<Vec<f64>> = c
                .sort_key
                .iter()
                .map(|&i| key_values(&c.columns[i].data))
                .collect();
            let cmp = |a: usize, b: usize| -> Ordering {
                for k in &keys {
                    match k[a].total_cmp(&k[b]) {
                        Ordering::Equal => continue,
                        o => return o,
                    }
                }
                Ordering::Equal
            };
            let n = c.len();
            if (1..n).all(|i| cmp(i - 1, i) != Ordering::Greater) {
                continue;
            }
            let new_to_old: Vec<u32> = if keys.len() == 1 {
                let mut pairs: Vec<(f64, u32)> = keys[0]
                    .iter()
                    .enumerate()
                    .map(|(i, &k)| (k, i as u32))
                    .collect();
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                pairs.into_iter().map(|(_, i)| i).collect()
            } else {
                let mut idx: Vec<u32> = (0..n as u32).collect();
                idx.sort_by(|&a, &b| cmp(a as usize, b as usize));
                idx
            };
            let perm = Permutation { new_to_old };
            let old_to_new = perm.old_to_new();
            self.remap(class, &perm.new_to_old, &old_to_new);
            report.permutations.push((class, perm));
        }
        Ok(report)
    }

    /// Classes in an order where every class comes after the classes its sort key points to.
    fn sort_order(&self) -> Result<Vec<ClassId>> {
        let n = self.classes.len();
        // deps[c] = classes that must be sorted before c.
        let deps: Vec<Vec<usize>> = self
            .classes
            .iter()
            .map(|c| {
                let mut d: Vec<usize> = c
                    .sort_key
                    .iter()
                    .filter_map(|&i| c.columns[i].target.map(|t| t.index()))
                    .collect();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect();
        // Depth-first topological sort with cycle reporting.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut mark = vec![Mark::New; n];
        let mut order = Vec::with_capacity(n);
        for start in 0..n {
            if mark[start] != Mark::New {
                continue;
            }
            // Stack of (class, next dependency to visit).
            let mut stack = vec![(start, 0usize)];
            mark[start] = Mark::Active;
            while let Some(&mut (c, ref mut next)) = stack.last_mut() {
                if let Some(&d) = deps[c].get(*next) {
                    *next += 1;
                    match mark[d] {
                        Mark::New => {
                            mark[d] = Mark::Active;
                            stack.push((d, 0));
                        }
                        Mark::Active => {
                            let pos = stack.iter().position(|&(s, _)| s == d).unwrap_or(0);
                            let mut cycle: Vec<String> = stack[pos..]
                                .iter()
                                .map(|&(s, _)| self.classes[s].name.clone())
                                .collect();
                            cycle.push(self.classes[d].name.clone());
                            return Err(Error::SortCycle(cycle));
                        }
                        Mark::Done => {}
                    }
                } else {
                    mark[c] = Mark::Done;
                    order.push(ClassId(c as u32));
                    stack.pop();
                }
            }
        }
        Ok(order)
    }
}
