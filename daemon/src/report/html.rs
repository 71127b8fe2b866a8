//! The HTML report: one self-contained page in Chinese, printable on A4 — inline CSS and
//! inline SVG charts, no script, no image, font or style sheet fetched from anywhere.
//!
//! Headline figures, hourly arrivals against calls, issued against served per day (week and
//! month), the wait distribution per service and satisfaction per window, then every table of
//! the text report. Charts come from `svg`; this module only lays out the page.

use std::fmt::Write;

use super::model::{Report, WAIT_BINS_MINUTES};
use super::svg::{escape, grouped_bars, stacked_shares, Series};
use super::tables::{tables, Table};

/// Chart width in CSS px: the A4 text width (210 mm − 2 × 12 mm margins) at 96 dpi.
const WIDTH: f64 = 700.0;

const STYLE: &str = r#"
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
       "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", sans-serif;
       font-size: 10pt; color: #1a202c; margin: 0 auto; max-width: 186mm; padding: 4mm 0;
       background: #fff; }
h1 { font-size: 16pt; margin: 0 0 2pt; }
h2 { font-size: 11.5pt; border-bottom: 1.5px solid #2b6cb0; padding-bottom: 2pt;
     margin: 14pt 0 6pt; break-after: avoid; page-break-after: avoid; }
p.meta { color: #4a5568; margin: 0 0 8pt; font-size: 9pt; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 5pt; }
.card { border: 1px solid #cbd5e0; border-radius: 4px; padding: 4pt 6pt; break-inside: avoid; }
.card span { color: #4a5568; font-size: 8.5pt; }
.card b { display: block; font-size: 15pt; font-weight: 600; }
figure { margin: 0 0 8pt; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 8.5pt; color: #4a5568; }
svg.chart { display: block; max-width: 100%; height: auto; font-family: inherit; }
svg.chart text { fill: #2d3748; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; margin-bottom: 6pt; }
table.wide { font-size: 6.8pt; }
th, td { border: 1px solid #cbd5e0; padding: 1.5pt 3pt; text-align: left; vertical-align: top; }
th { background: #edf2f7; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
p.empty { color: #718096; font-size: 8.5pt; margin: 0 0 6pt; }
.notes { color: #9c4221; }
"#;

const BLUE: &str = "#2b6cb0";
const ORANGE: &str = "#dd6b20";
const WAIT_COLORS: [&str; 6] = [
    "#2f855a", "#68d391", "#ecc94b", "#ed8936", "#e53e3e", "#822727",
];
/// Levels 5 (非常满意) down to 1 (非常不满意).
const LEVEL_COLORS: [&str; 5] = ["#2f855a", "#68d391", "#ecc94b", "#ed8936", "#c53030"];

fn card(out: &mut String, label: &str, value: &str) {
    let _ = write!(
        out,
        r#"<div class="card"><span>{}</span><b>{}</b></div>"#,
        escape(label),
        escape(value)
    );
}

fn minutes(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "—".to_string(), |s| format!("{:.1} 分", s / 60.0))
}

fn share(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_string(), |r| format!("{:.1}%", r * 100.0))
}

fn headline(out: &mut String, r: &Report) {
    let s = &r.summary;
    out.push_str(r#"<section class="headline"><div class="cards">"#);
    card(out, "取号", &s.issued.to_string());
    card(out, "办结", &s.served.to_string());
    card(out, "过号", &s.no_show.to_string());
    card(
        out,
        "出件（自取/邮寄）",
        &format!("{} / {}", r.handoffs.pickup, r.handoffs.mail),
    );
    card(out, "平均等候", &minutes(s.wait.mean_seconds));
    card(out, "等候P90", &minutes(s.wait.p90_seconds));
    card(out, "满意率", &share(s.evaluations.satisfaction_rate));
    card(out, "评价率", &share(s.evaluations.evaluated_share));
    out.push_str("</div></section>");
}

fn figure(out: &mut String, title: &str, svg: &str, caption: &str) {
    let _ = write!(
        out,
        "<section><h2>{}</h2><figure>{svg}<figcaption>{}</figcaption></figure></section>",
        escape(title),
        escape(caption)
    );
}

fn charts(out: &mut String, r: &Report) {
    let active: Vec<_> = r
        .hourly
        .iter()
        .filter(|h| h.arrivals + h.calls > 0)
        .collect();
    let (from, to) = match (active.first(), active.last()) {
        (Some(a), Some(b)) => (a.hour, b.hour),
        _ => (8, 18),
    };
    let hours: Vec<_> = r
        .hourly
        .iter()
        .filter(|h| (from..=to).contains(&h.hour))
        .collect();
    let svg = grouped_bars(
        "chart-hourly",
        "分时段取号与叫号",
        &hours
            .iter()
            .map(|h| format!("{:02}时", h.hour))
            .collect::<Vec<_>>(),
        &[
            Series {
                name: "取号",
                color: BLUE,
                values: hours.iter().map(|h| h.arrivals as f64).collect(),
            },
            Series {
                name: "叫号",
                color: ORANGE,
                values: hours.iter().map(|h| h.calls as f64).collect(),
            },
        ],
        WIDTH,
        220.0,
    );
    figure(
        out,
        "分时段取号与叫号",
        &svg,
        "按当地时钟小时合计（本期各日之和）。",
    );

    if r.days.len() > 1 {
        let svg = grouped_bars(
            "chart-daily",
            "每日取号与办结",
            &r.days
                .iter()
                .map(|d| {
                    d.business_day
                        .get(5..)
                        .unwrap_or(&d.business_day)
                        .to_string()
                })
                .collect::<Vec<_>>(),
            &[
                Series {
                    name: "取号",
                    color: BLUE,
                    values: r.days.iter().map(|d| d.issued as f64).collect(),
                },
                Series {
                    name: "办结",
                    color: ORANGE,
                    values: r.days.iter().map(|d| d.served as f64).collect(),
                },
            ],
            WIDTH,
            200.0,
        );
        figure(out, "每日取号与办结", &svg, "按业务日。");
    }

    let labels: Vec<String> = WAIT_BINS_MINUTES
        .iter()
        .zip(WAIT_BINS_MINUTES.iter().skip(1).map(Some).chain([None]))
        .map(|(lo, hi)| match hi {
            Some(hi) => format!("{lo}-{hi}分"),
            None => format!("≥{lo}分"),
        })
        .collect();
    let segments: Vec<(&str, &str)> = labels.iter().map(String::as_str).zip(WAIT_COLORS).collect();
    let rows: Vec<(String, Vec<f64>, String)> = r
        .wait_distribution
        .iter()
        .map(|b| {
            let p50 = r
                .services
                .iter()
                .find(|s| s.code == b.service)
                .and_then(|s| s.wait.p50_seconds);
            (
                format!("{} {}", b.service, b.name),
                b.counts.iter().map(|n| *n as f64).collect(),
                format!("{}人 中位{}", b.counts.iter().sum::<u64>(), minutes(p50)),
            )
        })
        .collect();
    let svg = stacked_shares("chart-waits", "各业务等候时长分布", &rows, &segments, WIDTH);
    figure(
        out,
        "各业务等候时长分布",
        &svg,
        "取号到首次叫号；各业务按人数占比。",
    );

    let segments: Vec<(&str, &str)> = (1..=5u8)
        .rev()
        .map(super::level_label)
        .zip(LEVEL_COLORS)
        .collect();
    let rows: Vec<(String, Vec<f64>, String)> = r
        .windows
        .iter()
        .filter(|w| w.figures.evaluations.finished > 0)
        .map(|w| {
            let e = &w.figures.evaluations;
            (
                w.name.clone(),
                (1..=5u8).rev().map(|l| e.levels.get(l) as f64).collect(),
                format!("满意率 {}（{}评）", share(e.satisfaction_rate), e.evaluated),
            )
        })
        .collect();
    let svg = stacked_shares(
        "chart-satisfaction",
        "各窗口满意度",
        &rows,
        &segments,
        WIDTH,
    );
    figure(
        out,
        "各窗口满意度",
        &svg,
        "好差评各级占比；满意率 =（非常满意+满意）/ 已评价。",
    );
}

fn table_html(out: &mut String, t: &Table) {
    let _ = write!(out, "<section><h2>{}</h2>", escape(t.title));
    if t.rows.is_empty() {
        out.push_str(r#"<p class="empty">（无）</p></section>"#);
        return;
    }
    let class = if t.headers.len() > 10 {
        r#" class="wide""#
    } else {
        ""
    };
    let _ = write!(out, r#"<table{class} data-key="{}"><thead><tr>"#, t.key);
    for h in &t.headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for cell in row {
            let class = if cell.is_number() {
                r#" class="n""#
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(&cell.show()));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>");
}

/// When the report was made, in the hall's local time (as the JSON's UTC if that fails).
fn generated_local(r: &Report) -> String {
    let local = r
        .generated_at
        .parse::<jiff::Timestamp>()
        .ok()
        .zip(jiff::tz::TimeZone::get(&r.hall.timezone).ok())
        .map(|(at, tz)| tz.to_datetime(at).strftime("%Y-%m-%d %H:%M").to_string());
    local.unwrap_or_else(|| r.generated_at.clone())
}

/// The whole report as one HTML page.
pub fn render(r: &Report) -> String {
    let title = format!("{} {}", r.hall.name, r.period.title_zh());
    let mut out = format!(
        r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1>"#,
        escape(&title),
        escape(&title)
    );
    let _ = write!(
        out,
        r#"<p class="meta">业务日 {} 至 {}（{} 天）· 时区 {} · 每日 {} 起算 · 生成于 {}{}</p>"#,
        r.period.first,
        r.period.last,
        r.days_in_period,
        escape(&r.hall.timezone),
        escape(&r.hall.day_starts_at),
        escape(&generated_local(r)),
        if r.unmasked {
            " · 出件登记为明文，注意保密"
        } else {
            ""
        }
    );
    for note in &r.notes {
        let _ = write!(out, r#"<p class="notes">{}</p>"#, escape(note));
    }
    headline(&mut out, r);
    charts(&mut out, r);
    for t in tables(r).iter().filter(|t| t.key != "notes") {
        table_html(&mut out, t);
    }
    out.push_str("</body></html>\n");
    out
}
