//! Source files, spans and diagnostics.
//!
//! Every node the parser builds carries a [`Span`] (file, byte range). Passes report problems as
//! [`Diagnostic`]s; nothing in the crate panics on bad input. [`SourceMap::render`] prints them as
//! `file:line:col: error[CODE]: message`, the source line, a caret and `help:`.

use std::fmt::{self, Write as _};

/// Index of a file inside a [`SourceMap`].
pub type FileId = u16;

/// A byte range in one source file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The file the range belongs to.
    pub file: FileId,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span over `start..end` in `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both (same file assumed; otherwise `self`).
    pub fn to(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}:{}..{}", self.file, self.start, self.end)
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Informational note.
    Note,
    /// Accepted, but probably not what the author meant.
    Warning,
    /// The file cannot be lowered.
    Error,
}

/// One problem found in a source file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, e.g. `E0101`; listed in [`codes`].
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// What to change, when we know.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            help: None,
        }
    }

    /// A warning.
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            code,
            message: message.into(),
            span,
            help: None,
        }
    }

    /// Adds a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this diagnostic is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostic codes. `E00xx` lexing, `E01xx` parsing, `E02xx` names and declarations,
/// `E03xx` ions, `E04xx` units, `E05xx` lowering, `E06xx` compatibility (constructs that cannot
/// be executed), `W....` warnings.
pub mod codes {
    /// A character that no NMODL token starts with.
    pub const UNKNOWN_CHAR: &str = "E0001";
    /// A COMMENT, VERBATIM or string that never ends.
    pub const UNTERMINATED: &str = "E0002";
    /// A malformed number.
    pub const BAD_NUMBER: &str = "E0003";
    /// The parser expected something else.
    pub const EXPECTED: &str = "E0101";
    /// A block keyword that does not belong where it is.
    pub const ILLEGAL_BLOCK: &str = "E0102";
    /// An INCLUDE that cannot be read.
    pub const INCLUDE: &str = "E0103";
    /// A name used but never declared.
    pub const UNDEFINED: &str = "E0201";
    /// A name declared twice.
    pub const DUPLICATE: &str = "E0202";
    /// A name used as the wrong kind of thing (e.g. assigning to a PARAMETER in a kernel).
    pub const WRONG_KIND: &str = "E0203";
    /// A call with the wrong number of arguments.
    pub const ARITY: &str = "E0204";
    /// No SUFFIX / POINT_PROCESS / ARTIFICIAL_CELL.
    pub const NO_MECHANISM: &str = "E0205";
    /// USEION names a variable that is not a variable of that ion.
    pub const ION_VARIABLE: &str = "E0301";
    /// A unit that is not in the units database.
    pub const UNKNOWN_UNIT: &str = "E0401";
    /// A unit conversion between different dimensions.
    pub const UNIT_MISMATCH: &str = "E0402";
    /// SOLVE names a block that does not exist or cannot be solved that way.
    pub const SOLVE: &str = "E0501";
    /// A construct that lowering does not handle.
    pub const LOWER: &str = "E0502";
    /// A construct that cannot be executed without a C compiler (VERBATIM, ...).
    pub const UNSUPPORTED: &str = "E0601";
    /// Assignment to a variable READ from an ion but not written.
    pub const W_READ_ONLY_ION: &str = "W0301";
    /// A current the mechanism contributes that BREAKPOINT never assigns.
    pub const W_CURRENT_UNASSIGNED: &str = "W0302";
    /// Generic warning from lowering (e.g. cnexp on a nonlinear equation).
    pub const W_LOWER: &str = "W0501";
    /// Accepted here, but NEURON 9 rejects it (a dialect leniency).
    pub const W_DIALECT: &str = "W0601";
    /// A declaration NEURON ignores.
    pub const W_IGNORED: &str = "W0201";
}

/// One loaded source file with its line index.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Name as shown in diagnostics (usually the path given by the user).
    pub name: String,
    /// Full text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Builds the line index.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    /// Text of a 1-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }
}

/// All files of one compilation (a `.mod` file and what it INCLUDEs).
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(name, text));
        (self.files.len() - 1) as FileId
    }

    /// A file by id.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id as usize)
    }

    /// The source text a span covers (empty when out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }

    /// Formats one diagnostic: `file:line:col: error[CODE]: message`, the line, a caret, `help:`.
    pub fn render(&self, d: &Diagnostic) -> String {
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let mut out = String::new();
        let Some(file) = self.get(d.span.file) else {
            let _ = writeln!(out, "<unknown>: {sev}[{}]: {}", d.code, d.message);
            return out;
        };
        let (line, col) = file.line_col(d.span.start as usize);
        let _ = writeln!(
            out,
            "{}:{line}:{col}: {sev}[{}]: {}",
            file.name, d.code, d.message
        );
        let text = file.line_text(line);
        let gutter = line.to_string().len();
        let _ = writeln!(out, "{:gutter$} |", "");
        let _ = writeln!(out, "{line} | {text}");
        let (end_line, end_col) = file.line_col(d.span.end as usize);
        let width = if end_line == line && end_col > col {
            end_col - col
        } else {
            1
        };
        let pad: String = text
            .chars()
            .take(col.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = writeln!(out, "{:gutter$} | {pad}{}", "", "^".repeat(width.max(1)));
        if let Some(h) = &d.help {
            let _ = writeln!(out, "{:gutter$} = help: {h}", "");
        }
        out
    }

    /// Renders every diagnostic, in order.
    pub fn render_all(&self, ds: &[Diagnostic]) -> String {
        ds.iter().map(|d| self.render(d)).collect()
    }
}
