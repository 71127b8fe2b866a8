//! The estimator benchmark of issue 18: every candidate estimator on simulated busy mornings of
//! different halls and loads (a deterministic table: accuracy and bias), then the printed
//! estimator timed with criterion on a queue of 200.
//!
//! `cargo bench -p hallq --bench estimators` (add `-- --table` to print only the table).

use std::path::Path;
use std::sync::Arc;

use criterion::Criterion;
use hallq::config::Config;
use hallq::engine::model::TicketClass;
use hallq::engine::{Command, Engine, HallState, IssueClass};
use hallq::simulate::arrivals::{parse_profile, Profile};
use hallq::simulate::candidates::Candidate;
use hallq::simulate::{self, Durations, Plan, Source};

/// `(code, minutes)` services and `(serves, kind)` windows, numbered from 1.
fn hall(services: &[(&str, u32)], windows: &[(&str, &str)]) -> Arc<Config> {
    let mut text = String::from(
        "[hall]\nid = \"bench\"\nname = \"基准大厅\"\ntimezone = \"Asia/Shanghai\"\n\
         data_dir = \"/tmp/hallq-bench\"\nruntime_dir = \"/tmp/hallq-bench/run\"\n\n\
         [policy]\npriority_streak_limit = 3\nmax_wait_minutes = 90\n\n\
         [calendar]\nweekdays = [\"08:30-12:00\"]\n",
    );
    for (code, minutes) in services {
        text.push_str(&format!(
            "\n[[services]]\ncode = \"{code}\"\nname = \"业务{code}\"\nminutes = {minutes}\n"
        ));
    }
    for (i, (serves, kind)) in windows.iter().enumerate() {
        let n = i + 1;
        text.push_str(&format!(
            "\n[[windows]]\nnumber = {n}\nname = \"{n}号窗口\"\nserves = {serves}\nkind = \"{kind}\"\n"
        ));
    }
    Arc::new(hallq::config::parse(&text, Path::new("/etc/hallq/bench.toml")).expect("bench hall"))
}

fn five_windows() -> Arc<Config> {
    hall(
        &[("A", 6), ("B", 5), ("C", 9)],
        &[
            ("[[\"A\"], [\"B\"]]", "standard"),
            ("[[\"B\"], [\"A\", \"C\"]]", "standard"),
            ("[[\"C\"]]", "standard"),
            ("[[\"A\", \"B\", \"C\"]]", "standard"),
            ("[[\"A\", \"B\", \"C\"]]", "green"),
        ],
    )
}

/// A county hall: 12 comprehensive windows with preferences, a green window, two tidal
/// windows and a pickup window.
fn county() -> Arc<Config> {
    let mut windows: Vec<(&str, &str)> = Vec::new();
    let comprehensive = [
        "[[\"A\"], [\"B\", \"C\"]]",
        "[[\"A\"], [\"B\", \"C\"]]",
        "[[\"A\"], [\"D\"]]",
        "[[\"A\", \"B\"]]",
        "[[\"B\"], [\"A\"]]",
        "[[\"B\"], [\"A\", \"E\"]]",
        "[[\"B\", \"C\"]]",
        "[[\"C\"], [\"A\", \"B\"]]",
        "[[\"C\"], [\"D\"]]",
        "[[\"D\"], [\"C\"]]",
        "[[\"D\", \"E\"], [\"A\"]]",
        "[[\"E\"], [\"A\", \"B\", \"C\", \"D\"]]",
    ];
    for serves in comprehensive {
        windows.push((serves, "standard"));
    }
    windows.push(("[[\"A\", \"B\", \"C\", \"D\", \"E\"]]", "green"));
    windows.push(("[[\"A\"], [\"B\"]]", "tidal"));
    windows.push(("[[\"B\"], [\"A\"]]", "tidal"));
    windows.push(("[[\"P\"]]", "pickup"));
    hall(
        &[("A", 10), ("B", 7), ("C", 14), ("D", 9), ("E", 5), ("P", 3)],
        &windows,
    )
}

struct Scenario {
    name: &'static str,
    config: Arc<Config>,
    profile: &'static str,
    mix: &'static [(&'static str, f64)],
    green: f64,
    reservations: f64,
    spread: f64,
    openings: &'static str,
    closed: &'static [u32],
}

fn scenario(name: &'static str, config: Arc<Config>, profile: &'static str) -> Scenario {
    Scenario {
        name,
        config,
        profile,
        mix: &[],
        green: 5.0,
        reservations: 5.0,
        spread: 0.5,
        openings: "",
        closed: &[],
    }
}

fn scenarios() -> Vec<Scenario> {
    let five = five_windows();
    let county = county();
    let small = hall(
        &[("A", 6), ("B", 9)],
        &[
            ("[[\"A\"], [\"B\"]]", "standard"),
            ("[[\"B\"], [\"A\"]]", "standard"),
            ("[[\"A\", \"B\"]]", "standard"),
        ],
    );
    let specialised = hall(
        &[("A", 7), ("B", 5), ("C", 15), ("D", 10)],
        &[
            ("[[\"A\"], [\"B\"]]", "standard"),
            ("[[\"A\"], [\"C\"]]", "standard"),
            ("[[\"B\"], [\"A\"]]", "standard"),
            ("[[\"B\"], [\"D\"]]", "standard"),
            ("[[\"C\"], [\"D\"]]", "standard"),
            ("[[\"C\"]]", "standard"),
            ("[[\"D\"], [\"A\", \"B\"]]", "standard"),
            ("[[\"A\", \"B\", \"C\", \"D\"]]", "green"),
        ],
    );
    vec![
        scenario(
            "five windows, 40/h",
            five.clone(),
            "08:30=36,09:00=44,11:00=36,12:00=0",
        ),
        scenario(
            "five windows, 50/h",
            five.clone(),
            "08:30=45,09:00=55,11:00=45,12:00=0",
        ),
        scenario(
            "five windows, 60/h",
            five.clone(),
            "08:30=54,09:00=66,11:00=54,12:00=0",
        ),
        Scenario {
            mix: &[("A", 2.0), ("B", 1.0), ("C", 1.0)],
            ..scenario(
                "five windows, 50/h, A-heavy",
                five.clone(),
                "08:30=45,09:00=55,11:00=45,12:00=0",
            )
        },
        Scenario {
            closed: &[4],
            ..scenario(
                "five windows, one closed, 40/h",
                five.clone(),
                "08:30=36,09:00=44,11:00=36,12:00=0",
            )
        },
        Scenario {
            green: 15.0,
            reservations: 10.0,
            ..scenario(
                "five windows, 25 % priority, 50/h",
                five,
                "08:30=45,09:00=55,11:00=45,12:00=0",
            )
        },
        scenario(
            "three windows, 30/h",
            small,
            "08:30=25,09:00=35,11:00=25,12:00=0",
        ),
        scenario(
            "eight specialised, 55/h",
            specialised.clone(),
            "08:30=45,09:00=60,11:00=50,12:00=0",
        ),
        Scenario {
            spread: 0.8,
            ..scenario(
                "eight specialised, 55/h, spread 0.8",
                specialised,
                "08:30=45,09:00=60,11:00=50,12:00=0",
            )
        },
        Scenario {
            openings: "10:00=14+15",
            ..scenario(
                "county, 80/h, tidal from 10:00",
                county.clone(),
                "08:30=60,09:00=85,10:00=95,11:00=70,12:00=0",
            )
        },
        scenario(
            "county, 75/h, no tidal",
            county.clone(),
            "08:30=60,09:00=80,11:00=70,12:00=0",
        ),
        Scenario {
            openings: "09:30-11:30=14,10:00-11:00=15",
            ..scenario(
                "county, 100/h, tidal 09:30-11:30",
                county,
                "08:30=80,09:00=105,10:00=115,11:00=90,12:00=0",
            )
        },
    ]
}

const DAYS: u32 = 3;
const SEED: u64 = 18;

fn plan(s: &Scenario, candidates: Vec<Candidate>) -> Plan {
    Plan {
        source: Source::Profile(Profile {
            rates: parse_profile(s.profile).expect("profile"),
            mix: s.mix.iter().map(|(c, w)| (c.to_string(), *w)).collect(),
            green_percent: s.green,
            reservation_percent: s.reservations,
        }),
        durations: Durations::Lognormal { spread: s.spread },
        openings: simulate::parse_openings(s.openings, &s.config).expect("openings"),
        closed: s.closed.to_vec(),
        date: jiff::civil::date(2026, 1, 5),
        days: DAYS,
        seed: SEED,
        candidates,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn table() {
    let candidates = Candidate::all();
    let names: Vec<String> = candidates.iter().map(Candidate::name).collect();
    println!("Right = share within ±20 % or ±3 min of the real wait; (under/over) = share below/above it.");
    println!("{DAYS} mornings per scenario, seed {SEED}.\n");
    // The first column is what the tickets printed: the walk with the engine's floor for
    // services not yet measured today (`engine::wait_floor`).
    let names: Vec<String> = std::iter::once("printed".to_string())
        .chain(names)
        .collect();
    println!("| scenario | tickets | p90 wait | {} |", names.join(" | "));
    println!("|---|---:|---:|{}", "---:|".repeat(names.len()));
    let mut right: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut one_sided: Vec<f64> = vec![0.0; names.len()];
    for s in scenarios() {
        let report = simulate::run(&s.config, &plan(&s, candidates.clone()));
        let printed = std::iter::once(&report.estimates.overall);
        let cells: Vec<String> = printed
            .chain(report.estimators.iter().map(|c| &c.accuracy))
            .enumerate()
            .map(|(i, a)| {
                right[i].push(a.within);
                one_sided[i] = one_sided[i].max(a.under).max(a.over);
                format!(
                    "{:.0} % ({:.0}/{:.0})",
                    a.within * 100.0,
                    a.under * 100.0,
                    a.over * 100.0
                )
            })
            .collect();
        println!(
            "| {} | {} | {:.0} min | {} |",
            s.name,
            report.called,
            report.waits.p90,
            cells.join(" | ")
        );
    }
    let medians: Vec<String> = right
        .iter()
        .map(|r| format!("**{:.0} %**", median(r.clone()) * 100.0))
        .collect();
    println!("| median right | | | {} |", medians.join(" | "));
    let worst: Vec<String> = one_sided
        .iter()
        .map(|w| format!("{:.0} %", w * 100.0))
        .collect();
    println!("| worst one-sided share | | | {} |", worst.join(" | "));
}

/// The county hall at 10:30 on a bad morning: every window busy, 200 tickets waiting.
fn queue_of_200() -> (Engine, jiff::Timestamp) {
    let config = county();
    let day = jiff::civil::date(2026, 1, 5);
    let at = |h: i8, m: i8, s: i8| {
        day.at(h, m, s, 0)
            .in_tz("Asia/Shanghai")
            .expect("local time")
            .timestamp()
    };
    let mut engine = Engine::new(config.clone(), HallState::empty(day));
    for w in &config.windows {
        engine
            .handle(
                &Command::Login {
                    window: w.number,
                    clerk: format!("c{}", w.number),
                },
                at(8, 30, 0),
            )
            .expect("login");
    }
    let services = ["A", "B", "C", "D", "E", "A", "B", "P"];
    for i in 0..(200 + config.windows.len()) {
        let service = services[i % services.len()];
        let class = if i % 17 == 5 {
            IssueClass::Green
        } else {
            IssueClass::Normal
        };
        let now = at(9, (i / 12) as i8, (i % 12 * 5) as i8);
        engine
            .handle(&Command::issue(service, class), now)
            .expect("issue");
    }
    for w in &config.windows {
        let _ = engine.handle(&Command::call_next(w.number), at(10, 20, 0));
    }
    (engine, at(10, 30, 0))
}

fn timing(c: &mut Criterion) {
    let (engine, now) = queue_of_200();
    let waiting: Vec<_> = engine.waiting().cloned().collect();
    assert!(waiting.len() >= 200, "{} waiting", waiting.len());
    let last = waiting
        .iter()
        .filter(|t| t.class == TicketClass::Normal)
        .max_by_key(|t| t.queue_key)
        .expect("a normal ticket")
        .clone();
    println!(
        "queue of {}: last ticket {} has {} ahead, estimate {} min",
        waiting.len(),
        last.number,
        engine.estimate_at(&last, now).ahead,
        engine.estimate_at(&last, now).minutes
    );
    c.bench_function("estimate_at, last of 200 waiting", |b| {
        b.iter(|| engine.estimate_at(std::hint::black_box(&last), now))
    });
    c.bench_function("estimates_at, all 200 waiting", |b| {
        b.iter(|| engine.estimates_at(std::hint::black_box(now)))
    });
}

fn main() {
    table();
    if std::env::args().any(|a| a == "--table") {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    timing(&mut c);
    c.final_summary();
}
