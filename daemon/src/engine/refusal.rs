//! Why a command was refused, as a typed value: every refusal is one variant with the facts it
//! is about, a stable code for scripts ([`Refusal::refusal`]) and a category ([`Refusal::code`],
//! the `error.code` of the control socket). The words for people are the catalogue's
//! (`catalogue::refusals`); `Display` gives the English sentence for the journal.
//!
//! Windows are carried by their configured name (`7号窗口`) so no sentence ever says
//! `window 7`; personal data is carried masked.

use jiff::civil::{Date, DateTime};

use super::model::{TicketState, WindowStatus};

/// Why a command was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    // Things that do not exist.
    UnknownService {
        service: String,
    },
    UnknownWindow {
        window: u32,
    },
    UnknownTicket {
        number: String,
    },
    UnknownReservation {
        code: String,
    },
    UnknownKiosk {
        kiosk: String,
        known: Vec<String>,
    },
    UnknownHandoff {
        case_no: String,
    },
    /// No clerk record with this staff number (the web call pad's clerks).
    UnknownClerk {
        staff: String,
    },

    // Arguments that are wrong in themselves.
    GreenAndReservation,
    BadClerkId,
    /// Masked.
    ClerkIdLooksPersonal {
        clerk: String,
    },
    /// A clerk record's staff number (letters, digits, `-`, `_`).
    BadStaffNumber,
    /// The PIN hash is not an Argon2id PHC string within the limits (the checker's words).
    BadPinHash {
        detail: String,
    },
    BadCaseNo,
    /// Masked.
    CaseNoLooksPersonal {
        case_no: String,
    },
    BadReason,
    BadLevel {
        level: u8,
    },
    /// A person's name (`name` or `recipient name`) of the wrong length.
    BadName {
        recipient: bool,
    },
    /// Masked.
    BadPhone {
        phone: String,
    },
    BadTitle,
    BadAddress,
    IdBothForms,
    BadIdLast4,
    /// Masked.
    BadResidentId {
        id: String,
    },
    UnknownCarrier {
        carrier: String,
        known: Vec<String>,
    },
    BadTracking {
        tracking: String,
        carrier: String,
        pattern: String,
    },
    DateInPast {
        date: Date,
    },
    SlotMissing {
        date: Date,
        slot: String,
    },
    SlotPassed {
        date: Date,
        slot: String,
    },
    /// A `reserve` without a code the hall drew for it.
    NoReservationCode,
    /// A cancellation's reason: at most 200 characters, no control characters.
    BadCancelReason,
    /// A reservation with a phone needs its last four digits at check-in.
    PhoneDigitsMissing {
        code: String,
    },

    // The window's state does not allow it.
    WindowClosed {
        window: String,
    },
    WindowPaused {
        window: String,
    },
    WindowBusy {
        window: String,
        number: String,
    },
    WindowNotOpen {
        window: String,
        state: WindowStatus,
    },
    WindowNotPaused {
        window: String,
        state: WindowStatus,
    },
    WindowOpen {
        window: String,
        clerk: String,
    },
    WindowAlreadyClosed {
        window: String,
    },
    ClerkElsewhere {
        clerk: String,
        window: String,
    },
    NoCurrentTicket {
        window: String,
    },
    NothingWaiting {
        window: String,
    },
    NotServed {
        window: String,
        service: String,
        number: String,
    },
    GreenOnly {
        window: String,
        number: String,
    },
    NothingToEvaluate {
        window: String,
    },
    /// Call back a held ticket: none (or none with that sequence number) is held there.
    NothingHeld {
        window: String,
        seq: Option<u32>,
    },
    NotPickupWindow {
        window: String,
    },

    // The ticket's state does not allow it.
    HeldElsewhere {
        number: String,
        window: String,
    },
    NotCallable {
        number: String,
        state: TicketState,
    },
    AlreadyServing {
        number: String,
    },
    RecallLimit {
        number: String,
        limit: u32,
    },
    SameService {
        number: String,
        service: String,
    },
    NoWindowServes {
        service: String,
        number: String,
    },
    NotNoShow {
        number: String,
        state: TicketState,
    },
    AlreadyRequeued {
        number: String,
    },
    AlreadyEvaluated {
        number: String,
        level: u8,
    },
    CaseRequired {
        number: String,
        service: String,
    },
    NotWaiting {
        number: String,
        state: TicketState,
    },

    // Issuing and reservations.
    HallClosed {
        why: Closed,
        next: Option<DateTime>,
        today: Date,
    },
    DailyLimit {
        service: String,
        limit: u32,
    },
    NumbersUsedUp {
        service: String,
        max: u32,
    },
    ReservationOtherDay {
        code: String,
        date: Date,
    },
    ReservationOtherService {
        code: String,
        service: String,
        asked: String,
    },
    ReservationUsed {
        code: String,
        number: String,
    },
    CheckInTooEarly {
        code: String,
        slot: String,
        opens: String,
    },
    PhoneDigitsWrong {
        code: String,
    },
    ReservationCancelled {
        code: String,
        reason: String,
    },
    ReservationAlreadyCancelled {
        code: String,
    },
    ReservationCodeInUse {
        code: String,
    },
    /// No random reservation code was free (should not happen).
    NoFreeReservationCode,
    /// The slot (`HH:MM`) of `service` on `date` has `capacity` bookings; the next free slot
    /// within `days` days, if any.
    SlotFull {
        service: String,
        date: Date,
        slot: String,
        capacity: u32,
        next: Option<(Date, String)>,
        days: u32,
    },

    // The hall's own and handoffs.
    DayStillCurrent {
        day: Date,
    },
    HandedOver {
        case_no: String,
        day: Option<Date>,
        method: Option<String>,
    },
    /// Scanned at the pickup window already (`at`: local `HH:MM`), its handoff not recorded.
    AlreadyScanned {
        case_no: String,
        window: String,
        at: String,
    },
    ClerkExists {
        staff: String,
    },
    /// `sync status` asked of the hall thread: the sync task answers it.
    SyncStatusNotHere,

    // Corrections.
    NothingToUndo {
        window: String,
    },
    UndoTooLate {
        number: String,
        minutes: u32,
    },
    UndoEvaluated {
        number: String,
    },
    NotDone {
        number: String,
        state: TicketState,
    },
    SameCase {
        number: String,
    },
    NoEvaluation {
        number: String,
    },
    SameTicket {
        number: String,
    },
    NotHeld {
        number: String,
        state: TicketState,
    },
    AlreadyAtWindow {
        number: String,
        window: String,
    },
}

/// Why the hall issues no ticket now (the hall calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Before the day's first opening.
    NotYetOpen,
    /// Between two opening periods (lunch).
    Break,
    /// Within the cut-off before a period ends (停止取号).
    CutOff,
    /// After the day's last period.
    AfterHours,
    /// A holiday.
    Holiday,
    /// A day without opening hours (a weekend).
    DayOff,
}

impl Closed {
    pub fn as_str(self) -> &'static str {
        match self {
            Closed::NotYetOpen => "not_yet_open",
            Closed::Break => "break",
            Closed::CutOff => "cut_off",
            Closed::AfterHours => "after_hours",
            Closed::Holiday => "holiday",
            Closed::DayOff => "day_off",
        }
    }
}

/// Every refusal code, in declaration order (the catalogue's tests word each one).
pub const REFUSAL_CODES: &[&str] = &[
    "unknown_service",
    "unknown_window",
    "unknown_ticket",
    "unknown_reservation",
    "unknown_kiosk",
    "unknown_handoff",
    "unknown_clerk",
    "green_and_reservation",
    "bad_clerk_id",
    "clerk_id_looks_personal",
    "bad_staff_number",
    "bad_pin_hash",
    "bad_case_no",
    "case_no_looks_personal",
    "bad_reason",
    "bad_level",
    "bad_name",
    "bad_phone",
    "bad_title",
    "bad_address",
    "id_both_forms",
    "bad_id_last4",
    "bad_resident_id",
    "unknown_carrier",
    "bad_tracking",
    "date_in_past",
    "slot_missing",
    "slot_passed",
    "no_reservation_code",
    "bad_cancel_reason",
    "phone_digits_missing",
    "window_closed",
    "window_paused",
    "window_busy",
    "window_not_open",
    "window_not_paused",
    "window_open",
    "window_already_closed",
    "clerk_elsewhere",
    "no_current_ticket",
    "nothing_waiting",
    "not_served",
    "green_only",
    "nothing_to_evaluate",
    "nothing_held",
    "not_pickup_window",
    "held_elsewhere",
    "not_callable",
    "already_serving",
    "recall_limit",
    "same_service",
    "no_window_serves",
    "not_no_show",
    "already_requeued",
    "already_evaluated",
    "case_required",
    "not_waiting",
    "hall_closed",
    "daily_limit",
    "numbers_used_up",
    "reservation_other_day",
    "reservation_other_service",
    "reservation_used",
    "check_in_too_early",
    "phone_digits_wrong",
    "reservation_cancelled",
    "reservation_already_cancelled",
    "reservation_code_in_use",
    "no_free_reservation_code",
    "slot_full",
    "day_still_current",
    "handed_over",
    "already_scanned",
    "clerk_exists",
    "sync_status_not_here",
    "nothing_to_undo",
    "undo_too_late",
    "undo_evaluated",
    "not_done",
    "same_case",
    "no_evaluation",
    "same_ticket",
    "not_held",
    "already_at_window",
];

impl Refusal {
    /// The category, the control socket's `error.code`: `unknown_service`, `unknown_window`,
    /// `unknown_ticket`, `unknown_reservation`, `unknown_handoff`, `invalid_argument` (the
    /// request is wrong in itself) or `refused` (the hall's state does not allow it; an unknown
    /// clerk record too, as it always was).
    pub fn code(&self) -> &'static str {
        use Refusal::*;
        match self {
            UnknownService { .. } => "unknown_service",
            UnknownWindow { .. } => "unknown_window",
            UnknownTicket { .. } => "unknown_ticket",
            UnknownReservation { .. } => "unknown_reservation",
            UnknownHandoff { .. } => "unknown_handoff",
            UnknownKiosk { .. }
            | GreenAndReservation
            | BadClerkId
            | ClerkIdLooksPersonal { .. }
            | BadStaffNumber
            | BadPinHash { .. }
            | BadCaseNo
            | CaseNoLooksPersonal { .. }
            | BadReason
            | BadLevel { .. }
            | BadName { .. }
            | BadPhone { .. }
            | BadTitle
            | BadAddress
            | IdBothForms
            | BadIdLast4
            | BadResidentId { .. }
            | UnknownCarrier { .. }
            | BadTracking { .. }
            | DateInPast { .. }
            | SlotMissing { .. }
            | SlotPassed { .. }
            | NoReservationCode
            | BadCancelReason
            | PhoneDigitsMissing { .. }
            | SyncStatusNotHere => "invalid_argument",
            _ => "refused",
        }
    }

    /// The refusal's own stable code (`window_closed`, `hall_closed`, ...): the socket's
    /// `error.refusal`, and the key the catalogue words.
    pub fn refusal(&self) -> &'static str {
        use Refusal::*;
        match self {
            UnknownService { .. } => "unknown_service",
            UnknownWindow { .. } => "unknown_window",
            UnknownTicket { .. } => "unknown_ticket",
            UnknownReservation { .. } => "unknown_reservation",
            UnknownKiosk { .. } => "unknown_kiosk",
            UnknownHandoff { .. } => "unknown_handoff",
            UnknownClerk { .. } => "unknown_clerk",
            GreenAndReservation => "green_and_reservation",
            BadClerkId => "bad_clerk_id",
            ClerkIdLooksPersonal { .. } => "clerk_id_looks_personal",
            BadStaffNumber => "bad_staff_number",
            BadPinHash { .. } => "bad_pin_hash",
            BadCaseNo => "bad_case_no",
            CaseNoLooksPersonal { .. } => "case_no_looks_personal",
            BadReason => "bad_reason",
            BadLevel { .. } => "bad_level",
            BadName { .. } => "bad_name",
            BadPhone { .. } => "bad_phone",
            BadTitle => "bad_title",
            BadAddress => "bad_address",
            IdBothForms => "id_both_forms",
            BadIdLast4 => "bad_id_last4",
            BadResidentId { .. } => "bad_resident_id",
            UnknownCarrier { .. } => "unknown_carrier",
            BadTracking { .. } => "bad_tracking",
            DateInPast { .. } => "date_in_past",
            SlotMissing { .. } => "slot_missing",
            SlotPassed { .. } => "slot_passed",
            NoReservationCode => "no_reservation_code",
            BadCancelReason => "bad_cancel_reason",
            PhoneDigitsMissing { .. } => "phone_digits_missing",
            WindowClosed { .. } => "window_closed",
            WindowPaused { .. } => "window_paused",
            WindowBusy { .. } => "window_busy",
            WindowNotOpen { .. } => "window_not_open",
            WindowNotPaused { .. } => "window_not_paused",
            WindowOpen { .. } => "window_open",
            WindowAlreadyClosed { .. } => "window_already_closed",
            ClerkElsewhere { .. } => "clerk_elsewhere",
            NoCurrentTicket { .. } => "no_current_ticket",
            NothingWaiting { .. } => "nothing_waiting",
            NotServed { .. } => "not_served",
            GreenOnly { .. } => "green_only",
            NothingToEvaluate { .. } => "nothing_to_evaluate",
            NothingHeld { .. } => "nothing_held",
            NotPickupWindow { .. } => "not_pickup_window",
            HeldElsewhere { .. } => "held_elsewhere",
            NotCallable { .. } => "not_callable",
            AlreadyServing { .. } => "already_serving",
            RecallLimit { .. } => "recall_limit",
            SameService { .. } => "same_service",
            NoWindowServes { .. } => "no_window_serves",
            NotNoShow { .. } => "not_no_show",
            AlreadyRequeued { .. } => "already_requeued",
            AlreadyEvaluated { .. } => "already_evaluated",
            CaseRequired { .. } => "case_required",
            NotWaiting { .. } => "not_waiting",
            HallClosed { .. } => "hall_closed",
            DailyLimit { .. } => "daily_limit",
            NumbersUsedUp { .. } => "numbers_used_up",
            ReservationOtherDay { .. } => "reservation_other_day",
            ReservationOtherService { .. } => "reservation_other_service",
            ReservationUsed { .. } => "reservation_used",
            CheckInTooEarly { .. } => "check_in_too_early",
            PhoneDigitsWrong { .. } => "phone_digits_wrong",
            ReservationCancelled { .. } => "reservation_cancelled",
            ReservationAlreadyCancelled { .. } => "reservation_already_cancelled",
            ReservationCodeInUse { .. } => "reservation_code_in_use",
            NoFreeReservationCode => "no_free_reservation_code",
            SlotFull { .. } => "slot_full",
            DayStillCurrent { .. } => "day_still_current",
            HandedOver { .. } => "handed_over",
            AlreadyScanned { .. } => "already_scanned",
            ClerkExists { .. } => "clerk_exists",
            SyncStatusNotHere => "sync_status_not_here",
            NothingToUndo { .. } => "nothing_to_undo",
            UndoTooLate { .. } => "undo_too_late",
            UndoEvaluated { .. } => "undo_evaluated",
            NotDone { .. } => "not_done",
            SameCase { .. } => "same_case",
            NoEvaluation { .. } => "no_evaluation",
            SameTicket { .. } => "same_ticket",
            NotHeld { .. } => "not_held",
            AlreadyAtWindow { .. } => "already_at_window",
        }
    }

    /// The sentence for people in `lang`.
    pub fn message(&self, lang: crate::catalogue::Lang) -> String {
        crate::catalogue::Words::words(self, lang)
    }
}

impl std::fmt::Display for Refusal {
    /// English, for the journal.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(crate::catalogue::Lang::En))
    }
}

impl std::error::Error for Refusal {}
