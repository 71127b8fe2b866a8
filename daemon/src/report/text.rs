//! The plain-text report for a terminal: a title, then every table with aligned columns.
//!
//! Chinese characters take two terminal columns, so widths are counted per character class;
//! nothing here decides what a figure means.

use std::fmt::Write;

use super::model::Report;
use super::tables::{tables, Cell, Table};

/// Columns a character takes in a terminal: two for CJK and full-width forms, else one.
pub fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

fn pad(s: &str, to: usize, right: bool) -> String {
    let fill = " ".repeat(to.saturating_sub(width(s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

fn render_table(out: &mut String, table: &Table) {
    let _ = writeln!(out, "\n{}", table.title);
    if table.rows.is_empty() {
        let _ = writeln!(out, "  （无）");
        return;
    }
    let shown: Vec<Vec<(String, bool)>> = table
        .rows
        .iter()
        .map(|row| row.iter().map(|c| (c.show(), c.is_number())).collect())
        .collect();
    let mut widths: Vec<usize> = table.headers.iter().map(|h| width(h)).collect();
    for row in &shown {
        for (i, (s, _)) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(s));
            }
        }
    }
    let numeric: Vec<bool> = (0..widths.len())
        .map(|i| {
            table
                .rows
                .iter()
                .all(|r| r.get(i).is_some_and(Cell::is_number))
        })
        .collect();
    let line = |cells: Vec<String>| cells.join("  ").trim_end().to_string();
    let header = table
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| pad(h, widths[i], numeric[i]))
        .collect();
    let _ = writeln!(out, "  {}", line(header));
    for row in shown {
        let cells = row
            .iter()
            .enumerate()
            .map(|(i, (s, _))| pad(s, widths.get(i).copied().unwrap_or(0), numeric[i]))
            .collect();
        let _ = writeln!(out, "  {}", line(cells));
    }
}

/// The whole report as text.
pub fn render(report: &Report) -> String {
    let mut out = format!(
        "{} {}\n业务日 {} 至 {}（{} 天，时区 {}，每日 {} 起算）\n",
        report.hall.name,
        report.period.title_zh(),
        report.period.first,
        report.period.last,
        report.days_in_period,
        report.hall.timezone,
        report.hall.day_starts_at,
    );
    for table in tables(report) {
        render_table(&mut out, &table);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_takes_two_columns() {
        assert_eq!(width("A001"), 4);
        assert_eq!(width("综合受理"), 8);
        assert_eq!(width("等候P90(分)"), 11);
        assert_eq!(pad("满意", 6, true), "  满意");
    }

    #[test]
    fn numbers_align_right_and_text_left() {
        let table = Table {
            key: "t",
            title: "测试",
            headers: vec!["业务", "取号"],
            rows: vec![
                vec![Cell::Text("综合受理".into()), Cell::Count(5)],
                vec![Cell::Text("B".into()), Cell::Count(120)],
            ],
        };
        let mut out = String::new();
        render_table(&mut out, &table);
        assert_eq!(
            out,
            "\n测试\n  业务      取号\n  综合受理     5\n  B          120\n"
        );
    }
}
