//! The error collector of config resolution: every check reports `file:line:col: key: message`
//! and carries on with a placeholder, so an operator fixes a file in one pass. Shared by the
//! sections (`resolve`) and the devices (`devices`).

use std::fmt::Display;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::{ConfigError, Source};

pub(super) const U32_MAX: i64 = u32::MAX as i64;

/// Accumulates errors while resolving; every check reports and carries on with a placeholder.
pub(super) struct Checker<'a> {
    pub(super) source: Source<'a>,
    pub(super) base_dir: PathBuf,
    pub(super) errors: Vec<ConfigError>,
}

impl Checker<'_> {
    /// Report `key: message` at the start of a value's span.
    pub(super) fn error<T>(&mut self, at: &Spanned<T>, key: impl Display, message: String) {
        self.at(at.span().start, key, message);
    }

    pub(super) fn at(&mut self, offset: usize, key: impl Display, message: String) {
        self.errors
            .push(self.source.error(offset, format!("{key}: {message}")));
    }

    /// Where a value is, for an error found after parsing (the voice clip check).
    pub(super) fn position<T>(&self, at: &Spanned<T>) -> ConfigError {
        self.source.error(at.span().start, String::new())
    }

    /// 1-based line of a span, for "first at line N".
    pub(super) fn line_of<T>(&self, at: &Spanned<T>) -> usize {
        self.source.line(at.span().start)
    }

    /// An integer in `min..=max` (which must fit u32); the placeholder `min` when out of range.
    pub(super) fn int(&mut self, key: &str, value: &Spanned<i64>, min: i64, max: i64) -> u32 {
        let v = *value.get_ref();
        let max = max.min(U32_MAX);
        if (min..=max).contains(&v) {
            return v as u32;
        }
        let message = match (max == U32_MAX, v < min) {
            (false, _) => format!("must be between {min} and {max}, got {v}"),
            (true, true) => format!("must be at least {min}, got {v}"),
            (true, false) => format!("must be at most {max}, got {v}"),
        };
        self.error(value, key, message);
        min.max(0) as u32
    }

    pub(super) fn int_or(
        &mut self,
        key: &str,
        value: &Option<Spanned<i64>>,
        default: u32,
        min: i64,
        max: i64,
    ) -> u32 {
        value
            .as_ref()
            .map_or(default, |v| self.int(key, v, min, max))
    }

    pub(super) fn non_empty(&mut self, key: &str, value: &Spanned<String>) {
        if value.get_ref().trim().is_empty() {
            self.error(value, key, "must not be empty".into());
        }
    }

    /// An id used in topics and file names: lowercase letters, digits and `-`.
    pub(super) fn id(&mut self, key: &str, value: &Spanned<String>) {
        let id = value.get_ref();
        if id.is_empty() {
            self.error(value, key, "must not be empty".into());
        } else if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            let message =
                format!("may only hold lowercase letters a-z, digits and '-', got {id:?}");
            self.error(value, key, message);
        }
    }

    /// A path from the file; relative paths are taken from the config file's folder.
    pub(super) fn path(&mut self, key: &str, value: &Spanned<String>) -> PathBuf {
        self.non_empty(key, value);
        lexical_normalize(&self.base_dir.join(value.get_ref()))
    }

    pub(super) fn dir(
        &mut self,
        key: &str,
        value: &Option<Spanned<String>>,
        default: &str,
    ) -> PathBuf {
        value
            .as_ref()
            .map_or_else(|| PathBuf::from(default), |v| self.path(key, v))
    }
}

/// `config/../var/demo` -> `var/demo`, without touching the file system, so logs and `doctor`
/// show the paths an operator recognises. (A symlinked folder followed by `..` is taken
/// literally; configs that need that should use absolute paths.)
pub(super) fn lexical_normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else if !matches!(out.components().next_back(), Some(Component::RootDir)) {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}
