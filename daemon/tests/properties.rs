//! Property tests of the engine under random command streams (DESIGN §4 invariants).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use hallq::engine::model::{TicketClass, TicketState};
use hallq::engine::{policy, Command, Engine, IssueClass};
use jiff::SignedDuration;
use proptest::prelude::*;
use support::{config, engine, local, HALL};

#[derive(Debug, Clone)]
enum Op {
    Issue(usize, u8),
    Call(u32),
    CallTicket(u32, u32),
    Recall(u32),
    Start(u32),
    Finish(u32),
    Skip(u32),
    Hold(u32),
    Transfer(u32, usize),
    Requeue(u32),
    Pause(u32),
    Resume(u32),
    Login(u32),
    Logout(u32),
    Evaluate(u32, u8),
    Wait(u16),
}

fn op() -> impl Strategy<Value = Op> {
    let w = 1u32..=6; // 6 is an unknown window: refusals must change nothing
    prop_oneof![
        4 => (0usize..3, 0u8..10).prop_map(|(s, c)| Op::Issue(s, c)),
        4 => w.clone().prop_map(Op::Call),
        1 => (w.clone(), 1u32..30).prop_map(|(w, n)| Op::CallTicket(w, n)),
        1 => w.clone().prop_map(Op::Recall),
        1 => w.clone().prop_map(Op::Start),
        2 => w.clone().prop_map(Op::Finish),
        1 => w.clone().prop_map(Op::Skip),
        1 => w.clone().prop_map(Op::Hold),
        1 => (w.clone(), 0usize..3).prop_map(|(w, s)| Op::Transfer(w, s)),
        1 => (1u32..30).prop_map(Op::Requeue),
        1 => w.clone().prop_map(Op::Pause),
        1 => w.clone().prop_map(Op::Resume),
        2 => w.clone().prop_map(Op::Login),
        1 => w.clone().prop_map(Op::Logout),
        1 => (w.clone(), 0u8..7).prop_map(|(w, l)| Op::Evaluate(w, l)),
        2 => (1u16..240).prop_map(Op::Wait),
    ]
}

const SERVICES: [&str; 3] = ["A", "B", "C"];

fn command(op: &Op) -> Option<Command> {
    Some(match op {
        Op::Issue(s, c) => Command::issue(
            SERVICES[*s],
            if *c < 2 {
                IssueClass::Green
            } else {
                IssueClass::Normal
            },
        ),
        Op::Call(w) => Command::call_next(*w),
        Op::CallTicket(w, n) => Command::Call {
            window: *w,
            ticket: Some(format!("A{n}")),
        },
        Op::Recall(w) => Command::Recall { window: *w },
        Op::Start(w) => Command::Start { window: *w },
        Op::Finish(w) => Command::Finish {
            window: *w,
            case_no: None,
        },
        Op::Skip(w) => Command::Skip { window: *w },
        Op::Hold(w) => Command::Hold { window: *w },
        Op::Transfer(w, s) => Command::Transfer {
            window: *w,
            to: SERVICES[*s].into(),
        },
        Op::Requeue(n) => Command::Requeue {
            number: format!("B{n}"),
        },
        Op::Pause(w) => Command::Pause { window: *w },
        Op::Resume(w) => Command::Resume { window: *w },
        Op::Login(w) => Command::Login {
            window: *w,
            clerk: format!("c{w}"),
        },
        Op::Logout(w) => Command::Logout {
            window: *w,
            force: false,
        },
        Op::Evaluate(w, l) => Command::Evaluate {
            window: *w,
            level: *l,
        },
        Op::Wait(_) => return None,
    })
}

/// Every invariant that must hold between any two commands.
fn check_invariants(
    e: &Engine,
    numbers: &mut BTreeSet<(String, String, u32)>,
) -> Result<(), TestCaseError> {
    let state = e.state();
    let mut holders: BTreeMap<&str, u32> = BTreeMap::new();
    for (n, w) in &state.windows {
        if let Some(id) = &w.current {
            prop_assert!(holders.insert(id, *n).is_none(), "{id} is at two windows");
            let t = &state.tickets[id];
            prop_assert!(
                t.state.is_at_window(),
                "window {n} holds {} in state {}",
                t.number,
                t.state
            );
            prop_assert_eq!(t.window, Some(*n));
        }
    }
    for t in state.tickets.values() {
        if t.state.is_at_window() {
            prop_assert!(
                holders.contains_key(t.id.as_str()),
                "{} is {} but at no window",
                t.number,
                t.state
            );
        }
        numbers.insert((t.business_day.to_string(), t.service.clone(), t.seq));
    }
    let mut seen = BTreeSet::new();
    for t in state.tickets.values() {
        prop_assert!(
            seen.insert((t.business_day, t.service.clone(), t.seq)),
            "number {} twice",
            t.number
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_streams_keep_the_invariants(ops in prop::collection::vec(op(), 1..150)) {
        let cfg = config(HALL);
        let mut now = local(9, 0);
        let mut e = engine(&cfg, now);
        let mut numbers = BTreeSet::new();
        let mut issued = 0usize;
        for op in &ops {
            let Some(cmd) = command(op) else {
                if let Op::Wait(m) = op { now += SignedDuration::from_mins(i64::from(*m)); }
                continue;
            };
            // As the hall thread does: the day rolls over before the first command after it.
            if e.rollover_due(now) {
                e.handle(&Command::Rollover, now).expect("rollover when due");
                check_invariants(&e, &mut numbers)?;
            }
            // What call next may pass over: green candidates waiting before the call.
            let green_waiting: Option<bool> = match (&cmd, op) {
                (Command::Call { window, ticket: None }, _) => cfg.window(*window).map(|w| {
                    e.waiting().any(|t| t.class == TicketClass::Green && policy::is_candidate(w, t))
                }),
                _ => None,
            };
            let before = e.state().clone();
            match e.handle(&cmd, now) {
                Ok(change) => {
                    if matches!(cmd, Command::Issue { .. }) { issued += 1; }
                    let data = change.outcome.data();
                    if let (Some(true), Some(reason)) = (green_waiting, data.get("reason")) {
                        let called = &change.tickets[0];
                        if called.class == TicketClass::Normal {
                            let reason = reason.as_str().unwrap();
                            prop_assert!(
                                reason == "streak-guard" || reason == "max-wait",
                                "a green ticket was passed over by {} for {reason}", called.number
                            );
                        }
                    }
                }
                Err(_) => prop_assert!(*e.state() == before, "a refused command changed the state"),
            }
            check_invariants(&e, &mut numbers)?;
        }
        prop_assert_eq!(numbers.len(), issued, "every issued number is distinct");
    }

    #[test]
    fn a_normal_ticket_is_called_despite_endless_green(limit in 1u32..6, pre_green in 0usize..8, service in 0usize..3) {
        let text = HALL.replace("priority_streak_limit = 2", &format!("priority_streak_limit = {limit}"));
        let cfg = config(&text);
        let mut now = local(9, 0);
        let mut e = engine(&cfg, now);
        let svc = SERVICES[service];
        let window = 4; // serves A, B and C
        e.handle(&Command::Login { window, clerk: "c4".into() }, now).unwrap();
        let green = |e: &mut Engine, now| {
            e.handle(&Command::issue(svc, IssueClass::Green), now).unwrap();
        };
        // Build up a streak before the normal ticket arrives.
        for _ in 0..pre_green {
            green(&mut e, now);
            e.handle(&Command::call_next(window), now).unwrap();
            e.handle(&Command::Finish { window, case_no: None }, now).unwrap();
        }
        let normal = e.handle(&Command::issue(svc, IssueClass::Normal), now).unwrap();
        let normal_id = normal.tickets[0].id.clone();
        let mut calls = 0;
        loop {
            green(&mut e, now);
            green(&mut e, now);
            now += SignedDuration::from_secs(30);
            let c = e.handle(&Command::call_next(window), now).unwrap();
            calls += 1;
            if c.tickets[0].id == normal_id {
                let reason = c.outcome.data()["reason"].as_str().unwrap().to_string();
                prop_assert!(reason == "streak-guard" || reason == "max-wait");
                break;
            }
            prop_assert!(calls <= limit + 1, "not called within {} calls", limit + 1);
            e.handle(&Command::Finish { window, case_no: None }, now).unwrap();
        }
        prop_assert!(calls <= limit + 1);
        prop_assert_eq!(e.state().tickets[&normal_id].state, TicketState::Called);
    }
}
