//! A small SVG chart writer for the HTML report: grouped vertical bars (hourly arrivals against
//! calls, issued against served per day) and 100 % stacked horizontal bars (waits per service,
//! evaluations per window), with axes, ticks and a legend.
//!
//! Pure string building, no I/O and no fonts: text is left to the browser (CJK included),
//! so label widths are estimated per character class. Output is deterministic, so tests
//! compare it exactly. Why not plotters: see the commit that added this module.

use std::fmt::Write;

/// One data series: its legend name, fill colour and one value per category.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'a str,
    pub values: Vec<f64>,
}

/// `&`, `<`, `>`, `"` and `'` escaped for XML text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A round axis maximum and tick step (1, 2 or 5 × 10^k) for values up to `max`, about
/// five ticks.
pub fn nice_scale(max: f64) -> (f64, f64) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, 1.0);
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(1.0);
    ((max / step).ceil() * step, step)
}

/// Rough width in px of `s` at `size` px: CJK a full em, other characters about 0.6 em.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| {
            if (c as u32) >= 0x2E80 {
                size
            } else {
                size * 0.6
            }
        })
        .sum()
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn open(out: &mut String, class: &str, title: &str, width: f64, height: f64) {
    let _ = write!(
        out,
        r#"<svg class="chart {class}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"><title>{}</title>"#,
        escape(title)
    );
}

fn legend(out: &mut String, series: &[(&str, &str)], x: f64, y: f64) {
    let mut x = x;
    for (name, color) in series {
        let _ = write!(
            out,
            r#"<rect class="legend" x="{x}" y="{}" width="10" height="10" fill="{color}"/><text x="{}" y="{y}" font-size="11">{}</text>"#,
            y - 9.0,
            x + 14.0,
            escape(name)
        );
        x += 14.0 + text_width(name, 11.0) + 16.0;
    }
}

/// Vertical bars, one group per category, one bar per series; categories along the bottom.
pub fn grouped_bars(
    class: &str,
    title: &str,
    categories: &[String],
    series: &[Series<'_>],
    width: f64,
    height: f64,
) -> String {
    let (left, right, top, bottom) = (40.0, 10.0, 24.0, 28.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let (axis_max, step) = nice_scale(max);
    let mut out = String::new();
    open(&mut out, class, title, width, height);
    let named: Vec<(&str, &str)> = series.iter().map(|s| (s.name, s.color)).collect();
    legend(&mut out, &named, left, 14.0);
    let y_of = |v: f64| top + plot_h - v / axis_max * plot_h;
    let mut tick = 0.0;
    while tick <= axis_max + step / 2.0 {
        let y = y_of(tick);
        let _ = write!(
            out,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd" stroke-width="0.5"/><text x="{:.1}" y="{:.1}" font-size="9" text-anchor="end">{}</text>"##,
            width - right,
            left - 4.0,
            y + 3.0,
            number(tick)
        );
        tick += step;
    }
    let n = categories.len().max(1) as f64;
    let group_w = plot_w / n;
    let bar_w = (group_w * 0.8) / series.len().max(1) as f64;
    // Label every category when they fit, else every k-th.
    let every = (text_width(categories.first().map_or("", |s| s), 9.0) + 4.0)
        .div_euclid(group_w)
        .max(0.0) as usize
        + 1;
    for (i, cat) in categories.iter().enumerate() {
        let gx = left + group_w * i as f64 + group_w * 0.1;
        for (j, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let y = y_of(v);
            let _ = write!(
                out,
                r#"<rect class="bar" x="{:.1}" y="{y:.1}" width="{bar_w:.1}" height="{:.1}" fill="{}"><title>{} {}: {}</title></rect>"#,
                gx + bar_w * j as f64,
                top + plot_h - y,
                s.color,
                escape(cat),
                escape(s.name),
                number(v)
            );
        }
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle">{}</text>"#,
                left + group_w * (i as f64 + 0.5),
                height - bottom + 12.0,
                escape(cat)
            );
        }
    }
    let _ = write!(
        out,
        r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333" stroke-width="1"/></svg>"##,
        top + plot_h,
        width - right,
        top + plot_h
    );
    out
}

/// One horizontal bar per row, split into segments by share (each row sums to 100 %), with a
/// note at its right end (e.g. the count or the satisfaction rate).
pub fn stacked_shares(
    class: &str,
    title: &str,
    rows: &[(String, Vec<f64>, String)],
    segments: &[(&str, &str)],
    width: f64,
) -> String {
    let label_w = rows
        .iter()
        .map(|(l, _, _)| text_width(l, 10.0))
        .fold(40.0, f64::max)
        + 8.0;
    let note_w = rows
        .iter()
        .map(|(_, _, n)| text_width(n, 10.0))
        .fold(0.0, f64::max)
        + 8.0;
    let (top, row_h, bar_h) = (26.0, 20.0, 13.0);
    let height = top + row_h * rows.len() as f64 + 6.0;
    let plot_w = width - label_w - note_w;
    let mut out = String::new();
    open(&mut out, class, title, width, height);
    legend(&mut out, segments, label_w, 14.0);
    for (i, (label, values, note)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"#,
            label_w - 6.0,
            y + bar_h - 3.0,
            escape(label)
        );
        let total: f64 = values.iter().sum();
        if total > 0.0 {
            let mut x = label_w;
            for (v, (name, color)) in values.iter().zip(segments) {
                let w = v / total * plot_w;
                if w > 0.0 {
                    let _ = write!(
                        out,
                        r#"<rect class="segment" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{bar_h}" fill="{color}"><title>{} {}: {} ({:.1}%)</title></rect>"#,
                        escape(label),
                        escape(name),
                        number(*v),
                        v / total * 100.0
                    );
                }
                x += w;
            }
        } else {
            let _ = write!(
                out,
                r##"<rect class="empty" x="{label_w:.1}" y="{y:.1}" width="{plot_w:.1}" height="{bar_h}" fill="none" stroke="#ccc" stroke-dasharray="3 2"/>"##
            );
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="10">{}</text>"#,
            label_w + plot_w + 6.0,
            y + bar_h - 3.0,
            escape(note)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_scale(0.0), (1.0, 1.0));
        assert_eq!(nice_scale(3.0), (3.0, 1.0));
        assert_eq!(nice_scale(47.0), (50.0, 10.0));
        assert_eq!(nice_scale(120.0), (150.0, 50.0));
        assert_eq!(nice_scale(1000.0), (1000.0, 200.0));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a & 'b'>\""), "&lt;a &amp; &#39;b&#39;&gt;&quot;");
    }

    #[test]
    fn bars_are_as_tall_as_their_values() {
        let svg = grouped_bars(
            "c",
            "t",
            &["08".to_string(), "09".to_string()],
            &[
                Series {
                    name: "取号",
                    color: "#111",
                    values: vec![10.0, 5.0],
                },
                Series {
                    name: "叫号",
                    color: "#222",
                    values: vec![0.0, 2.0],
                },
            ],
            300.0,
            200.0,
        );
        // Plot 250 x 148 (300 - 40 - 10, 200 - 24 - 28) for an axis of 0..10: two groups of
        // 125 px, each two bars of 50 px after a 12.5 px margin.
        assert!(
            svg.contains(r##"x="52.5" y="24.0" width="50.0" height="148.0" fill="#111""##),
            "{svg}"
        );
        assert!(svg.contains(r##"height="74.0" fill="#111""##));
        assert!(svg.contains(r##"height="29.6" fill="#222""##));
        assert_eq!(
            svg.matches("class=\"bar\"").count(),
            3,
            "a zero draws no bar"
        );
        assert!(svg.starts_with(r#"<svg class="chart c""#) && svg.ends_with("</svg>"));
    }

    #[test]
    fn stacked_segments_split_the_bar_by_share() {
        let svg = stacked_shares(
            "s",
            "t",
            &[
                ("1号窗口".to_string(), vec![3.0, 1.0], "75%".to_string()),
                ("2号窗口".to_string(), vec![0.0, 0.0], "—".to_string()),
            ],
            &[("满意", "#0a0"), ("不满意", "#a00")],
            400.0,
        );
        assert_eq!(svg.matches("class=\"segment\"").count(), 2, "{svg}");
        // Label column 40 + 8, note column 18 + 8: plot width 400 - 48 - 26 = 326.
        assert!(svg.contains(r#"x="48.0" y="26.0" width="244.5""#), "{svg}");
        assert!(svg.contains(r#"x="292.5" y="26.0" width="81.5""#), "{svg}");
        assert!(
            svg.contains("class=\"empty\""),
            "a row without data is drawn empty"
        );
    }
}
