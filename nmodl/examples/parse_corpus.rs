fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let mut total = 0; let mut ok = 0;
    let mut paths = vec![];
    for org in std::fs::read_dir(&dir).unwrap() { for f in std::fs::read_dir(org.unwrap().path()).unwrap() { let p = f.unwrap().path(); if p.extension().map(|e| e=="mod").unwrap_or(false) { paths.push(p); } } }
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap_or_else(|_| String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned());
        let mut sm = nmodl::diagnostics::SourceMap::new();
        let id = sm.add(p.display().to_string(), text.clone());
        let (_m, d) = nmodl::parser::parse(&text, id);
        total += 1;
        let errs: Vec<_> = d.iter().filter(|d| d.is_error()).collect();
        if errs.is_empty() { ok += 1 } else { print!("{}", sm.render(errs[0])); }
    }
    println!("{ok}/{total}");
}
