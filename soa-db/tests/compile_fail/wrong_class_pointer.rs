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
    pointers {
        cell: Cell,
    }
}

fn main() -> soa_db::Result<()> {
    let mut db = Database::new();
    let s = Synapse::new(&mut db)?;
    let other = Synapse::new(&mut db)?;
    // A synapse handle where a cell handle is required.
    s.set_cell(&mut db, Some(other))?;
    Ok(())
}
