//! The report the week should give, computed from the test's own record of what it did and
//! what the daemon answered: plain loops over the record, no SQL, no store.

use std::collections::{BTreeMap, BTreeSet};

use hallq::privacy::{mask_address, mask_name, mask_phone};
use hallq::report::model::*;
use hallq::report::{HallInfo, Options, Period, Report};
use jiff::Timestamp;

use super::sim::{Record, Ticket, REASONS, TZ};

fn secs(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64()
}

fn local(at: Timestamp) -> String {
    jiff::tz::TimeZone::get(TZ)
        .unwrap()
        .to_datetime(at)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Count, mean and nearest-rank p50/p90.
fn stats(mut v: Vec<f64>) -> Stats {
    if v.is_empty() {
        return Stats::default();
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let rank = |p: usize| v[(n * p).div_ceil(100) - 1];
    Stats {
        count: n as u64,
        mean_seconds: Some(v.iter().sum::<f64>() / n as f64),
        p50_seconds: Some(rank(50)),
        p90_seconds: Some(rank(90)),
    }
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn wait(t: &Ticket) -> Option<f64> {
    t.first_call
        .as_ref()
        .map(|(at, _, _)| secs(t.issued_at, *at))
}

fn service_time(t: &Ticket) -> Option<f64> {
    (t.state == "done").then(|| {
        secs(
            t.started_at.or(t.called_at).unwrap(),
            t.finished_at.unwrap(),
        )
    })
}

/// The evaluation that counts: on a served ticket, within the 60 s timeout.
fn evaluation(t: &Ticket) -> Option<u8> {
    let (level, at) = t.evaluation?;
    (t.state == "done" && secs(t.finished_at?, at) <= 60.0).then_some(level)
}

fn evaluations<'a>(tickets: impl Iterator<Item = &'a &'a Ticket>) -> EvaluationFigures {
    let mut e = EvaluationFigures::default();
    for t in tickets.filter(|t| t.state == "done") {
        e.finished += 1;
        match evaluation(t) {
            Some(5) => e.levels.very_satisfied += 1,
            Some(4) => e.levels.satisfied += 1,
            Some(3) => e.levels.basically_satisfied += 1,
            Some(2) => e.levels.dissatisfied += 1,
            Some(1) => e.levels.very_dissatisfied += 1,
            _ => {}
        }
    }
    let l = &e.levels;
    e.evaluated = l.very_satisfied
        + l.satisfied
        + l.basically_satisfied
        + l.dissatisfied
        + l.very_dissatisfied;
    e.satisfaction_rate = share(l.very_satisfied + l.satisfied, e.evaluated);
    e.evaluated_share = share(e.evaluated, e.finished);
    e
}

fn count<T>(items: impl Iterator<Item = T>, f: impl Fn(&T) -> bool) -> u64 {
    items.filter(|x| f(x)).count() as u64
}

pub fn report(rec: &Record, hall: &HallInfo, period: &Period, options: &Options) -> Report {
    let within = |d: jiff::civil::Date| d >= period.first && d <= period.last;
    let tickets: Vec<&Ticket> = rec.tickets.iter().filter(|t| within(t.day)).collect();
    let calls: Vec<_> = rec.calls.iter().filter(|c| within(c.day)).collect();
    let transfers: Vec<_> = rec.transfers.iter().filter(|c| within(c.day)).collect();
    let holds: Vec<_> = rec.holds.iter().filter(|c| within(c.day)).collect();
    let handoffs: Vec<_> = rec.handoffs.iter().filter(|h| within(h.day)).collect();
    let open = |t: &&&Ticket| matches!(t.state, "waiting" | "called" | "serving" | "held");
    let state = |s: &'static str| move |t: &&&Ticket| t.state == s;

    let summary = Summary {
        issued: tickets.len() as u64,
        served: count(tickets.iter(), state("done")),
        no_show: count(tickets.iter(), state("no_show")),
        voided: 0,
        expired: count(tickets.iter(), state("expired")),
        open: count(tickets.iter(), open),
        transfers: transfers.len() as u64,
        holds: holds.len() as u64,
        requeued: count(tickets.iter(), |t| t.requeued),
        calls: count(calls.iter(), |c| !c.recall),
        recalls: count(calls.iter(), |c| c.recall),
        wait: stats(tickets.iter().filter_map(|t| wait(t)).collect()),
        service_time: stats(tickets.iter().filter_map(|t| service_time(t)).collect()),
        evaluations: evaluations(tickets.iter()),
        handoffs: handoffs.len() as u64,
    };

    let codes: Vec<String> = hall.services.iter().map(|(c, _)| c.clone()).collect();
    let services = codes
        .iter()
        .map(|code| {
            let by_current = |t: &&&Ticket| &t.current == code;
            let ended: Vec<&&Ticket> = tickets.iter().filter(by_current).collect();
            ServiceRow {
                code: code.clone(),
                name: hall.service_name(code),
                issued: count(tickets.iter(), |t| &t.service == code),
                transferred_in: count(transfers.iter(), |x| &x.to == code),
                transferred_out: count(transfers.iter(), |x| &x.from == code),
                served: count(ended.iter(), |t| t.state == "done"),
                no_show: count(ended.iter(), |t| t.state == "no_show"),
                voided: 0,
                expired: count(ended.iter(), |t| t.state == "expired"),
                open: count(ended.iter(), |t| {
                    matches!(t.state, "waiting" | "called" | "serving" | "held")
                }),
                held: count(holds.iter(), |h| &h.service == code),
                requeued: count(ended.iter(), |t| t.requeued),
                wait: stats(
                    tickets
                        .iter()
                        .filter(|t| &t.service == code)
                        .filter_map(|t| wait(t))
                        .collect(),
                ),
                service_time: stats(ended.iter().filter_map(|t| service_time(t)).collect()),
            }
        })
        .collect();

    // Staff figures for whoever `is_me` picks: by window number or by clerk.
    let staff = |at_window: &dyn Fn(u32, &str) -> bool| {
        let mine = |t: &&&Ticket| {
            t.window
                .zip(t.clerk.as_deref())
                .is_some_and(|(w, c)| at_window(w, c))
        };
        let ended: Vec<&&Ticket> = tickets.iter().filter(mine).collect();
        StaffFigures {
            called: count(calls.iter(), |c| !c.recall && at_window(c.window, &c.clerk)),
            recalls: count(calls.iter(), |c| c.recall && at_window(c.window, &c.clerk)),
            served: count(ended.iter(), |t| t.state == "done"),
            no_show: count(ended.iter(), |t| t.state == "no_show"),
            transferred_out: count(transfers.iter(), |x| at_window(x.window, &x.clerk)),
            held: count(holds.iter(), |h| at_window(h.window, &h.clerk)),
            expired_held: count(ended.iter(), |t| t.state == "expired"),
            wait: stats(
                tickets
                    .iter()
                    .filter(|t| {
                        t.first_call
                            .as_ref()
                            .is_some_and(|(_, w, c)| at_window(*w, c))
                    })
                    .filter_map(|t| wait(t))
                    .collect(),
            ),
            service_time: stats(ended.iter().filter_map(|t| service_time(t)).collect()),
            evaluations: evaluations(ended.iter().copied()),
        }
    };
    let windows = hall
        .windows
        .iter()
        .map(|(n, name)| WindowRow {
            window: *n,
            name: name.clone(),
            figures: staff(&|w, _| w == *n),
        })
        .collect();
    let mut clerk_ids: BTreeSet<&str> = BTreeSet::new();
    clerk_ids.extend(tickets.iter().filter_map(|t| t.clerk.as_deref()));
    clerk_ids.extend(
        tickets
            .iter()
            .filter_map(|t| t.first_call.as_ref().map(|f| f.2.as_str())),
    );
    clerk_ids.extend(calls.iter().map(|c| c.clerk.as_str()));
    clerk_ids.extend(transfers.iter().map(|c| c.clerk.as_str()));
    clerk_ids.extend(holds.iter().map(|c| c.clerk.as_str()));
    let clerks = clerk_ids
        .iter()
        .map(|id| ClerkRow {
            clerk: id.to_string(),
            figures: staff(&|_, c| c == *id),
        })
        .collect();

    let classes = ["normal", "green", "reservation"]
        .iter()
        .map(|class| ClassRow {
            class: class.to_string(),
            issued: count(tickets.iter(), |t| t.class == *class),
            served: count(tickets.iter(), |t| t.class == *class && t.state == "done"),
            wait: stats(
                tickets
                    .iter()
                    .filter(|t| t.class == *class)
                    .filter_map(|t| wait(t))
                    .collect(),
            ),
        })
        .collect();
    let call_reasons = REASONS
        .iter()
        .map(|r| ReasonCount {
            reason: r.to_string(),
            calls: count(calls.iter(), |c| !c.recall && c.reason == *r),
        })
        .collect();
    let bookings: Vec<_> = rec.bookings.iter().filter(|b| within(b.date)).collect();
    let reservations = Reservations {
        booked: bookings.len() as u64,
        checked_in: count(bookings.iter(), |b| b.arrives.is_some()),
        on_time: count(tickets.iter(), |t| t.class == "reservation"),
        late: count(tickets.iter(), |t| {
            t.class == "normal" && t.reservation.is_some()
        }),
    };

    let mut poor: Vec<&&Ticket> = tickets
        .iter()
        .filter(|t| evaluation(t).is_some_and(|l| l <= 2))
        .collect();
    poor.sort_by_key(|t| (t.evaluation.unwrap().1, t.id.clone()));
    let poor = poor
        .iter()
        .map(|t| PoorEvaluation {
            business_day: t.day.to_string(),
            ticket: t.number.clone(),
            service: t.current.clone(),
            window: t.window,
            clerk: t.clerk.clone(),
            case_no: t.case_no.clone(),
            level: t.evaluation.unwrap().0,
            label: ["", "非常不满意", "不满意", "基本满意", "满意", "非常满意"]
                [usize::from(t.evaluation.unwrap().0)]
            .to_string(),
            evaluated_at: local(t.evaluation.unwrap().1),
        })
        .collect();

    let mut carriers: BTreeMap<String, u64> = BTreeMap::new();
    for h in handoffs.iter().filter(|h| h.mail) {
        *carriers.entry(h.carrier.clone().unwrap()).or_default() += 1;
    }
    let carrier_names = [
        ("ems", "EMS"),
        ("sf", "顺丰速运"),
        ("yto", "圆通速递"),
        ("zto", "中通快递"),
    ];
    let mask = |s: &str, f: fn(&str) -> String| {
        if options.unmasked {
            s.to_string()
        } else {
            f(s)
        }
    };
    let handoff_figures = Handoffs {
        pickup: count(handoffs.iter(), |h| !h.mail),
        mail: count(handoffs.iter(), |h| h.mail),
        by_carrier: carriers
            .into_iter()
            .map(|(carrier, mail)| CarrierCount {
                name: carrier_names
                    .iter()
                    .find(|(c, _)| *c == carrier)
                    .unwrap()
                    .1
                    .to_string(),
                carrier,
                mail,
            })
            .collect(),
        register: handoffs
            .iter()
            .map(|h| RegisterRow {
                business_day: h.day.to_string(),
                at: local(h.at),
                case_no: h.case_no.clone(),
                title: h.title.clone(),
                method: if h.mail { "mail" } else { "pickup" }.to_string(),
                recipient: mask(&h.recipient, mask_name),
                phone: mask(&h.phone, mask_phone),
                carrier: h.carrier.clone(),
                tracking: h.tracking.clone(),
                address: h.address.as_deref().map(|a| mask(a, mask_address)),
                window: Some(9),
                clerk: Some(h.clerk.clone()),
            })
            .collect(),
    };

    let tz = jiff::tz::TimeZone::get(TZ).unwrap();
    let hour = |at: Timestamp| tz.to_datetime(at).hour() as u8;
    let hourly = (0..24u8)
        .map(|h| HourRow {
            hour: h,
            arrivals: count(tickets.iter(), |t| hour(t.issued_at) == h),
            calls: count(calls.iter(), |c| !c.recall && hour(c.at) == h),
        })
        .collect();
    let days = period
        .each_day()
        .map(|d| {
            let of_day = |t: &&&Ticket| t.day == d;
            DayRow {
                business_day: d.to_string(),
                issued: count(tickets.iter(), of_day),
                served: count(tickets.iter(), |t| t.day == d && t.state == "done"),
                no_show: count(tickets.iter(), |t| t.day == d && t.state == "no_show"),
                voided: 0,
                expired: count(tickets.iter(), |t| t.day == d && t.state == "expired"),
                pickup: count(handoffs.iter(), |h| h.day == d && !h.mail),
                mail: count(handoffs.iter(), |h| h.day == d && h.mail),
            }
        })
        .collect();
    let wait_distribution = codes
        .iter()
        .map(|code| {
            let mut counts = [0u64; 6];
            for w in tickets
                .iter()
                .filter(|t| &t.service == code)
                .filter_map(|t| wait(t))
            {
                let bin = [300.0, 600.0, 1200.0, 1800.0, 3600.0]
                    .iter()
                    .position(|b| w < *b)
                    .unwrap_or(5);
                counts[bin] += 1;
            }
            WaitBins {
                service: code.clone(),
                name: hall.service_name(code),
                counts,
            }
        })
        .collect();
    let mut estimates = Estimates::default();
    for t in &tickets {
        // A ticket that printed no estimate (no open window) is not compared.
        if let (Some(w), Some(estimate)) = (wait(t), t.estimate) {
            let e = f64::from(estimate) * 60.0;
            estimates.compared += 1;
            if (e - w).abs() <= f64::max(0.2 * w, 180.0) {
                estimates.accurate += 1;
            } else if e < w {
                estimates.too_low += 1;
            } else {
                estimates.too_high += 1;
            }
        }
    }
    estimates.accurate_share = share(estimates.accurate, estimates.compared);

    Report {
        hall: HallHeader {
            id: "report-hall".into(),
            name: "乌审旗政务服务中心".into(),
            timezone: TZ.into(),
            day_starts_at: "06:00".into(),
        },
        period: *period,
        days_in_period: period.each_day().count() as u32,
        generated_at: options.now.to_string(),
        unmasked: options.unmasked,
        summary,
        services,
        windows,
        clerks,
        classes,
        call_reasons,
        reservations,
        evaluations: Evaluations {
            figures: evaluations(tickets.iter()),
            poor,
        },
        handoffs: handoff_figures,
        hourly,
        days,
        wait_distribution,
        estimates,
        tidal: Tidal::default(),
        notes: Vec::new(),
    }
}
