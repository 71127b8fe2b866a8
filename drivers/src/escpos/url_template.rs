//! The URL template behind a ticket's QR code, e.g.
//! `https://wx.example/q?hall={hall}&t={ticket_id}&n={number}`.
//!
//! Owns: parsing the template once (placeholders `{ticket_id}`, `{number}`, `{hall}`;
//! `{{` and `}}` for literal braces), the errors for a bad template (unknown placeholder,
//! unclosed brace, control character) with their position, and expansion with
//! percent-encoded values. Pure.
//!
//! Does not own: where the template comes from (config key `qr_url`) or printing the code.

use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::ticket::QR_MAX_PAYLOAD;

/// Everything but RFC 3986 unreserved characters is percent-encoded in a value.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 3] = ["ticket_id", "number", "hall"];

/// Values for one ticket.
#[derive(Clone, Copy, Debug)]
pub struct UrlValues<'a> {
    pub ticket_id: &'a str,
    pub number: &'a str,
    pub hall: &'a str,
}

/// What is wrong with a template or an expansion. Positions are character offsets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlTemplateError {
    #[error("unknown placeholder {{{name}}} at character {at} (known: {{ticket_id}}, {{number}}, {{hall}})")]
    UnknownPlaceholder { name: String, at: usize },
    #[error("unclosed '{{' at character {at} (write '{{{{' for a literal brace)")]
    Unclosed { at: usize },
    #[error("lone '}}' at character {at} (write '}}}}' for a literal brace)")]
    LoneClose { at: usize },
    #[error("control character at character {at}")]
    ControlCharacter { at: usize },
    #[error("expanded URL is {len} bytes, more than the {max} a ticket QR code holds")]
    TooLong { len: usize, max: usize },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    TicketId,
    Number,
    Hall,
}

/// A parsed, valid template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlTemplate {
    parts: Vec<Part>,
}

impl UrlTemplate {
    /// Parses and checks a template.
    pub fn parse(template: &str) -> Result<UrlTemplate, UrlTemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = template.chars().enumerate().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|p| p.1) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|p| p.1) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(UrlTemplateError::LoneClose { at }),
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(UrlTemplateError::Unclosed { at });
                    }
                    let part = match name.as_str() {
                        "ticket_id" => Part::TicketId,
                        "number" => Part::Number,
                        "hall" => Part::Hall,
                        _ => return Err(UrlTemplateError::UnknownPlaceholder { name, at }),
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                }
                c if c.is_control() => return Err(UrlTemplateError::ControlCharacter { at }),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(UrlTemplate { parts })
    }

    /// The URL for one ticket; values are percent-encoded. Fails only when the result is too
    /// long for a ticket's QR code.
    pub fn expand(&self, values: &UrlValues<'_>) -> Result<String, UrlTemplateError> {
        let mut url = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => url.push_str(text),
                Part::TicketId => url.extend(utf8_percent_encode(values.ticket_id, VALUE)),
                Part::Number => url.extend(utf8_percent_encode(values.number, VALUE)),
                Part::Hall => url.extend(utf8_percent_encode(values.hall, VALUE)),
            }
        }
        if url.len() > QR_MAX_PAYLOAD {
            return Err(UrlTemplateError::TooLong {
                len: url.len(),
                max: QR_MAX_PAYLOAD,
            });
        }
        Ok(url)
    }
}

impl fmt::Display for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Literal(text) => f.write_str(&text.replace('{', "{{").replace('}', "}}"))?,
                Part::TicketId => f.write_str("{ticket_id}")?,
                Part::Number => f.write_str("{number}")?,
                Part::Hall => f.write_str("{hall}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: UrlValues<'static> = UrlValues {
        ticket_id: "0b7c2a4e-9f1d-4c1e-8f00-5d2c7a9e1b33",
        number: "A012",
        hall: "wsq-zwfw",
    };

    #[test]
    fn expands_every_placeholder() {
        let t = UrlTemplate::parse("https://q.example/h/{hall}/t/{ticket_id}?n={number}").unwrap();
        assert_eq!(
            t.expand(&VALUES).unwrap(),
            "https://q.example/h/wsq-zwfw/t/0b7c2a4e-9f1d-4c1e-8f00-5d2c7a9e1b33?n=A012"
        );
    }

    #[test]
    fn values_are_percent_encoded() {
        let t = UrlTemplate::parse("https://q.example/?h={hall}&n={number}").unwrap();
        let values = UrlValues {
            hall: "乌审旗 a&b=c/d",
            number: "A 1",
            ..VALUES
        };
        assert_eq!(
            t.expand(&values).unwrap(),
            "https://q.example/?h=%E4%B9%8C%E5%AE%A1%E6%97%97%20a%26b%3Dc%2Fd&n=A%201"
        );
    }

    #[test]
    fn literal_braces_and_round_trip() {
        let t = UrlTemplate::parse("https://q.example/{{x}}/{number}").unwrap();
        assert_eq!(t.expand(&VALUES).unwrap(), "https://q.example/{x}/A012");
        assert_eq!(t.to_string(), "https://q.example/{{x}}/{number}");
    }

    #[test]
    fn bad_templates_say_what_and_where() {
        let err = UrlTemplate::parse("https://q.example/{tiket_id}").unwrap_err();
        assert_eq!(
            err,
            UrlTemplateError::UnknownPlaceholder {
                name: "tiket_id".into(),
                at: 18
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown placeholder {tiket_id} at character 18 (known: {ticket_id}, {number}, {hall})"
        );
        assert_eq!(
            UrlTemplate::parse("https://q/{number").unwrap_err(),
            UrlTemplateError::Unclosed { at: 10 }
        );
        assert_eq!(
            UrlTemplate::parse("a}b").unwrap_err(),
            UrlTemplateError::LoneClose { at: 1 }
        );
        assert_eq!(
            UrlTemplate::parse("a\nb").unwrap_err(),
            UrlTemplateError::ControlCharacter { at: 1 }
        );
    }

    #[test]
    fn too_long_an_expansion_is_an_error() {
        let t =
            UrlTemplate::parse(&format!("https://q.example/{}/{{hall}}", "x".repeat(280))).unwrap();
        assert!(matches!(
            t.expand(&VALUES),
            Err(UrlTemplateError::TooLong { .. })
        ));
    }
}
