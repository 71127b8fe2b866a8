//! Config errors and where they point: `file:line:col: key: message`.
//!
//! Owns [`ConfigError`]/[`ConfigErrors`], the byte-offset to line:col translation, and turning
//! the toml crate's syntax and serde errors into config errors that name the key they are about.
//! It does not decide what is an error; `resolve` does.

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One problem in a config file. Displays as `file:line:col: message`; line and col are 1-based,
/// col counts characters (not bytes) so it matches what an editor shows for Chinese text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    /// Starts with the key it is about, e.g. `windows[2].serves: unknown service code "Z"`.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // The file itself could not be read: there is no position to point at.
            return write!(f, "{}: {}", self.file.display(), self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in a config file, in file order. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The config file could not be read at all.
    pub fn io(path: &Path, err: &io::Error) -> Self {
        ConfigErrors(vec![ConfigError {
            file: path.to_path_buf(),
            line: 0,
            col: 0,
            message: format!("cannot read config file: {err}"),
        }])
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The text being parsed and its file name; turns byte offsets into positioned errors.
pub(super) struct Source<'a> {
    text: &'a str,
    file: &'a Path,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str, file: &'a Path) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            text,
            file,
            line_starts,
        }
    }

    pub(super) fn text(&self) -> &'a str {
        self.text
    }

    /// 1-based line of a byte offset.
    pub(super) fn line(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .max(1)
    }

    pub(super) fn error(&self, offset: usize, message: String) -> ConfigError {
        let offset = offset.min(self.text.len());
        let line = self.line(offset);
        let line_start = self.line_starts[line - 1];
        let col = self
            .text
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count())
            + 1;
        ConfigError {
            file: self.file.to_path_buf(),
            line,
            col,
            message,
        }
    }

    /// A TOML syntax error. The document is broken, so no key path: the message and position.
    pub(super) fn syntax_error(&self, err: &toml::de::Error) -> ConfigError {
        let span = err.span().unwrap_or(0..0);
        let mut message = err.message().trim().replace('\n', "; ");
        if message == "duplicate key" {
            if let Some(key) = self.text.get(span.clone()) {
                message = format!("duplicate key `{key}`");
            }
        }
        self.error(span.start, message)
    }

    /// A serde error found while reading the document into the raw structs (unknown key, wrong
    /// type, missing key); `doc` locates the key it is about.
    pub(super) fn shape_error(&self, err: &toml::de::Error, doc: &Spanned<DeTable>) -> ConfigError {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim().replace('\n', "; ");
        // An empty span is serde's "somewhere in the document": the root.
        let key = match span.is_empty() {
            true => String::new(),
            false => key_path(doc.get_ref(), &span),
        };
        let message = match message.strip_prefix("missing field `") {
            Some(rest) => {
                let field = rest.trim_end_matches('`');
                match key.is_empty() {
                    true => format!("[{field}]: missing required section"),
                    false => format!("{key}.{field}: missing required key"),
                }
            }
            None if key.is_empty() => plain_words(&message),
            None => format!("{key}: {}", plain_words(&message)),
        };
        self.error(span.start, message)
    }
}

/// Rewords serde's type jargon into the words of the file.
fn plain_words(message: &str) -> String {
    let mut out = message
        .replace("unknown field", "unknown key")
        .replace("expected i64", "expected an integer")
        .replace("a sequence", "an array");
    if let Some(at) = out.find("expected struct Raw") {
        out.truncate(at);
        out.push_str("expected a table");
    }
    out
}

/// The dotted key path (`windows[2].serves[0]`) of the innermost key or value whose span holds
/// `span`; empty when the span is not inside any key.
fn key_path(table: &DeTable, span: &Range<usize>) -> String {
    let mut path = String::new();
    walk_table(table, span, &mut path);
    path
}

fn walk_table(table: &DeTable, span: &Range<usize>, path: &mut String) -> bool {
    for (key, value) in table.iter() {
        let len = path.len();
        if len > 0 {
            path.push('.');
        }
        path.push_str(key.get_ref());
        // Tables from `[header]`s may not span their keys, so search inside before the span test.
        if contains(&key.span(), span)
            || walk_value(value.get_ref(), span, path)
            || contains(&value.span(), span)
        {
            return true;
        }
        path.truncate(len);
    }
    false
}

fn walk_value(value: &DeValue, span: &Range<usize>, path: &mut String) -> bool {
    match value {
        DeValue::Table(table) => walk_table(table, span, path),
        DeValue::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = walk_value(item.get_ref(), span, path) || contains(&item.span(), span);
            if !found {
                path.truncate(len);
            }
            found
        }),
        _ => false,
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
}
