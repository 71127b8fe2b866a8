//! Corrections against the real store: each one is an event naming its operator (the event's
//! origin) and its reason, and each is refused when it would break an invariant. Also the
//! rules that keep a day straight without a supervisor: one clerk at one window, a case number
//! where the service requires one, and a ticket's whole history.

mod support;

use std::sync::Arc;

use hallq::command::{Handoff, HandoffCase, Origin, Pickup, Query};
use hallq::engine::model::TicketState;
use hallq::engine::{Command, IssueClass, Outcome, Refusal};
use hallq::privacy::{PersonName, Phone};
use hallq::runtime::clock::ManualClock;
use hallq::runtime::error::HallError;
use hallq::runtime::hall::{Envelope, Hall};
use hallq::runtime::open_hall;
use hallq::runtime::queries::Answer;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use support::{config_in, local, HALL};

/// The supervisor at the CLI.
const SUPERVISOR: Origin = Origin::Cli {
    uid: 1001,
    gid: 1001,
};

struct Day {
    hall: Hall,
    now: Timestamp,
    dir: tempfile::TempDir,
    _lock: std::fs::File,
}

impl Day {
    fn new(text: &str) -> Day {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config_in(dir.path(), text);
        let now = local(9, 0);
        let (hall, lock) = open_hall(&cfg, Arc::new(ManualClock::new(now))).unwrap();
        Day {
            hall,
            now,
            dir,
            _lock: lock,
        }
    }

    fn run(&mut self, command: Command) -> Result<Outcome, HallError> {
        self.run_as(command, Origin::Device("pad".into()))
    }

    fn run_as(&mut self, command: Command, origin: Origin) -> Result<Outcome, HallError> {
        self.hall
            .execute(&Envelope::new(command, origin), self.now)
            .map(|c| c.into_iter().last().unwrap().outcome)
    }

    fn ok(&mut self, command: Command) -> Outcome {
        self.run(command).expect("accepted")
    }

    /// A correction by the supervisor that must be accepted.
    fn correct(&mut self, command: Command) -> Outcome {
        self.run_as(command, SUPERVISOR)
            .expect("correction accepted")
    }

    /// A correction that must be refused with `code`, changing nothing.
    fn refused(&mut self, command: Command, code: &str) {
        let before = self.hall.engine().state().clone();
        let events = self.events().len();
        match self.run_as(command, SUPERVISOR) {
            Err(HallError::Refused(r)) => assert_eq!(r.refusal(), code, "{r}"),
            other => panic!("expected {code}, got {other:?}"),
        }
        assert_eq!(
            *self.hall.engine().state(),
            before,
            "a refusal changes nothing"
        );
        assert_eq!(self.events().len(), events, "and records nothing");
    }

    /// `(kind, origin, body)` of every event, oldest first.
    fn events(&self) -> Vec<(String, String, Value)> {
        let db = rusqlite::Connection::open(self.dir.path().join("data/hallq.db")).unwrap();
        let mut stmt = db
            .prepare("SELECT kind, coalesce(origin, ''), body FROM events ORDER BY seq")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .unwrap();
        rows.map(|r| {
            let (kind, origin, body) = r.unwrap();
            (kind, origin, serde_json::from_str(&body).unwrap())
        })
        .collect()
    }

    /// The last event, which must be `kind`, by the supervisor, with `reason`.
    fn last_event(&self, kind: &str, reason: &str) -> Value {
        let (k, origin, body) = self.events().pop().unwrap();
        assert_eq!(k, kind);
        assert_eq!(origin, "cli uid=1001 gid=1001", "the operator is recorded");
        assert_eq!(body["reason"], reason);
        body
    }

    fn issue(&mut self, service: &str) -> String {
        match self.ok(Command::issue(service, IssueClass::Normal)) {
            Outcome::Issued(i) => i.number,
            other => panic!("{other:?}"),
        }
    }

    fn login(&mut self, window: u32) {
        self.ok(Command::Login {
            window,
            clerk: format!("c{window}"),
        });
    }

    fn call(&mut self, window: u32) -> String {
        match self.ok(Command::call_next(window)) {
            Outcome::Called(c) => c.number,
            other => panic!("{other:?}"),
        }
    }

    fn finish(&mut self, window: u32, case: Option<&str>) {
        self.ok(Command::Finish {
            window,
            case_no: case.map(str::to_string),
        });
    }

    fn ticket(&self, number: &str) -> hallq::engine::model::Ticket {
        self.hall.engine().find_number(number).unwrap().clone()
    }
}

fn reason(s: &str) -> String {
    s.to_string()
}

#[test]
fn undo_takes_back_the_last_finish_or_skip_within_the_limit() {
    let mut d = Day::new(HALL);
    d.login(1);
    d.issue("A");
    d.issue("A");
    d.call(1);
    d.ok(Command::Start { window: 1 });
    d.finish(1, Some("ZW-1"));
    d.now += SignedDuration::from_mins(5);
    let undone = d.correct(Command::Undo {
        window: 1,
        reason: reason("finished the wrong citizen"),
    });
    assert!(matches!(undone, Outcome::Undone(ref u) if u.state == TicketState::Serving));
    let body = d.last_event("correction_undo", "finished the wrong citizen");
    assert_eq!(
        (body["number"].as_str(), body["undid"].as_str()),
        (Some("A001"), Some("finish"))
    );
    let a1 = d.ticket("A001");
    assert_eq!(
        (a1.state, a1.case_no, a1.finished_at),
        (TicketState::Serving, None, None)
    );
    assert_eq!(
        d.hall.engine().state().windows[&1].current.as_deref(),
        Some(a1.id.as_str()),
        "back at its window"
    );
    // Nothing left to undo at the window; a skip is undone as well.
    d.refused(
        Command::Undo {
            window: 1,
            reason: reason("again"),
        },
        "nothing_to_undo",
    );
    d.ok(Command::Skip { window: 1 });
    d.correct(Command::Undo {
        window: 1,
        reason: reason("citizen was there"),
    });
    assert_eq!(
        d.ticket("A001").state,
        TicketState::Serving,
        "started before the skip"
    );
    d.last_event("correction_undo", "citizen was there");

    // Too late, and not over the next citizen.
    d.finish(1, None);
    d.now += SignedDuration::from_mins(31);
    d.refused(
        Command::Undo {
            window: 1,
            reason: reason("late"),
        },
        "undo_too_late",
    );
}

#[test]
fn undo_is_refused_over_a_busy_window_an_evaluation_or_without_a_reason() {
    let mut d = Day::new(HALL);
    d.login(1);
    d.issue("A");
    d.issue("A");
    d.call(1);
    d.finish(1, None);
    d.call(1);
    d.refused(
        Command::Undo {
            window: 1,
            reason: reason("x"),
        },
        "window_busy",
    );
    d.refused(
        Command::Undo {
            window: 1,
            reason: reason("  "),
        },
        "bad_reason",
    );
    d.finish(1, None);
    d.ok(Command::Evaluate {
        window: 1,
        level: 2,
    });
    d.refused(
        Command::Undo {
            window: 1,
            reason: reason("x"),
        },
        "undo_evaluated",
    );
    d.refused(
        Command::Undo {
            window: 9,
            reason: reason("x"),
        },
        "unknown_window",
    );
}

#[test]
fn a_case_number_is_corrected_on_a_finished_ticket_only() {
    let mut d = Day::new(HALL);
    d.login(1);
    d.issue("A");
    d.issue("A");
    d.call(1);
    d.finish(1, Some("ZW-WRONG"));
    d.correct(Command::CorrectCase {
        number: "a1".into(),
        case_no: "ZW-2026-0001".into(),
        reason: reason("typo"),
    });
    let body = d.last_event("case_corrected", "typo");
    assert_eq!(
        (body["from"].as_str(), body["to"].as_str()),
        (Some("ZW-WRONG"), Some("ZW-2026-0001"))
    );
    assert_eq!(d.ticket("A001").case_no.as_deref(), Some("ZW-2026-0001"));
    let same = Command::CorrectCase {
        number: "A001".into(),
        case_no: "ZW-2026-0001".into(),
        reason: reason("again"),
    };
    d.refused(same, "same_case");
    let waiting = Command::CorrectCase {
        number: "A002".into(),
        case_no: "ZW-9".into(),
        reason: reason("x"),
    };
    d.refused(waiting, "not_done");
    let bad = Command::CorrectCase {
        number: "A001".into(),
        case_no: "has space".into(),
        reason: reason("x"),
    };
    d.refused(bad, "bad_case_no");
}

#[test]
fn an_evaluation_from_the_wrong_window_moves_to_the_ticket_it_was_meant_for() {
    let mut d = Day::new(HALL);
    d.login(1);
    d.login(2);
    d.issue("A");
    d.issue("B");
    assert_eq!(d.call(1), "A001");
    assert_eq!(d.call(2), "B001");
    d.finish(1, None);
    d.finish(2, None);
    // B001's citizen pressed the evaluator of window 1.
    d.ok(Command::Evaluate {
        window: 1,
        level: 1,
    });
    d.correct(Command::CorrectEvaluation {
        number: "A001".into(),
        to: "B001".into(),
        reason: reason("pressed at the neighbouring window"),
    });
    let body = d.last_event("evaluation_moved", "pressed at the neighbouring window");
    assert_eq!(body["level"], 1);
    assert_eq!(
        (d.ticket("A001").evaluation, d.ticket("B001").evaluation),
        (None, Some(1))
    );
    let again = || Command::CorrectEvaluation {
        number: "A001".into(),
        to: "B001".into(),
        reason: reason("x"),
    };
    d.refused(again(), "no_evaluation");
    d.ok(Command::Evaluate {
        window: 1,
        level: 5,
    });
    d.refused(again(), "already_evaluated");
    let same = Command::CorrectEvaluation {
        number: "B001".into(),
        to: "B001".into(),
        reason: reason("x"),
    };
    d.refused(same, "same_ticket");
}

fn pickup(case: &str) -> Command {
    Command::Handoff(Handoff::Pickup(Pickup {
        case: HandoffCase {
            case_no: case.into(),
            title: "营业执照".into(),
            recipient: PersonName::new("王小明"),
            phone: Phone::new("13912345678"),
            window: None,
        },
        id_last4: None,
        id_number: None,
    }))
}

#[test]
fn a_voided_handoff_record_frees_its_case_number() {
    let mut d = Day::new(HALL);
    d.ok(pickup("ZW-7"));
    d.correct(Command::VoidHandoff {
        case_no: "ZW-7".into(),
        reason: reason("entered for the wrong case"),
    });
    let body = d.last_event("handoff_voided", "entered for the wrong case");
    assert_eq!(body["id"], "H20261126-0001");
    // Recorded again (the store's uniqueness counts only records that are not voided), with a
    // new id; and the list shows both, the first as voided.
    match d.ok(pickup("ZW-7")) {
        Outcome::HandedOver(h) => assert_eq!(h.id, "H20261126-0002"),
        other => panic!("{other:?}"),
    }
    let Answer::Handoffs(list) = d.hall.query(&Query::Handoffs { day: None }).unwrap() else {
        panic!()
    };
    let voided: Vec<bool> = list.handoffs.iter().map(|h| h.voided.is_some()).collect();
    assert_eq!(voided, [true, false]);
    let void = |case: &str| Command::VoidHandoff {
        case_no: case.into(),
        reason: reason("x"),
    };
    d.refused(void("ZW-404"), "unknown_handoff");
    d.correct(void("ZW-7"));
    d.refused(void("ZW-7"), "unknown_handoff");
}

#[test]
fn force_logout_puts_the_ticket_back_at_its_place() {
    let mut d = Day::new(HALL);
    d.login(1);
    d.login(4);
    d.issue("A");
    d.issue("A");
    d.issue("A");
    assert_eq!(d.call(1), "A001");
    d.ok(Command::Start { window: 1 });
    let out = d.correct(Command::ForceLogout {
        window: 1,
        reason: reason("clerk went home ill"),
    });
    assert!(matches!(out, Outcome::Window(ref w) if w.returned.as_deref() == Some("A001")));
    let body = d.last_event("window_forced_closed", "clerk went home ill");
    assert_eq!(
        (body["clerk"].as_str(), body["returned"].as_str()),
        (Some("c1"), Some("A001"))
    );
    let a1 = d.ticket("A001");
    assert_eq!(
        (a1.state, a1.window, a1.started_at),
        (TicketState::Waiting, None, None)
    );
    assert_eq!(d.hall.engine().state().windows[&1].clerk, None);
    assert_eq!(d.call(4), "A001", "first again, at its place");
    d.refused(
        Command::ForceLogout {
            window: 1,
            reason: reason("x"),
        },
        "window_already_closed",
    );
    // The clerk can log in again elsewhere now.
    d.ok(Command::Login {
        window: 2,
        clerk: "c1".into(),
    });
}

#[test]
fn a_held_ticket_moves_to_a_window_that_serves_it() {
    let mut d = Day::new(HALL);
    d.login(1);
    d.issue("A");
    d.issue("A");
    d.call(1);
    d.ok(Command::Hold { window: 1 });
    let to3 = Command::MoveHeld {
        number: "A001".into(),
        to: 3,
        reason: reason("x"),
    };
    d.refused(to3, "not_served");
    let to1 = Command::MoveHeld {
        number: "A001".into(),
        to: 1,
        reason: reason("x"),
    };
    d.refused(to1, "already_at_window");
    let waiting = Command::MoveHeld {
        number: "A002".into(),
        to: 4,
        reason: reason("x"),
    };
    d.refused(waiting, "not_held");
    d.correct(Command::MoveHeld {
        number: "A001".into(),
        to: 4,
        reason: reason("window 1 closes for lunch"),
    });
    let body = d.last_event("held_moved", "window 1 closes for lunch");
    assert_eq!(
        (body["from"].as_u64(), body["window"].as_u64()),
        (Some(1), Some(4))
    );
    d.login(4);
    let back = d.ok(Command::Call {
        window: 4,
        ticket: Some("A001".into()),
    });
    assert!(matches!(back, Outcome::Called(ref c) if c.window == 4));
}

#[test]
fn one_clerk_one_window_and_case_numbers_where_required() {
    let text = HALL.replace("minutes = 8", "minutes = 8\ncase_required = true");
    let mut d = Day::new(&text);
    d.login(1);
    match d.run(Command::Login {
        window: 2,
        clerk: "c1".into(),
    }) {
        Err(HallError::Refused(r)) => {
            assert_eq!(r.refusal(), "clerk_elsewhere");
            assert!(
                r.to_string().contains("clerk c1 is logged in at 1号窗口"),
                "{r}"
            );
        }
        other => panic!("{other:?}"),
    }
    d.issue("A");
    d.issue("B");
    d.call(1);
    match d.run(Command::Finish {
        window: 1,
        case_no: None,
    }) {
        Err(HallError::Refused(Refusal::CaseRequired { number, .. })) => assert_eq!(number, "A001"),
        other => panic!("{other:?}"),
    }
    d.finish(1, Some("ZW-1"));
    d.call(1);
    d.finish(1, None); // service B needs none
}

#[test]
fn a_ticket_s_history_answers_why_it_waited() {
    let mut d = Day::new(HALL);
    d.login(1);
    d.issue("A");
    d.ok(Command::issue("A", IssueClass::Green));
    d.call(1); // the green one first
    d.finish(1, None);
    d.call(1);
    d.ok(Command::Recall { window: 1 });
    d.ok(Command::Skip { window: 1 });
    d.correct(Command::Undo {
        window: 1,
        reason: reason("was at the door"),
    });
    d.finish(1, Some("ZW-3"));
    let query = Query::Ticket {
        number: "a1".into(),
        day: None,
    };
    let Answer::Ticket(h) = d.hall.query(&query).unwrap() else {
        panic!()
    };
    let events: Vec<&str> = h.entries.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "ticket_issued",
            "ticket_called",
            "ticket_recalled",
            "ticket_skipped",
            "correction_undo",
            "service_finished"
        ]
    );
    let called = &h.entries[1];
    assert_eq!(
        (
            called.reason.as_deref(),
            called.window_name.as_deref(),
            called.clerk.as_deref()
        ),
        (Some("fifo"), Some("1号窗口"), Some("c1"))
    );
    assert_eq!(
        h.entries[4].origin.as_deref(),
        Some("cli uid=1001 gid=1001")
    );
    assert_eq!(h.entries[4].reason.as_deref(), Some("was at the door"));
    assert_eq!(h.entries[5].case_no.as_deref(), Some("ZW-3"));
    let zh = hallq::catalogue::views::ticket(&h, hallq::catalogue::Lang::Zh);
    assert!(zh.contains("叫号到1号窗口（工号 c1，原因 fifo）"), "{zh}");
}
