//! The catalogue's promises: every refusal code is worded in both languages, and no operator
//! message names a window as `window N` (windows are named as configured, `7号窗口`).

use std::collections::BTreeSet;

use jiff::civil::date;

use super::*;
use crate::engine::model::{CallReason, TicketClass, TicketState, WindowStatus};
use crate::engine::outcome::*;
use crate::engine::refusal::{Closed, Refusal, REFUSAL_CODES};
use crate::runtime::error::HallError;

fn w() -> String {
    "7号窗口".to_string()
}

fn n() -> String {
    "A012".to_string()
}

/// One of every refusal, with windows named as a config names them.
fn refusals() -> Vec<Refusal> {
    use Refusal::*;
    let day = date(2026, 11, 26);
    let s = |x: &str| x.to_string();
    vec![
        UnknownService { service: s("Z") },
        UnknownWindow { window: 9 },
        UnknownTicket { number: n() },
        UnknownReservation { code: s("123456") },
        UnknownKiosk {
            kiosk: s("k9"),
            known: vec![s("kiosk-1")],
        },
        UnknownHandoff { case_no: s("ZW1") },
        UnknownClerk { staff: s("0123") },
        GreenAndReservation,
        BadClerkId,
        ClerkIdLooksPersonal {
            clerk: s("\"139*****678\""),
        },
        BadStaffNumber,
        BadPinHash {
            detail: s("the PIN hash is not a PHC string"),
        },
        BadCaseNo,
        CaseNoLooksPersonal {
            case_no: s("\"15**************30\""),
        },
        BadReason,
        BadLevel { level: 7 },
        BadName { recipient: true },
        BadPhone {
            phone: s("139****5678"),
        },
        BadTitle,
        BadAddress,
        IdBothForms,
        BadIdLast4,
        BadResidentId {
            id: s("1501**********1234"),
        },
        UnknownCarrier {
            carrier: s("pigeon"),
            known: vec![s("sf"), s("ems")],
        },
        BadTracking {
            tracking: s("X1"),
            carrier: s("顺丰速运 (sf)"),
            pattern: s("SF + 12 digits"),
        },
        DateInPast { date: day },
        SlotMissing {
            date: day,
            slot: s("02:30"),
        },
        SlotPassed {
            date: day,
            slot: s("09:30"),
        },
        NoReservationCode,
        BadCancelReason,
        PhoneDigitsMissing { code: s("482913") },
        WindowClosed { window: w() },
        WindowPaused { window: w() },
        WindowBusy {
            window: w(),
            number: n(),
        },
        WindowNotOpen {
            window: w(),
            state: WindowStatus::Closed,
        },
        WindowNotPaused {
            window: w(),
            state: WindowStatus::Open,
        },
        WindowOpen {
            window: w(),
            clerk: s("c7"),
        },
        WindowAlreadyClosed { window: w() },
        ClerkElsewhere {
            clerk: s("c7"),
            window: w(),
        },
        NoCurrentTicket { window: w() },
        NothingWaiting { window: w() },
        NotServed {
            window: w(),
            service: s("C"),
            number: n(),
        },
        GreenOnly {
            window: w(),
            number: n(),
        },
        NothingToEvaluate { window: w() },
        NothingHeld {
            window: w(),
            seq: Some(12),
        },
        NotPickupWindow { window: w() },
        HeldElsewhere {
            number: n(),
            window: w(),
        },
        NotCallable {
            number: n(),
            state: TicketState::Done,
        },
        AlreadyServing { number: n() },
        RecallLimit {
            number: n(),
            limit: 3,
        },
        SameService {
            number: n(),
            service: s("A"),
        },
        NoWindowServes {
            service: s("Z"),
            number: n(),
        },
        NotNoShow {
            number: n(),
            state: TicketState::Waiting,
        },
        AlreadyRequeued { number: n() },
        AlreadyEvaluated {
            number: n(),
            level: 5,
        },
        CaseRequired {
            number: n(),
            service: s("A"),
        },
        NotWaiting {
            number: n(),
            state: TicketState::Called,
        },
        HallClosed {
            why: Closed::Break,
            next: Some(day.at(13, 30, 0, 0)),
            today: day,
        },
        DailyLimit {
            service: s("A"),
            limit: 500,
        },
        NumbersUsedUp {
            service: s("A"),
            max: 999,
        },
        ReservationOtherDay {
            code: s("123456"),
            date: day,
        },
        ReservationOtherService {
            code: s("123456"),
            service: s("A"),
            asked: s("B"),
        },
        ReservationUsed {
            code: s("123456"),
            number: n(),
        },
        CheckInTooEarly {
            code: s("123456"),
            slot: s("10:00"),
            opens: s("09:30"),
        },
        PhoneDigitsWrong { code: s("482913") },
        ReservationCancelled {
            code: s("482913"),
            reason: s("本人来电取消"),
        },
        ReservationAlreadyCancelled { code: s("482913") },
        ReservationCodeInUse { code: s("482913") },
        NoFreeReservationCode,
        SlotFull {
            service: s("A"),
            date: day,
            slot: s("09:00"),
            capacity: 2,
            next: Some((day, s("09:30"))),
            days: 7,
        },
        DayStillCurrent { day },
        HandedOver {
            case_no: s("ZW1"),
            day: Some(day),
            method: Some(s("mail")),
        },
        AlreadyScanned {
            case_no: s("ZW1"),
            window: w(),
            at: s("09:41"),
        },
        ClerkExists { staff: s("0123") },
        SyncStatusNotHere,
        NothingToUndo { window: w() },
        UndoTooLate {
            number: n(),
            minutes: 30,
        },
        UndoEvaluated { number: n() },
        NotDone {
            number: n(),
            state: TicketState::Serving,
        },
        SameCase { number: n() },
        NoEvaluation { number: n() },
        SameTicket { number: n() },
        NotHeld {
            number: n(),
            state: TicketState::Waiting,
        },
        AlreadyAtWindow {
            number: n(),
            window: w(),
        },
    ]
}

/// One of every outcome that names a window, and the others.
fn outcomes() -> Vec<Outcome> {
    let at: jiff::Timestamp = "2026-11-26T01:00:00Z".parse().unwrap();
    let s = |x: &str| x.to_string();
    vec![
        Outcome::Called(Called {
            window: 7,
            number: n(),
            reason: CallReason::Fifo,
            id: s("20261126-A012"),
            service: s("A"),
            class: TicketClass::Normal,
            streak: 0,
            window_name: w(),
        }),
        Outcome::Recalled(Recalled {
            window: 7,
            number: n(),
            recall_count: 1,
            reason: None,
            window_name: w(),
            limit: 3,
            service: s("A"),
        }),
        Outcome::Moved(Moved {
            window: 7,
            number: n(),
            id: s("x"),
            state: TicketState::Held,
            service: s("A"),
            window_name: w(),
            how: Move::Hold,
        }),
        Outcome::Window(WindowChanged {
            window: 7,
            state: WindowStatus::Closed,
            clerk: None,
            action: WindowAction::ForceLogout,
            was: Some(s("c7")),
            window_name: w(),
            returned: Some(n()),
            reason: Some(s("left")),
        }),
        Outcome::Evaluated(Evaluated {
            window: 7,
            number: n(),
            level: 5,
            label: "非常满意",
            window_name: w(),
        }),
        Outcome::Undone(Undone {
            window: 7,
            number: n(),
            id: s("x"),
            undid: Undid::Skip,
            state: TicketState::Called,
            reason: s("oops"),
            window_name: w(),
        }),
        Outcome::HeldMoved(HeldMoved {
            number: n(),
            id: s("x"),
            from: Some(7),
            window: 8,
            reason: s("closed"),
            from_name: w(),
            window_name: s("8号窗口"),
        }),
        Outcome::DayStarted(DayStarted {
            from: date(2026, 11, 25),
            to: date(2026, 11, 26),
            expired: 2,
        }),
        Outcome::Requeued(Requeued {
            number: n(),
            id: s("x"),
            ahead: 3,
            service: s("A"),
        }),
        Outcome::Scanned(Scanned {
            pending: crate::engine::handoff::PendingHandoff {
                case_no: s("ZW1"),
                window: 7,
                scanned_at: at,
                business_day: date(2026, 11, 26),
            },
            window_name: w(),
        }),
        Outcome::Clerk(ClerkChanged {
            staff: s("0123"),
            action: "reset",
        }),
        Outcome::ReservationCancelled(ReservationCancelled {
            code: s("482913"),
            date: date(2026, 11, 27),
            reason: s("本人来电取消"),
        }),
        Outcome::ReservationsSynced(ReservationsSynced {
            date: date(2026, 11, 27),
            added: vec![s("Y0001")],
            ..ReservationsSynced::default()
        }),
        Outcome::HandoffVoided(HandoffVoided {
            id: s("H20261126-0001"),
            case_no: s("ZW1"),
            reason: s("twice"),
        }),
        Outcome::Issued(Issued {
            id: s("x"),
            number: n(),
            service: s("A"),
            service_name: s("综合受理"),
            class: TicketClass::Green,
            ahead: 2,
            estimated_wait_minutes: None,
            issued_at: at,
            business_day: date(2026, 11, 26),
            kiosk: None,
            slot: None,
            note: Some(IssueNote::LateCheckIn {
                slot: s("10:00"),
                closed_at: s("10:15"),
            }),
            printed_at: Some(s("kiosk-1")),
            printer: None,
        }),
    ]
}

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// `window 7`, `Window 12`: a window named by its number in words.
fn names_window_by_number(s: &str) -> bool {
    let lower = s.to_lowercase();
    lower.match_indices("window ").any(|(i, m)| {
        lower[i + m.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

#[test]
fn every_refusal_code_is_worded_in_both_languages() {
    let samples = refusals();
    let sampled: BTreeSet<&str> = samples.iter().map(Refusal::refusal).collect();
    let listed: BTreeSet<&str> = REFUSAL_CODES.iter().copied().collect();
    assert_eq!(listed.len(), REFUSAL_CODES.len(), "a code is listed twice");
    assert_eq!(sampled, listed, "every refusal code has a sample here");
    for r in &samples {
        let zh = r.message(Lang::Zh);
        let en = r.message(Lang::En);
        assert!(has_chinese(&zh), "{}: {zh}", r.refusal());
        assert!(!en.is_empty() && zh != en, "{}: {en}", r.refusal());
        assert_eq!(r.to_string(), en, "the journal's words are English");
    }
}

#[test]
fn no_operator_message_names_a_window_by_number() {
    let mut messages: Vec<String> = Vec::new();
    for lang in Lang::ALL {
        messages.extend(refusals().iter().map(|r| r.message(lang)));
        messages.extend(outcomes().iter().map(|o| o.message(lang)));
        let e = HallError::PrinterUnavailable {
            kiosk: "kiosk-1".into(),
            cause: "paper_out".into(),
            reason: "out of paper".into(),
        };
        messages.push(e.message(lang));
        let forbidden = HallError::Forbidden {
            what: "evaluate",
            role: crate::command::Role::Evaluator,
            origin: "cli uid=1000 gid=1000".into(),
            holds: [crate::command::Role::Clerk].into_iter().collect(),
        };
        messages.push(forbidden.message(lang));
    }
    for m in &messages {
        assert!(!names_window_by_number(m), "{m}");
    }
    // The windows are there, by their configured names.
    assert!(messages.iter().filter(|m| m.contains("7号窗口")).count() > 40);
    assert!(
        names_window_by_number("call window 7 now"),
        "the check itself works"
    );
}

#[test]
fn the_hall_closed_refusal_gives_the_next_opening() {
    let day = date(2026, 11, 26);
    let lunch = Refusal::HallClosed {
        why: Closed::Break,
        next: Some(day.at(13, 30, 0, 0)),
        today: day,
    };
    assert_eq!(
        lunch.message(Lang::Zh),
        "现在不能取号（午间休息），下次开放：13:30"
    );
    assert_eq!(
        lunch.message(Lang::En),
        "no tickets now (lunch break); next opening 13:30"
    );
    let holiday = Refusal::HallClosed {
        why: Closed::Holiday,
        next: Some(date(2026, 10, 8).at(8, 30, 0, 0)),
        today: date(2026, 10, 1),
    };
    assert!(
        holiday.message(Lang::Zh).ends_with("2026-10-08 08:30"),
        "{}",
        holiday.message(Lang::Zh)
    );
}

#[test]
fn languages_parse_as_operators_write_them() {
    assert_eq!("zh".parse::<Lang>(), Ok(Lang::Zh));
    assert_eq!("EN".parse::<Lang>(), Ok(Lang::En));
    assert_eq!("zh-CN".parse::<Lang>(), Ok(Lang::Zh));
    assert!("fr".parse::<Lang>().is_err());
    assert_eq!(Lang::default(), Lang::Zh, "Chinese unless configured");
}

#[test]
fn every_outcome_is_worded_in_both_languages() {
    for o in outcomes() {
        let (zh, en) = (o.message(Lang::Zh), o.message(Lang::En));
        assert!(
            has_chinese(&zh) && !en.is_empty() && zh != en,
            "{zh} / {en}"
        );
    }
    let forbidden = HallError::Forbidden {
        what: "evaluate",
        role: crate::command::Role::Evaluator,
        origin: "cli uid=1000 gid=1000".into(),
        holds: crate::command::RoleSet::NONE,
    };
    assert!(forbidden
        .message(Lang::Zh)
        .starts_with("evaluate 需要 evaluator 角色；cli uid=1000 gid=1000 拥有：无角色"));
    assert!(forbidden
        .to_string()
        .starts_with("evaluate needs the evaluator role; cli uid=1000 gid=1000 holds no role"));
}
