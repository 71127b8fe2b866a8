//! `hallq report day|week|month [DATE] [--format text|csv|json|html] [--output FILE]
//! [--unmasked]`: the arguments, and running a report from the CLI.
//!
//! Opens the store read-only from the config's `data_dir` (the daemon may be running or
//! stopped; it is not disturbed), computes the report, renders it and writes it to stdout or
//! FILE. The store is the service user's alone: anyone else gets the report from the running
//! daemon (`Query::Report`, the supervisor role), which makes it the same way ([`serve`]). An
//! `--unmasked` report logs who made it and when (never the data) at warn level under the
//! `hallq::audit` target.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use serde::{Deserialize, Serialize};

use super::{generate, HallInfo, Options, Period, PeriodKind, Report, ReportError};
use crate::cli::{exit, print_error};
use crate::command::{Query, Request};
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
fn audit(
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

/// Who is asking, for the audit line: the user id and the login name the shell reports.
fn who() -> (u32, String) {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let name = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "?".to_string());
    (uid, name)
}

/// Run `hallq report` with `args`; returns the exit code.
pub fn run(config: &Config, args: &ReportArgs, json: bool, now: Timestamp) -> i32 {
    let format = match (args.format, json) {
        (Some(f), true) if f != Format::Json => {
            let message = "--json and --format conflict: --json means --format json";
            print_error("usage", message, json);
            return exit::USAGE;
        }
        (Some(f), _) => f,
        (None, true) => Format::Json,
        (None, false) => Format::Text,
    };
    let hall = HallInfo::from_config(config);
    let period = match Period::parse(args.period, args.date.as_deref(), hall.business_day(now)) {
        Ok(p) => p,
        Err(e) => {
            print_error("usage", &e.to_string(), json);
            return exit::USAGE;
        }
    };
    let options = Options {
        unmasked: args.unmasked,
        now,
    };
    let output = args
        .output
        .as_deref()
        .map_or("stdout".into(), |p| p.display().to_string());
    let text = match generate(&config.store_path(), &hall, &period, &options) {
        Ok(report) => {
            if args.unmasked {
                let (uid, user) = who();
                let who = format!("uid {uid} ({user})");
                audit(&who, &period, format, &output, &report, now);
            }
            render(&report, format)
        }
        // Not the service user: the running daemon makes it (and logs an unmasked one).
        Err(ReportError::NotReadable(path)) => {
            let query = ReportQuery {
                period: args.period,
                date: Some(period.first.to_string()),
                format,
                unmasked: args.unmasked,
            };
            match from_daemon(config, query) {
                Ok(text) => text,
                Err((code, message)) => {
                    let unreadable = ReportError::NotReadable(path);
                    print_error(code, &format!("{message}; {unreadable}"), json);
                    return exit::REFUSED;
                }
            }
        }
        Err(e) => {
            print_error("unavailable", &e.to_string(), json);
            return exit::REFUSED;
        }
    };
    match write_out(args.output.as_deref(), text.as_bytes()) {
        Ok(()) => exit::OK,
        Err(message) => {
            print_error("unavailable", &message, json);
            exit::REFUSED
        }
    }
}

/// Ask the daemon for the report; `(code, message)` when it cannot give it.
fn from_daemon(config: &Config, query: ReportQuery) -> Result<String, (&'static str, String)> {
    let request = Request::Query(Query::Report(query));
    let response = crate::cli::request(&config.socket_path(), &request)
        .map_err(|e| ("unavailable", format!("the daemon could not make it: {e}")))?;
    if let Some(error) = response.error {
        let code = if error.code == "forbidden" {
            "forbidden"
        } else {
            "unavailable"
        };
        return Err((code, format!("the daemon refused it: {}", error.message)));
    }
    serde_json::from_value::<ReportText>(serde_json::Value::Object(response.data))
        .map(|r| r.text)
        .map_err(|e| {
            (
                "unavailable",
                format!("the daemon's answer is not a report: {e}"),
            )
        })
}

fn write_out(path: Option<&Path>, bytes: &[u8]) -> Result<(), String> {
    match path {
        Some(path) => std::fs::write(path, bytes)
            .map_err(|e| format!("cannot write the report to {}: {e}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .map_err(|e| format!("cannot write the report to standard output: {e}"))
        }
    }
}
