//! Argument definitions (clap derive) mirroring DESIGN §8, and their translation into
//! control-socket requests.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::control::protocol::Request;
use crate::control::server::parse_hhmm;
use crate::engine::model::parse_evaluation;
use crate::privacy::echo;

#[derive(Debug, Parser)]
#[command(
    name = "hallq",
    version,
    about = "Queue daemon and control tool for a government service hall"
)]
pub struct Cli {
    /// Config file (the socket path is taken from it).
    #[arg(long, global = true, env = "HALLQ_CONFIG")]
    pub config: Option<PathBuf>,
    /// Control socket of a running daemon (instead of --config).
    #[arg(long, global = true, env = "HALLQ_SOCKET", conflicts_with = "config")]
    pub socket: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Sub,
}

// Values are checked here rather than by clap's value parsers, because clap echoes a rejected
// value in clear, and people type phone or ID numbers into the wrong field.

fn hhmm(s: &str) -> Result<String, String> {
    parse_hhmm(s)
        .map(|_| s.to_string())
        .ok_or_else(|| format!("--slot {} is not a time HH:MM", echo(s)))
}

fn date(s: &str) -> Result<String, String> {
    s.parse::<jiff::civil::Date>()
        .map(|d| d.to_string())
        .map_err(|_| format!("--date {} is not a date YYYY-MM-DD", echo(s)))
}

fn window_no(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("window {} is not a window number", echo(s)))
}

fn level(s: &str) -> Result<u8, String> {
    parse_evaluation(s).ok_or_else(|| {
        format!(
            "{} is not an evaluation level: 1..5 or 非常满意/满意/基本满意/不满意/非常不满意",
            echo(s)
        )
    })
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Run the daemon in the foreground.
    Run,
    /// Validate a config file; errors as file:line:col: message.
    CheckConfig,
    /// Check config, store, disk, daemon, devices, broker, upstream and clock.
    Doctor,
    /// Waiting counts and every window's state.
    Status,
    /// Waiting tickets per service, in calling order, with estimates.
    Queue,
    /// Register a reservation taken by phone.
    Reserve {
        /// Service code, e.g. A.
        service: String,
        /// Slot start, local time HH:MM.
        #[arg(long)]
        slot: String,
        /// YYYY-MM-DD; today's business day when left out.
        #[arg(long)]
        date: Option<String>,
        /// The citizen's name (kept for the hall, shown masked).
        #[arg(long)]
        name: String,
        /// Mobile or landline number (shown masked).
        #[arg(long)]
        phone: String,
    },
    /// List reservations (personal data masked).
    Reservations {
        /// YYYY-MM-DD; today's business day when left out.
        #[arg(long)]
        date: Option<String>,
    },
    /// Issue a ticket.
    Issue {
        /// Service code, e.g. A.
        service: String,
        /// Green channel (elderly, disabled, pregnant).
        #[arg(long, conflicts_with = "reservation")]
        green: bool,
        /// Check in with a reservation code.
        #[arg(long)]
        reservation: Option<String>,
        /// The kiosk issuing it.
        #[arg(long)]
        kiosk: Option<String>,
    },
    /// Call the next ticket at a window, or a given one with --ticket.
    Call {
        window: String,
        /// Call this ticket (e.g. A012): a waiting one, or one held at this window.
        #[arg(long)]
        ticket: Option<String>,
    },
    /// Call the window's current ticket again.
    Recall { window: String },
    /// Start serving the called ticket.
    Start { window: String },
    /// Finish the window's ticket.
    Finish {
        window: String,
        /// The case number (办件编号).
        #[arg(long = "case")]
        case_no: Option<String>,
    },
    /// Mark the window's ticket as a no-show (过号).
    Skip { window: String },
    /// Park the window's ticket at the window.
    Hold { window: String },
    /// Send the window's ticket to another service's queue.
    Transfer {
        window: String,
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
    Pause { window: String },
    /// Resume a paused window.
    Resume { window: String },
    /// Open the window for a clerk.
    Login {
        window: String,
        /// The clerk's staff id (工号); use ids, not names, since ids appear in logs.
        clerk: String,
    },
    /// Close the window (finish, skip, hold or transfer its ticket first).
    Logout { window: String },
    /// Documents handed over at the pickup window or sent by post (出件).
    Handoff {
        #[command(subcommand)]
        what: HandoffSub,
    },
    /// Record the citizen's evaluation: 5 非常满意 .. 1 非常不满意.
    Evaluate {
        window: String,
        /// 1..5, or 非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意.
        level: String,
    },
    /// Reports for the hall manager, read from the store (needs --config, not --socket).
    Report(crate::report::cli::ReportArgs),
}

#[derive(Debug, Subcommand)]
pub enum HandoffSub {
    /// Handed over in person.
    Pickup {
        /// The case number (办件编号); each case is handed over once.
        #[arg(long = "case")]
        case_no: String,
        /// The document's title.
        #[arg(long)]
        title: String,
        /// Who received it (shown masked).
        #[arg(long)]
        recipient: String,
        /// Their phone (shown masked).
        #[arg(long)]
        phone: String,
        /// Last 4 characters of the recipient's resident ID (else a signature is recorded).
        #[arg(long = "id-last4", conflicts_with = "id")]
        id_last4: Option<String>,
        /// The whole resident ID: checked, only its last 4 kept.
        #[arg(long)]
        id: Option<String>,
        /// The pickup window recording it (its clerk is stored).
        #[arg(long)]
        window: Option<String>,
    },
    /// Sent by post.
    Mail {
        /// The case number (办件编号); each case is handed over once.
        #[arg(long = "case")]
        case_no: String,
        /// The document's title.
        #[arg(long)]
        title: String,
        /// Who it is sent to (shown masked).
        #[arg(long)]
        recipient: String,
        /// Their phone (shown masked).
        #[arg(long)]
        phone: String,
        /// Postal address (shown masked).
        #[arg(long)]
        address: String,
        /// sf, ems, post, jd, yto, zto, sto, yunda (or the Chinese name).
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        tracking: String,
        /// The pickup window recording it (its clerk is stored).
        #[arg(long)]
        window: Option<String>,
    },
    /// List one day's handoffs (personal data masked).
    List {
        /// YYYY-MM-DD; today's business day when left out.
        #[arg(long)]
        day: Option<String>,
    },
}

impl HandoffSub {
    fn request(&self) -> Result<Request, String> {
        Ok(match self {
            HandoffSub::Pickup {
                case_no,
                title,
                recipient,
                phone,
                id_last4,
                id,
                window,
            } => Request::Handoff {
                method: "pickup".into(),
                case_no: case_no.clone(),
                title: title.clone(),
                recipient: recipient.clone(),
                phone: phone.clone(),
                id_last4: id_last4.clone(),
                id_number: id.clone(),
                window: window.as_deref().map(window_no).transpose()?,
                address: None,
                carrier: None,
                tracking: None,
            },
            HandoffSub::Mail {
                case_no,
                title,
                recipient,
                phone,
                address,
                carrier,
                tracking,
                window,
            } => Request::Handoff {
                method: "mail".into(),
                case_no: case_no.clone(),
                title: title.clone(),
                recipient: recipient.clone(),
                phone: phone.clone(),
                id_last4: None,
                id_number: None,
                window: window.as_deref().map(window_no).transpose()?,
                address: Some(address.clone()),
                carrier: Some(carrier.clone()),
                tracking: Some(tracking.clone()),
            },
            HandoffSub::List { day } => Request::Handoffs {
                day: day.as_deref().map(date).transpose()?,
            },
        })
    }
}

impl Sub {
    /// The socket request for a client command; None for `run`, `check-config`, `doctor` and
    /// `report`.
    /// A malformed value is a usage error whose message never repeats long input in clear.
    pub fn request(&self) -> Result<Option<Request>, String> {
        let r = match self {
            Sub::Run | Sub::CheckConfig | Sub::Doctor | Sub::Report(_) => return Ok(None),
            Sub::Status => Request::Status,
            Sub::Queue => Request::Queue,
            Sub::Reserve {
                service,
                slot,
                date: day,
                name,
                phone,
            } => Request::Reserve {
                service: service.clone(),
                slot: hhmm(slot)?,
                date: day.as_deref().map(date).transpose()?,
                name: name.clone(),
                phone: phone.clone(),
            },
            Sub::Reservations { date: day } => Request::Reservations {
                date: day.as_deref().map(date).transpose()?,
            },
            Sub::Issue {
                service,
                green,
                reservation,
                kiosk,
            } => Request::Issue {
                service: service.clone(),
                green: *green,
                reservation: reservation.clone(),
                kiosk: kiosk.clone(),
            },
            Sub::Call { window, ticket } => Request::Call {
                window: window_no(window)?,
                ticket: ticket.clone(),
            },
            Sub::Recall { window } => Request::Recall {
                window: window_no(window)?,
            },
            Sub::Start { window } => Request::Start {
                window: window_no(window)?,
            },
            Sub::Finish { window, case_no } => Request::Finish {
                window: window_no(window)?,
                case_no: case_no.clone(),
            },
            Sub::Skip { window } => Request::Skip {
                window: window_no(window)?,
            },
            Sub::Hold { window } => Request::Hold {
                window: window_no(window)?,
            },
            Sub::Transfer { window, to } => Request::Transfer {
                window: window_no(window)?,
                to: to.clone(),
            },
            Sub::Requeue { number } => Request::Requeue {
                number: number.clone(),
            },
            Sub::Pause { window } => Request::Pause {
                window: window_no(window)?,
            },
            Sub::Resume { window } => Request::Resume {
                window: window_no(window)?,
            },
            Sub::Login { window, clerk } => Request::Login {
                window: window_no(window)?,
                clerk: clerk.clone(),
            },
            Sub::Logout { window } => Request::Logout {
                window: window_no(window)?,
            },
            Sub::Handoff { what } => what.request()?,
            Sub::Evaluate { window, level: l } => Request::Evaluate {
                window: window_no(window)?,
                level: level(l)?,
            },
        };
        Ok(Some(r))
    }
}
