//! `hallq simulate` against the real daemon: the same day played through the pure engine and
//! through `hallq::runtime::run` (a manual clock, JSON lines on its control socket) gives the
//! same waits and the same estimate accuracy; the daemon's stored day replayed with
//! `--from-day` gives those waits again; and one seed always gives one report.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use hallq::config::Config;
use hallq::engine::estimate::{Estimate, TidalAdvice};
use hallq::engine::IssueClass;
use hallq::runtime::clock::ManualClock;
use hallq::simulate::arrivals::{self, Arrival, Profile};
use hallq::simulate::day::{self, Called, DayPlan, DayRecords, Issued, QueueSystem};
use hallq::simulate::{self, Durations, Plan, Rng, Source};
use jiff::civil::{Date, Time};
use jiff::Timestamp;
use rand::SeedableRng;
use serde_json::{json, Value};
use support::{local, HALL};

const DAY: Date = jiff::civil::date(2026, 11, 26);

fn profile() -> Profile {
    Profile {
        rates: arrivals::parse_profile("08:30=40,09:00=55,10:00=60,11:00=0").unwrap(),
        mix: Default::default(),
        green_percent: 6.0,
        reservation_percent: 6.0,
    }
}

/// A busy morning with every service time fixed in advance, so both runs serve alike.
fn morning(config: &Config, seed: u64) -> Vec<Arrival> {
    let mut rng = Rng::seed_from_u64(seed);
    let mut list = arrivals::draw(&profile(), config, &mut rng);
    let durations = Durations::Lognormal { spread: 0.5 };
    for a in &mut list {
        a.minutes = Some(durations.sample(&a.service, config, &mut rng));
    }
    list
}

fn plan(source: Source, openings: Vec<simulate::Opening>) -> Plan {
    Plan {
        source,
        durations: Durations::Lognormal { spread: 0.5 },
        openings,
        closed: Vec::new(),
        date: DAY,
        days: 1,
        seed: 7,
        candidates: Vec::new(),
    }
}

fn play(
    config: &Arc<Config>,
    arrivals: &[Arrival],
    queue: Option<&mut dyn QueueSystem>,
) -> DayRecords {
    let first = arrivals.first().expect("arrivals").at;
    let openings = day::default_openings(config, &[], &[], first);
    let day_plan = DayPlan {
        config,
        date: DAY,
        arrivals,
        openings: &openings,
        durations: &Durations::Lognormal { spread: 0.5 },
        candidates: &[],
    };
    let mut rng = Rng::seed_from_u64(7);
    match queue {
        Some(queue) => day::play_on(&day_plan, queue, &mut rng),
        None => day::play(&day_plan, &mut rng),
    }
}

/// The running daemon as a [`QueueSystem`]: the clock is set, then one JSON line goes out.
struct Daemon {
    clock: ManualClock,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Daemon {
    fn send(&mut self, now: Timestamp, request: Value) -> Result<Value, String> {
        self.clock.set(now);
        writeln!(self.writer, "{request}").expect("request written");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("response read");
        let response: Value = serde_json::from_str(&line).expect("response is JSON");
        if response["ok"] == json!(true) {
            Ok(response["data"].clone())
        } else {
            Err(response["error"]["message"].to_string())
        }
    }
}

impl QueueSystem for Daemon {
    fn reserve(&mut self, service: &str, slot: Time, now: Timestamp) -> Result<String, String> {
        let slot = format!("{:02}:{:02}", slot.hour(), slot.minute());
        let data = self.send(
            now,
            json!({"cmd": "reserve", "service": service, "slot": slot,
                   "name": "模拟", "phone": "13800138000"}),
        )?;
        Ok(data["code"].as_str().expect("a code").to_string())
    }

    fn issue(
        &mut self,
        service: &str,
        class: IssueClass,
        now: Timestamp,
    ) -> Result<Issued, String> {
        let (green, reservation) = match class {
            IssueClass::Normal => (false, None),
            IssueClass::Green => (true, None),
            IssueClass::Reservation(code) => (false, Some(code)),
        };
        // The simulated citizen booked with 13800138000 and says its last four digits.
        let phone_last4 = reservation.as_ref().map(|_| "8000");
        let data = self.send(
            now,
            json!({"cmd": "issue", "service": service, "green": green, "reservation": reservation,
                   "phone_last4": phone_last4}),
        )?;
        let number = |key: &str| data[key].as_u64().expect(key) as u32;
        Ok(Issued {
            id: data["id"].as_str().expect("id").to_string(),
            class: data["class"]
                .as_str()
                .expect("class")
                .parse()
                .expect("a class"),
            slot: None,
            estimate: Estimate {
                ahead: number("ahead"),
                minutes: number("estimated_wait_minutes"),
            },
            candidates: Vec::new(),
        })
    }

    fn login(&mut self, window: u32, now: Timestamp) -> bool {
        self.send(
            now,
            json!({"cmd": "login", "window": window, "clerk": format!("sim{window}")}),
        )
        .is_ok()
    }

    fn logout(&mut self, window: u32, now: Timestamp) {
        let _ = self.send(now, json!({"cmd": "logout", "window": window}));
    }

    fn call_next(&mut self, window: u32, now: Timestamp) -> Option<Called> {
        let data = self
            .send(now, json!({"cmd": "call", "window": window}))
            .ok()?;
        Some(Called {
            id: data["id"].as_str()?.to_string(),
            reason: data["reason"].as_str()?.parse().ok(),
        })
    }

    fn finish(&mut self, window: u32, no_show: bool, now: Timestamp) {
        let cmd = if no_show { "skip" } else { "finish" };
        self.send(now, json!({"cmd": cmd, "window": window}))
            .expect("the window's ticket is finished");
    }

    /// The daemon runs its own periodic check on its timer.
    fn tick(&mut self, _now: Timestamp) -> Vec<(String, TidalAdvice, u32)> {
        Vec::new()
    }
}

/// (issued, called) seconds of every ticket, in issue order.
fn waits(records: &DayRecords) -> Vec<(i64, Option<i64>)> {
    records
        .tickets
        .iter()
        .map(|t| (t.issued, t.called))
        .collect()
}

fn accuracy(config: &Config, records: &DayRecords) -> f64 {
    let report = simulate::Report::new(
        config,
        &plan(Source::Arrivals(Vec::new()), Vec::new()),
        records,
    );
    report.estimates.overall.within
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_a_simulated_morning_as_simulate_does() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = support::hall_starting_at(dir.path(), "00:00");
    let arrivals = morning(&cfg, 18);
    assert!(arrivals.len() > 100, "a busy morning: {}", arrivals.len());
    let simulated = play(&cfg, &arrivals, None);

    let clock = ManualClock::new(local(8, 0));
    let (daemon, ready, shutdown) =
        support::start_daemon(&cfg, &clock, hallq::runtime::RunOptions::default().tick).await;
    let socket = ready.socket.clone();
    let (cfg2, arrivals2) = (cfg.clone(), arrivals.clone());
    let served = tokio::task::spawn_blocking(move || {
        let writer = UnixStream::connect(&socket).expect("control socket");
        let reader = BufReader::new(writer.try_clone().unwrap());
        let mut daemon = Daemon {
            clock,
            reader,
            writer,
        };
        play(&cfg2, &arrivals2, Some(&mut daemon))
    })
    .await
    .unwrap();
    shutdown.cancel();
    daemon.await.unwrap().unwrap();

    assert_eq!(
        served.tickets.len(),
        arrivals.len(),
        "every arrival got a ticket: {:?}",
        served.refused
    );
    assert_eq!(
        waits(&served),
        waits(&simulated),
        "the same calls at the same times"
    );
    let printed = |r: &DayRecords| {
        r.tickets
            .iter()
            .map(|t| (t.issued, t.class, t.estimate))
            .collect::<Vec<_>>()
    };
    if let Some(i) = (0..served.tickets.len())
        .find(|i| served.tickets[*i].estimate != simulated.tickets[*i].estimate)
    {
        panic!(
            "ticket {i}: daemon {:?} simulate {:?}",
            served.tickets[i], simulated.tickets[i]
        );
    }
    assert_eq!(
        printed(&served),
        printed(&simulated),
        "the same estimates printed"
    );
    let (daemon_right, simulate_right) = (accuracy(&cfg, &served), accuracy(&cfg, &simulated));
    assert!(
        (daemon_right - simulate_right).abs() <= 0.02,
        "daemon {daemon_right} vs simulate {simulate_right}"
    );
    assert!(
        simulate_right >= 0.6,
        "the estimate is right for most tickets: {simulate_right}"
    );

    // The day the daemon stored, replayed read-only: its arrivals, durations and logins.
    let replayed = simulate::from_day::load(&cfg.store_path(), DAY, &cfg).expect("the day replays");
    assert_eq!(replayed.arrivals.len(), arrivals.len());
    let report = simulate::run(
        &cfg,
        &plan(
            Source::Arrivals(replayed.arrivals.clone()),
            replayed.openings.clone(),
        ),
    );
    let again = play(&cfg, &replayed.arrivals, None);
    assert_eq!(
        waits(&again),
        waits(&served),
        "a replayed day waits as it did"
    );
    assert_eq!(report.called, served.tickets.len());
}

#[test]
fn one_seed_gives_one_report() {
    let cfg = support::config(HALL);
    let run = |seed| {
        let plan = Plan {
            seed,
            days: 2,
            candidates: simulate::candidates::Candidate::all(),
            ..plan(Source::Profile(profile()), Vec::new())
        };
        simulate::run(&cfg, &plan)
    };
    let (a, b) = (run(11), run(11));
    assert!(a.issued > 200, "two busy mornings: {}", a.issued);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_ne!(run(12).waits, a.waits, "another seed, another day");
}

#[test]
fn a_tidal_window_opened_at_ten_shortens_the_waits() {
    let cfg = support::config(&format!(
        "{HALL}\n[[windows]]\nnumber = 7\nname = \"7号窗口\"\nserves = [[\"A\"], [\"B\"]]\nkind = \"tidal\"\n"
    ));
    let run = |openings: &str| {
        let openings = simulate::parse_openings(openings, &cfg).unwrap();
        simulate::run(&cfg, &plan(Source::Profile(profile()), openings))
    };
    let without = run("");
    let with = run("10:00=7");
    assert!(
        with.waits_by_service["A"].mean < without.waits_by_service["A"].mean,
        "{:?} vs {:?}",
        with.waits_by_service["A"],
        without.waits_by_service["A"]
    );
    assert_eq!(with.issued, without.issued, "the same citizens came");
}
