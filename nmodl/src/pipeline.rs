//! The whole frontend in one call: read, parse (expanding INCLUDEs), check compatibility,
//! analyse and lower.

use std::path::{Path, PathBuf};

use crate::ast::{ItemKind, Module};
use crate::diagnostics::{codes, Diagnostic, FileId, SourceMap};
use crate::ir::Mechanism;
use crate::lower::LowerOptions;
use crate::{analysis, compat, lower, parser, Error};

/// Options for [`compile`].
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Lowering options.
    pub lower: LowerOptions,
    /// Extra folders searched for INCLUDE files (after the including file's own folder).
    pub include_dirs: Vec<PathBuf>,
}

/// What the frontend produced for one file.
#[derive(Clone, Debug)]
pub struct Output {
    /// The syntax tree (INCLUDEs expanded in place).
    pub module: Module,
    /// The lowered mechanism; `None` when there is any error.
    pub mechanism: Option<Mechanism>,
    /// Every diagnostic, errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Output {
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

const MAX_INCLUDE_DEPTH: usize = 8;

fn expand_includes(
    module: &mut Module,
    sources: &mut SourceMap,
    file: FileId,
    opts: &Options,
    depth: usize,
    diags: &mut Vec<Diagnostic>,
) {
    if !module
        .items
        .iter()
        .any(|i| matches!(i.kind, ItemKind::Include(_)))
    {
        return;
    }
    let base = sources
        .get(file)
        .and_then(|f| Path::new(&f.name).parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let items = std::mem::take(&mut module.items);
    for item in items {
        let ItemKind::Include(name) = &item.kind else {
            module.items.push(item);
            continue;
        };
        if depth >= MAX_INCLUDE_DEPTH {
            diags.push(Diagnostic::error(
                codes::INCLUDE,
                item.span,
                format!("INCLUDE nested more than {MAX_INCLUDE_DEPTH} deep (a cycle?)"),
            ));
            continue;
        }
        let candidates =
            std::iter::once(base.join(name)).chain(opts.include_dirs.iter().map(|d| d.join(name)));
        let found = candidates.into_iter().find_map(|p| {
            std::fs::read(&p)
                .ok()
                .map(|b| (p, String::from_utf8_lossy(&b).into_owned()))
        });
        let Some((path, text)) = found else {
            diags.push(
                Diagnostic::error(
                    codes::INCLUDE,
                    item.span,
                    format!("cannot find INCLUDE file \"{name}\""),
                )
                .with_help(
                    "put the file next to the .mod file or pass its folder as an include directory",
                ),
            );
            continue;
        };
        let id = sources.add(path.display().to_string(), text);
        let src = sources.get(id).map(|f| f.text.clone()).unwrap_or_default();
        let (mut inc, d) = parser::parse(&src, id);
        diags.extend(d);
        expand_includes(&mut inc, sources, id, opts, depth + 1, diags);
        module.items.push(item);
        module.items.extend(inc.items);
    }
}

/// Parses, checks, analyses and lowers file `file` of `sources`.
pub fn compile(sources: &mut SourceMap, file: FileId, opts: &Options) -> Output {
    let text = sources
        .get(file)
        .map(|f| f.text.clone())
        .unwrap_or_default();
    let (mut module, mut diagnostics) = parser::parse(&text, file);
    expand_includes(&mut module, sources, file, opts, 0, &mut diagnostics);
    compat::check(&module, &mut diagnostics);
    let mut an = analysis::analyse(&module, &mut diagnostics);
    if an.name.is_none() {
        // NEURON names a mechanism without SUFFIX after its file.
        let stem = sources
            .get(file)
            .and_then(|f| {
                Path::new(&f.name)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "unnamed".into());
        let span = module.items.first().map(|i| i.span).unwrap_or_default();
        diagnostics.push(Diagnostic::warning(
            codes::W_IGNORED,
            crate::Span { end: span.start, ..span },
            format!("no SUFFIX, POINT_PROCESS or ARTIFICIAL_CELL: the mechanism is named `{stem}` after its file, as NEURON does"),
        ));
        an.name = Some(stem);
    }
    let lowered = lower::lower(&module, &an, &opts.lower, &mut diagnostics);
    let mechanism = if diagnostics.iter().any(|d| d.is_error()) {
        None
    } else {
        lowered
    };
    Output {
        module,
        mechanism,
        diagnostics,
    }
}

/// Compiles NMODL text given as a string (INCLUDEs are looked up relative to `name`).
pub fn compile_str(name: &str, text: &str, opts: &Options) -> (SourceMap, Output) {
    let mut sources = SourceMap::new();
    let id = sources.add(name, text);
    let out = compile(&mut sources, id, opts);
    (sources, out)
}

/// Reads and compiles a `.mod` file. Invalid UTF-8 is replaced, not refused.
pub fn compile_file(path: &Path, opts: &Options) -> Result<(SourceMap, Output), Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(compile_str(&path.display().to_string(), &text, opts))
}
