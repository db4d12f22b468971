use soa_db::Database;

soa_db::class! {
    pub struct Cell {
        count: u32 = 0,
    }
}

fn main() -> soa_db::Result<()> {
    let mut db = Database::new();
    let c = Cell::new(&mut db)?;
    // `count` is a u32, not an f64.
    c.set_count(&mut db, 1.5)?;
    Ok(())
}
