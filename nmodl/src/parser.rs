//! Hand-written recursive-descent parser.
//!
//! [`parse`] always returns a [`Module`] plus every diagnostic it found: after an error it skips
//! to the next line (or closing brace) and goes on, so one typo does not hide the rest of the
//! file. Numbers written after a `DEFINE` name as array sizes are resolved here.

use std::collections::HashMap;

use crate::ast::*;
use crate::diagnostics::{codes, Diagnostic, FileId, Span};
use crate::lexer::{lex, Tok, Token};

/// Parses one source text. `file` is the id used in spans.
pub fn parse(src: &str, file: FileId) -> (Module, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let toks = lex(src, file, &mut diags);
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        diags,
        defines: HashMap::new(),
        depth: 0,
    };
    let module = p.module();
    (module, p.diags)
}

/// The parser failed at the current token; the diagnostic is already recorded.
struct Fail;

type PResult<T> = Result<T, Fail>;

/// Nesting limit for expressions and blocks (protects the stack from hostile input).
const MAX_DEPTH: u32 = 64;

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    diags: Vec<Diagnostic>,
    defines: HashMap<String, f64>,
    depth: u32,
}

const TOP_KEYWORDS: &[&str] = &[
    "NEURON",
    "UNITS",
    "PARAMETER",
    "ASSIGNED",
    "STATE",
    "CONSTANT",
    "INDEPENDENT",
    "INITIAL",
    "BREAKPOINT",
    "DERIVATIVE",
    "KINETIC",
    "LINEAR",
    "NONLINEAR",
    "FUNCTION",
    "PROCEDURE",
    "FUNCTION_TABLE",
    "NET_RECEIVE",
    "BEFORE",
    "AFTER",
    "CONSTRUCTOR",
    "DESTRUCTOR",
    "INCLUDE",
    "DEFINE",
    "UNITSON",
    "UNITSOFF",
    "DISCRETE",
    "PARTIAL",
    "TERMINAL",
    "LOCAL",
];

const NEURON_KEYWORDS: &[&str] = &[
    "SUFFIX",
    "POINT_PROCESS",
    "ARTIFICIAL_CELL",
    "USEION",
    "READ",
    "WRITE",
    "VALENCE",
    "REPRESENTS",
    "NONSPECIFIC_CURRENT",
    "ELECTRODE_CURRENT",
    "RANGE",
    "GLOBAL",
    "POINTER",
    "BBCOREPOINTER",
    "EXTERNAL",
    "THREADSAFE",
    "RANDOM",
    "SECTION",
    "DEPEND",
    "FROM",
    "TO",
    "WITH",
    "BY",
    "SOLVEFOR",
];

/// Keywords that can never be variable names in an expression.
const RESERVED: &[&str] = &[
    "NEURON",
    "UNITS",
    "PARAMETER",
    "ASSIGNED",
    "STATE",
    "CONSTANT",
    "INDEPENDENT",
    "INITIAL",
    "BREAKPOINT",
    "DERIVATIVE",
    "KINETIC",
    "LINEAR",
    "NONLINEAR",
    "FUNCTION",
    "PROCEDURE",
    "FUNCTION_TABLE",
    "NET_RECEIVE",
    "BEFORE",
    "AFTER",
    "CONSTRUCTOR",
    "DESTRUCTOR",
    "LOCAL",
    "SOLVE",
    "METHOD",
    "STEADYSTATE",
    "TABLE",
    "DEPEND",
    "FROM",
    "TO",
    "WITH",
    "BY",
    "CONSERVE",
    "COMPARTMENT",
    "LONGITUDINAL_DIFFUSION",
    "UNITSON",
    "UNITSOFF",
    "if",
    "else",
    "while",
    "SUFFIX",
    "USEION",
    "READ",
    "WRITE",
    "RANGE",
    "GLOBAL",
    "WATCH",
    "FOR_NETCONS",
    "INCLUDE",
];

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Number(v) => format!("number {v}"),
        Tok::Str(_) => "a string".into(),
        Tok::Title(_) => "TITLE".into(),
        Tok::Verbatim(_) => "VERBATIM block".into(),
        Tok::Eof => "end of file".into(),
        Tok::Unknown(c) => format!("character `{c}`"),
        other => format!("`{}`", tok_text(other)),
    }
}

fn tok_text(t: &Tok) -> &'static str {
    match t {
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBrace => "{",
        Tok::RBrace => "}",
        Tok::LBracket => "[",
        Tok::RBracket => "]",
        Tok::Comma => ",",
        Tok::Assign => "=",
        Tok::Eq => "==",
        Tok::Ne => "!=",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::Caret => "^",
        Tok::Tilde => "~",
        Tok::BiArrow => "<->",
        Tok::Arrow => "->",
        Tok::Shl => "<<",
        Tok::And => "&&",
        Tok::Or => "||",
        Tok::Not => "!",
        Tok::Prime => "'",
        Tok::Colon => ":",
        Tok::Dot => ".",
        _ => "?",
    }
}

impl<'s> Parser<'s> {
    // ---------------------------------------------------------------- token helpers

    fn tok(&self) -> &Tok {
        self.toks.get(self.pos).map(|t| &t.tok).unwrap_or(&Tok::Eof)
    }

    fn peek(&self, k: usize) -> &Tok {
        self.toks
            .get(self.pos + k)
            .map(|t| &t.tok)
            .unwrap_or(&Tok::Eof)
    }

    fn span(&self) -> Span {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map(|t| t.span)
            .unwrap_or_default()
    }

    fn prev_span(&self) -> Span {
        self.toks
            .get(self.pos.wrapping_sub(1))
            .map(|t| t.span)
            .unwrap_or_else(|| self.span())
    }

    fn line_start(&self) -> bool {
        self.toks
            .get(self.pos)
            .map(|t| t.line_start)
            .unwrap_or(true)
    }

    fn bump(&mut self) {
        if self.pos < self.toks.len().saturating_sub(1) {
            self.pos += 1;
        }
    }

    fn at_eof(&self) -> bool {
        matches!(self.tok(), Tok::Eof)
    }

    fn is(&self, t: &Tok) -> bool {
        self.tok() == t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.tok(), Tok::Ident(s) if s == kw)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.is(t) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn error(&mut self, what: &str) -> Fail {
        let found = describe(self.tok());
        let span = self.span();
        self.diags.push(Diagnostic::error(
            codes::EXPECTED,
            span,
            format!("expected {what}, found {found}"),
        ));
        Fail
    }

    fn expect(&mut self, t: &Tok) -> PResult<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.error(&format!("`{}`", tok_text(t))))
        }
    }

    fn ident(&mut self) -> PResult<Ident> {
        if let Tok::Ident(s) = self.tok() {
            let id = Ident {
                name: s.clone(),
                span: self.span(),
            };
            self.bump();
            Ok(id)
        } else {
            Err(self.error("a name"))
        }
    }

    /// Skips to the start of the next line, or to a `}` that closes the current block,
    /// balancing braces; always consumes at least one token unless at `}` or end of file.
    fn recover_line(&mut self) {
        let mut depth = 0i32;
        let mut first = true;
        loop {
            match self.tok() {
                Tok::Eof => return,
                Tok::RBrace if depth == 0 => return,
                _ if !first && depth == 0 && self.line_start() => return,
                Tok::LBrace => depth += 1,
                Tok::RBrace => depth -= 1,
                _ => {}
            }
            first = false;
            self.bump();
        }
    }

    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH {
            let span = self.span();
            self.diags.push(Diagnostic::error(
                codes::EXPECTED,
                span,
                "nesting is too deep (more than 64 levels)",
            ));
            return Err(Fail);
        }
        self.depth += 1;
        Ok(())
    }

    // ---------------------------------------------------------------- top level

    fn module(&mut self) -> Module {
        let mut items = Vec::new();
        while !self.at_eof() {
            let start = self.pos;
            match self.item() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => {}
                Err(Fail) => self.recover_top(),
            }
            if self.pos == start {
                self.bump();
            }
        }
        Module { items }
    }

    /// Skips to the next line that starts with a top-level keyword.
    fn recover_top(&mut self) {
        let mut first = true;
        loop {
            match self.tok() {
                Tok::Eof => return,
                Tok::Title(_) | Tok::Verbatim(_) if !first => return,
                Tok::Ident(s)
                    if !first && self.line_start() && TOP_KEYWORDS.contains(&s.as_str()) =>
                {
                    return
                }
                _ => {}
            }
            first = false;
            self.bump();
        }
    }

    fn item(&mut self) -> PResult<Option<Item>> {
        let start = self.span();
        let kind = match self.tok().clone() {
            Tok::Title(t) => {
                self.bump();
                ItemKind::Title(t)
            }
            Tok::Verbatim(t) => {
                self.bump();
                ItemKind::Verbatim(t)
            }
            Tok::Ident(kw) => {
                self.bump();
                match kw.as_str() {
                    "NEURON" => ItemKind::Neuron(self.neuron_block()?),
                    "UNITS" => ItemKind::Units(self.units_block()?),
                    "PARAMETER" => ItemKind::Parameter(self.decl_block()?),
                    "ASSIGNED" => ItemKind::Assigned(self.decl_block()?),
                    "STATE" => ItemKind::State(self.decl_block()?),
                    "CONSTANT" => ItemKind::Constant(self.decl_block()?),
                    "INDEPENDENT" => ItemKind::Independent(self.decl_block()?),
                    "INITIAL" => ItemKind::Initial(self.block()?),
                    "BREAKPOINT" => ItemKind::Breakpoint(self.block()?),
                    "CONSTRUCTOR" => ItemKind::Constructor(self.block()?),
                    "DESTRUCTOR" => ItemKind::Destructor(self.block()?),
                    "DERIVATIVE" => {
                        let name = self.ident()?;
                        ItemKind::Derivative(name, self.block()?)
                    }
                    "KINETIC" | "LINEAR" | "NONLINEAR" => {
                        let name = self.ident()?;
                        let mut solvefor = Vec::new();
                        if self.eat_kw("SOLVEFOR") {
                            solvefor = self.name_list()?;
                        }
                        let body = self.block()?;
                        match kw.as_str() {
                            "KINETIC" => ItemKind::Kinetic(name, solvefor, body),
                            "LINEAR" => ItemKind::Linear(name, solvefor, body),
                            _ => ItemKind::NonLinear(name, solvefor, body),
                        }
                    }
                    "DISCRETE" | "PARTIAL" | "TERMINAL" => {
                        let name = self.ident()?;
                        let body = self.block()?;
                        ItemKind::OtherBlock(
                            Ident {
                                name: kw.clone(),
                                span: start,
                            },
                            name,
                            body,
                        )
                    }
                    "FUNCTION" | "PROCEDURE" => {
                        let name = self.ident()?;
                        let args = self.formal_args()?;
                        let unit = if self.is(&Tok::LParen) {
                            Some(self.unit()?)
                        } else {
                            None
                        };
                        let body = self.block()?;
                        let c = Callable {
                            name,
                            args,
                            unit,
                            body,
                        };
                        if kw == "FUNCTION" {
                            ItemKind::Function(c)
                        } else {
                            ItemKind::Procedure(c)
                        }
                    }
                    "FUNCTION_TABLE" => {
                        let name = self.ident()?;
                        let args = self.formal_args()?;
                        let unit = if self.is(&Tok::LParen) {
                            Some(self.unit()?)
                        } else {
                            None
                        };
                        ItemKind::FunctionTable(Callable {
                            name,
                            args,
                            unit,
                            body: Block::default(),
                        })
                    }
                    "NET_RECEIVE" => {
                        let args = self.formal_args()?;
                        ItemKind::NetReceive(args, self.block()?)
                    }
                    "BEFORE" | "AFTER" => {
                        let when = self.ident()?;
                        if !matches!(
                            when.name.as_str(),
                            "BREAKPOINT" | "SOLVE" | "INITIAL" | "STEP"
                        ) {
                            self.diags.push(Diagnostic::error(
                                codes::EXPECTED,
                                when.span,
                                format!(
                                    "expected BREAKPOINT, SOLVE, INITIAL or STEP after {kw}, found `{}`",
                                    when.name
                                ),
                            ));
                        }
                        let body = self.block()?;
                        ItemKind::BeforeAfter {
                            before: kw == "BEFORE",
                            when,
                            body,
                        }
                    }
                    "INCLUDE" => match self.tok().clone() {
                        Tok::Str(s) => {
                            self.bump();
                            ItemKind::Include(s)
                        }
                        _ => return Err(self.error("a quoted file name after INCLUDE")),
                    },
                    "DEFINE" => {
                        let name = self.ident()?;
                        let v = self.signed_number()?;
                        self.defines.insert(name.name.clone(), v);
                        ItemKind::Define(name, v)
                    }
                    "UNITSON" => ItemKind::UnitsFlag(true),
                    "UNITSOFF" => ItemKind::UnitsFlag(false),
                    "LOCAL" => ItemKind::Local(self.local_list()?),
                    "ENDCOMMENT" | "ENDVERBATIM" => {
                        self.diags.push(Diagnostic::error(
                            codes::EXPECTED,
                            start,
                            format!("`{kw}` without a matching opening keyword"),
                        ));
                        return Ok(None);
                    }
                    _ => {
                        self.diags.push(
                            Diagnostic::error(
                                codes::ILLEGAL_BLOCK,
                                start,
                                format!("`{kw}` is not an NMODL block"),
                            )
                            .with_help(
                                "top-level items are NEURON, UNITS, PARAMETER, ASSIGNED, STATE, \
                                 INITIAL, BREAKPOINT, DERIVATIVE, KINETIC, FUNCTION, PROCEDURE, \
                                 NET_RECEIVE, …",
                            ),
                        );
                        return Err(Fail);
                    }
                }
            }
            _ => return Err(self.error("an NMODL block (NEURON, PARAMETER, BREAKPOINT, …)")),
        };
        Ok(Some(Item {
            kind,
            span: start.to(self.prev_span()),
        }))
    }

    // ---------------------------------------------------------------- NEURON block

    fn name_list(&mut self) -> PResult<Vec<Ident>> {
        let mut v = vec![self.ident()?];
        loop {
            // Commas are optional between names on one line.
            let bare_name = matches!(self.tok(), Tok::Ident(s) if !NEURON_KEYWORDS.contains(&s.as_str()))
                && !self.line_start();
            if !self.eat(&Tok::Comma) && !bare_name {
                return Ok(v);
            }
            v.push(self.ident()?);
        }
    }

    /// `{ entry* }`: parses entries until the closing brace; an entry that fails is skipped to
    /// the next line. `entry` returns `None` for things it consumes but does not keep.
    fn braced<T>(
        &mut self,
        mut entry: impl FnMut(&mut Self) -> PResult<Option<T>>,
    ) -> PResult<Vec<T>> {
        self.expect(&Tok::LBrace)?;
        let mut out = Vec::new();
        while !self.is(&Tok::RBrace) && !self.at_eof() {
            let before = self.pos;
            match entry(self) {
                Ok(Some(x)) => out.push(x),
                Ok(None) => {}
                Err(Fail) => self.recover_line(),
            }
            if self.pos == before && !self.is(&Tok::RBrace) {
                self.bump();
            }
        }
        self.expect(&Tok::RBrace)?;
        Ok(out)
    }

    fn neuron_block(&mut self) -> PResult<Vec<NeuronStmt>> {
        self.braced(|p| {
            let start = p.span();
            let kind = p.neuron_stmt()?;
            Ok(kind.map(|kind| NeuronStmt {
                kind,
                span: start.to(p.prev_span()),
            }))
        })
    }

    fn neuron_stmt(&mut self) -> PResult<Option<NeuronKind>> {
        if let Tok::Verbatim(_) = self.tok() {
            let span = self.span();
            self.bump();
            self.diags.push(Diagnostic::error(
                codes::EXPECTED,
                span,
                "VERBATIM is not allowed inside the NEURON block",
            ));
            return Ok(None);
        }
        let kw = self.ident()?;
        Ok(Some(match kw.name.as_str() {
            "SUFFIX" => NeuronKind::Suffix(self.ident()?),
            "POINT_PROCESS" => NeuronKind::PointProcess(self.ident()?),
            "ARTIFICIAL_CELL" => NeuronKind::ArtificialCell(self.ident()?),
            "USEION" => {
                let ion = self.ident()?;
                let (mut read, mut write, mut valence, mut represents) =
                    (Vec::new(), Vec::new(), None, None);
                loop {
                    if self.eat_kw("READ") {
                        read.extend(self.name_list()?);
                    } else if self.eat_kw("WRITE") {
                        write.extend(self.name_list()?);
                    } else if self.eat_kw("VALENCE") {
                        valence = Some(self.signed_number()?);
                    } else if self.eat_kw("REPRESENTS") {
                        represents = Some(self.ident()?.name);
                    } else {
                        break;
                    }
                }
                NeuronKind::UseIon {
                    ion,
                    read,
                    write,
                    valence,
                    represents,
                }
            }
            "NONSPECIFIC_CURRENT" => NeuronKind::NonspecificCurrent(self.name_list()?),
            "ELECTRODE_CURRENT" => NeuronKind::ElectrodeCurrent(self.name_list()?),
            "RANGE" => NeuronKind::Range(self.name_list()?),
            "GLOBAL" => NeuronKind::Global(self.name_list()?),
            "POINTER" => NeuronKind::Pointer(self.name_list()?),
            "BBCOREPOINTER" => NeuronKind::BbcorePointer(self.name_list()?),
            "EXTERNAL" => NeuronKind::External(self.name_list()?),
            "RANDOM" => NeuronKind::Random(self.name_list()?),
            "THREADSAFE" => {
                let list = if matches!(self.tok(), Tok::Ident(s) if !NEURON_KEYWORDS.contains(&s.as_str()))
                    && !self.line_start()
                {
                    self.name_list()?
                } else {
                    Vec::new()
                };
                NeuronKind::ThreadSafe(list)
            }
            "REPRESENTS" => NeuronKind::Represents(self.ident()?.name),
            "SECTION" => NeuronKind::Other(kw, self.name_list()?),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        codes::EXPECTED,
                        kw.span,
                        format!("`{}` is not a NEURON block statement", kw.name),
                    )
                    .with_help(
                        "NEURON block statements are SUFFIX, POINT_PROCESS, ARTIFICIAL_CELL, \
                         USEION, NONSPECIFIC_CURRENT, ELECTRODE_CURRENT, RANGE, GLOBAL, POINTER, \
                         BBCOREPOINTER, EXTERNAL, THREADSAFE, RANDOM, REPRESENTS",
                    ),
                );
                return Err(Fail);
            }
        }))
    }

    // ---------------------------------------------------------------- declarations

    /// `(text)`: the raw text between parentheses on one line, whitespace collapsed.
    fn unit(&mut self) -> PResult<Unit> {
        let open = self.span();
        self.expect(&Tok::LParen)?;
        let mut depth = 0;
        loop {
            match self.tok() {
                Tok::RParen if depth == 0 => break,
                Tok::RParen => depth -= 1,
                Tok::LParen => depth += 1,
                Tok::Eof => return Err(self.error("`)` closing the units")),
                _ if self.line_start() => return Err(self.error("`)` closing the units")),
                _ => {}
            }
            self.bump();
        }
        let close = self.span();
        self.bump();
        let raw = self
            .src
            .get(open.end as usize..close.start as usize)
            .unwrap_or("");
        let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(Unit {
            text,
            span: open.to(close),
        })
    }

    fn signed_number(&mut self) -> PResult<f64> {
        let neg = if self.eat(&Tok::Minus) {
            true
        } else {
            self.eat(&Tok::Plus);
            false
        };
        match self.tok().clone() {
            Tok::Number(v) => {
                self.bump();
                Ok(if neg { -v } else { v })
            }
            Tok::Ident(name) if self.defines.contains_key(&name) => {
                self.bump();
                let v = self.defines.get(&name).copied().unwrap_or(0.0);
                Ok(if neg { -v } else { v })
            }
            _ => Err(self.error("a number")),
        }
    }

    fn array_size(&mut self) -> PResult<Option<usize>> {
        if !self.eat(&Tok::LBracket) {
            return Ok(None);
        }
        let span = self.span();
        let v = self.signed_number()?;
        self.expect(&Tok::RBracket)?;
        if !(v >= 0.0 && v.fract() == 0.0 && v < 1e7) {
            self.diags.push(Diagnostic::error(
                codes::EXPECTED,
                span,
                format!("array size must be a non-negative integer, found {v}"),
            ));
            return Ok(Some(0));
        }
        Ok(Some(v as usize))
    }

    fn decl_block(&mut self) -> PResult<Vec<VarDecl>> {
        self.braced(|p| {
            if p.is_kw("UNITSON") || p.is_kw("UNITSOFF") {
                p.bump();
                return Ok(None);
            }
            p.var_decl().map(Some)
        })
    }

    fn var_decl(&mut self) -> PResult<VarDecl> {
        let name = self.ident()?;
        let start = name.span;
        let array = self.array_size()?;
        let mut d = VarDecl {
            name,
            array,
            value: None,
            unit: None,
            limits: None,
            from_to: None,
            extra: None,
            span: start,
        };
        if self.eat(&Tok::Assign) {
            d.value = Some(self.signed_number()?);
        }
        loop {
            if self.is(&Tok::LParen) && d.unit.is_none() {
                d.unit = Some(self.unit()?);
            } else if self.eat(&Tok::Lt) {
                let lo = self.signed_number()?;
                let hi = if self.eat(&Tok::Comma) {
                    self.signed_number()?
                } else {
                    lo
                };
                self.expect(&Tok::Gt)?;
                d.limits = Some((lo, hi));
            } else if self.eat_kw("FROM") {
                let lo = self.signed_number()?;
                if !self.eat_kw("TO") {
                    return Err(self.error("TO"));
                }
                let hi = self.signed_number()?;
                d.from_to = Some((lo, hi));
            } else if self.is_kw("WITH") || self.is_kw("START") {
                let kw = self.ident()?.name;
                let v = self.signed_number()?;
                d.extra = Some((kw, v));
            } else {
                break;
            }
        }
        d.span = start.to(self.prev_span());
        Ok(d)
    }

    fn units_block(&mut self) -> PResult<Vec<UnitDef>> {
        self.braced(|p| {
            let start = p.span();
            let kind = if p.is(&Tok::LParen) {
                let a = p.unit()?;
                p.expect(&Tok::Assign)?;
                UnitDefKind::Alias(a, p.unit()?)
            } else if p.is_kw("UNITSON") || p.is_kw("UNITSOFF") {
                p.bump();
                return Ok(None);
            } else {
                let name = p.ident()?;
                p.expect(&Tok::Assign)?;
                if p.is(&Tok::LParen) {
                    let a = p.unit()?;
                    UnitDefKind::Factor(name, a, p.unit()?)
                } else {
                    let v = p.signed_number()?;
                    let u = if p.is(&Tok::LParen) {
                        Some(p.unit()?)
                    } else {
                        None
                    };
                    UnitDefKind::Constant(name, v, u)
                }
            };
            Ok(Some(UnitDef {
                kind,
                span: start.to(p.prev_span()),
            }))
        })
    }

    fn formal_args(&mut self) -> PResult<Vec<Arg>> {
        let mut args = Vec::new();
        if !self.eat(&Tok::LParen) {
            return Ok(args);
        }
        if self.eat(&Tok::RParen) {
            return Ok(args);
        }
        loop {
            let name = self.ident()?;
            let unit = if self.is(&Tok::LParen) {
                Some(self.unit()?)
            } else {
                None
            };
            args.push(Arg { name, unit });
            if self.eat(&Tok::Comma) {
                continue;
            }
            self.expect(&Tok::RParen)?;
            return Ok(args);
        }
    }

    fn local_list(&mut self) -> PResult<Vec<LocalVar>> {
        let mut v = Vec::new();
        loop {
            let name = self.ident()?;
            let array = self.array_size()?;
            v.push(LocalVar { name, array });
            if !self.eat(&Tok::Comma) {
                return Ok(v);
            }
        }
    }

    // ---------------------------------------------------------------- statements

    fn block(&mut self) -> PResult<Block> {
        let start = self.span();
        self.enter()?;
        let stmts = self.braced(|p| p.stmt());
        self.depth -= 1;
        Ok(Block {
            stmts: stmts?,
            span: start.to(self.prev_span()),
        })
    }

    fn stmt(&mut self) -> PResult<Option<Stmt>> {
        let start = self.span();
        let kind = match self.tok().clone() {
            Tok::Verbatim(t) => {
                self.bump();
                StmtKind::Verbatim(t)
            }
            Tok::LBrace => StmtKind::Block(self.block()?),
            Tok::Tilde => {
                self.bump();
                self.reaction()?
            }
            Tok::Ident(kw) => match kw.as_str() {
                "LOCAL" => {
                    self.bump();
                    StmtKind::Local(self.local_list()?)
                }
                "if" => self.if_stmt()?,
                "while" => {
                    self.bump();
                    self.expect(&Tok::LParen)?;
                    let c = self.expr()?;
                    self.expect(&Tok::RParen)?;
                    StmtKind::While(c, self.body()?)
                }
                "FROM" => {
                    self.bump();
                    let var = self.ident()?;
                    self.expect(&Tok::Assign)?;
                    let from = self.expr()?;
                    if !self.eat_kw("TO") {
                        return Err(self.error("TO"));
                    }
                    let to = self.expr()?;
                    let by = if self.eat_kw("BY") {
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    let body = self.body()?;
                    StmtKind::From {
                        var,
                        from,
                        to,
                        by,
                        body,
                    }
                }
                "SOLVE" => {
                    self.bump();
                    let name = self.ident()?;
                    let (mut method, mut steadystate, mut if_error) = (None, None, None);
                    loop {
                        if self.eat_kw("METHOD") {
                            method = Some(self.ident()?);
                        } else if self.eat_kw("STEADYSTATE") {
                            steadystate = Some(self.ident()?);
                        } else if self.eat_kw("IFERROR") {
                            if_error = Some(self.block()?);
                        } else {
                            break;
                        }
                    }
                    StmtKind::Solve {
                        name,
                        method,
                        steadystate,
                        if_error,
                    }
                }
                "TABLE" => {
                    self.bump();
                    let mut names = Vec::new();
                    let mut depend = Vec::new();
                    if !self.is_kw("DEPEND") && !self.is_kw("FROM") {
                        names = self.name_list()?;
                    }
                    if self.eat_kw("DEPEND") {
                        depend = self.name_list()?;
                    }
                    if !self.eat_kw("FROM") {
                        return Err(self.error("FROM in TABLE"));
                    }
                    let from = self.expr()?;
                    if !self.eat_kw("TO") {
                        return Err(self.error("TO in TABLE"));
                    }
                    let to = self.expr()?;
                    if !self.eat_kw("WITH") {
                        return Err(self.error("WITH in TABLE"));
                    }
                    let with = self.expr()?;
                    StmtKind::Table {
                        names,
                        depend,
                        from,
                        to,
                        with,
                    }
                }
                "CONSERVE" => {
                    self.bump();
                    let l = self.expr()?;
                    self.expect(&Tok::Assign)?;
                    let r = self.expr()?;
                    StmtKind::Conserve(l, r)
                }
                "COMPARTMENT" | "LONGITUDINAL_DIFFUSION" => {
                    self.bump();
                    let index =
                        if matches!(self.tok(), Tok::Ident(_)) && self.peek(1) == &Tok::Comma {
                            let i = self.ident()?;
                            self.bump();
                            Some(i)
                        } else {
                            None
                        };
                    let e = self.expr()?;
                    self.expect(&Tok::LBrace)?;
                    let mut names = Vec::new();
                    while !self.is(&Tok::RBrace) {
                        names.push(self.ident()?);
                        self.eat(&Tok::Comma);
                    }
                    self.bump();
                    if kw == "COMPARTMENT" {
                        StmtKind::Compartment(index, e, names)
                    } else {
                        StmtKind::LongDiffusion(index, e, names)
                    }
                }
                "WATCH" => {
                    self.bump();
                    let mut list = Vec::new();
                    loop {
                        self.expect(&Tok::LParen)?;
                        let c = self.expr()?;
                        self.expect(&Tok::RParen)?;
                        let f = self.expr()?;
                        list.push((c, f));
                        if !self.eat(&Tok::Comma) {
                            break;
                        }
                    }
                    StmtKind::Watch(list)
                }
                "FOR_NETCONS" => {
                    self.bump();
                    let args = self.formal_args()?;
                    StmtKind::ForNetcons(args, self.block()?)
                }
                "INITIAL" => {
                    self.bump();
                    StmtKind::Initial(self.block()?)
                }
                "UNITSON" | "UNITSOFF" => {
                    self.bump();
                    StmtKind::UnitsFlag(kw == "UNITSON")
                }
                "MUTEXLOCK" | "MUTEXUNLOCK" => {
                    self.bump();
                    StmtKind::Mutex(kw == "MUTEXLOCK")
                }
                "PROTECT" => {
                    self.bump();
                    match self.stmt()? {
                        Some(s) => StmtKind::Protect(Box::new(s)),
                        None => return Err(self.error("a statement after PROTECT")),
                    }
                }
                "CONDUCTANCE" => {
                    self.bump();
                    let g = self.ident()?;
                    let ion = if self.eat_kw("USEION") {
                        Some(self.ident()?)
                    } else {
                        None
                    };
                    StmtKind::Conductance(g, ion)
                }
                "LAG" => {
                    self.bump();
                    let x = self.ident()?;
                    if !self.eat_kw("BY") {
                        return Err(self.error("BY"));
                    }
                    StmtKind::Lag(x, self.ident()?)
                }
                "RESET" | "SWEEP" | "SENS" | "MATCH" | "PUTQ" | "GETQ" | "FIRST" | "LAST" => {
                    self.bump();
                    // Swallow the rest of the line, balancing braces.
                    let mut depth = 0i32;
                    while !(self.at_eof() || depth == 0 && self.line_start()) {
                        match self.tok() {
                            Tok::LBrace => depth += 1,
                            Tok::RBrace if depth == 0 => break,
                            Tok::RBrace => depth -= 1,
                            _ => {}
                        }
                        self.bump();
                    }
                    StmtKind::Unsupported(kw)
                }
                "else" => {
                    return Err(self.error("a statement (`else` without `if`)"));
                }
                _ => self.assign_or_call()?,
            },
            _ => return Err(self.error("a statement")),
        };
        Ok(Some(Stmt {
            kind,
            span: start.to(self.prev_span()),
        }))
    }

    /// A braced block, or (leniently) a single statement.
    fn body(&mut self) -> PResult<Block> {
        if self.is(&Tok::LBrace) {
            return self.block();
        }
        let start = self.span();
        match self.stmt()? {
            Some(s) => Ok(Block {
                stmts: vec![s],
                span: start.to(self.prev_span()),
            }),
            None => Err(self.error("`{`")),
        }
    }

    fn if_stmt(&mut self) -> PResult<StmtKind> {
        self.bump();
        self.expect(&Tok::LParen)?;
        let c = self.expr()?;
        self.expect(&Tok::RParen)?;
        let then = self.body()?;
        let els = if self.is_kw("else") {
            let start = self.span();
            self.bump();
            if self.is_kw("if") {
                self.enter()?;
                let k = self.if_stmt();
                self.depth -= 1;
                Some(Box::new(Stmt {
                    kind: k?,
                    span: start.to(self.prev_span()),
                }))
            } else {
                let b = self.body()?;
                Some(Box::new(Stmt {
                    span: b.span,
                    kind: StmtKind::Block(b),
                }))
            }
        } else {
            None
        };
        Ok(StmtKind::If(c, then, els))
    }

    fn assign_or_call(&mut self) -> PResult<StmtKind> {
        let name = self.ident()?;
        let index = if self.eat(&Tok::LBracket) {
            let e = self.expr()?;
            self.expect(&Tok::RBracket)?;
            Some(Box::new(e))
        } else {
            None
        };
        if self.is(&Tok::Prime) {
            let mut order = 0u8;
            while self.eat(&Tok::Prime) {
                order = order.saturating_add(1);
            }
            self.expect(&Tok::Assign)?;
            let rhs = self.expr()?;
            return Ok(StmtKind::Assign(LValue::Deriv(name, order, index), rhs));
        }
        if self.eat(&Tok::Assign) {
            let rhs = self.expr()?;
            return Ok(StmtKind::Assign(LValue::Var(name, index), rhs));
        }
        if index.is_none() && self.is(&Tok::LParen) {
            let call = self.call_rest(name)?;
            return Ok(StmtKind::Expr(call));
        }
        Err(self.error("`=`, `'` or `(` after a name at the start of a statement"))
    }

    fn species_list(&mut self) -> PResult<Vec<Species>> {
        let mut v = Vec::new();
        loop {
            let coef = match self.tok() {
                Tok::Number(c) => {
                    let c = *c;
                    let span = self.span();
                    self.bump();
                    if !(c >= 1.0 && c.fract() == 0.0 && c < 1e6) {
                        self.diags.push(Diagnostic::error(
                            codes::EXPECTED,
                            span,
                            "a stoichiometric coefficient must be a positive integer",
                        ));
                    }
                    c.clamp(1.0, 1e6) as u32
                }
                _ => 1,
            };
            let name = self.ident()?;
            let index = if self.eat(&Tok::LBracket) {
                let e = self.expr()?;
                self.expect(&Tok::RBracket)?;
                Some(Box::new(e))
            } else {
                None
            };
            v.push(Species { coef, name, index });
            if !self.eat(&Tok::Plus) {
                return Ok(v);
            }
        }
    }

    fn reaction(&mut self) -> PResult<StmtKind> {
        let save = (self.pos, self.diags.len());
        if let Ok(lhs) = self.species_list() {
            let arrow = match self.tok() {
                Tok::BiArrow => Some(ReactionArrow::Both),
                Tok::Arrow => Some(ReactionArrow::Forward),
                Tok::Shl => Some(ReactionArrow::Flux),
                _ => None,
            };
            if let Some(arrow) = arrow {
                self.bump();
                let rhs = if arrow == ReactionArrow::Flux {
                    Vec::new()
                } else {
                    self.species_list()?
                };
                self.expect(&Tok::LParen)?;
                let kf = self.expr()?;
                let kb = if self.eat(&Tok::Comma) {
                    Some(self.expr()?)
                } else {
                    None
                };
                self.expect(&Tok::RParen)?;
                if arrow == ReactionArrow::Both && kb.is_none() {
                    let span = self.prev_span();
                    self.diags.push(
                        Diagnostic::error(
                            codes::EXPECTED,
                            span,
                            "a `<->` reaction needs forward and backward rates `(kf, kb)`",
                        )
                        .with_help("write `-> (kf)` for an irreversible reaction"),
                    );
                }
                return Ok(StmtKind::Reaction {
                    lhs,
                    arrow,
                    rhs,
                    kf,
                    kb,
                });
            }
        }
        self.pos = save.0;
        self.diags.truncate(save.1);
        let l = self.expr()?;
        self.expect(&Tok::Assign)?;
        let r = self.expr()?;
        Ok(StmtKind::Equation(l, r))
    }

    // ---------------------------------------------------------------- expressions

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.binary(1);
        self.depth -= 1;
        r
    }

    fn binop(&self) -> Option<BinOp> {
        Some(match self.tok() {
            Tok::Plus => BinOp::Add,
            Tok::Minus => BinOp::Sub,
            Tok::Star => BinOp::Mul,
            Tok::Slash => BinOp::Div,
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Gt => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::Eq => BinOp::Eq,
            Tok::Ne => BinOp::Ne,
            Tok::And => BinOp::And,
            Tok::Or => BinOp::Or,
            _ => return None,
        })
    }

    fn binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.bump();
            self.enter()?;
            let rhs = self.binary(prec + 1);
            self.depth -= 1;
            let rhs = rhs?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span,
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let op = match self.tok() {
            Tok::Minus => Some(UnOp::Neg),
            Tok::Not => Some(UnOp::Not),
            Tok::Plus => {
                self.bump();
                return self.unary();
            }
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            self.enter()?;
            let e = self.unary();
            self.depth -= 1;
            let e = e?;
            let span = start.to(e.span);
            return Ok(Expr {
                kind: ExprKind::Unary(op, Box::new(e)),
                span,
            });
        }
        let base = self.primary()?;
        if self.eat(&Tok::Caret) {
            self.enter()?;
            let e = self.unary();
            self.depth -= 1;
            let e = e?;
            let span = base.span.to(e.span);
            return Ok(Expr {
                kind: ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(e)),
                span,
            });
        }
        Ok(base)
    }

    fn call_rest(&mut self, name: Ident) -> PResult<Expr> {
        self.expect(&Tok::LParen)?;
        let mut args = Vec::new();
        if !self.eat(&Tok::RParen) {
            loop {
                args.push(self.expr()?);
                if self.eat(&Tok::Comma) {
                    continue;
                }
                self.expect(&Tok::RParen)?;
                break;
            }
        }
        let span = name.span.to(self.prev_span());
        Ok(Expr {
            kind: ExprKind::Call(name, args),
            span,
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let start = self.span();
        match self.tok().clone() {
            Tok::Number(v) => {
                self.bump();
                let unit = if self.is(&Tok::LParen) && !self.line_start() {
                    Some(self.unit()?)
                } else {
                    None
                };
                Ok(Expr {
                    kind: ExprKind::Number(v, unit),
                    span: start.to(self.prev_span()),
                })
            }
            Tok::Str(s) => {
                self.bump();
                Ok(Expr {
                    kind: ExprKind::Str(s),
                    span: start,
                })
            }
            Tok::Ident(name) if RESERVED.contains(&name.as_str()) => {
                Err(self.error("an expression (this is a keyword)"))
            }
            Tok::Ident(name) => {
                let id = Ident { name, span: start };
                self.bump();
                if self.is(&Tok::LParen) {
                    return self.call_rest(id);
                }
                if self.eat(&Tok::LBracket) {
                    let e = self.expr()?;
                    self.expect(&Tok::RBracket)?;
                    return Ok(Expr {
                        kind: ExprKind::Index(id, Box::new(e)),
                        span: start.to(self.prev_span()),
                    });
                }
                Ok(Expr {
                    kind: ExprKind::Name(id),
                    span: start,
                })
            }
            Tok::LParen => {
                self.bump();
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                Ok(Expr {
                    kind: ExprKind::Paren(Box::new(e)),
                    span: start.to(self.prev_span()),
                })
            }
            _ => Err(self.error("an expression")),
        }
    }
}
