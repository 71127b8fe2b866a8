//! The announcement template: `chime 请 {number} 号 到 {window} 号 窗口 办理`.
//!
//! Owns: parsing the template text into [`Part`]s (a clip to say, or the ticket number, the
//! window or the service), the Chinese words it understands as clip names (`请` = `qing.wav`,
//! see [`super::clips`]), which words form the window phrase a per-window clip replaces, and
//! the errors that say which word of a bad template is wrong.
//!
//! Does not own: whether the clips exist (the clip set says so when it is loaded) or how a
//! number is read (see [`super::compose`]).

use std::fmt;
use std::str::FromStr;

use super::names;

/// The template when the config gives none. Halls say "请 A012 号 到 3 号窗口 办理".
pub const DEFAULT_TEMPLATE: &str = "chime 请 {number} 号 到 {window} 号 窗口 办理";

/// The Chinese words a template may use for the fixed clips, with their file stems.
pub const WORDS: [(&str, &str); 7] = [
    ("请", names::QING),
    ("号", names::HAO),
    ("到", names::DAO),
    ("窗口", names::CHUANGKOU),
    ("办理", names::BANLI),
    ("十", names::SHI),
    ("叮咚", names::CHIME),
];

/// One word of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// A clip, by file stem (`qing` for `qing.wav`).
    Clip(String),
    /// `{number}`: the ticket number, letter by letter and digit by digit.
    Number,
    /// `{window}`: the window number read as a number. `phrase` is how many of the parts right
    /// after it (`号`, then `窗口`) a per-window clip (`window-3.wav`) replaces along with it.
    Window { phrase: usize },
    /// `{service}`: the service's clip (`service-a.wav`), when the hall recorded one.
    Service,
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

/// What is wrong with a template. Word numbers count from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template is empty")]
    Empty,
    #[error("the template never says the ticket number: add {{number}}")]
    NoNumber,
    #[error(
        "unknown placeholder {word} (word {index}); expected {{number}}, {{window}} or {{service}}"
    )]
    UnknownPlaceholder { word: String, index: usize },
    #[error(
        "{word:?} (word {index}): a placeholder stands alone in braces, with spaces around it"
    )]
    BadBraces { word: String, index: usize },
    #[error("unknown word {word:?} (word {index}); use 请 号 到 窗口 办理 十 叮咚, a placeholder, or the name of a clip file (letters a-z, digits, '-', '_')")]
    UnknownWord { word: String, index: usize },
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = words
            .iter()
            .enumerate()
            .map(|(i, word)| part(word, i + 1))
            .collect::<Result<Vec<Part>, TemplateError>>()?;
        if !parts.contains(&Part::Number) {
            return Err(TemplateError::NoNumber);
        }
        for i in 0..parts.len() {
            if let Part::Window { .. } = parts[i] {
                let phrase = window_phrase(&parts[i + 1..]);
                parts[i] = Part::Window { phrase };
            }
        }
        Ok(Template {
            text: words.join(" "),
            parts,
        })
    }

    /// The template as written (words separated by single spaces).
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The leading `chime` clips: said once, before the first repeat.
    pub fn intro(&self) -> &[Part] {
        &self.parts[..self.intro_len()]
    }

    /// Everything after the intro: said `repeat` times.
    pub fn body(&self) -> &[Part] {
        &self.parts[self.intro_len()..]
    }

    fn intro_len(&self) -> usize {
        self.parts
            .iter()
            .take_while(|p| matches!(p, Part::Clip(name) if name == names::CHIME))
            .count()
    }

    /// Whether the template says `{service}`.
    pub fn says_service(&self) -> bool {
        self.parts.contains(&Part::Service)
    }
}

impl Default for Template {
    fn default() -> Self {
        Template::parse(DEFAULT_TEMPLATE).expect("the default template parses")
    }
}

impl FromStr for Template {
    type Err = TemplateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Template::parse(s)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn part(word: &str, index: usize) -> Result<Part, TemplateError> {
    if let Some(inner) = word.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
        return match inner {
            "number" => Ok(Part::Number),
            "window" => Ok(Part::Window { phrase: 0 }),
            "service" => Ok(Part::Service),
            _ if inner.contains(['{', '}']) => Err(TemplateError::BadBraces {
                word: word.into(),
                index,
            }),
            _ => Err(TemplateError::UnknownPlaceholder {
                word: word.into(),
                index,
            }),
        };
    }
    if word.contains(['{', '}']) {
        return Err(TemplateError::BadBraces {
            word: word.into(),
            index,
        });
    }
    if let Some((_, stem)) = WORDS.iter().find(|(chinese, _)| *chinese == word) {
        return Ok(Part::Clip(stem.to_string()));
    }
    if word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(Part::Clip(word.to_ascii_lowercase()));
    }
    Err(TemplateError::UnknownWord {
        word: word.into(),
        index,
    })
}

/// How many of `after` belong to a window phrase: `号` then `窗口`, each optional, in order.
fn window_phrase(after: &[Part]) -> usize {
    let mut n = 0;
    for stem in [names::HAO, names::CHUANGKOU] {
        if matches!(after.get(n), Some(Part::Clip(name)) if name == stem) {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(name: &str) -> Part {
        Part::Clip(name.into())
    }

    #[test]
    fn the_default_template_reads_as_halls_say_it() {
        let t = Template::default();
        assert_eq!(t.text(), DEFAULT_TEMPLATE);
        assert_eq!(
            t.parts(),
            [
                clip("chime"),
                clip("qing"),
                Part::Number,
                clip("hao"),
                clip("dao"),
                Part::Window { phrase: 2 },
                clip("hao"),
                clip("chuangkou"),
                clip("banli"),
            ]
        );
        assert_eq!(t.intro(), [clip("chime")]);
        assert_eq!(t.body().len(), 8);
        assert!(!t.says_service());
    }

    #[test]
    fn words_may_be_chinese_or_file_stems_and_any_whitespace_separates_them() {
        let t =
            Template::parse("  Chime\tqing {number}　号 到 {window} 窗口 please-wait {service} ")
                .unwrap();
        assert_eq!(
            t.parts(),
            [
                clip("chime"),
                clip("qing"),
                Part::Number,
                clip("hao"),
                clip("dao"),
                Part::Window { phrase: 1 },
                clip("chuangkou"),
                clip("please-wait"),
                Part::Service,
            ]
        );
        assert_eq!(
            t.text(),
            "Chime qing {number} 号 到 {window} 窗口 please-wait {service}"
        );
        assert!(t.says_service());
    }

    #[test]
    fn the_window_phrase_is_only_hao_then_chuangkou_right_after_the_window() {
        let phrase = |text: &str| {
            Template::parse(text)
                .unwrap()
                .parts()
                .iter()
                .find_map(|p| match p {
                    Part::Window { phrase } => Some(*phrase),
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(phrase("{number} {window}"), 0);
        assert_eq!(phrase("{number} {window} 窗口 号"), 1);
        assert_eq!(phrase("{number} {window} 号 办理"), 1);
        assert_eq!(phrase("{number} {window} 办理 号 窗口"), 0);
        assert_eq!(phrase("{window} 号 窗口 {number}"), 2);
    }

    #[test]
    fn only_leading_chimes_are_the_intro() {
        let t = Template::parse("chime chime {number} chime").unwrap();
        assert_eq!(t.intro().len(), 2);
        assert_eq!(t.body(), [Part::Number, clip("chime")]);
        let t = Template::parse("{number} 号").unwrap();
        assert!(t.intro().is_empty());
    }

    #[test]
    fn bad_templates_say_which_word_is_wrong() {
        let e = |text: &str| Template::parse(text).unwrap_err().to_string();
        assert_eq!(e(""), "the template is empty");
        assert_eq!(e("   "), "the template is empty");
        assert_eq!(
            e("请 {window} 号 窗口"),
            "the template never says the ticket number: add {number}"
        );
        assert_eq!(
            e("请 {numbr} 号"),
            "unknown placeholder {numbr} (word 2); expected {number}, {window} or {service}"
        );
        assert_eq!(
            e("请 {number}号"),
            "\"{number}号\" (word 2): a placeholder stands alone in braces, with spaces around it"
        );
        assert_eq!(
            e("请 {number"),
            "\"{number\" (word 2): a placeholder stands alone in braces, with spaces around it"
        );
        assert_eq!(
            e("请 {{number}}"),
            "\"{{number}}\" (word 2): a placeholder stands alone in braces, with spaces around it"
        );
        assert_eq!(
            e("{number} 您好"),
            "unknown word \"您好\" (word 2); use 请 号 到 窗口 办理 十 叮咚, a placeholder, or the name of a clip file (letters a-z, digits, '-', '_')"
        );
        assert!(e("{number} ../../etc/passwd").starts_with("unknown word"));
        assert!(e("{number} a.wav").starts_with("unknown word"));
    }
}
