//! The hall's records as the engine keeps them: tickets, window states, reservations.
//!
//! Plain data with no behaviour beyond naming; the store persists exactly these rows and loads
//! them back. Rules about how they change live in the engine.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::privacy::{PersonName, Phone};

/// `{business day}-{number}`, e.g. `20261126-A001`; unique because numbers are unique per day.
pub type TicketId = String;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} {other:?}", stringify!($name))),
                }
            }
        }
    };
}

text_enum!(
    /// How a ticket was issued; green and reservation tickets are "priority".
    TicketClass { Normal = "normal", Green = "green", Reservation = "reservation" }
);

impl TicketClass {
    pub fn is_priority(self) -> bool {
        !matches!(self, TicketClass::Normal)
    }
}

text_enum!(
    /// Where a ticket is in its life (DESIGN §4).
    TicketState {
        Waiting = "waiting",
        Called = "called",
        Serving = "serving",
        Done = "done",
        NoShow = "no_show",
        Held = "held",
        Voided = "voided",
        Expired = "expired",
    }
);

impl TicketState {
    /// At a window right now (the window's current ticket).
    pub fn is_at_window(self) -> bool {
        matches!(self, TicketState::Called | TicketState::Serving)
    }
    /// Nothing further can happen to it except evaluation or a requeue of a no-show.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TicketState::Done | TicketState::NoShow | TicketState::Voided | TicketState::Expired
        )
    }
}

text_enum!(
    /// Why a ticket was called; stored with every call.
    CallReason {
        StreakGuard = "streak-guard",
        Green = "green",
        MaxWait = "max-wait",
        Reservation = "reservation",
        Fifo = "fifo",
        Explicit = "explicit",
    }
);

text_enum!(
    WindowStatus { Closed = "closed", Open = "open", Paused = "paused" }
);

text_enum!(
    /// Where a reservation came from.
    ReservationSource { Local = "local", Upstream = "upstream" }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: TicketId,
    pub business_day: Date,
    /// The service the number was issued under (its prefix); never changes.
    pub service: String,
    pub seq: u32,
    pub number: String,
    /// The service it waits for now; differs from `service` after a transfer.
    pub current_service: String,
    pub class: TicketClass,
    pub state: TicketState,
    /// Position in issue order: `issue order << 32`, or between two neighbours after a requeue.
    pub queue_key: i64,
    pub issued_at: Timestamp,
    /// When it (re)entered the queue: the issue time, kept by a transfer, reset by a requeue.
    pub waiting_since: Timestamp,
    pub called_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub recall_count: u32,
    pub window: Option<u32>,
    pub clerk: Option<String>,
    pub call_reason: Option<CallReason>,
    pub case_no: Option<String>,
    pub reservation: Option<String>,
    /// The reservation slot, for reservation-class tickets.
    pub slot: Option<Timestamp>,
    pub kiosk: Option<String>,
    pub requeued: bool,
    pub evaluation: Option<u8>,
    pub evaluated_at: Option<Timestamp>,
    pub void_cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowState {
    pub number: u32,
    pub status: WindowStatus,
    pub clerk: Option<String>,
    /// The called or serving ticket.
    pub current: Option<TicketId>,
    /// Consecutive priority calls by call next.
    pub streak: u32,
    /// The last ticket finished here and when, for the evaluator.
    pub last_finished: Option<(TicketId, Timestamp)>,
    /// The last ticket finished or skipped here, until an undo takes it back.
    pub last_closed: Option<TicketId>,
}

impl WindowState {
    pub fn closed(number: u32) -> Self {
        WindowState {
            number,
            status: WindowStatus::Closed,
            clerk: None,
            current: None,
            streak: 0,
            last_finished: None,
            last_closed: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub date: Date,
    pub code: String,
    pub service: String,
    pub slot: Timestamp,
    pub name: PersonName,
    pub phone: Phone,
    pub source: ReservationSource,
    pub created_at: Timestamp,
    pub ticket: Option<TicketId>,
    pub checked_in_at: Option<Timestamp>,
    /// When it was cancelled (by an operator, or because it disappeared upstream), and why.
    pub cancelled: Option<Cancellation>,
}

/// A clerk who may log in on the web call pad: staff number and PIN hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clerk {
    pub staff: String,
    pub pin_hash: crate::pin::PinHash,
    pub updated_at: Timestamp,
}

/// A change to the `clerks` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClerkWrite {
    Put(Clerk),
    Remove(String),
}

impl Reservation {
    /// The phone's last four digits, when a phone is known (upstream may send none).
    pub fn phone_last4(&self) -> Option<String> {
        let digits: Vec<char> = self
            .phone
            .expose()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        (digits.len() >= 4).then(|| digits[digits.len() - 4..].iter().collect())
    }

    /// Still bookable, checkable-in and counted against its slot's capacity.
    pub fn is_active(&self) -> bool {
        self.cancelled.is_none()
    }
}

/// A cancelled reservation: when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    pub at: Timestamp,
    pub reason: String,
}

/// The reason recorded when an upstream reservation is no longer in the platform's list.
pub const GONE_UPSTREAM: &str = "cancelled upstream";

/// One call or recall of a ticket at a window, as recorded in the `calls` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub ticket: TicketId,
    pub window: u32,
    pub at: Timestamp,
    pub reason: CallReason,
    pub recall: bool,
    pub clerk: Option<String>,
}

/// The national 好差评 scale, codes 5 (very satisfied) down to 1.
pub fn evaluation_label(level: u8) -> &'static str {
    match level {
        5 => "非常满意",
        4 => "满意",
        3 => "基本满意",
        2 => "不满意",
        1 => "非常不满意",
        _ => "?",
    }
}
