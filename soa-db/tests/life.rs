//! The Game of Life example, checked against the known behaviour of still lifes, oscillators
//! and gliders.

#![allow(clippy::unwrap_used)]

#[path = "../examples/life.rs"]
#[allow(dead_code)]
mod life;

use life::Life;

#[test]
fn blinker_has_period_two() {
    let mut l = Life::new(8, 8).unwrap();
    l.seed(&[(2, 3), (3, 3), (4, 3)]).unwrap();
    l.step().unwrap();
    assert_eq!(l.live_cells().unwrap(), vec![(3, 2), (3, 3), (3, 4)]);
    l.step().unwrap();
    assert_eq!(l.live_cells().unwrap(), vec![(2, 3), (3, 3), (4, 3)]);
}

#[test]
fn block_is_still() {
    let mut l = Life::new(6, 6).unwrap();
    let block = [(2, 2), (3, 2), (2, 3), (3, 3)];
    l.seed(&block).unwrap();
    for _ in 0..5 {
        l.step().unwrap();
    }
    assert_eq!(l.live_cells().unwrap(), block.to_vec());
}

#[test]
fn glider_moves_one_diagonal_step_every_four_generations_and_wraps() {
    let (w, h) = (10, 7);
    let mut l = Life::new(w, h).unwrap();
    let glider = [(1, 0), (2, 1), (0, 2), (1, 2), (2, 2)];
    l.seed(&glider).unwrap();
    for k in 1..=20 {
        for _ in 0..4 {
            l.step().unwrap();
        }
        let mut want: Vec<(i32, i32)> = glider
            .iter()
            .map(|&(x, y)| ((x + k).rem_euclid(w), (y + k).rem_euclid(h)))
            .collect();
        want.sort_by_key(|&(x, y)| (y, x));
        assert_eq!(l.live_cells().unwrap(), want, "after {} generations", 4 * k);
    }
}

#[test]
fn sorting_put_cells_in_raster_order() {
    let l = Life::new(5, 4).unwrap();
    let xs = l.db.column::<i32>(l.class, "x").unwrap();
    let ys = l.db.column::<i32>(l.class, "y").unwrap();
    for i in 0..20 {
        assert_eq!((xs[i], ys[i]), ((i % 5) as i32, (i / 5) as i32));
    }
    let adj = l.db.matrix(l.class, "adjacent").unwrap();
    assert_eq!(adj.nnz(), 20 * 8);
    // Row 6 is (1, 1): its neighbours are the 8 cells around it.
    assert_eq!(
        adj.outer_view(6).unwrap().indices(),
        &[0, 1, 2, 5, 7, 10, 11, 12]
    );
}
