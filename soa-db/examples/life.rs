//! Conway's Game of Life on `soa-db` alone: cells are a class, neighbours a connectivity
//! matrix, and a generation is two passes over plain columns.
//!
//! ```text
//! cargo run -p soa-db --example life -- [GENERATIONS] [WIDTH] [HEIGHT]
//! ```
//!
//! Cells are created in a scrambled order, then sorted by their `(y, x)` key, which moves
//! every column and rewrites the neighbour matrix, so rows end up in raster order.

use soa_db::{ClassId, Database, MatrixKind, Result};

soa_db::class! {
    /// One square of a toroidal board.
    pub struct Cell {
        /// Is the cell alive in the current generation?
        alive: bool = false,
        /// Column on the board.
        #[units = "cells"]
        x: i32 = 0,
        /// Row on the board.
        #[units = "cells"]
        y: i32 = 0,
        /// Live neighbours counted for the next generation.
        #[range = 0.0..=8.0]
        live_neighbours: u8 = 0,
    }
}

/// A board of `width × height` cells.
pub struct Life {
    /// The database holding the cells.
    pub db: Database,
    /// The `Cell` class.
    pub class: ClassId,
    /// Board width in cells.
    pub width: i32,
    /// Board height in cells.
    pub height: i32,
}

impl Life {
    /// An empty board, built in scrambled order and then sorted into raster order.
    pub fn new(width: i32, height: i32) -> Result<Life> {
        let mut db = Database::new();
        let class = Cell::class_id(&mut db)?;
        db.class_mut(class)?
            .add_matrix(
                "adjacent",
                "Cell",
                MatrixKind::Connectivity,
                "",
                "Moore neighbourhood",
            )?
            .sort_key(&["y", "x"])?;
        // Scramble creation order with a stride coprime to the cell count.
        let n = (width * height) as usize;
        let stride = (1..n)
            .rev()
            .find(|s| gcd(*s, n) == 1 && *s < n / 2 + 2)
            .unwrap_or(1);
        let mut cells = vec![None; n];
        for k in 0..n {
            let i = (k * stride) % n;
            let c = Cell::new(&mut db)?;
            c.set_x(&mut db, (i as i32) % width)?;
            c.set_y(&mut db, (i as i32) / width)?;
            cells[i] = Some(c);
        }
        let mut edges = Vec::with_capacity(n * 8);
        for i in 0..n as i32 {
            let (x, y) = (i % width, i / width);
            for (dx, dy) in [
                (-1, -1),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                let j = (y + dy).rem_euclid(height) * width + (x + dx).rem_euclid(width);
                if let (Some(a), Some(b)) = (cells[i as usize], cells[j as usize]) {
                    edges.push((a.handle(), b.handle(), 1.0));
                }
            }
        }
        db.set_matrix_entries(class, "adjacent", &edges)?;
        db.sort()?;
        Ok(Life {
            db,
            class,
            width,
            height,
        })
    }

    /// Sets cells alive from `(x, y)` coordinates.
    pub fn seed(&mut self, live: &[(i32, i32)]) -> Result<()> {
        let alive = self.db.column_mut::<bool>(self.class, "alive")?;
        for &(x, y) in live {
            let i = y.rem_euclid(self.height) * self.width + x.rem_euclid(self.width);
            alive[i as usize] = true;
        }
        Ok(())
    }

    /// Advances one generation.
    pub fn step(&mut self) -> Result<()> {
        let mut cols = self.db.columns_mut();
        let adjacent = cols.matrix(self.class, "adjacent")?;
        let count = cols.take::<u8>(self.class, "live_neighbours")?;
        let alive = cols.take::<bool>(self.class, "alive")?;
        for (row, neighbours) in adjacent.outer_iterator().enumerate() {
            count[row] = neighbours.indices().iter().filter(|&&j| alive[j]).count() as u8;
        }
        for (a, &n) in alive.iter_mut().zip(count.iter()) {
            *a = n == 3 || (*a && n == 2);
        }
        Ok(())
    }

    /// The live cells as `(x, y)`, in raster order.
    pub fn live_cells(&self) -> Result<Vec<(i32, i32)>> {
        let alive = self.db.column::<bool>(self.class, "alive")?;
        let xs = self.db.column::<i32>(self.class, "x")?;
        let ys = self.db.column::<i32>(self.class, "y")?;
        Ok((0..alive.len())
            .filter(|&i| alive[i])
            .map(|i| (xs[i], ys[i]))
            .collect())
    }

    /// The board as text, `#` for live cells.
    pub fn render(&self) -> Result<String> {
        let alive = self.db.column::<bool>(self.class, "alive")?;
        let mut s = String::new();
        for row in alive.chunks(self.width as usize) {
            s.extend(row.iter().map(|&a| if a { '#' } else { '.' }));
            s.push('\n');
        }
        Ok(s)
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A glider, a blinker and an R-pentomino.
pub const START: &[(i32, i32)] = &[
    (1, 0),
    (2, 1),
    (0, 2),
    (1, 2),
    (2, 2), // glider
    (30, 3),
    (31, 3),
    (32, 3), // blinker
    (20, 11),
    (21, 11),
    (19, 12),
    (20, 12),
    (20, 13), // R-pentomino
];

#[allow(dead_code)]
fn main() {
    let mut args = std::env::args().skip(1);
    let mut next =
        |default: i64| -> i64 { args.next().and_then(|a| a.parse().ok()).unwrap_or(default) };
    let generations = next(60).max(0);
    let width = next(40).clamp(4, 400) as i32;
    let height = next(24).clamp(4, 400) as i32;
    if let Err(e) = run(generations, width, height) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(generations: i64, width: i32, height: i32) -> Result<()> {
    let mut life = Life::new(width, height)?;
    life.seed(START)?;
    for g in 0..=generations {
        if g % 20 == 0 || g == generations {
            println!("generation {g}: {} live cells", life.live_cells()?.len());
            println!("{}", life.render()?);
        }
        if g < generations {
            life.step()?;
        }
    }
    let problems = life.db.check();
    println!("check(): {} violation(s)", problems.len());
    for p in problems {
        println!("  {p}");
    }
    Ok(())
}
