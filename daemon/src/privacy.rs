//! Personal data wrappers: names, phone numbers, ID numbers and addresses.
//!
//! Their `Display` and `Debug` print a masked form (`张*`, `138****1234`,
//! `150102********1234`), so a value that slips into a log line, a panic or an error message
//! never shows in clear. The clear value is reachable only through `expose()`, which the store,
//! the upstream sync and the printer use on purpose. Validation of formats lives with the
//! commands that accept them, not here.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! personal {
    ($(#[$doc:meta])* $name:ident, $mask:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }
            /// The clear value, for the store, upstream and printing only.
            pub fn expose(&self) -> &str {
                &self.0
            }
            /// The masked form, also what `Display` prints.
            pub fn masked(&self) -> String {
                $mask(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.masked())
            }
        }

        /// As typed on the command line (clap builds it from the argument).
        impl From<String> for $name {
            fn from(value: String) -> Self {
                $name(value)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.masked())
            }
        }
    };
}

personal!(
    /// A person's name: `张三` shows as `张*`, `欧阳娜娜` as `欧***`.
    PersonName,
    mask_name
);
personal!(
    /// A phone number: `13812341234` shows as `138****1234`.
    Phone,
    mask_phone
);
personal!(
    /// A resident ID number (GB 11643): shows the first six and last four digits.
    IdNumber,
    mask_id
);
personal!(
    /// A postal address: only the first four characters are shown.
    Address,
    mask_address
);

/// Echo something a person typed (a code, a ticket number) back in an error, quoted: a short
/// code of letters, digits and dashes as typed; anything else masked, since at a kiosk people
/// type names, phone or ID numbers into the wrong field.
pub fn echo(s: &str) -> String {
    let s = s.trim();
    let code_like = !s.is_empty()
        && s.len() <= 8
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && s.bytes().filter(u8::is_ascii_digit).count() < LONG_NUMBER;
    if code_like {
        format!("{s:?}")
    } else if s.chars().count() <= 8 {
        format!("{:?}", mask_name(s))
    } else {
        format!("{:?}", keep_ends(s, 2, 2))
    }
}

/// Numbers with at least this many digits may be phone or ID numbers.
const LONG_NUMBER: usize = 7;

/// Mask what looks like personal data in free text we did not write (a parser's message):
/// numbers of 7 or more digits (counted across separators, [`mask_digit_runs`]), and any CJK
/// text.
pub fn scrub(text: &str) -> String {
    mask_digit_runs(text)
        .chars()
        .map(|c| {
            let cjk = matches!(c as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF);
            if cjk {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// Mask every number of 7 or more digits except its first and last two digits. Digits joined
/// by single separators (`-`, `.`, `/`, a space) count as one number, so `139-1234-5678`
/// becomes `13*-****-**78` and an ID number written in groups is caught as well.
pub fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let (end, digits) = number_at(&chars, i);
        let mut seen = 0;
        for &c in &chars[i..end] {
            if c.is_ascii_digit() {
                seen += 1;
                let keep = digits < LONG_NUMBER || seen <= 2 || seen > digits - 2;
                out.push(if keep { c } else { '*' });
            } else {
                out.push(c);
            }
        }
        i = end;
    }
    out
}

/// The numbers in `text` with their separators removed (`139-1234-5678` -> `13912345678`),
/// each with an `X` that directly follows its digits (the check character of an ID number).
pub fn numbers_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let (end, _) = number_at(&chars, i);
        let mut number: String = chars[i..end]
            .iter()
            .filter(|c| c.is_ascii_digit())
            .collect();
        if matches!(chars.get(end), Some('X' | 'x')) {
            number.push('X');
        }
        out.push(number);
        i = end;
    }
    out
}

/// The number starting at `start` (a digit): where it ends, and how many digits it has.
fn number_at(chars: &[char], start: usize) -> (usize, usize) {
    let is_sep = |c: char| matches!(c, '-' | '.' | '/' | ' ');
    let (mut end, mut digits) = (start, 0);
    while end < chars.len() {
        if chars[end].is_ascii_digit() {
            digits += 1;
            end += 1;
        } else if is_sep(chars[end]) && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
            end += 1;
        } else {
            break;
        }
    }
    (end, digits)
}

pub fn mask_name(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// Keep the first three and the last four characters of a long number, mask the middle.
pub fn mask_phone(s: &str) -> String {
    keep_ends(s, 3, 4)
}

pub fn mask_id(s: &str) -> String {
    keep_ends(s, 6, 4)
}

pub fn mask_address(s: &str) -> String {
    let shown: String = s.chars().take(4).collect();
    if s.chars().count() > 4 {
        format!("{shown}****")
    } else {
        "****".to_string()
    }
}

fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len().max(4));
    }
    let middle = chars.len() - head - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(middle));
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_each_kind() {
        assert_eq!(PersonName::new("张三").to_string(), "张*");
        assert_eq!(PersonName::new("欧阳娜娜").to_string(), "欧***");
        assert_eq!(PersonName::new("李").to_string(), "李*");
        assert_eq!(Phone::new("13812341234").to_string(), "138****1234");
        assert_eq!(
            IdNumber::new("150102199001011234").to_string(),
            "150102********1234"
        );
        assert_eq!(
            Address::new("内蒙古鄂尔多斯市乌审旗").to_string(),
            "内蒙古鄂****"
        );
        assert_eq!(Phone::new("123").to_string(), "****");
    }

    #[test]
    fn echo_masks_anything_that_is_not_a_short_code() {
        assert_eq!(echo("R001"), "\"R001\"");
        assert_eq!(echo("王小明"), "\"王**\"");
        assert_eq!(echo("a b"), "\"a**\"");
        assert_eq!(echo("150102199001011234"), "\"15**************34\"");
        assert_eq!(echo("13812341234"), "\"13*******34\"");
    }

    #[test]
    fn scrub_masks_digit_runs_and_cjk() {
        assert_eq!(
            scrub("invalid value '13912345678' for '<WINDOW>'"),
            "invalid value '13*******78' for '<WINDOW>'"
        );
        assert_eq!(scrub("unexpected 王小明 at 12"), "unexpected *** at 12");
    }

    #[test]
    fn digit_runs_count_across_separators() {
        assert_eq!(mask_digit_runs("call 139-1234-5678"), "call 13*-****-**78");
        assert_eq!(mask_digit_runs("139 1234 5678."), "13* **** **78.");
        assert_eq!(
            mask_digit_runs("id 150102-19900101-1234"),
            "id 15****-********-**34"
        );
        assert_eq!(
            mask_digit_runs("A012 at 10:30, 3 ahead"),
            "A012 at 10:30, 3 ahead"
        );
        assert_eq!(mask_digit_runs("2026-11-26"), "20**-**-26");
        assert_eq!(scrub("phone 139-1234-5678"), "phone 13*-****-**78");
        assert_eq!(echo("1391234"), "\"1******\"");
        assert_eq!(echo("139-1234"), "\"1*******\"");
        assert_eq!(echo("A012"), "\"A012\"");
        assert_eq!(
            numbers_in("ZW-150102199001011234 x 139-1234-5678, 15010219900101123X"),
            ["150102199001011234", "13912345678", "15010219900101123X"]
        );
    }

    #[test]
    fn debug_is_masked_too() {
        let p = Phone::new("13812341234");
        assert_eq!(format!("{p:?}"), "Phone(138****1234)");
        assert!(!format!("{:?}", Some(PersonName::new("王小明"))).contains("小明"));
    }
}
