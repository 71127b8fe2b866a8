//! The hall's command list: every request a kiosk, a clerk, a supervisor, a device or a script
//! can make of the hall, defined once.
//!
//! Each variant of [`Command`] is at the same time the control socket's request (serde, tagged
//! by `cmd`, as documented in `docs/control-socket.md`), the CLI subcommand (clap derive; the
//! doc comments are the `--help` text) and the engine's command (`Engine::decide` takes it as
//! it is). Adding a command is one variant here plus its engine rule. [`Query`] is the same for
//! read-only questions. Commands the hall gives itself (void, rollover, tick) are skipped by
//! both the socket and the CLI, so no client can send them.
//!
//! This module owns the shapes and the parsing of requests, and [`Origin`]: who or what asked.
//! It owns no rules (the engine) and no I/O (the control server, the device tasks).

pub mod args;
mod clerk;
mod origin;
pub mod roles;

use clap::{Args, Subcommand};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::privacy::{Address, IdNumber, PersonName, Phone};
use args::{masked, Hhmm};

pub use clerk::ClerkChange;
pub use origin::{InputMark, Origin, WebActor};
pub use roles::{Role, RoleSet};

/// Something that changes the hall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Subcommand)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Register a reservation taken by phone.
    Reserve {
        /// Service code, e.g. A.
        service: String,
        /// Slot start, local time HH:MM.
        #[arg(long, value_parser = masked(args::slot))]
        slot: Hhmm,
        /// YYYY-MM-DD; today's business day when left out.
        #[arg(long, value_parser = masked(args::date))]
        #[serde(default, with = "args::wire_date")]
        date: Option<Date>,
        /// The citizen's name (kept for the hall, shown masked).
        #[arg(long)]
        name: PersonName,
        /// Mobile or landline number (shown masked).
        #[arg(long)]
        phone: Phone,
        /// The reservation code, drawn by the hall (6 random digits) before the engine sees
        /// the command; clients cannot choose it.
        #[arg(skip)]
        #[serde(skip)]
        code: Option<String>,
    },
    /// Issue a ticket.
    Issue {
        /// Service code, e.g. A.
        service: String,
        /// Green channel (elderly, disabled, pregnant).
        #[arg(long, conflicts_with = "reservation")]
        #[serde(default)]
        green: bool,
        /// Check in with a reservation code.
        #[arg(long)]
        #[serde(default)]
        reservation: Option<String>,
        /// With --reservation: the last four digits of the phone it was booked with.
        #[arg(long = "phone-last4", requires = "reservation")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone_last4: Option<String>,
        /// The kiosk issuing it (default: the first kiosk with a printer).
        #[arg(long)]
        #[serde(default)]
        kiosk: Option<String>,
        /// The reservation code was read by the kiosk's scanner from the citizen's booking (the
        /// QR code in the SMS or on the printout): holding it is the proof, no phone digits are
        /// asked. Only a scanner device sets it; clients cannot.
        #[arg(skip)]
        #[serde(skip)]
        scanned: bool,
    },
    /// Call the next ticket at a window, or a given one with --ticket.
    Call {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
        /// Call this ticket (e.g. A012): a waiting one, or one held at this window.
        #[arg(long)]
        #[serde(default)]
        ticket: Option<String>,
    },
    /// Call the window's current ticket again.
    Recall {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
    },
    /// Start serving the called ticket.
    Start {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
    },
    /// Finish the window's ticket.
    Finish {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
        /// The case number (办件编号).
        #[arg(long = "case")]
        #[serde(default)]
        case_no: Option<String>,
    },
    /// Mark the window's ticket as a no-show (过号).
    Skip {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
    },
    /// Park the window's ticket at the window.
    Hold {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
    },
    /// Send the window's ticket to another service's queue.
    Transfer {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
        /// The service code whose queue it joins.
        #[arg(long)]
        to: String,
    },
    /// Put a no-show back in the queue (once).
    Requeue {
        /// The ticket number, e.g. A012 (not the window).
        number: String,
    },
    /// Pause the window: it keeps its ticket but cannot call.
    Pause {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
    },
    /// Resume a paused window.
    Resume {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
    },
    /// Open the window for a clerk.
    Login {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
        /// The clerk's staff id (工号); use ids, not names, since ids appear in logs.
        clerk: String,
    },
    /// Close the window (finish, skip, hold or transfer its ticket first).
    Logout {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
    },
    /// Correction: take back the last finish or skip at a window (within `policy.undo_minutes`);
    /// the ticket is at the window again.
    Undo {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
        /// Why (stored with the event).
        #[arg(long)]
        reason: String,
    },
    /// Correction: replace the case number (办件编号) of a finished ticket.
    CorrectCase {
        /// The ticket number, e.g. A012.
        number: String,
        /// The right case number.
        #[arg(long = "case")]
        case_no: String,
        /// Why (stored with the event).
        #[arg(long)]
        reason: String,
    },
    /// Correction: move an evaluation recorded against the wrong ticket (the wrong window's
    /// evaluator) to the ticket it was meant for.
    CorrectEvaluation {
        /// The ticket that got the evaluation by mistake.
        number: String,
        /// The finished ticket it belongs to.
        #[arg(long)]
        to: String,
        /// Why (stored with the event).
        #[arg(long)]
        reason: String,
    },
    /// Correction: close a window its clerk left without logging out; its called or serving
    /// ticket waits again at its place.
    ForceLogout {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
        /// Why (stored with the event).
        #[arg(long)]
        reason: String,
    },
    /// Correction: park a held ticket at another window, which can then call it back.
    MoveHeld {
        /// The held ticket, e.g. A012.
        number: String,
        /// The window it moves to.
        #[arg(long, value_parser = masked(args::window_no))]
        to: u32,
        /// Why (stored with the event).
        #[arg(long)]
        reason: String,
    },
    /// Correction: void a handoff record entered in error. The CLI spells it `handoff void`.
    #[command(skip)]
    VoidHandoff { case_no: String, reason: String },
    /// Record the citizen's evaluation: 5 非常满意 .. 1 非常不满意.
    Evaluate {
        #[arg(value_parser = masked(args::window_no))]
        window: u32,
        /// 1..5, or 非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意.
        #[arg(value_parser = masked(args::level))]
        level: u8,
    },
    /// Record a document handed over or posted (出件). The CLI spells it `handoff pickup|mail`.
    #[command(skip)]
    Handoff(Handoff),
    /// Add a clerk, reset a clerk's PIN or remove a clerk. The CLI spells it `clerk add|reset|remove`.
    #[command(skip)]
    Clerk(ClerkChange),
    /// A call pad's "call back" key: call back a ticket held at the window — the one with this
    /// sequence number (`12` for A012 or B012), or the most recently held one.
    #[command(skip)]
    #[serde(skip)]
    CallHeld { window: u32, seq: Option<u32> },
    /// A scanner at the pickup window read a case number: its handoff waits for the clerk.
    #[command(skip)]
    #[serde(skip)]
    ScanCase { window: u32, case_no: String },
    /// Cancel a reservation before check-in. The CLI spells it `reservation cancel CODE`.
    #[command(skip)]
    CancelReservation {
        code: String,
        #[serde(default)]
        reason: Option<String>,
    },
    /// The upstream's reservations of one date, as pulled by the sync task: new ones are added,
    /// changed ones updated, and those no longer listed cancelled (unless checked in).
    #[command(skip)]
    #[serde(skip)]
    SyncReservations {
        date: Date,
        reservations: Vec<UpstreamReservation>,
    },
    /// A ticket that could not be printed after its number was committed.
    #[command(skip)]
    #[serde(skip)]
    Void {
        /// The ticket's id (`20261126-A012`).
        ticket: String,
        cause: String,
    },
    /// Start the next business day (the timer, or lazily before the first action after it).
    #[command(skip)]
    #[serde(skip)]
    Rollover,
    /// Periodic housekeeping: tidal advice.
    #[command(skip)]
    #[serde(skip)]
    Tick,
}

/// A read-only question about the hall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Subcommand)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Query {
    /// Waiting counts and every window's state.
    Status,
    /// Waiting tickets per service, in calling order, with estimates.
    Queue,
    /// List reservations (personal data masked).
    Reservations {
        /// YYYY-MM-DD; today's business day when left out.
        #[arg(long, value_parser = masked(args::date))]
        #[serde(default, with = "args::wire_date")]
        date: Option<Date>,
    },
    /// One day's handoffs (personal data masked). The CLI spells it `handoff list`.
    #[command(skip)]
    Handoffs {
        #[serde(default, with = "args::wire_date")]
        day: Option<Date>,
    },
    /// One ticket's whole history: issued, every call with its reason, window and clerk,
    /// transfers, finish, evaluation, corrections.
    Ticket {
        /// The ticket number, e.g. A012.
        number: String,
        /// YYYY-MM-DD; today's business day when left out.
        #[arg(long, value_parser = masked(args::date))]
        #[serde(default, with = "args::wire_date")]
        day: Option<Date>,
    },
    /// Copy the store to PATH while hallq runs (SQLite online backup), then verify the copy.
    Backup {
        /// Where to write the copy (a new file; the daemon's user must be able to write there).
        path: std::path::PathBuf,
    },
    /// The clerks who may log in on the web call pad (staff numbers, never PINs). The CLI spells
    /// it `clerk list`.
    #[command(skip)]
    Clerks,
    /// Upstream sync: acknowledged, waiting, last success and error, next attempt. The CLI
    /// spells it `sync status`.
    #[command(skip)]
    SyncStatus,
    /// A report for the hall manager, made by the daemon from its own store: how `hallq report`
    /// reads it when the store is the service user's alone. The CLI spells it `report`.
    #[command(skip)]
    Report(crate::report::cli::ReportQuery),
}

/// One reservation as the upstream lists it (DESIGN §7), already checked for shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamReservation {
    pub code: String,
    pub service: String,
    pub slot: jiff::Timestamp,
    pub name: PersonName,
    /// The platform may not know it; check-in then needs the code alone.
    pub phone: Option<Phone>,
}

/// A document handed over at the pickup window or sent by post; on the wire `method` says which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Handoff {
    Pickup(Pickup),
    Mail(Mail),
}

/// What every handoff names: the case, the document, who received it, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Args)]
pub struct HandoffCase {
    /// The case number (办件编号); each case is handed over once.
    #[arg(long = "case")]
    pub case_no: String,
    /// The document's title.
    #[arg(long)]
    pub title: String,
    /// Who received it (shown masked).
    #[arg(long)]
    pub recipient: PersonName,
    /// Their phone (shown masked).
    #[arg(long)]
    pub phone: Phone,
    /// The pickup window recording it (its clerk is stored).
    #[arg(long, value_parser = masked(args::window_no))]
    #[serde(default)]
    pub window: Option<u32>,
}

/// Handed over in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Args)]
pub struct Pickup {
    #[command(flatten)]
    #[serde(flatten)]
    pub case: HandoffCase,
    /// Last 4 characters of the recipient's resident ID (else a signature is recorded).
    #[arg(long = "id-last4", conflicts_with = "id_number")]
    #[serde(default)]
    pub id_last4: Option<String>,
    /// The whole resident ID: checked, only its last 4 kept.
    #[arg(long = "id")]
    #[serde(default)]
    pub id_number: Option<IdNumber>,
}

/// Sent by post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Args)]
pub struct Mail {
    #[command(flatten)]
    #[serde(flatten)]
    pub case: HandoffCase,
    /// Postal address (shown masked).
    #[arg(long)]
    pub address: Address,
    /// sf, ems, post, jd, yto, zto, sto, yunda (or the Chinese name).
    #[arg(long)]
    pub carrier: String,
    #[arg(long)]
    pub tracking: String,
}

impl Handoff {
    /// The case, document, recipient and window, whichever way it went.
    pub fn case(&self) -> &HandoffCase {
        match self {
            Handoff::Pickup(p) => &p.case,
            Handoff::Mail(m) => &m.case,
        }
    }
}

/// The class of ticket an issue request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueClass {
    Normal,
    Green,
    /// Check-in with a reservation code.
    Reservation(String),
}

impl IssueClass {
    /// The class an `issue` request's fields ask for; green and a reservation together are
    /// refused.
    pub fn of(green: bool, reservation: Option<&str>) -> Result<IssueClass, &'static str> {
        match (green, reservation) {
            (true, Some(_)) => Err("a ticket is either green or a reservation, not both"),
            (true, None) => Ok(IssueClass::Green),
            (false, Some(code)) => Ok(IssueClass::Reservation(code.to_string())),
            (false, None) => Ok(IssueClass::Normal),
        }
    }
}

/// The CLI's `reservation` group.
#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum ReservationCli {
    /// Cancel a reservation that has not checked in (recorded with who did it and why).
    Cancel {
        /// The reservation code.
        code: String,
        /// Why, for the record (e.g. 本人电话取消).
        #[arg(long)]
        reason: Option<String>,
    },
}

impl ReservationCli {
    pub fn request(&self) -> Request {
        match self.clone() {
            ReservationCli::Cancel { code, reason } => {
                Request::Command(Command::CancelReservation { code, reason })
            }
        }
    }
}

/// The CLI's `sync` group.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum SyncCli {
    /// Upstream sync: acknowledged, waiting, last success and error, next attempt.
    Status,
}

impl SyncCli {
    pub fn request(&self) -> Request {
        match self {
            SyncCli::Status => Request::Query(Query::SyncStatus),
        }
    }
}

/// The CLI's `handoff` group: record one, or list a day's.
#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum HandoffCli {
    /// Handed over in person.
    Pickup(Pickup),
    /// Sent by post.
    Mail(Mail),
    /// List one day's handoffs (personal data masked).
    List {
        /// YYYY-MM-DD; today's business day when left out.
        #[arg(long, value_parser = masked(args::date))]
        day: Option<Date>,
    },
    /// Void a handoff record entered in error (a correction).
    Void {
        /// The case number of the record.
        #[arg(long = "case")]
        case_no: String,
        /// Why (stored with the event).
        #[arg(long)]
        reason: String,
    },
}

impl HandoffCli {
    pub fn request(&self) -> Request {
        match self.clone() {
            HandoffCli::Pickup(p) => Request::Command(Command::Handoff(Handoff::Pickup(p))),
            HandoffCli::Mail(m) => Request::Command(Command::Handoff(Handoff::Mail(m))),
            HandoffCli::List { day } => Request::Query(Query::Handoffs { day }),
            HandoffCli::Void { case_no, reason } => {
                Request::Command(Command::VoidHandoff { case_no, reason })
            }
        }
    }
}

/// One request line of the control socket: a command or a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Request {
    Query(Query),
    Command(Command),
}

/// The `cmd` names that are queries; every other name is looked up among the commands.
const QUERIES: [&str; 9] = [
    "status",
    "queue",
    "reservations",
    "handoffs",
    "ticket",
    "backup",
    "clerks",
    "sync_status",
    "report",
];

/// What a request line says besides the request: which program asks (`client`) and in which
/// language it wants the answer's words (`lang`; the hall's `[hall] language` when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub client: Option<String>,
    pub lang: Option<crate::catalogue::Lang>,
}

impl Request {
    /// Parse one request line; the error says what was wrong with it without repeating values
    /// (they may be personal data).
    pub fn parse(line: &str) -> Result<(Request, Meta), String> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("request is not valid JSON: {e}"))?;
        let Value::Object(map) = &value else {
            return Err("request must be a JSON object with a \"cmd\" field".to_string());
        };
        let cmd = match map.get("cmd") {
            None => return Err("request has no \"cmd\" field".to_string()),
            Some(Value::String(cmd)) => cmd.clone(),
            Some(_) => return Err("\"cmd\" must be a string".to_string()),
        };
        let client = map.get("client").and_then(Value::as_str).map(|c| {
            c.chars()
                .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '-')
                .take(32)
                .collect::<String>()
        });
        let lang = match map.get("lang") {
            None | Some(Value::Null) => None,
            Some(Value::String(lang)) => Some(lang.parse().map_err(|e| format!("\"lang\": {e}"))?),
            Some(_) => return Err("\"lang\" must be a string".to_string()),
        };
        let bad = |e: serde_json::Error| format!("bad request: {}", without_values(&e.to_string()));
        let request = if QUERIES.contains(&cmd.as_str()) {
            Request::Query(serde_json::from_value(value).map_err(bad)?)
        } else {
            Request::Command(serde_json::from_value(value).map_err(bad)?)
        };
        Ok((request, Meta { client, lang }))
    }

    /// The command's name, for logs (its fields may hold personal data).
    pub fn name(&self) -> &'static str {
        match self {
            Request::Query(q) => q.name(),
            Request::Command(c) => c.name(),
        }
    }
}

impl Query {
    pub fn name(&self) -> &'static str {
        match self {
            Query::Status => "status",
            Query::Queue => "queue",
            Query::Reservations { .. } => "reservations",
            Query::Handoffs { .. } => "handoffs",
            Query::Ticket { .. } => "ticket",
            Query::Backup { .. } => "backup",
            Query::Clerks => "clerks",
            Query::SyncStatus => "sync_status",
            Query::Report(_) => "report",
        }
    }
}

impl Command {
    /// The command's name, for logs (its fields may hold personal data).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Reserve { .. } => "reserve",
            Command::Issue { .. } => "issue",
            Command::Call { ticket: None, .. } => "call",
            Command::Call {
                ticket: Some(_), ..
            } => "call_ticket",
            Command::Recall { .. } => "recall",
            Command::Start { .. } => "start",
            Command::Finish { .. } => "finish",
            Command::Skip { .. } => "skip",
            Command::Hold { .. } => "hold",
            Command::Transfer { .. } => "transfer",
            Command::Requeue { .. } => "requeue",
            Command::Pause { .. } => "pause",
            Command::Resume { .. } => "resume",
            Command::Login { .. } => "login",
            Command::Logout { .. } => "logout",
            Command::Evaluate { .. } => "evaluate",
            Command::Undo { .. } => "undo",
            Command::CorrectCase { .. } => "correct_case",
            Command::CorrectEvaluation { .. } => "correct_evaluation",
            Command::ForceLogout { .. } => "force_logout",
            Command::MoveHeld { .. } => "move_held",
            Command::VoidHandoff { .. } => "void_handoff",
            Command::Handoff(_) => "handoff",
            Command::Clerk(change) => change.name(),
            Command::CallHeld { .. } => "call_held",
            Command::ScanCase { .. } => "scan_case",
            Command::CancelReservation { .. } => "cancel_reservation",
            Command::SyncReservations { .. } => "sync_reservations",
            Command::Void { .. } => "void",
            Command::Rollover => "rollover",
            Command::Tick => "tick",
        }
    }

    /// `call W`: the next ticket by the calling policy.
    pub fn call_next(window: u32) -> Command {
        Command::Call {
            window,
            ticket: None,
        }
    }

    /// `issue SERVICE` of a class, from no particular kiosk.
    pub fn issue(service: &str, class: IssueClass) -> Command {
        Command::issue_at(service, class, None)
    }

    /// `issue SERVICE` of a class at `kiosk`.
    pub fn issue_at(service: &str, class: IssueClass, kiosk: Option<String>) -> Command {
        let (green, reservation) = match class {
            IssueClass::Normal => (false, None),
            IssueClass::Green => (true, None),
            IssueClass::Reservation(code) => (false, Some(code)),
        };
        Command::Issue {
            service: service.to_string(),
            green,
            reservation,
            phone_last4: None,
            kiosk,
            scanned: false,
        }
    }

    /// `issue SERVICE --reservation CODE --phone-last4 NNNN`: a reservation's check-in.
    pub fn check_in(service: &str, code: &str, phone_last4: Option<&str>) -> Command {
        Command::Issue {
            service: service.to_string(),
            green: false,
            reservation: Some(code.to_string()),
            phone_last4: phone_last4.map(str::to_string),
            kiosk: None,
            scanned: false,
        }
    }
}

/// serde's messages quote the offending value (`invalid type: string "王小明", expected u32`);
/// keep the kind and the expectation, drop the value, which may be personal data.
fn without_values(message: &str) -> String {
    let mut out = message.to_string();
    for lead in ["invalid type: ", "invalid value: "] {
        if let Some(start) = out.find(lead) {
            let rest = &out[start + lead.len()..];
            if let Some(end) = rest.find(", expected") {
                let kind = rest[..end]
                    .split([' ', '`', '"'])
                    .next()
                    .unwrap_or("value")
                    .to_string();
                out = format!("{}{lead}{kind}{}", &out[..start], &rest[end..]);
            }
        }
    }
    crate::privacy::scrub(&out)
}

#[cfg(test)]
mod tests;
