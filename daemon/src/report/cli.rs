//! `hallq report day|week|month [DATE] [--format text|csv|json|html] [--output FILE]
//! [--unmasked]`: the arguments, the request a report is asked of the daemon with, and the
//! daemon's side of it ([`serve`]). The CLI's side is `crate::cli::report`.
//!
//! An `--unmasked` report logs who made it and when (never the data) at warn level under the
//! `hallq::audit` target.

use std::path::PathBuf;

use jiff::Timestamp;

use serde::{Deserialize, Serialize};

use super::{generate, HallInfo, Options, Period, PeriodKind, Report};
use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Csv,
    Json,
    Html,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// day, week (Monday to Sunday) or month (calendar month), in business days.
    pub period: PeriodKind,
    /// A date YYYY-MM-DD in the period (a month also as YYYY-MM); default: today's business day.
    pub date: Option<String>,
    /// Output format; --json is the same as --format json.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show the handoff register's recipients, phones and addresses in clear (logged).
    #[arg(long)]
    pub unmasked: bool,
}

/// `{"cmd": "report", "period": "month", "date": "2026-06", "format": "csv", "unmasked": false}`:
/// a report asked of the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    pub period: PeriodKind,
    /// A date in the period, as on the command line; the daemon's business day when absent.
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default = "text")]
    pub format: Format,
    #[serde(default)]
    pub unmasked: bool,
}

fn text() -> Format {
    Format::Text
}

/// The daemon's answer to a [`ReportQuery`]: the rendered report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportText {
    /// The period covered, e.g. `month 2026-06`.
    pub period: String,
    pub format: Format,
    pub text: String,
}

/// Make the report `query` asks for from the store of `config`, on behalf of `origin` (the
/// daemon's side of `Query::Report`; blocking).
pub fn serve(config: &Config, query: &ReportQuery, origin: &str) -> Result<ReportText, String> {
    let now = Timestamp::now();
    let hall = HallInfo::from_config(config);
    let period = Period::parse(query.period, query.date.as_deref(), hall.business_day(now))
        .map_err(|e| e.to_string())?;
    let options = Options {
        unmasked: query.unmasked,
        now,
    };
    let report =
        generate(&config.store_path(), &hall, &period, &options).map_err(|e| e.to_string())?;
    if query.unmasked {
        audit(origin, &period, query.format, "the caller", &report, now);
    }
    Ok(ReportText {
        period: period.to_string(),
        format: query.format,
        text: render(&report, query.format),
    })
}

/// The journal line of an unmasked export: who, when, what period and where it went, never
/// the data.
pub fn audit(
    who: &str,
    period: &Period,
    format: Format,
    output: &str,
    report: &Report,
    now: Timestamp,
) {
    tracing::warn!(
        target: "hallq::audit",
        who,
        period = %period,
        format = ?format,
        output,
        handoffs = report.handoffs.register.len(),
        "unmasked handoff register exported by {who} at {now}"
    );
}

/// Render `report` in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => super::text::render(report),
        Format::Csv => super::csv::render(report),
        Format::Html => super::html::render(report),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(report)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            json.push('\n');
            json
        }
    }
}
