//! Lexer: NMODL text to tokens.
//!
//! Comments (`:` and `?` to end of line, `COMMENT … ENDCOMMENT`) are skipped; `TITLE` takes the rest
//! of its line and `VERBATIM … ENDVERBATIM` its body as one opaque token. Each token records
//! whether a line break precedes it, which the parser uses for error recovery. The lexer never
//! fails: unknown characters become [`Tok::Unknown`] tokens and problems are diagnostics.

use crate::diagnostics::{codes, Diagnostic, FileId, Span};

/// Token kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A name or keyword.
    Ident(String),
    /// A number literal (value; the text is in the source at the token's span).
    Number(f64),
    /// A double-quoted string, without quotes.
    Str(String),
    /// `TITLE` with the rest of its line.
    Title(String),
    /// `VERBATIM` body (opaque C text).
    Verbatim(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `=`
    Assign,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `^`
    Caret,
    /// `~`
    Tilde,
    /// `<->`
    BiArrow,
    /// `->`
    Arrow,
    /// `<<`
    Shl,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `!`
    Not,
    /// `'` (derivative prime)
    Prime,
    /// `:` not starting a comment cannot happen; kept for completeness of recovery.
    Colon,
    /// `.`
    Dot,
    /// Any other character.
    Unknown(char),
    /// End of input.
    Eof,
}

/// A token with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// Kind and payload.
    pub tok: Tok,
    /// Source range.
    pub span: Span,
    /// A line break (or the start of the file) precedes this token.
    pub line_start: bool,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Splits `src` into tokens, ending with [`Tok::Eof`]. Problems go to `diags`.
pub fn lex(src: &str, file: FileId, diags: &mut Vec<Diagnostic>) -> Vec<Token> {
    let b = src.as_bytes();
    let n = b.len();
    let mut i = 0;
    let mut out = Vec::with_capacity(n / 3);
    let mut line_start = true;
    let at = |i: usize| -> u8 { b.get(i).copied().unwrap_or(0) };
    // Finds `word` as a whole word at or after `from`; returns its start.
    let find_word = |from: usize, word: &str| -> Option<usize> {
        let mut k = from;
        while let Some(off) = src.get(k..).and_then(|s| s.find(word)) {
            let s = k + off;
            let e = s + word.len();
            let before_ok = s == 0 || !is_ident_char(at(s - 1));
            let after_ok = e >= n || !is_ident_char(at(e));
            if before_ok && after_ok {
                return Some(s);
            }
            k = e;
        }
        None
    };
    while i < n {
        let c = at(i);
        if c == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b':' || c == b'?' {
            while i < n && at(i) != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let tok = if is_ident_start(c) {
            while i < n && is_ident_char(at(i)) {
                i += 1;
            }
            let word = src.get(start..i).unwrap_or("");
            match word {
                "COMMENT" => {
                    match find_word(i, "ENDCOMMENT") {
                        Some(e) => i = e + "ENDCOMMENT".len(),
                        None => {
                            diags.push(
                                Diagnostic::error(
                                    codes::UNTERMINATED,
                                    Span::new(file, start, i),
                                    "COMMENT without ENDCOMMENT",
                                )
                                .with_help("close the comment with ENDCOMMENT"),
                            );
                            i = n;
                        }
                    }
                    continue;
                }
                "VERBATIM" => {
                    let body_start = i;
                    let (body_end, next) = match find_word(i, "ENDVERBATIM") {
                        Some(e) => (e, e + "ENDVERBATIM".len()),
                        None => {
                            diags.push(
                                Diagnostic::error(
                                    codes::UNTERMINATED,
                                    Span::new(file, start, i),
                                    "VERBATIM without ENDVERBATIM",
                                )
                                .with_help("close the block with ENDVERBATIM"),
                            );
                            (n, n)
                        }
                    };
                    i = next;
                    Tok::Verbatim(src.get(body_start..body_end).unwrap_or("").to_string())
                }
                "TITLE" => {
                    let body_start = i;
                    while i < n && at(i) != b'\n' {
                        i += 1;
                    }
                    Tok::Title(src.get(body_start..i).unwrap_or("").trim().to_string())
                }
                _ => Tok::Ident(word.to_string()),
            }
        } else if c.is_ascii_digit() || (c == b'.' && at(i + 1).is_ascii_digit()) {
            while at(i).is_ascii_digit() {
                i += 1;
            }
            if at(i) == b'.' {
                i += 1;
                while at(i).is_ascii_digit() {
                    i += 1;
                }
            }
            if (at(i) == b'e' || at(i) == b'E')
                && (at(i + 1).is_ascii_digit()
                    || ((at(i + 1) == b'+' || at(i + 1) == b'-') && at(i + 2).is_ascii_digit()))
            {
                i += 2;
                while at(i).is_ascii_digit() {
                    i += 1;
                }
            }
            let text = src.get(start..i).unwrap_or("0");
            match text.parse::<f64>() {
                Ok(v) => Tok::Number(v),
                Err(_) => {
                    diags.push(Diagnostic::error(
                        codes::BAD_NUMBER,
                        Span::new(file, start, i),
                        format!("malformed number `{text}`"),
                    ));
                    Tok::Number(0.0)
                }
            }
        } else if c == b'"' {
            i += 1;
            while i < n && at(i) != b'"' && at(i) != b'\n' {
                i += 1;
            }
            let body = src.get(start + 1..i).unwrap_or("").to_string();
            if at(i) == b'"' {
                i += 1;
            } else {
                diags.push(Diagnostic::error(
                    codes::UNTERMINATED,
                    Span::new(file, start, i),
                    "string without closing `\"`",
                ));
            }
            Tok::Str(body)
        } else {
            let two = (c, at(i + 1));
            let (t, len) = match two {
                (b'<', b'-') if at(i + 2) == b'>' => (Tok::BiArrow, 3),
                (b'-', b'>') => (Tok::Arrow, 2),
                (b'<', b'<') => (Tok::Shl, 2),
                (b'<', b'=') => (Tok::Le, 2),
                (b'>', b'=') => (Tok::Ge, 2),
                (b'=', b'=') => (Tok::Eq, 2),
                (b'!', b'=') => (Tok::Ne, 2),
                (b'&', b'&') => (Tok::And, 2),
                (b'|', b'|') => (Tok::Or, 2),
                (b'(', _) => (Tok::LParen, 1),
                (b')', _) => (Tok::RParen, 1),
                (b'{', _) => (Tok::LBrace, 1),
                (b'}', _) => (Tok::RBrace, 1),
                (b'[', _) => (Tok::LBracket, 1),
                (b']', _) => (Tok::RBracket, 1),
                (b',', _) => (Tok::Comma, 1),
                (b'=', _) => (Tok::Assign, 1),
                (b'<', _) => (Tok::Lt, 1),
                (b'>', _) => (Tok::Gt, 1),
                (b'+', _) => (Tok::Plus, 1),
                (b'-', _) => (Tok::Minus, 1),
                (b'*', _) => (Tok::Star, 1),
                (b'/', _) => (Tok::Slash, 1),
                (b'^', _) => (Tok::Caret, 1),
                (b'~', _) => (Tok::Tilde, 1),
                (b'!', _) => (Tok::Not, 1),
                (b'\'', _) => (Tok::Prime, 1),
                (b'.', _) => (Tok::Dot, 1),
                _ => {
                    let ch = src
                        .get(i..)
                        .and_then(|s| s.chars().next())
                        .unwrap_or('\u{fffd}');
                    (Tok::Unknown(ch), ch.len_utf8())
                }
            };
            i += len;
            t
        };
        out.push(Token {
            tok,
            span: Span::new(file, start, i),
            line_start,
        });
        line_start = false;
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(file, n, n),
        line_start: true,
    });
    out
}
