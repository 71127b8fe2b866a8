//! The engine's individual rules (DESIGN §4), one scenario each.

mod support;

use hallq::catalogue::Lang;
use hallq::command::{Handoff, HandoffCase, Mail, Pickup};
use hallq::engine::model::{TicketClass, TicketState};
use hallq::engine::{Command, Engine, IssueClass, Outcome, Refusal};
use hallq::privacy::{PersonName, Phone};
use jiff::SignedDuration;
use support::{config, engine, local, HALL};

fn issue(e: &mut Engine, service: &str, class: IssueClass, now: jiff::Timestamp) -> String {
    let c = e.handle(&Command::issue(service, class), now).unwrap();
    c.outcome.data()["number"].as_str().unwrap().to_string()
}

fn call(e: &mut Engine, window: u32, now: jiff::Timestamp) -> (String, String) {
    let c = e.handle(&Command::call_next(window), now).unwrap();
    (
        c.outcome.data()["number"].as_str().unwrap().into(),
        c.outcome.data()["reason"].as_str().unwrap().into(),
    )
}

fn finish(e: &mut Engine, window: u32, now: jiff::Timestamp) {
    e.handle(
        &Command::Finish {
            window,
            case_no: None,
        },
        now,
    )
    .unwrap();
}

fn refusal(e: &mut Engine, cmd: Command, now: jiff::Timestamp) -> String {
    let before = e.state().clone();
    let err = e.handle(&cmd, now).unwrap_err();
    assert_eq!(*e.state(), before, "a refusal changes nothing");
    err.to_string()
}

fn open_all(e: &mut Engine, now: jiff::Timestamp) {
    open_all_of(e, &[1, 2, 3, 4, 5, 6], now);
}

fn open_all_of(e: &mut Engine, windows: &[u32], now: jiff::Timestamp) {
    for &w in windows {
        e.handle(
            &Command::Login {
                window: w,
                clerk: format!("c{w}"),
            },
            now,
        )
        .unwrap();
    }
}

fn reserve(e: &mut Engine, service: &str, hh: i8, mm: i8, now: jiff::Timestamp) -> String {
    reserve_as(e, service, hh, mm, now).unwrap()
}

/// Book `service` at hh:mm with a code of the test's own (the hall draws random ones).
fn reserve_as(
    e: &mut Engine,
    service: &str,
    hh: i8,
    mm: i8,
    now: jiff::Timestamp,
) -> Result<String, String> {
    let code = format!("{}", 500_000 + e.state().reservations.len() * 37);
    e.handle(
        &Command::Reserve {
            service: service.into(),
            date: None,
            slot: hallq::command::args::Hhmm(jiff::civil::time(hh, mm, 0, 0)),
            name: PersonName::new("李四"),
            phone: Phone::new("13800001111"),
            code: Some(code),
        },
        now,
    )
    .map(|c| c.outcome.data()["code"].as_str().unwrap().to_string())
    .map_err(|e| e.to_string())
}

fn check_in(code: &str) -> Command {
    Command::check_in("A", code, Some("1111"))
}

#[test]
fn reservation_check_in_window_early_on_time_and_late() {
    let cfg = config(HALL);
    let now = local(8, 0);
    let mut e = engine(&cfg, now);
    let r1 = reserve(&mut e, "A", 10, 0, now);
    let r2 = reserve(&mut e, "A", 10, 0, now);
    assert_ne!(r1, r2);

    let early = refusal(&mut e, check_in(&r1), local(9, 29));
    assert!(early.contains("check-in opens at 09:30"), "{early}");
    let wrong = refusal(
        &mut e,
        Command::check_in("B", &r1, Some("1111")),
        local(9, 45),
    );
    assert!(wrong.contains("is for service A"), "{wrong}");

    let c = e.handle(&check_in(&r1), local(9, 30)).unwrap();
    assert_eq!(c.outcome.data()["class"], "reservation");
    assert_eq!(
        c.outcome.data()["slot"],
        "10:00",
        "the ticket prints its slot"
    );
    let again = refusal(&mut e, check_in(&r1), local(9, 31));
    assert!(again.contains("already checked in as A001"), "{again}");

    // Checked in early: the queue shows it waiting for its slot.
    let queue = e.queue_view(local(9, 31));
    let a = &queue.services[0].waiting[0];
    assert_eq!(
        (a.number.as_str(), a.slot.as_deref()),
        ("A001", Some("10:00"))
    );
    assert!(a.waiting_for_slot);
    assert!(!e.queue_view(local(10, 0)).services[0].waiting[0].waiting_for_slot);

    // Late (after slot + 15 min): a normal ticket, and the reply says why.
    let late = e.handle(&check_in(&r2), local(10, 16)).unwrap();
    assert_eq!(late.outcome.data()["class"], "normal");
    assert!(
        late.outcome
            .message(Lang::En)
            .contains("issued as a normal ticket"),
        "{}",
        late.outcome.message(Lang::En)
    );

    // A reservation ticket is not called before its slot, and is after it.
    e.handle(
        &Command::Login {
            window: 1,
            clerk: "c1".into(),
        },
        local(9, 40),
    )
    .unwrap();
    let mut e2 = e.clone();
    let c = e2.handle(&Command::call_next(1), local(9, 50)).unwrap();
    assert_eq!(
        c.outcome.data()["number"],
        "A002",
        "the late one is normal, fifo; A001 waits for its slot"
    );
    let (n, why) = call(&mut e, 1, local(10, 0));
    assert_eq!((n.as_str(), why.as_str()), ("A001", "reservation"));
}

#[test]
fn check_in_needs_the_phone_digits_and_a_live_code() {
    let cfg = config(HALL);
    let now = local(8, 0);
    let mut e = engine(&cfg, now);
    let code = reserve(&mut e, "A", 9, 0, now);
    let missing = refusal(&mut e, Command::check_in("A", &code, None), local(8, 45));
    assert!(missing.contains("last four digits"), "{missing}");
    let wrong = refusal(
        &mut e,
        Command::check_in("A", &code, Some("2222")),
        local(8, 45),
    );
    assert!(
        wrong.contains("do not match") && !wrong.contains("1111"),
        "{wrong}"
    );
    let unknown = refusal(&mut e, check_in("999999"), local(8, 45));
    assert!(unknown.contains("no reservation 999999"), "{unknown}");

    // Cancelled by the hall, with a reason: recorded, then refused at the kiosk.
    let cancelled = e
        .handle(
            &Command::CancelReservation {
                code: code.clone(),
                reason: Some("本人来电取消".into()),
            },
            local(8, 10),
        )
        .unwrap();
    let event = cancelled.event.unwrap();
    assert_eq!(event.kind, "reservation_cancelled");
    assert_eq!(event.body["reason"], "本人来电取消");
    let refused = refusal(&mut e, check_in(&code), local(8, 45));
    assert!(
        refused.contains(&format!("reservation {code} was cancelled (本人来电取消)")),
        "{refused}"
    );
    let twice = refusal(
        &mut e,
        Command::CancelReservation {
            code: code.clone(),
            reason: None,
        },
        local(8, 50),
    );
    assert!(twice.contains("already cancelled"), "{twice}");
    // A checked-in reservation cannot be cancelled.
    let other = reserve(&mut e, "A", 9, 0, now);
    e.handle(&check_in(&other), local(8, 50)).unwrap();
    let late = refusal(
        &mut e,
        Command::CancelReservation {
            code: other,
            reason: None,
        },
        local(8, 55),
    );
    assert!(late.contains("already checked in as A001"), "{late}");
}

#[test]
fn a_full_slot_is_refused_with_the_next_free_one() {
    let cfg = config(&format!(
        "{HALL}\n[reservations]\nslot_minutes = 30\nslot_capacity = 2\n"
    ));
    let now = local(8, 0);
    let mut e = engine(&cfg, now);
    reserve(&mut e, "A", 9, 0, now);
    reserve(&mut e, "A", 9, 20, now); // the same 09:00 slot
    let full = reserve_as(&mut e, "A", 9, 10, now).unwrap_err();
    assert!(
        full.contains("the 09:00 slot of service A")
            && full.contains("is full (2 of 2 booked)")
            && full.contains("the next free slot is 09:30"),
        "{full}"
    );
    // Another service has its own capacity; a cancelled booking frees its place.
    reserve(&mut e, "B", 9, 0, now);
    let first = e.state().reservations.values().next().unwrap().code.clone();
    e.handle(
        &Command::CancelReservation {
            code: first,
            reason: None,
        },
        now,
    )
    .unwrap();
    reserve(&mut e, "A", 9, 10, now);
    // Fill 09:30 too: the hint moves on.
    reserve(&mut e, "A", 9, 30, now);
    reserve(&mut e, "A", 9, 45, now);
    let full = reserve_as(&mut e, "A", 9, 0, now).unwrap_err();
    assert!(full.contains("the next free slot is 10:00"), "{full}");
}

#[test]
fn upstream_reservations_are_added_updated_and_cancelled_when_gone() {
    use hallq::command::UpstreamReservation;
    let cfg = config(HALL);
    let now = local(8, 0);
    let mut e = engine(&cfg, now);
    let day = e.state().business_day;
    let listed = |code: &str, hh: i8, phone: Option<&str>| UpstreamReservation {
        code: code.into(),
        service: "A".into(),
        slot: local(hh, 0),
        name: PersonName::new("王小明"),
        phone: phone.map(Phone::new),
    };
    let sync = |e: &mut Engine, list: Vec<UpstreamReservation>, at| {
        e.handle(
            &Command::SyncReservations {
                date: day,
                reservations: list,
            },
            at,
        )
        .unwrap()
    };
    let first = sync(
        &mut e,
        vec![
            listed("Y0001", 9, Some("13912345678")),
            listed("Y0002", 10, None),
            UpstreamReservation {
                service: "Z".into(),
                ..listed("Y0003", 9, None)
            },
        ],
        now,
    );
    let data = first.outcome.data();
    assert_eq!(data["added"], serde_json::json!(["Y0001", "Y0002"]));
    assert_eq!(data["skipped"][0][0], "Y0003");
    assert_eq!(first.event.as_ref().unwrap().kind, "reservations_synced");
    assert!(
        !first.event.unwrap().body.to_string().contains("王小明"),
        "no personal data in the event"
    );
    // The same list again: nothing to record.
    let again = sync(
        &mut e,
        vec![
            listed("Y0001", 9, Some("13912345678")),
            listed("Y0002", 10, None),
        ],
        now,
    );
    assert!(again.event.is_none());

    // Y0001 checks in with its phone digits; Y0002 (no phone known) with its code alone.
    e.handle(&Command::check_in("A", "y0001", Some("5678")), local(8, 40))
        .unwrap();
    // Y0002 disappears upstream: cancelled; Y0001 (checked in) disappears too but stays.
    let gone = sync(&mut e, vec![], local(8, 45));
    assert_eq!(
        gone.outcome.data()["cancelled"],
        serde_json::json!(["Y0002"])
    );
    let refused = refusal(&mut e, Command::check_in("A", "Y0002", None), local(9, 40));
    assert!(
        refused.contains("reservation Y0002 was cancelled (cancelled upstream)"),
        "{refused}"
    );
    // Listed again before check-in: reinstated, and it checks in by code alone.
    let back = sync(&mut e, vec![listed("Y0002", 10, None)], local(9, 41));
    assert_eq!(
        back.outcome.data()["reinstated"],
        serde_json::json!(["Y0002"])
    );
    let c = e
        .handle(&Command::check_in("A", "Y0002", None), local(9, 42))
        .unwrap();
    assert_eq!(c.outcome.data()["class"], "reservation");
}

#[test]
fn requeue_places_a_no_show_after_the_nth_waiting_ticket_once() {
    let cfg = config(HALL); // requeue_after = 3
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    open_all(&mut e, now);
    for _ in 0..6 {
        issue(&mut e, "C", IssueClass::Normal, now);
    }
    assert_eq!(call(&mut e, 3, now).0, "C001");
    e.handle(&Command::Skip { window: 3 }, now).unwrap();
    let r = e
        .handle(
            &Command::Requeue {
                number: "c1".into(),
            },
            now,
        )
        .unwrap();
    assert_eq!(r.outcome.data()["ahead"], 3);
    let order: Vec<String> = (0..6)
        .map(|_| {
            let n = call(&mut e, 3, now).0;
            finish(&mut e, 3, now);
            n
        })
        .collect();
    assert_eq!(order, ["C002", "C003", "C004", "C001", "C005", "C006"]);
    let done = refusal(
        &mut e,
        Command::Requeue {
            number: "C001".into(),
        },
        now,
    );
    assert!(
        done.contains("C001 is done; only a no-show can be requeued"),
        "{done}"
    );

    // Skip C001 again: a second requeue is refused.
    issue(&mut e, "C", IssueClass::Normal, now);
    let mut e2 = e.clone();
    e2.handle(
        &Command::Call {
            window: 3,
            ticket: Some("C007".into()),
        },
        now,
    )
    .unwrap();
    e2.handle(&Command::Skip { window: 3 }, now).unwrap();
    e2.handle(
        &Command::Requeue {
            number: "C007".into(),
        },
        now,
    )
    .unwrap();
    e2.handle(
        &Command::Call {
            window: 3,
            ticket: Some("C007".into()),
        },
        now,
    )
    .unwrap();
    e2.handle(&Command::Skip { window: 3 }, now).unwrap();
    let twice = refusal(
        &mut e2,
        Command::Requeue {
            number: "C007".into(),
        },
        now,
    );
    assert!(twice.contains("already been requeued once"), "{twice}");

    // With fewer than N waiting, it goes last.
    let c8 = issue(&mut e, "C", IssueClass::Normal, now);
    let (n, _) = call(&mut e, 3, now);
    assert_eq!(n, "C007");
    e.handle(&Command::Skip { window: 3 }, now).unwrap();
    e.handle(
        &Command::Requeue {
            number: "C007".into(),
        },
        now,
    )
    .unwrap();
    assert_eq!(call(&mut e, 3, now).0, c8);
}

#[test]
fn transfer_keeps_number_class_and_place() {
    let cfg = config(HALL);
    let t0 = local(9, 0);
    let mut e = engine(&cfg, t0);
    open_all(&mut e, t0);
    issue(&mut e, "A", IssueClass::Normal, t0); // A001
    let later = t0 + SignedDuration::from_mins(5);
    issue(&mut e, "C", IssueClass::Normal, later); // C001, issued after A001
    call(&mut e, 1, later);
    let c = e
        .handle(
            &Command::Transfer {
                window: 1,
                to: "C".into(),
            },
            later,
        )
        .unwrap();
    let t = &c.tickets[0];
    assert_eq!(
        (t.number.as_str(), t.current_service.as_str(), t.state),
        ("A001", "C", TicketState::Waiting)
    );
    assert_eq!(t.issued_at, t0, "issue time kept");
    // A001 was issued before C001, so window 3 (C only) calls it first.
    assert_eq!(call(&mut e, 3, later).0, "A001");
    let nobody = refusal(
        &mut e,
        Command::Transfer {
            window: 3,
            to: "Z".into(),
        },
        later,
    );
    assert!(nobody.contains("unknown service"), "{nobody}");
    let same = refusal(
        &mut e,
        Command::Transfer {
            window: 3,
            to: "C".into(),
        },
        later,
    );
    assert!(same.contains("already in service C"), "{same}");
}

#[test]
fn hold_parks_the_ticket_at_its_window_until_called_back() {
    let cfg = config(HALL);
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    open_all(&mut e, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    call(&mut e, 1, now);
    e.handle(&Command::Hold { window: 1 }, now).unwrap();
    assert_eq!(call(&mut e, 1, now).0, "A002", "the window is free again");
    finish(&mut e, 1, now);
    let elsewhere = refusal(
        &mut e,
        Command::Call {
            window: 4,
            ticket: Some("A001".into()),
        },
        now,
    );
    assert!(elsewhere.contains("held at 1号窗口"), "{elsewhere}");
    let c = e
        .handle(
            &Command::Call {
                window: 1,
                ticket: Some("A001".into()),
            },
            now,
        )
        .unwrap();
    assert_eq!(c.outcome.data()["reason"], "explicit");
}

#[test]
fn a_call_pad_calls_back_a_held_ticket_by_its_seq_or_the_latest() {
    let cfg = config(HALL);
    let now = local(9, 0);
    let later = now + SignedDuration::from_mins(1);
    let mut e = engine(&cfg, now);
    open_all(&mut e, now);
    let held = |e: &mut Engine, seq| refusal(e, Command::CallHeld { window: 1, seq }, now);
    assert!(held(&mut e, None).contains("no ticket is held at 1号窗口"));
    for _ in 0..3 {
        issue(&mut e, "A", IssueClass::Normal, now);
    }
    call(&mut e, 1, now);
    e.handle(&Command::Hold { window: 1 }, now).unwrap();
    call(&mut e, 1, later);
    e.handle(&Command::Hold { window: 1 }, later).unwrap();
    assert!(held(&mut e, Some(3)).contains("no ticket number 3 is held at 1号窗口"));
    let back = |e: &mut Engine, seq| {
        let c = e
            .handle(&Command::CallHeld { window: 1, seq }, later)
            .unwrap();
        let data = c.outcome.data();
        assert_eq!(data["reason"], "explicit");
        data["number"].as_str().unwrap().to_string()
    };
    assert_eq!(back(&mut e, None), "A002", "the most recently held");
    assert!(
        held(&mut e, Some(1)).contains("still has A002"),
        "busy, as for any call"
    );
    finish(&mut e, 1, later);
    assert_eq!(back(&mut e, Some(1)), "A001");
    finish(&mut e, 1, later);
    assert!(held(&mut e, None).contains("no ticket is held"));
}

#[test]
fn recall_up_to_the_limit_then_skip_is_suggested() {
    let cfg = config(HALL); // recall_limit = 2
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    open_all(&mut e, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    call(&mut e, 1, now);
    for n in 1..=2 {
        let c = e.handle(&Command::Recall { window: 1 }, now).unwrap();
        assert_eq!(c.outcome.data()["recall_count"], n);
        assert!(
            matches!(&c.outcome, Outcome::Recalled(r) if r.window == 1 && r.number == "A001"),
            "{:?}",
            c.outcome
        );
    }
    let third = refusal(&mut e, Command::Recall { window: 1 }, now);
    assert!(third.contains("skip it instead"), "{third}");
    e.handle(&Command::Start { window: 1 }, now).unwrap();
    let serving = refusal(&mut e, Command::Recall { window: 1 }, now);
    assert!(serving.contains("already being served"), "{serving}");
}

#[test]
fn explicit_calls_keep_the_streak_and_respect_the_window() {
    let cfg = config(HALL);
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    open_all(&mut e, now);
    issue(&mut e, "A", IssueClass::Green, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    issue(&mut e, "C", IssueClass::Normal, now);
    call(&mut e, 4, now);
    finish(&mut e, 4, now);
    assert_eq!(e.state().windows[&4].streak, 1);
    let c = e
        .handle(
            &Command::Call {
                window: 4,
                ticket: Some("A002".into()),
            },
            now,
        )
        .unwrap();
    assert_eq!(c.outcome.data()["reason"], "explicit");
    assert_eq!(
        e.state().windows[&4].streak,
        1,
        "explicit leaves the streak as it was"
    );
    let not_served = refusal(
        &mut e,
        Command::Call {
            window: 1,
            ticket: Some("C001".into()),
        },
        now,
    );
    assert!(
        not_served.contains("does not serve service C"),
        "{not_served}"
    );
    let green_only = refusal(
        &mut e,
        Command::Call {
            window: 6,
            ticket: Some("C001".into()),
        },
        now,
    );
    assert!(green_only.contains("green tickets only"), "{green_only}");
    let c = e
        .handle(
            &Command::Call {
                window: 5,
                ticket: Some("C001".into()),
            },
            now,
        )
        .unwrap();
    assert_eq!(
        c.outcome.data()["number"],
        "C001",
        "a green window that is not green-only calls a normal ticket too"
    );
    let busy = refusal(
        &mut e,
        Command::Call {
            window: 4,
            ticket: Some("C001".into()),
        },
        now,
    );
    assert!(busy.contains("still has A002"), "{busy}");
}

#[test]
fn a_green_window_calls_green_first_then_normal_tickets_without_a_streak_guard() {
    let cfg = config(HALL); // priority_streak_limit = 2
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    for w in [5, 6] {
        e.handle(
            &Command::Login {
                window: w,
                clerk: format!("c{w}"),
            },
            now,
        )
        .unwrap();
    }
    issue(&mut e, "A", IssueClass::Normal, now); // A001
    for _ in 0..3 {
        issue(&mut e, "B", IssueClass::Green, now);
    }
    // Three green calls in a row at the green window: no streak guard there.
    for n in ["B001", "B002", "B003"] {
        assert_eq!(call(&mut e, 5, now), (n.to_string(), "green".to_string()));
        finish(&mut e, 5, now);
    }
    // No green waits: the green window goes on like a standard one...
    assert_eq!(call(&mut e, 5, now), ("A001".into(), "fifo".into()));
    finish(&mut e, 5, now);
    // ...while the green-only window stays idle with a normal ticket waiting.
    issue(&mut e, "A", IssueClass::Normal, now);
    let idle = refusal(&mut e, Command::call_next(6), now);
    assert!(idle.contains("no waiting ticket"), "{idle}");
}

#[test]
fn the_streak_guard_takes_the_first_preference_group_that_has_a_normal_ticket() {
    let cfg = config(HALL); // window 1 prefers A, then B; limit 2
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    open_all(&mut e, now);
    issue(&mut e, "B", IssueClass::Normal, now); // B001, older
    issue(&mut e, "A", IssueClass::Normal, now); // A001
    for _ in 0..2 {
        issue(&mut e, "A", IssueClass::Green, now);
        call(&mut e, 1, now);
        finish(&mut e, 1, now);
    }
    issue(&mut e, "A", IssueClass::Green, now);
    assert_eq!(
        call(&mut e, 1, now),
        ("A001".to_string(), "streak-guard".to_string()),
        "the window's first group (A) before the older B ticket"
    );
}

#[test]
fn the_daily_limit_refuses_without_consuming_a_number() {
    let text = HALL.replace("minutes = 6\n", "minutes = 6\ndaily_limit = 2\n");
    let cfg = config(&text);
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    issue(&mut e, "B", IssueClass::Normal, now);
    issue(&mut e, "B", IssueClass::Normal, now);
    let err = e
        .handle(&Command::issue("B", IssueClass::Normal), now)
        .unwrap_err();
    assert!(matches!(err, Refusal::DailyLimit { limit: 2, .. }), "{err}");
    assert_eq!(issue(&mut e, "A", IssueClass::Normal, now), "A001");
}

#[test]
fn ahead_and_wait_follow_the_estimate_rules() {
    let cfg = config(HALL);
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    // No window open: no estimate (暂无窗口), only the people ahead.
    issue(&mut e, "A", IssueClass::Normal, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    let g = e
        .handle(&Command::issue("A", IssueClass::Green), now)
        .unwrap();
    assert_eq!(
        g.outcome.data()["ahead"],
        0,
        "green: only older green ones are ahead"
    );
    let n = e
        .handle(&Command::issue("A", IssueClass::Normal), now)
        .unwrap();
    assert_eq!(
        n.outcome.data()["ahead"],
        3,
        "normal: every green plus older normals"
    );
    assert_eq!(
        n.outcome.data()["estimated_wait_minutes"],
        serde_json::Value::Null,
        "no open window: no estimate"
    );
    assert!(n.outcome.message(Lang::Zh).contains("暂无窗口"));
    // One window open: 3 x 8 / 1.
    e.handle(
        &Command::Login {
            window: 1,
            clerk: "c1".into(),
        },
        now,
    )
    .unwrap();
    let t = e.find_number("A004").unwrap().clone();
    // Only window 1 open: it calls A003, A001, A002 and then A004, 8 minutes each.
    assert_eq!(e.estimate(&t), (3, Some(24)));
    // The average follows measured service, counted with the configured 8 minutes as three
    // services already seen: (3 x 8 + 2) / 4 = 6.5 min. Window 1 calls A001 at once and A002
    // after 6.5 minutes; a green ticket is expected by then (one came in the last 7.5 minutes,
    // half that rate is expected: one in 15 minutes, the first after 7.5) and goes first, so
    // A004 follows after 19.5 — above the floor of 2 ahead x 8 min.
    let mut at = now;
    call(&mut e, 1, at);
    e.handle(&Command::Start { window: 1 }, at).unwrap();
    at += SignedDuration::from_mins(2);
    finish(&mut e, 1, at);
    assert_eq!(
        e.estimate(&t),
        (2, Some(20)),
        "three services of 6.5 min ahead"
    );
}

#[test]
fn the_wait_floor_holds_until_ten_services_are_measured() {
    // One service at two windows, so the walk is plain: two tickets ahead are called at once,
    // the third waits for the first window to finish.
    let text = HALL[..HALL.find("[[services]]").unwrap()].to_string()
        + "[[services]]\ncode = \"B\"\nname = \"社保医保\"\nminutes = 6\n\n\
           [[windows]]\nnumber = 1\nserves = [[\"B\"]]\n\n\
           [[windows]]\nnumber = 2\nserves = [[\"B\"]]\n";
    let cfg = config(&text);
    let mut at = local(9, 0);
    let mut e = engine(&cfg, at);
    open_all_of(&mut e, &[1, 2], at);
    let serve_one = |e: &mut Engine, at: &mut jiff::Timestamp| {
        issue(e, "B", IssueClass::Normal, *at);
        call(e, 1, *at);
        e.handle(&Command::Start { window: 1 }, *at).unwrap();
        *at += SignedDuration::from_mins(2);
        finish(e, 1, *at);
    };
    let third_in_line = |e: &mut Engine, at| {
        issue(e, "B", IssueClass::Normal, at);
        issue(e, "B", IssueClass::Normal, at);
        let last = issue(e, "B", IssueClass::Normal, at);
        e.find_number(&last).unwrap().clone()
    };
    // One 2-minute service: the average is (3 x 6 + 2) / 4 = 5 min, so the walk says 5; the
    // floor of 2 ahead x 6 configured minutes over 2 windows says 6, and holds.
    serve_one(&mut e, &mut at);
    let t = third_in_line(&mut e, at);
    assert_eq!(e.estimate_at(&t, at).minutes, 5, "the walk");
    assert_eq!(
        e.wait_at(&t, at),
        (2, Some(6)),
        "floor: 2 x 6 min / 2 windows"
    );
    for _ in 0..3 {
        call(&mut e, 1, at);
        finish(&mut e, 1, at);
    }
    // Ten services measured: the floor is gone and the walk alone decides.
    for _ in 1..hallq::engine::wait_floor::MEASURED_AFTER {
        serve_one(&mut e, &mut at);
    }
    let t = third_in_line(&mut e, at);
    let walk = e.estimate_at(&t, at).minutes;
    assert!(walk < 6, "quick measured services: {walk}");
    assert_eq!(e.wait_at(&t, at), (2, Some(walk)), "measured: no floor");
}

#[test]
fn tidal_advice_after_the_queue_stays_long() {
    let text = HALL.replace(
        "[policy]",
        "[tidal]\nopen_above = 3\nclose_below = 1\nfor_minutes = 10\n\n[policy]",
    ) + "\n[[windows]]\nnumber = 7\nname = \"7号潮汐窗口\"\nserves = [[\"B\"]]\nkind = \"tidal\"\n";
    let cfg = config(&text);
    let t0 = local(9, 0);
    let mut e = engine(&cfg, t0);
    for _ in 0..4 {
        issue(&mut e, "B", IssueClass::Normal, t0);
    }
    assert!(e.handle(&Command::Tick, t0).unwrap().event.is_none());
    assert!(e
        .handle(&Command::Tick, t0 + SignedDuration::from_mins(9))
        .unwrap()
        .event
        .is_none());
    let c = e
        .handle(&Command::Tick, t0 + SignedDuration::from_mins(10))
        .unwrap();
    let event = c.event.expect("advice is an event");
    assert_eq!(event.kind, "tidal_advice");
    assert_eq!(event.body["advice"][0]["service"], "B");
    assert_eq!(event.body["advice"][0]["advice"], "open");
    assert!(
        e.handle(&Command::Tick, t0 + SignedDuration::from_mins(11))
            .unwrap()
            .event
            .is_none(),
        "once per episode"
    );
    // The tidal window opens and the queue empties: advise closing it.
    let t2 = t0 + SignedDuration::from_mins(12);
    e.handle(
        &Command::Login {
            window: 7,
            clerk: "c7".into(),
        },
        t2,
    )
    .unwrap();
    for _ in 0..4 {
        e.handle(&Command::call_next(7), t2).unwrap();
        finish(&mut e, 7, t2);
    }
    let c = e.handle(&Command::Tick, t2).unwrap();
    assert_eq!(
        c.event.expect("close advice").body["advice"][0]["advice"],
        "close"
    );
}

#[test]
fn window_rules_open_pause_and_close() {
    let cfg = config(HALL);
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    assert!(refusal(&mut e, Command::call_next(1), now).contains("closed"));
    assert!(refusal(&mut e, Command::Pause { window: 1 }, now).contains("is closed, not open"));
    e.handle(
        &Command::Login {
            window: 1,
            clerk: "c1".into(),
        },
        now,
    )
    .unwrap();
    e.handle(&Command::Pause { window: 1 }, now).unwrap();
    assert!(refusal(&mut e, Command::call_next(1), now).contains("paused"));
    e.handle(&Command::Resume { window: 1 }, now).unwrap();
    call(&mut e, 1, now);
    assert!(refusal(&mut e, Command::Logout { window: 1 }, now).contains("still has A001"));
    e.handle(
        &Command::Finish {
            window: 1,
            case_no: Some("ZW-9".into()),
        },
        now,
    )
    .unwrap();
    e.handle(&Command::Logout { window: 1 }, now).unwrap();
    assert!(refusal(&mut e, Command::call_next(1), now).contains("closed"));
    assert_eq!(
        e.find_number("A001").unwrap().case_no.as_deref(),
        Some("ZW-9")
    );
    assert_eq!(e.find_number("A001").unwrap().class, TicketClass::Normal);

    // A clerk gone without logging out: a supervisor closes the window, and the ticket at it
    // goes back to waiting in its place, ahead of those issued after it.
    issue(&mut e, "A", IssueClass::Normal, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    e.handle(
        &Command::Login {
            window: 1,
            clerk: "c1".into(),
        },
        now,
    )
    .unwrap();
    call(&mut e, 1, now);
    let forced = Command::ForceLogout {
        window: 1,
        reason: "clerk went home ill".into(),
    };
    let change = e.handle(&forced, now).unwrap();
    let body = &change.event.as_ref().unwrap().body;
    assert_eq!(
        (&body["returned"], &body["clerk"], &body["reason"]),
        (
            &serde_json::json!("A002"),
            &serde_json::json!("c1"),
            &serde_json::json!("clerk went home ill")
        )
    );
    let a002 = e.find_number("A002").unwrap();
    assert_eq!(
        (a002.state, a002.window, a002.recall_count),
        (TicketState::Waiting, None, 0)
    );
    assert!(refusal(&mut e, Command::call_next(1), now).contains("closed"));
    e.handle(
        &Command::Login {
            window: 2,
            clerk: "c2".into(),
        },
        now,
    )
    .unwrap();
    let called = e.handle(&Command::call_next(2), now).unwrap();
    assert_eq!(called.tickets[0].number, "A002", "called again before A003");
}

fn pickup(case: &str, id_last4: Option<&str>, id: Option<&str>) -> Command {
    Command::Handoff(Handoff::Pickup(Pickup {
        case: HandoffCase {
            case_no: case.into(),
            title: "不动产权证书".into(),
            recipient: PersonName::new("王小明"),
            phone: Phone::new("13912345678"),
            window: Some(1),
        },
        id_last4: id_last4.map(str::to_string),
        id_number: id.map(hallq::privacy::IdNumber::new),
    }))
}

fn mail(case: &str, carrier: &str, tracking: &str) -> Command {
    Command::Handoff(Handoff::Mail(Mail {
        case: HandoffCase {
            case_no: case.into(),
            title: "营业执照".into(),
            recipient: PersonName::new("李建国"),
            phone: Phone::new("0477-8123456"),
            window: None,
        },
        address: hallq::privacy::Address::new("内蒙古鄂尔多斯市乌审旗嘎鲁图镇"),
        carrier: carrier.into(),
        tracking: tracking.into(),
    }))
}

#[test]
fn handoffs_are_validated_and_a_case_is_handed_over_once() {
    let cfg = config(HALL);
    let now = local(10, 0);
    let mut e = engine(&cfg, now);
    e.handle(
        &Command::Login {
            window: 1,
            clerk: "c1".into(),
        },
        now,
    )
    .unwrap();
    let c = e.handle(&pickup("ZW-1", Some("002x"), None), now).unwrap();
    assert_eq!(c.handoffs[0].clerk.as_deref(), Some("c1"));
    assert_eq!(c.outcome.data()["recipient"], "王**");
    assert_eq!(
        c.event.as_ref().unwrap().body["verification"]["id_last4"],
        "002X"
    );
    // The whole ID is checked and only its tail kept.
    let c = e
        .handle(&pickup("ZW-2", None, Some("11010519491231002X")), now)
        .unwrap();
    assert_eq!(
        c.event.as_ref().unwrap().body["verification"]["id_last4"],
        "002X"
    );
    let c = e
        .handle(&mail("ZW-3", "顺丰", "SF1234567890123"), now)
        .unwrap();
    assert_eq!(c.outcome.data()["tracking"], "SF1234567890123");
    assert_eq!(c.outcome.data()["id"], "H20261126-0003");

    let dup = refusal(&mut e, mail("ZW-1", "sf", "SF1234567890124"), now);
    assert!(
        dup.contains("case ZW-1 was already handed over on 2026-11-26 (pickup)"),
        "{dup}"
    );
    let bad_id = refusal(
        &mut e,
        pickup("ZW-4", None, Some("110105194912310021")),
        now,
    );
    assert!(
        bad_id.contains("GB 11643") && !bad_id.contains("110105194912310021"),
        "{bad_id}"
    );
    let bad_tracking = refusal(&mut e, mail("ZW-5", "zto", "SF1234567890123"), now);
    assert!(bad_tracking.contains("中通快递"), "{bad_tracking}");
    let bad_carrier = refusal(&mut e, mail("ZW-6", "pigeon", "123"), now);
    assert!(bad_carrier.contains("unknown carrier"), "{bad_carrier}");
    let bad_tail = refusal(&mut e, pickup("ZW-7", Some("12"), None), now);
    assert!(bad_tail.contains("last 4"), "{bad_tail}");
}

#[test]
fn requeue_to_the_front_never_shares_a_place_with_the_next_ticket() {
    let text = HALL.replace("requeue_after = 3", "requeue_after = 0");
    let cfg = config(&text);
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    open_all(&mut e, now);
    issue(&mut e, "B", IssueClass::Normal, now);
    call(&mut e, 2, now);
    e.handle(&Command::Skip { window: 2 }, now).unwrap();
    e.handle(
        &Command::Requeue {
            number: "B001".into(),
        },
        now,
    )
    .unwrap();
    issue(&mut e, "A", IssueClass::Normal, now);
    let keys: std::collections::BTreeSet<i64> = e.waiting().map(|t| t.queue_key).collect();
    assert_eq!(keys.len(), 2, "every waiting ticket has its own place");
    // Window 4 serves A, B and C in one group: the requeued B001 went back first.
    assert_eq!(call(&mut e, 4, now).0, "B001");
}

#[test]
fn the_evaluator_skips_a_ticket_already_evaluated() {
    let cfg = config(HALL);
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    open_all(&mut e, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    call(&mut e, 1, now);
    finish(&mut e, 1, now);
    e.handle(
        &Command::Evaluate {
            window: 1,
            level: 5,
        },
        now,
    )
    .unwrap();
    call(&mut e, 1, now);
    e.handle(&Command::Start { window: 1 }, now).unwrap();
    let c = e
        .handle(
            &Command::Evaluate {
                window: 1,
                level: 4,
            },
            now,
        )
        .unwrap();
    assert_eq!(
        c.outcome.data()["number"],
        "A002",
        "the citizen being served now"
    );
}

#[test]
fn the_streak_survives_a_change_of_clerk() {
    let cfg = config(HALL); // priority_streak_limit = 2
    let now = local(9, 0);
    let mut e = engine(&cfg, now);
    open_all(&mut e, now);
    issue(&mut e, "A", IssueClass::Normal, now);
    for _ in 0..2 {
        issue(&mut e, "A", IssueClass::Green, now);
        call(&mut e, 1, now);
        finish(&mut e, 1, now);
    }
    e.handle(&Command::Logout { window: 1 }, now).unwrap();
    e.handle(
        &Command::Login {
            window: 1,
            clerk: "relief".into(),
        },
        now,
    )
    .unwrap();
    issue(&mut e, "A", IssueClass::Green, now);
    assert_eq!(
        call(&mut e, 1, now),
        ("A001".to_string(), "streak-guard".to_string())
    );
}
