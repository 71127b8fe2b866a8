//! `hallq report day|week|month [DATE] [--format text|csv|json|html] [--output FILE]
//! [--unmasked]`: the arguments, and running a report from the CLI.
//!
//! Opens the store read-only from the config's `data_dir` (the daemon may be running or
//! stopped; it is not disturbed), computes the report, renders it and writes it to stdout or
//! FILE. An `--unmasked` report logs who made it and when (never the data) at warn level
//! under the `hallq::audit` target.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{generate, HallInfo, Options, Period, PeriodKind, Report};
use crate::cli::{exit, print_failure};
use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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
            print_failure("usage", message, json);
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
            print_failure("usage", &e.to_string(), json);
            return exit::USAGE;
        }
    };
    let options = Options {
        unmasked: args.unmasked,
        now,
    };
    let report = match generate(&config.store_path(), &hall, &period, &options) {
        Ok(r) => r,
        Err(e) => {
            print_failure("unavailable", &e.to_string(), json);
            return exit::REFUSED;
        }
    };
    if args.unmasked {
        let (uid, user) = who();
        tracing::warn!(
            target: "hallq::audit",
            uid,
            user = %user,
            period = %period,
            format = ?format,
            output = %args.output.as_deref().map_or("stdout".into(), |p| p.display().to_string()),
            handoffs = report.handoffs.register.len(),
            "unmasked handoff register exported by uid {uid} ({user}) at {now}"
        );
    }
    let text = render(&report, format);
    match write_out(args.output.as_deref(), text.as_bytes()) {
        Ok(()) => exit::OK,
        Err(message) => {
            print_failure("unavailable", &message, json);
            exit::REFUSED
        }
    }
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
