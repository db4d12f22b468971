//! dev tool
fn strip(s: &str) -> String { let mut out = String::new(); let mut chars = s.chars().peekable(); while let Some(c) = chars.next() { if c == '@' { while let Some(&d) = chars.peek() { if d.is_ascii_digit() || d == '.' || d == ':' { chars.next(); } else { break; } } } else { out.push(c); } } out }
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let mut paths = vec![];
    for org in std::fs::read_dir(&dir).unwrap() { for f in std::fs::read_dir(org.unwrap().path()).unwrap() { let p = f.unwrap().path(); if p.extension().map(|e| e=="mod").unwrap_or(false) { paths.push(p); } } }
    paths.sort();
    let mut bad = 0;
    for p in &paths {
        let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
        let (m, _) = nmodl::parser::parse(&text, 0);
        let printed = nmodl::printer::print_module(&m);
        let (m2, d2) = nmodl::parser::parse(&printed, 0);
        let a = strip(&format!("{m:?}")); let b = strip(&format!("{m2:?}"));
        if a != b || d2.iter().any(|d| d.is_error()) { bad += 1; println!("MISMATCH {}", p.display()); if bad < 3 { std::fs::write("/tmp/a.txt", &a).unwrap(); std::fs::write("/tmp/b.txt", &b).unwrap(); std::fs::write("/tmp/p.mod", &printed).unwrap(); for d in &d2 { println!("  {:?}", d); } } }
    }
    println!("{} files, {bad} mismatches", paths.len());
}
