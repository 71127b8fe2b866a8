//! `hallq report`: read the store when this user can (the daemon may be running or stopped; it
//! is not disturbed), else ask the running daemon (`Query::Report`, the supervisor role), and
//! write the rendered report to stdout or FILE.

use std::io::Write;
use std::path::Path;

use jiff::Timestamp;

use super::{exit, print_failure};
use crate::command::{Query, Request};
use crate::config::Config;
use crate::report::cli::{audit, render, Format, ReportArgs, ReportQuery, ReportText};
use crate::report::{generate, HallInfo, Options, Period, ReportError};

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
                    print_failure(code, &format!("{message}; {unreadable}"), json);
                    return exit::REFUSED;
                }
            }
        }
        Err(e) => {
            print_failure("unavailable", &e.to_string(), json);
            return exit::REFUSED;
        }
    };
    match write_out(args.output.as_deref(), text.as_bytes()) {
        Ok(()) => exit::OK,
        Err(message) => {
            print_failure("unavailable", &message, json);
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
