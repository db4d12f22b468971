use soa_db::Database;

soa_db::class! {
    pub struct Cell {
        soma_diameter: f64 = 1.0,
    }
}

soa_db::class! {
    pub struct Synapse {
        weight: f64 = 0.0,
    }
}

fn main() -> soa_db::Result<()> {
    let mut db = Database::new();
    let s = Synapse::new(&mut db)?;
    // A synapse has no `soma_diameter`: that attribute belongs to cells.
    let _ = s.soma_diameter(&db)?;
    Ok(())
}
