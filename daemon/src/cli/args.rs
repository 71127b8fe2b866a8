//! The command line: the daemon's own subcommands (`run`, `check-config`, `doctor`) beside the
//! hall's command list, which `crate::command` defines once for the socket, the CLI and the
//! engine.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::clerk::ClerkCli;
use crate::catalogue::Lang;
use crate::command::{Command, HandoffCli, Query, Request, ReservationCli, SyncCli};

fn lang(s: &str) -> Result<Lang, String> {
    s.parse()
}

#[derive(Debug, Parser)]
#[command(
    name = "hallq",
    version,
    about = "Queue daemon and control tool for a government service hall"
)]
pub struct Cli {
    /// Config file (the socket path is taken from it; when it has errors, from the running
    /// daemon's `{runtime_dir}/state.json`).
    #[arg(long, global = true, env = "HALLQ_CONFIG")]
    pub config: Option<PathBuf>,
    /// Control socket of a running daemon (instead of --config).
    #[arg(long, global = true, env = "HALLQ_SOCKET", conflicts_with = "config")]
    pub socket: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Language of messages: zh (default) or en; else the config's `[hall] language`.
    #[arg(long, global = true, value_parser = crate::command::args::masked(lang))]
    pub lang: Option<Lang>,
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Run the daemon in the foreground.
    Run {
        /// Start even on a store that lacks numbers or events the runtime folder's state.json
        /// says this hall already recorded (the store was deleted or replaced by an older
        /// copy); today's numbers may then repeat ones already handed out.
        #[arg(long)]
        new_store: bool,
    },
    /// Validate a config file; errors as file:line:col: message (with --json, one object).
    CheckConfig,
    /// Check config, store, disk, daemon, devices, broker, upstream and clock.
    Doctor,
    #[command(flatten)]
    Query(Query),
    #[command(flatten)]
    Command(Command),
    /// Documents handed over at the pickup window or sent by post (出件).
    Handoff {
        #[command(subcommand)]
        what: HandoffCli,
    },
    /// One reservation: cancel it.
    Reservation {
        #[command(subcommand)]
        what: ReservationCli,
    },
    /// Upstream sync with the county platform.
    Sync {
        #[command(subcommand)]
        what: SyncCli,
    },
    /// Replay days through the queue engine (no daemon needed): waits, rules, tidal advice
    /// and the accuracy of the printed estimates, for what-if questions.
    Simulate(crate::simulate::SimulateArgs),
    /// Reports for the hall manager, read from the store (needs --config, not --socket).
    Report(crate::report::cli::ReportArgs),
    /// Clerks who may log in on the web call pad: add, reset a PIN, remove, list.
    Clerk {
        #[command(subcommand)]
        what: ClerkCli,
    },
}

impl Sub {
    /// The socket request of a client command; `None` for the commands that do not talk to
    /// the daemon (`run`, `check-config`, `doctor`, `simulate`, `report`), and for `clerk
    /// add|reset`, which first read a PIN (`ClerkCli::request`).
    pub fn request(&self) -> Option<Request> {
        match self {
            Sub::Run { .. }
            | Sub::CheckConfig
            | Sub::Doctor
            | Sub::Simulate(_)
            | Sub::Report(_) => None,
            Sub::Clerk { what } => what.request(|_| Err(String::new())).ok(),
            Sub::Query(q) => Some(Request::Query(q.clone())),
            Sub::Command(c) => Some(Request::Command(c.clone())),
            Sub::Handoff { what } => Some(what.request()),
            Sub::Reservation { what } => Some(what.request()),
            Sub::Sync { what } => Some(what.request()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Option<Request>, String> {
        let mut argv = vec!["hallq"];
        argv.extend(args);
        Cli::try_parse_from(argv)
            .map(|cli| cli.command.request())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_cli_command_is_a_socket_request() {
        let cases: &[&[&str]] = &[
            &["status"],
            &["queue"],
            &["reservations", "--date", "2026-11-27"],
            &["issue", "A", "--green", "--kiosk", "kiosk-2"],
            &["call", "3", "--ticket", "A012"],
            &["finish", "3", "--case", "ZW2026001"],
            &["transfer", "3", "--to", "B"],
            &["evaluate", "1", "非常满意"],
            &[
                "reserve",
                "A",
                "--slot",
                "9:30",
                "--name",
                "张三",
                "--phone",
                "13812341234",
            ],
            &[
                "handoff",
                "pickup",
                "--case",
                "C1",
                "--title",
                "证",
                "--recipient",
                "王小明",
                "--phone",
                "13812341234",
                "--id-last4",
                "123X",
                "--window",
                "9",
            ],
            &["handoff", "list", "--day", "2026-11-26"],
            &[
                "issue",
                "A",
                "--reservation",
                "482913",
                "--phone-last4",
                "1234",
            ],
            &["reservation", "cancel", "482913", "--reason", "本人取消"],
            &["sync", "status"],
        ];
        for args in cases {
            let request = parse(args).unwrap().unwrap();
            let line = serde_json::to_string(&request).unwrap();
            let (back, _) = Request::parse(&line).unwrap();
            assert_eq!(back, request, "{args:?} -> {line}");
        }
        assert_eq!(
            parse(&["evaluate", "1", "满意"]).unwrap(),
            Some(Request::Command(Command::Evaluate {
                window: 1,
                level: 4
            }))
        );
    }

    #[test]
    fn usage_errors_do_not_repeat_what_was_typed() {
        for args in [
            &["call", "13912345678"][..],
            &[
                "reserve",
                "A",
                "--slot",
                "13912345678",
                "--name",
                "n",
                "--phone",
                "p",
            ],
            &["reservations", "--date", "150102199001011234"],
            &["evaluate", "1", "王小明"],
        ] {
            let e = parse(args).unwrap_err();
            assert!(
                !e.contains("13912345678") && !e.contains("199001011234") && !e.contains("小明"),
                "{e}"
            );
        }
    }
}
