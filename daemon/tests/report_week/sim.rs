//! The generated week: a hall simulated minute by minute from a fixed seed, every action sent
//! to the daemon's control socket, and a record of what was done and what the daemon answered.
//!
//! The record is the test's own account of the week; `expect` computes the reports from it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use hallq::runtime::clock::ManualClock;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

pub const TZ: &str = "Asia/Shanghai";
/// Every reason a call can have (DESIGN §4).
pub const REASONS: [&str; 6] = [
    "streak-guard",
    "green",
    "max-wait",
    "reservation",
    "fifo",
    "explicit",
];
const SERVICES: [&str; 3] = ["A", "B", "C"];
const CALLING_WINDOWS: [u32; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
const PICKUP_WINDOW: u32 = 9;

/// The instant of local `hh:mm:ss` on `day` (hours past 23 run into the next day).
pub fn local(day: Date, hh: i64, mm: i64, ss: i64) -> Timestamp {
    day.at(0, 0, 0, 0).in_tz(TZ).unwrap().timestamp()
        + SignedDuration::from_secs(hh * 3600 + mm * 60 + ss)
}

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub number: String,
    pub day: Date,
    pub service: String,
    pub current: String,
    pub class: String,
    pub state: &'static str,
    pub window: Option<u32>,
    pub clerk: Option<String>,
    pub issued_at: Timestamp,
    /// When, where and by whom it was first called.
    pub first_call: Option<(Timestamp, u32, String)>,
    pub called_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// The printed estimate; none (`暂无窗口`) while no open window could call it.
    pub estimate: Option<u32>,
    pub requeued: bool,
    pub evaluation: Option<(u8, Timestamp)>,
    pub case_no: Option<String>,
    pub reservation: Option<String>,
    pub slot: Option<Timestamp>,
    recalls: u32,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub day: Date,
    pub at: Timestamp,
    pub window: u32,
    pub clerk: String,
    pub reason: String,
    pub recall: bool,
}

#[derive(Debug, Clone)]
pub struct Transfer {
    pub day: Date,
    pub from: String,
    pub to: String,
    pub window: u32,
    pub clerk: String,
}

#[derive(Debug, Clone)]
pub struct Hold {
    pub day: Date,
    pub service: String,
    pub window: u32,
    pub clerk: String,
}

#[derive(Debug, Clone)]
pub struct Handoff {
    pub day: Date,
    pub at: Timestamp,
    pub case_no: String,
    pub title: String,
    pub mail: bool,
    pub recipient: String,
    pub phone: String,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub address: Option<String>,
    pub clerk: String,
}

#[derive(Debug, Clone)]
pub struct Booking {
    pub date: Date,
    pub code: String,
    pub service: String,
    pub slot: Timestamp,
    /// The last four digits of the phone it was booked with, which the check-in asks.
    pub phone_last4: String,
    /// When the citizen turns up at a kiosk, if at all.
    pub arrives: Option<Timestamp>,
}

/// Everything the week did, as the test saw it.
#[derive(Debug, Default)]
pub struct Record {
    pub tickets: Vec<Ticket>,
    pub calls: Vec<Call>,
    pub transfers: Vec<Transfer>,
    pub holds: Vec<Hold>,
    pub handoffs: Vec<Handoff>,
    pub bookings: Vec<Booking>,
    pub late_presses_refused: usize,
    /// When the reports are made.
    pub now: Timestamp,
}

impl Record {
    /// The week exercised what the reports must count.
    pub fn assert_coverage(&self) {
        let reasons: BTreeSet<&str> = self.calls.iter().map(|c| c.reason.as_str()).collect();
        for r in REASONS {
            assert!(reasons.contains(r), "no call with reason {r}: {reasons:?}");
        }
        let states: BTreeSet<&str> = self.tickets.iter().map(|t| t.state).collect();
        for s in ["done", "no_show", "expired", "waiting"] {
            assert!(states.contains(s), "no ticket ends {s}: {states:?}");
        }
        let night = self.tickets.iter().any(|t| {
            let finished = t
                .finished_at
                .map(|f| jiff::tz::TimeZone::get(TZ).unwrap().to_datetime(f));
            t.state == "done" && finished.is_some_and(|f| f.date() > t.day && f.hour() < 6)
        });
        assert!(night, "a ticket finished after midnight");
        assert!(self.tickets.iter().any(|t| t.requeued));
        assert!(self.tickets.iter().any(|t| t.class == "reservation"));
        assert!(self
            .tickets
            .iter()
            .any(|t| t.class == "normal" && t.reservation.is_some()));
        assert!(self.tickets.iter().any(|t| t.class == "green"));
        assert!(self
            .tickets
            .iter()
            .any(|t| t.evaluation.is_some_and(|(l, _)| l <= 2)));
        assert!(
            self.late_presses_refused > 0,
            "late evaluation presses were tried"
        );
        assert!(self.transfers.len() > 20 && self.holds.len() > 20);
        assert!(self.handoffs.iter().any(|h| h.mail) && self.handoffs.iter().any(|h| !h.mail));
        assert!(self.bookings.iter().any(|b| b.arrives.is_none()));
    }
}

struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    fn connect(socket: &Path) -> Client {
        let writer = UnixStream::connect(socket).expect("the control socket accepts");
        Client {
            reader: BufReader::new(writer.try_clone().unwrap()),
            writer,
        }
    }

    /// One request, one response line.
    fn send(&mut self, request: Value) -> Value {
        writeln!(self.writer, "{request}").unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("response {line:?}: {e}"))
    }

    /// A request that must succeed; its `data`.
    fn ok(&mut self, request: Value) -> Value {
        let response = self.send(request.clone());
        assert_eq!(response["ok"], true, "{request} was refused: {response}");
        response["data"].clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Idle,
    Called { ticket: usize, since: Timestamp },
    Serving { ticket: usize, until: Timestamp },
}

#[derive(Debug)]
struct Window {
    serves: &'static [&'static str],
    clerk: String,
    phase: Phase,
    /// A finish whose evaluation press comes after the timeout (two minutes later).
    late_press: Option<Timestamp>,
    held: Vec<usize>,
}

pub struct Week {
    client: Client,
    clock: ManualClock,
    rng: Rng,
    rec: Record,
    by_id: BTreeMap<String, usize>,
    windows: BTreeMap<u32, Window>,
    day: Date,
    handoff_seq: u32,
}

const NAMES: [&str; 8] = [
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "欧阳娜娜",
];
const TITLES: [&str; 5] = [
    "营业执照",
    "不动产权证书",
    "社保卡",
    "食品经营许可证",
    "户口迁移证明",
];

impl Week {
    pub fn new(socket: &Path, clock: ManualClock, seed: u64) -> Week {
        let serves: [(u32, &'static [&'static str]); 9] = [
            (1, &["A", "B"]),
            (2, &["B", "A", "C"]),
            (3, &["C"]),
            (4, &["A", "B", "C"]),
            (5, &["A"]),
            (6, &["B", "C"]),
            (7, &["A", "B", "C"]),
            (8, &["C", "A"]),
            (9, &["A"]),
        ];
        Week {
            client: Client::connect(socket),
            clock,
            rng: Rng(seed),
            rec: Record::default(),
            by_id: BTreeMap::new(),
            windows: serves
                .into_iter()
                .map(|(n, serves)| {
                    (
                        n,
                        Window {
                            serves,
                            clerk: String::new(),
                            phase: Phase::Idle,
                            late_press: None,
                            held: Vec::new(),
                        },
                    )
                })
                .collect(),
            day: jiff::civil::date(2000, 1, 1),
            handoff_seq: 0,
        }
    }

    fn at(&mut self, t: Timestamp) -> Timestamp {
        self.clock.set(t);
        t
    }

    fn phone(&mut self) -> String {
        format!(
            "1{}{:09}",
            3 + self.rng.below(7),
            self.rng.below(1_000_000_000)
        )
    }

    /// Run `days` days from `first`; the second day works past midnight.
    pub fn run(&mut self, first: Date, days: i64) {
        self.book(first, days);
        for k in 0..days {
            let day = first.checked_add(jiff::Span::new().days(k)).unwrap();
            let weekend = k >= 5;
            let close = if k == 1 { (24, 40) } else { (17, 30) };
            self.run_day(day, k, close, if weekend { 45 } else { 100 });
        }
        // Two late-comers after the last closing: still waiting when the reports are made.
        let last = first.checked_add(jiff::Span::new().days(days - 1)).unwrap();
        for (i, service) in ["A", "C"].into_iter().enumerate() {
            let at = self.at(local(last, 17, 40, i as i64));
            self.issue(service, None, None, at);
        }
    }

    /// Reservations for every day of the week, booked on the first morning.
    fn book(&mut self, first: Date, days: i64) {
        self.at(local(first, 8, 0, 0));
        for k in 0..days {
            let date = first.checked_add(jiff::Span::new().days(k)).unwrap();
            for _ in 0..12 {
                let service = *self.rng.pick(&SERVICES);
                let (hh, mm) = (9 + self.rng.below(7) as i64, 30 * self.rng.below(2) as i64);
                let name = *self.rng.pick(&NAMES);
                let phone = self.phone();
                let data = self.client.ok(json!({
                    "cmd": "reserve", "service": service, "slot": format!("{hh:02}:{mm:02}"),
                    "date": date.to_string(), "name": name, "phone": phone,
                }));
                let slot = local(date, hh, mm, 0);
                // Some come early, some on time, some too late (issued as normal), some never.
                let arrives = (!self.rng.chance(15))
                    .then(|| slot + SignedDuration::from_mins(self.rng.below(50) as i64 - 25));
                self.rec.bookings.push(Booking {
                    date,
                    code: data["code"].as_str().unwrap().to_string(),
                    service: service.to_string(),
                    slot,
                    phone_last4: phone[phone.len() - 4..].to_string(),
                    arrives,
                });
            }
        }
    }

    fn run_day(&mut self, day: Date, k: i64, close: (i64, i64), rate: u64) {
        self.day = day;
        let open = local(day, 8, 30, 0);
        let close_at = local(day, close.0, close.1, 0);
        // The first action of the day rolls the store over: yesterday's waiting and held expire.
        for t in self.rec.tickets.iter_mut() {
            if t.day < day && matches!(t.state, "waiting" | "held") {
                t.state = "expired";
            }
        }
        for w in self.windows.values_mut() {
            w.held.clear();
        }
        for (i, n) in CALLING_WINDOWS.iter().chain([&PICKUP_WINDOW]).enumerate() {
            let clerk = format!("S{:03}", (*n as i64 + k) % 11 + 1);
            self.at(open - SignedDuration::from_secs(60 - i as i64));
            self.client
                .ok(json!({"cmd": "login", "window": n, "clerk": clerk}));
            self.windows.get_mut(n).unwrap().clerk = clerk;
        }
        let mut minute = open;
        while minute < close_at {
            let evening = minute >= local(day, 18, 0, 0);
            if minute < close_at - SignedDuration::from_mins(30) {
                self.arrivals(minute, if evening { 30 } else { rate });
            }
            for (i, n) in CALLING_WINDOWS.iter().enumerate() {
                let slot = minute + SignedDuration::from_secs(5 + 5 * i as i64);
                self.window_step(*n, slot, evening);
            }
            if self.rng.chance(if evening { 1 } else { 4 }) {
                self.handoff(minute + SignedDuration::from_secs(50));
            }
            minute += SignedDuration::from_mins(1);
        }
        self.close_day(close_at);
    }

    fn arrivals(&mut self, minute: Timestamp, rate: u64) {
        let n = match self.rng.below(100) {
            x if x < 100 - rate * 65 / 100 => 0,
            x if x < 100 - rate * 20 / 100 => 1,
            x if x < 100 - rate * 5 / 100 => 2,
            _ => 3,
        };
        let mut second = 0;
        for _ in 0..n {
            let service = *self.rng.pick(&SERVICES);
            let green = self.rng.chance(8);
            let at = self.at(minute + SignedDuration::from_secs(second));
            second += 1;
            self.issue(service, green.then_some("green"), None, at);
        }
        let due: Vec<Booking> = self
            .rec
            .bookings
            .iter()
            .filter(|b| {
                b.arrives
                    .is_some_and(|a| a >= minute && a < minute + SignedDuration::from_mins(1))
            })
            .cloned()
            .collect();
        for b in due {
            let at = self.at(minute + SignedDuration::from_secs(second));
            second += 1;
            self.issue(&b.service, None, Some(&b), at);
        }
    }

    fn issue(
        &mut self,
        service: &str,
        green: Option<&str>,
        booking: Option<&Booking>,
        at: Timestamp,
    ) {
        let data = self.client.ok(json!({
            "cmd": "issue", "service": service, "green": green.is_some(),
            "reservation": booking.map(|b| b.code.clone()),
            "phone_last4": booking.map(|b| b.phone_last4.clone()),
        }));
        let class = data["class"].as_str().unwrap().to_string();
        if let Some(b) = booking {
            let late = at > b.slot + SignedDuration::from_mins(15);
            assert_eq!(class, if late { "normal" } else { "reservation" }, "{data}");
        }
        assert_eq!(data["business_day"], self.day.to_string());
        let id = data["id"].as_str().unwrap().to_string();
        self.by_id.insert(id.clone(), self.rec.tickets.len());
        self.rec.tickets.push(Ticket {
            id,
            number: data["number"].as_str().unwrap().to_string(),
            day: self.day,
            service: service.to_string(),
            current: service.to_string(),
            slot: booking.filter(|_| class == "reservation").map(|b| b.slot),
            class,
            state: "waiting",
            window: None,
            clerk: None,
            issued_at: at,
            first_call: None,
            called_at: None,
            started_at: None,
            finished_at: None,
            estimate: data["estimated_wait_minutes"].as_u64().map(|m| m as u32),
            requeued: false,
            evaluation: None,
            case_no: None,
            reservation: booking.map(|b| b.code.clone()),
            recalls: 0,
        });
    }

    /// Whether call next at window `n` has a ticket it may call now (window 7, the green
    /// channel, calls green tickets only; a reservation not before its slot).
    fn has_candidate(&self, n: u32, now: Timestamp) -> bool {
        let serves = self.windows[&n].serves;
        self.rec.tickets.iter().any(|t| {
            t.state == "waiting"
                && serves.contains(&t.current.as_str())
                && (n != 7 || t.class == "green")
                && t.slot.is_none_or(|slot| now >= slot)
        })
    }

    fn record_call(&mut self, n: u32, data: &Value, now: Timestamp) -> usize {
        let i = self.by_id[data["id"].as_str().unwrap()];
        let clerk = self.windows[&n].clerk.clone();
        let reason = data["reason"].as_str().unwrap().to_string();
        let t = &mut self.rec.tickets[i];
        assert!(matches!(t.state, "waiting" | "held"), "{data} called {t:?}");
        t.state = "called";
        t.window = Some(n);
        t.clerk = Some(clerk.clone());
        t.called_at = Some(now);
        t.started_at = None;
        t.recalls = 0;
        t.first_call.get_or_insert((now, n, clerk.clone()));
        self.rec.calls.push(Call {
            day: t.day,
            at: now,
            window: n,
            clerk,
            reason,
            recall: false,
        });
        self.windows.get_mut(&n).unwrap().phase = Phase::Called {
            ticket: i,
            since: now,
        };
        i
    }

    fn window_step(&mut self, n: u32, slot: Timestamp, evening: bool) {
        let two_minutes = SignedDuration::from_mins(2);
        if let Some(finished) = self.windows[&n]
            .late_press
            .filter(|f| *f + two_minutes <= slot)
        {
            self.windows.get_mut(&n).unwrap().late_press = None;
            let at = self.at(slot - SignedDuration::from_secs(2));
            assert!(at.duration_since(finished) > SignedDuration::from_secs(60));
            let r = self
                .client
                .send(json!({"cmd": "evaluate", "window": n, "level": 5}));
            assert_eq!(r["ok"], false, "a press after the timeout is refused: {r}");
            self.rec.late_presses_refused += 1;
        }
        let now = self.at(slot);
        match self.windows[&n].phase {
            Phase::Idle => {
                let held = self.windows[&n].held.clone();
                if !held.is_empty() && self.rng.chance(25) {
                    let i = held[self.rng.below(held.len() as u64) as usize];
                    let number = self.rec.tickets[i].number.clone();
                    let data = self
                        .client
                        .ok(json!({"cmd": "call", "window": n, "ticket": number}));
                    assert_eq!(data["reason"], "explicit");
                    self.windows.get_mut(&n).unwrap().held.retain(|h| *h != i);
                    self.record_call(n, &data, now);
                } else if self.has_candidate(n, now) {
                    let data = self.client.ok(json!({"cmd": "call", "window": n}));
                    self.record_call(n, &data, now);
                }
            }
            Phase::Called { ticket, since } => {
                if now.duration_since(since) < SignedDuration::from_mins(1) {
                    return;
                }
                let roll = self.rng.below(100);
                let t = &self.rec.tickets[ticket];
                if roll < 8 && t.recalls < 2 {
                    self.client.ok(json!({"cmd": "recall", "window": n}));
                    let (day, clerk) = (t.day, self.windows[&n].clerk.clone());
                    let reason = self
                        .rec
                        .calls
                        .iter()
                        .rev()
                        .find(|c| c.window == n && !c.recall)
                        .unwrap()
                        .reason
                        .clone();
                    self.rec.tickets[ticket].recalls += 1;
                    self.rec.calls.push(Call {
                        day,
                        at: now,
                        window: n,
                        clerk,
                        reason,
                        recall: true,
                    });
                    self.windows.get_mut(&n).unwrap().phase = Phase::Called { ticket, since: now };
                } else if roll < 20 {
                    self.client.ok(json!({"cmd": "skip", "window": n}));
                    let t = &mut self.rec.tickets[ticket];
                    t.state = "no_show";
                    t.finished_at = Some(now);
                    self.windows.get_mut(&n).unwrap().phase = Phase::Idle;
                    if !t.requeued && self.rng.chance(40) {
                        let number = t.number.clone();
                        self.at(now + SignedDuration::from_secs(1));
                        self.client.ok(json!({"cmd": "requeue", "number": number}));
                        let t = &mut self.rec.tickets[ticket];
                        t.state = "waiting";
                        t.requeued = true;
                        t.window = None;
                        t.clerk = None;
                        t.called_at = None;
                        t.finished_at = None;
                    }
                } else {
                    self.client.ok(json!({"cmd": "start", "window": n}));
                    let minutes = 2 + self.rng.below(if evening { 4 } else { 8 }) as i64;
                    self.rec.tickets[ticket].state = "serving";
                    self.rec.tickets[ticket].started_at = Some(now);
                    self.windows.get_mut(&n).unwrap().phase = Phase::Serving {
                        ticket,
                        until: now + SignedDuration::from_secs(minutes * 60 - 20),
                    };
                }
            }
            Phase::Serving { ticket, until } => {
                if now < until {
                    return;
                }
                let roll = self.rng.below(100);
                if roll < 6 {
                    self.transfer(n, ticket);
                } else if roll < 12 {
                    self.hold(n, ticket);
                } else {
                    self.finish(n, ticket, now, true);
                }
            }
        }
    }

    fn transfer(&mut self, n: u32, ticket: usize) {
        let from = self.rec.tickets[ticket].current.clone();
        let others: Vec<&str> = SERVICES.iter().copied().filter(|s| *s != from).collect();
        let to = self.rng.pick(&others).to_string();
        self.client
            .ok(json!({"cmd": "transfer", "window": n, "to": to}));
        let clerk = self.windows[&n].clerk.clone();
        let t = &mut self.rec.tickets[ticket];
        self.rec.transfers.push(Transfer {
            day: t.day,
            from,
            to: to.clone(),
            window: n,
            clerk,
        });
        t.state = "waiting";
        t.current = to;
        t.window = None;
        t.clerk = None;
        t.called_at = None;
        t.started_at = None;
        self.windows.get_mut(&n).unwrap().phase = Phase::Idle;
    }

    fn hold(&mut self, n: u32, ticket: usize) {
        self.client.ok(json!({"cmd": "hold", "window": n}));
        let w = self.windows.get_mut(&n).unwrap();
        let t = &mut self.rec.tickets[ticket];
        self.rec.holds.push(Hold {
            day: t.day,
            service: t.current.clone(),
            window: n,
            clerk: w.clerk.clone(),
        });
        t.state = "held";
        w.held.push(ticket);
        w.phase = Phase::Idle;
    }

    fn finish(&mut self, n: u32, ticket: usize, now: Timestamp, may_evaluate: bool) {
        let case_no = format!(
            "ZW{}{}",
            self.day.strftime("%Y%m%d"),
            self.rec.tickets[ticket].number
        );
        let with_case = self.rng.chance(90);
        self.client.ok(json!({
            "cmd": "finish", "window": n, "case_no": with_case.then_some(case_no.clone()),
        }));
        let t = &mut self.rec.tickets[ticket];
        t.state = "done";
        t.finished_at = Some(now);
        t.case_no = with_case.then_some(case_no);
        self.windows.get_mut(&n).unwrap().phase = Phase::Idle;
        if !may_evaluate {
            return;
        }
        let roll = self.rng.below(100);
        if roll < 72 {
            let level = match self.rng.below(100) {
                x if x < 55 => 5,
                x if x < 80 => 4,
                x if x < 90 => 3,
                x if x < 96 => 2,
                _ => 1,
            };
            let at = self.at(now + SignedDuration::from_secs(3));
            let data = self
                .client
                .ok(json!({"cmd": "evaluate", "window": n, "level": level}));
            assert_eq!(data["number"], self.rec.tickets[ticket].number.as_str());
            self.rec.tickets[ticket].evaluation = Some((level, at));
        } else if roll < 80 {
            // Two minutes later, just before this window's slot: past the 60 s timeout.
            self.windows.get_mut(&n).unwrap().late_press = Some(now);
        }
    }

    fn handoff(&mut self, at: Timestamp) {
        let at = self.at(at);
        self.handoff_seq += 1;
        let case_no = format!("CJ{}{:04}", self.day.strftime("%Y%m%d"), self.handoff_seq);
        let title = self.rng.pick(&TITLES).to_string();
        let recipient = self.rng.pick(&NAMES).to_string();
        let phone = self.phone();
        let mail = self.rng.chance(40);
        let clerk = self.windows[&PICKUP_WINDOW].clerk.clone();
        let mut request = json!({
            "cmd": "handoff", "method": if mail { "mail" } else { "pickup" }, "case_no": case_no,
            "title": title, "recipient": recipient, "phone": phone, "window": PICKUP_WINDOW,
        });
        let (mut carrier, mut tracking, mut address) = (None, None, None);
        if mail {
            let digits = self.rng.below(1_000_000_000_000);
            let (c, tr) = match self.rng.below(4) {
                0 => ("sf", format!("SF{digits:012}")),
                1 => ("ems", format!("EA{:09}CN", digits % 1_000_000_000)),
                2 => ("yto", format!("YT{:013}", digits)),
                _ => ("zto", format!("7{:011}", digits % 100_000_000_000)),
            };
            let addr = format!(
                "内蒙古鄂尔多斯市乌审旗嘎鲁图镇{}号",
                self.rng.below(900) + 1
            );
            request["carrier"] = json!(c);
            request["tracking"] = json!(tr);
            request["address"] = json!(addr);
            (carrier, tracking, address) = (Some(c.to_string()), Some(tr), Some(addr));
        } else if self.rng.chance(70) {
            request["id_last4"] = json!(format!("{:03}X", self.rng.below(1000)));
        }
        self.client.ok(request);
        self.rec.handoffs.push(Handoff {
            day: self.day,
            at,
            case_no,
            title,
            mail,
            recipient,
            phone,
            carrier,
            tracking,
            address,
            clerk,
        });
    }

    /// Closing time: the ticket at each window is finished (or skipped if only called), then
    /// every clerk logs out. What still waits or is held expires at the next day's start.
    fn close_day(&mut self, close_at: Timestamp) {
        for (i, n) in CALLING_WINDOWS.iter().enumerate() {
            let now = self.at(close_at + SignedDuration::from_secs(5 + 5 * i as i64));
            match self.windows[n].phase {
                Phase::Called { ticket, .. } => {
                    self.client.ok(json!({"cmd": "skip", "window": n}));
                    self.rec.tickets[ticket].state = "no_show";
                    self.rec.tickets[ticket].finished_at = Some(now);
                }
                Phase::Serving { ticket, .. } => self.finish(*n, ticket, now, false),
                Phase::Idle => {}
            }
            self.windows.get_mut(n).unwrap().phase = Phase::Idle;
            self.windows.get_mut(n).unwrap().late_press = None;
        }
        for (i, n) in CALLING_WINDOWS.iter().chain([&PICKUP_WINDOW]).enumerate() {
            self.at(close_at + SignedDuration::from_secs(120 + i as i64));
            self.client.ok(json!({"cmd": "logout", "window": n}));
        }
    }

    pub fn finish_week(mut self) -> Record {
        self.rec.now = self.clock_now();
        self.rec
    }

    fn clock_now(&self) -> Timestamp {
        use hallq::runtime::clock::Clock;
        self.clock.now() + SignedDuration::from_mins(30)
    }
}
