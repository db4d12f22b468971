//! Stable handles, transient rows and the generational arena that maps one to the other.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

/// Structure epochs are unique across every class of every database in the process, so a
/// handle's cached row is trusted only by the class state that issued it.
static NEXT_EPOCH: AtomicU32 = AtomicU32::new(1);

/// A fresh structure epoch (never 0, which no class uses).
pub(crate) fn next_epoch() -> u32 {
    loop {
        let e = NEXT_EPOCH.fetch_add(1, Ordering::Relaxed);
        if e != 0 {
            return e;
        }
    }
}

/// The NULL sentinel stored in pointer columns (a row index that designates nothing).
pub const NULL: u32 = u32::MAX;

/// Identifies a class (table) within one [`Database`](crate::Database).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId(pub(crate) u32);

impl ClassId {
    /// Position of the class in declaration order.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A stable reference to one object.
///
/// A handle is a 32-bit slot index plus a 32-bit generation (non-zero, so `Option<Handle>` costs
/// nothing extra) and the class it belongs to. It stays valid across [`sort`](crate::Database::sort)
/// and the destruction of *other* objects; once its own object is destroyed every access through
/// it returns [`Error::StaleHandle`](crate::Error::StaleHandle). Handles belong to the database
/// that made them.
///
/// A handle also caches the object's row together with the class's *structure epoch* at the
/// time it was made. While the class has not been sorted or compacted since, the cached row is
/// used directly (no slot lookup); afterwards the slot is looked up as usual. Equality,
/// ordering and hashing ignore the cache.
#[derive(Clone, Copy)]
pub struct Handle {
    pub(crate) class: ClassId,
    pub(crate) index: u32,
    pub(crate) generation: NonZeroU32,
    pub(crate) row: u32,
    pub(crate) epoch: u32,
}

impl Handle {
    fn key(&self) -> (ClassId, u32, NonZeroU32) {
        (self.class, self.index, self.generation)
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Handle {}
impl Hash for Handle {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl PartialOrd for Handle {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Handle {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl Handle {
    /// The class of the object.
    pub fn class(self) -> ClassId {
        self.class
    }
    /// The slot index (not the row: rows move when the class is sorted or compacted).
    pub fn slot(self) -> u32 {
        self.index
    }
    /// The slot's generation when this handle was made.
    pub fn generation(self) -> u32 {
        self.generation.get()
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}v{}", self.index, self.generation)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Handle({}:{}v{})",
            self.class.0, self.index, self.generation
        )
    }
}

/// A row index into a class's columns.
///
/// Rows are transient: [`Database::sort`](crate::Database::sort) and
/// [`Database::destroy_many`](crate::Database::destroy_many) move objects to other rows, after
/// which an old `Row` designates another object or nothing. Use a [`Handle`] to keep a
/// reference; use rows inside kernels, between structural changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Row(pub u32);

impl Row {
    /// The row as a slice index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Debug)]
struct Slot {
    generation: NonZeroU32,
    /// Row of the live object, or [`NULL`] when the slot is free.
    row: u32,
}

/// Generational slot arena: handle slot → row.
#[derive(Clone, Debug, Default)]
pub(crate) struct Arena {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Arena {
    /// Allocates a slot pointing at `row`; returns (slot index, generation).
    pub(crate) fn insert(&mut self, row: u32) -> Option<(u32, NonZeroU32)> {
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.row = row;
            return Some((index, slot.generation));
        }
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|&i| i != NULL)?;
        self.slots.push(Slot {
            generation: NonZeroU32::MIN,
            row,
        });
        Some((index, NonZeroU32::MIN))
    }

    /// The row of a live slot with this generation.
    #[inline(always)]
    pub(crate) fn row(&self, index: u32, generation: NonZeroU32) -> Option<u32> {
        self.row_fast(index, generation).filter(|&r| r != NULL)
    }

    /// Like [`row`](Self::row), for hot loops: may return [`NULL`] for a handle that was
    /// never issued by this arena (a freed slot's current generation is never handed out),
    /// which the caller's bounds check then rejects.
    #[inline(always)]
    pub(crate) fn row_fast(&self, index: u32, generation: NonZeroU32) -> Option<u32> {
        match self.slots.get(index as usize) {
            Some(s) if s.generation == generation => Some(s.row),
            _ => None,
        }
    }

    /// Generation of a live slot.
    pub(crate) fn generation(&self, index: u32) -> NonZeroU32 {
        self.slots
            .get(index as usize)
            .map_or(NonZeroU32::MIN, |s| s.generation)
    }

    pub(crate) fn set_row(&mut self, index: u32, row: u32) {
        if let Some(s) = self.slots.get_mut(index as usize) {
            s.row = row;
        }
    }

    /// Frees a slot, bumping its generation so old handles go stale.
    pub(crate) fn remove(&mut self, index: u32) {
        if let Some(s) = self.slots.get_mut(index as usize) {
            s.row = NULL;
            s.generation = s.generation.checked_add(1).unwrap_or(NonZeroU32::MIN);
            self.free.push(index);
        }
    }
}
