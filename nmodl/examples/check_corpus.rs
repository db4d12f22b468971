//! Dev tool: compile every corpus file and print the first error of each failing one.
fn main() {
    let dir = std::env::args().nth(1).unwrap_or_default();
    let mut paths = vec![];
    for org in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(org.path()).into_iter().flatten().flatten() {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "mod") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    let (mut ok, mut parsed) = (0, 0);
    let t = std::time::Instant::now();
    for p in &paths {
        let Ok((sm, out)) = nmodl::compile_file(p, &Default::default()) else { continue };
        if out.mechanism.is_some() {
            ok += 1;
        }
        let parse_errs = out.diagnostics.iter().any(|d| d.is_error() && d.code.starts_with("E00") || d.code.starts_with("E01"));
        if !parse_errs {
            parsed += 1;
        }
        if let Some(d) = out.diagnostics.iter().find(|d| d.is_error()) {
            print!("{}", sm.render(d).lines().next().unwrap_or(""));
            println!();
        }
    }
    println!("parsed {parsed} lowered {ok} / {} in {:?}", paths.len(), t.elapsed());
}
