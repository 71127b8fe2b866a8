//! Printer text: display width, wrapping and the GB18030 / Chinese-mode line encoding.
//!
//! Owns: how many columns a character takes on the printer (ASCII one, anything else two,
//! because the printer prints every multi-byte GB18030 character as a full-width glyph),
//! wrapping text into lines that fit, and turning one line into bytes with Chinese runs
//! inside `FS &` … `FS .`.
//!
//! Does not own: the ticket layout or character sizes (see [`super::ticket`]).

use encoding_rs::GB18030;

/// `FS &`: enter Chinese (Kanji) mode.
pub const CHINESE_ON: [u8; 2] = [0x1C, 0x26];
/// `FS .`: leave Chinese mode.
pub const CHINESE_OFF: [u8; 2] = [0x1C, 0x2E];
/// `LF`: print the line and feed.
pub const LF: u8 = 0x0A;

/// Columns a character takes at normal size: 1 for ASCII, 2 for anything else.
pub fn char_columns(c: char) -> usize {
    if c.is_ascii() {
        1
    } else {
        2
    }
}

/// Columns a string takes at normal size.
pub fn text_columns(s: &str) -> usize {
    s.chars().map(char_columns).sum()
}

/// Replaces control characters (which would be printer commands) by spaces.
pub fn sanitize(s: &str) -> String {
    // Any other space (EN QUAD, ideographic space ...) prints as a plain one, so wrapping, which
    // drops spaces at a break, treats them all alike.
    s.chars()
        .map(|c| {
            if c.is_control() || c.is_whitespace() {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Wraps `text` into lines of at most `columns` display columns (at least 2 are assumed, so
/// a full-width character always fits). Breaks between characters, never inside one; an
/// ASCII word is moved whole to the next line when the line has a space to break at.
/// Spaces at a break are dropped. Control characters and other spaces become spaces. Empty text gives one
/// empty line.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(2);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0;
    for c in sanitize(text).chars() {
        let w = char_columns(c);
        if width + w > columns {
            let carried = if c != ' ' && ends_in_ascii_word(&line) {
                take_last_word(&mut line)
            } else {
                String::new()
            };
            push_trimmed(&mut lines, &line);
            line = carried;
            width = text_columns(&line);
            if c == ' ' {
                continue;
            }
        }
        if c == ' ' && line.is_empty() && !lines.is_empty() {
            continue; // no leading space on a continuation line
        }
        line.push(c);
        width += w;
    }
    if !line.trim_end().is_empty() || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

fn ends_in_ascii_word(line: &str) -> bool {
    line.chars()
        .last()
        .is_some_and(|c| c.is_ascii() && c != ' ')
}

/// Splits off the trailing ASCII word if the line has an earlier space to break at.
fn take_last_word(line: &mut String) -> String {
    let Some(space) = line.rfind(' ') else {
        return String::new();
    };
    let word = &line[space + 1..];
    if !word.is_ascii() || line[..space].trim_end().is_empty() {
        return String::new();
    }
    let word = word.to_string();
    line.truncate(space);
    word
}

fn push_trimmed(lines: &mut Vec<String>, line: &str) {
    let line = line.trim_end();
    if !line.is_empty() {
        lines.push(line.to_string());
    }
}

/// GB18030 bytes of `s` (every Unicode character has a GB18030 encoding).
pub fn gb18030(s: &str) -> Vec<u8> {
    GB18030.encode(s).0.into_owned()
}

/// Appends one line: ASCII as is, each run of other characters as GB18030 inside
/// `FS &` … `FS .`, then `LF`. Control characters become spaces.
pub fn push_line(out: &mut Vec<u8>, line: &str) {
    let line = sanitize(line);
    let mut rest = line.as_str();
    while !rest.is_empty() {
        let chinese = !rest.starts_with(|c: char| c.is_ascii());
        let end = rest
            .find(|c: char| c.is_ascii() == chinese)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        if chinese {
            out.extend_from_slice(&CHINESE_ON);
            out.extend_from_slice(&gb18030(run));
            out.extend_from_slice(&CHINESE_OFF);
        } else {
            out.extend_from_slice(run.as_bytes());
        }
        rest = tail;
    }
    out.push(LF);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn widths() {
        assert_eq!(text_columns("A012"), 4);
        assert_eq!(text_columns("前面还有 3 人"), 13);
        assert_eq!(text_columns("：。"), 4);
    }

    #[test]
    fn wraps_chinese_by_two_columns() {
        assert_eq!(
            wrap("乌审旗政务服务中心", 8),
            ["乌审旗政", "务服务中", "心"]
        );
        assert_eq!(
            wrap("乌审旗政务服务中心", 7),
            ["乌审旗", "政务服", "务中心"]
        );
    }

    #[test]
    fn moves_ascii_words_whole() {
        assert_eq!(
            wrap("please keep this ticket", 10),
            ["please", "keep this", "ticket"]
        );
        assert_eq!(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(wrap("请保留 ticket", 10), ["请保留", "ticket"]);
    }

    #[test]
    fn empty_and_control_characters() {
        assert_eq!(wrap("", 32), [""]);
        assert_eq!(wrap("a\x1b@b", 32), ["a @b"]);
    }

    #[test]
    fn line_runs() {
        let mut out = Vec::new();
        push_line(&mut out, "前面 3 人");
        let mut expected = vec![0x1C, 0x26, 0xC7, 0xB0, 0xC3, 0xE6, 0x1C, 0x2E];
        expected.extend_from_slice(b" 3 ");
        expected.extend_from_slice(&[0x1C, 0x26, 0xC8, 0xCB, 0x1C, 0x2E, 0x0A]);
        assert_eq!(out, expected);
    }

    fn hall_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 .:/-]{0,80}",
            "[乌审旗政务服务中心前面还有人预计等候约分钟 ，。a-z0-9]{0,80}",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn no_line_too_wide_and_no_char_lost(text in hall_text(), columns in 2usize..64) {
            let lines = wrap(&text, columns);
            for line in &lines {
                prop_assert!(text_columns(line) <= columns, "{line:?} wider than {columns}");
                prop_assert!(!line.chars().any(char::is_control));
            }
            let without_spaces = |s: &str| s.chars().filter(|c| *c != ' ').collect::<String>();
            prop_assert_eq!(without_spaces(&lines.concat()), without_spaces(&sanitize(&text)));
        }
    }
}
