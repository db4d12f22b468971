//! Dev tool: print the IR of a file.
fn main() {
    let p = std::env::args().nth(1).unwrap_or_default();
    match nmodl::compile_file(std::path::Path::new(&p), &Default::default()) {
        Ok((sm, out)) => {
            print!("{}", sm.render_all(&out.diagnostics));
            if let Some(m) = out.mechanism { print!("{m}"); }
        }
        Err(e) => println!("{e}"),
    }
}
