//! The CSV report: UTF-8 with a byte-order mark (so Excel on a Chinese Windows reads it as
//! UTF-8), one section per table — a title line, a header row, the rows, a blank line.
//!
//! Fields are quoted per RFC 4180; a text field that a spreadsheet would take for a formula
//! (`=`, `+`, `-`, `@` first) gets a leading `'`, so a document title typed as `=HYPERLINK(...)`
//! stays text. Line ends are CRLF, as Excel writes them.

use super::model::Report;
use super::tables::{tables, Cell};

/// UTF-8 byte-order mark.
pub const BOM: &str = "\u{feff}";

fn field(cell: &Cell) -> String {
    let mut s = cell.show();
    if !cell.is_number() && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        s.insert(0, '\'');
    }
    quote(&s)
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The whole report as CSV text, BOM first.
pub fn render(report: &Report) -> String {
    let mut out = String::from(BOM);
    let title = format!(
        "{} {}（{} 至 {}）",
        report.hall.name,
        report.period.title_zh(),
        report.period.first,
        report.period.last
    );
    out.push_str(&quote(&title));
    out.push_str("\r\n\r\n");
    for table in tables(report) {
        out.push_str(&quote(table.title));
        out.push_str("\r\n");
        let headers: Vec<String> = table.headers.iter().map(|h| quote(h)).collect();
        out.push_str(&headers.join(","));
        out.push_str("\r\n");
        for row in &table.rows {
            let cells: Vec<String> = row.iter().map(field).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(
            field(&Cell::Text("营业执照,副本".into())),
            "\"营业执照,副本\""
        );
        assert_eq!(
            field(&Cell::Text("say \"hi\"".into())),
            "\"say \"\"hi\"\"\""
        );
        assert_eq!(field(&Cell::Text("=1+1".into())), "'=1+1");
        assert_eq!(field(&Cell::Text("-".into())), "'-");
        assert_eq!(field(&Cell::Minutes(Some(90.0))), "1.5");
        assert_eq!(field(&Cell::Minutes(None)), "—");
        assert_eq!(field(&Cell::Share(Some(0.8534))), "85.3%");
    }
}
