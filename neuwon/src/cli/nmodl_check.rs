//! `neuwon nmodl check FILE.mod… [--emit ast|nmodl|ir]`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

/// What to print for each file that parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The syntax tree with spans.
    Ast,
    /// The syntax tree printed back as NMODL.
    Nmodl,
    /// The lowered mechanism IR.
    Ir,
}

/// Arguments of `neuwon nmodl check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The .mod files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print the tree, the NMODL text or the IR of each file to stdout.
    #[arg(long, value_enum)]
    emit: Option<Emit>,
    /// Evaluate TABLE functions exactly instead of tabulating them as NEURON does.
    #[arg(long)]
    no_tables: bool,
    /// Extra folders searched for INCLUDE files.
    #[arg(short = 'I', long = "include")]
    include: Vec<PathBuf>,
    /// Do not print warnings.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Checks every file; diagnostics go to stderr.
pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let mut opts = nmodl::Options::default();
    opts.lower.use_tables = !args.no_tables;
    opts.include_dirs = args.include.clone();
    let mut failed = 0usize;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // Diagnostics go to stderr; a closed stderr must not panic (unlike `eprintln!`).
    let mut err = std::io::stderr().lock();
    for path in &args.files {
        let (sources, output) = match nmodl::compile_file(path, &opts) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "{e}");
                failed += 1;
                continue;
            }
        };
        for d in &output.diagnostics {
            if d.is_error() || !args.quiet {
                let _ = write!(err, "{}", sources.render(d));
            }
        }
        match args.emit {
            Some(Emit::Ast) => writeln!(out, "{:#?}", output.module),
            Some(Emit::Nmodl) => write!(out, "{}", nmodl::print_module(&output.module)),
            Some(Emit::Ir) => match &output.mechanism {
                Some(m) => write!(out, "{m}"),
                None => Ok(()),
            },
            None => Ok(()),
        }
        .context("writing to stdout")?;
        if output.mechanism.is_none() {
            failed += 1;
            let _ = writeln!(
                err,
                "{}: {} error(s); not lowered",
                path.display(),
                output.error_count()
            );
        }
    }
    if failed == 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        if args.files.len() > 1 {
            let _ = writeln!(err, "{failed} of {} file(s) failed", args.files.len());
        }
        Ok(ExitCode::from(1))
    }
}
