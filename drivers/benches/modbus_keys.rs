//! Press to window bar, for BENCHMARKS.md: the time from a key press entering a call pad's FIFO
//! to the window bar's commit of the frame the daemon submits in reaction, on one 115200-baud
//! bus with the simulator emulating wire time — with and without a 384x96 red/green hall board
//! that is always in the middle of a transfer, and with 1, 4 and 8 pads polled every 50 ms.
//!
//! `cargo bench -p hallq-drivers --bench modbus_keys` (prints a Markdown table).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use hallq_display::{
    render, AnyFrame, BoardSpec, HallBoardView, RecentCall, ServiceWaiting, View, WindowBarState,
    WindowBarView,
};
use hallq_drivers::modbus::profile::{self, update_writes};
use hallq_drivers::modbus::{BoardConfig, BusConfig, DeviceKind, InputConfig, InputSpec, SimBus};
use support::{Line, StandIn};
use tokio::sync::mpsc;

const BAUD: u32 = 115_200;
const PRESSES: usize = 40;

fn bar_spec() -> BoardSpec {
    BoardSpec::from_config("192x32", 1).unwrap()
}

fn hall_spec() -> BoardSpec {
    BoardSpec::from_config("384x96", 2).unwrap()
}

fn bar(n: usize) -> AnyFrame {
    let view = View::WindowBar(WindowBarView {
        window: 3,
        window_name: "3号窗口".into(),
        state: WindowBarState::Calling {
            number: format!("A{:03}", n % 1000),
        },
        blink_on: false,
    });
    render(&view, bar_spec(), 0)
}

fn hall(n: usize) -> AnyFrame {
    let view = View::HallBoard(HallBoardView {
        recent: (0..8)
            .map(|k| RecentCall {
                number: format!("B{:03}", (n + k) % 1000),
                window: (k % 6) as u32 + 1,
                window_name: String::new(),
            })
            .collect(),
        waiting: [("A", "综合受理"), ("B", "社保医保"), ("C", "不动产登记")]
            .iter()
            .map(|(c, name)| ServiceWaiting {
                code: c.to_string(),
                name: name.to_string(),
                short_name: String::new(),
                count: (n % 40) as u32,
            })
            .collect(),
        notice: None,
        blink_on: n.is_multiple_of(2),
    });
    render(&view, hall_spec(), 0)
}

/// Wire time of the bar's own update (A012 → A013, changed rows) at 115200 baud, with gaps.
fn bar_update_wire() -> Duration {
    let bytes = bar(13).encode_update(Some(&bar(12))).to_bytes();
    let writes = update_writes(1, 1, &bytes);
    let (host, devices) = profile::wire_bytes(&writes);
    profile::wire_time(host + devices, BAUD, 10)
        + profile::frame_gap(BAUD, 10) * (2 * writes.len() as u32)
}

/// Wire time of the longest single transaction: a 123-register write and its answer.
fn longest_transaction() -> Duration {
    profile::wire_time(
        profile::write_request_len(123) + profile::WRITE_RESPONSE_LEN,
        BAUD,
        10,
    ) + profile::frame_gap(BAUD, 10) * 2
}

/// Wire time of one poll of a pad (read 26 registers).
fn poll_wire() -> Duration {
    profile::wire_time(
        profile::READ_REQUEST_LEN + profile::read_response_len(26),
        BAUD,
        10,
    ) + profile::frame_gap(BAUD, 10) * 2
}

struct Result {
    label: String,
    latencies: Vec<Duration>,
    /// Press to the batch reaching the daemon (the poll part of each latency).
    to_batch: Vec<Duration>,
    bound: Duration,
    hall_commits: u64,
    /// Transactions that timed out (the machine too busy to answer in time).
    timeouts: u64,
}

async fn scenario(pads: u8, with_hall: bool) -> Result {
    let sim = SimBus::with_seed(u64::from(pads));
    sim.emulate_baud(Some(BAUD));
    sim.add_board(1, DeviceKind::WindowDisplay, bar_spec());
    let mut boards = vec![BoardConfig {
        device_id: "bar".into(),
        unit: 1,
        kind: DeviceKind::WindowDisplay,
        spec: bar_spec(),
    }];
    if with_hall {
        sim.add_board(2, DeviceKind::HallBoard, hall_spec());
        boards.push(BoardConfig {
            device_id: "hall".into(),
            unit: 2,
            kind: DeviceKind::HallBoard,
            spec: hall_spec(),
        });
    }
    let inputs = (0..pads)
        .map(|k| {
            sim.add_input(10 + k, DeviceKind::CallPad, InputSpec::default());
            InputConfig::new(format!("pad-{k}"), 10 + k, DeviceKind::CallPad)
        })
        .collect();
    let line = Line::start(&sim, None);
    let (tx, rx) = mpsc::channel(16);
    let mut config = BusConfig::new("bench", boards).with_inputs(inputs, tx);
    config.baud = Some(BAUD);
    let (bus, _task) = line.spawn(config);
    // The daemon's stand-in: every press calls the next number, shown on the bar at once.
    let daemon = StandIn::default();
    let shows = bus.clone();
    let handed = std::sync::Arc::new(std::sync::Mutex::new(None::<Instant>));
    let seen = handed.clone();
    daemon.run(rx, move |batch| {
        *seen.lock().unwrap() = Some(Instant::now());
        // Only the first pad is pressed, once per number: its seq is the number to call.
        if let Some(last) = batch.events.last() {
            let _ = shows.show("bar", bar(usize::from(last.seq)));
        }
    });
    bus.show("bar", bar(0)).unwrap();
    if with_hall {
        bus.show("hall", hall(0)).unwrap();
    }
    bus.flush().await;
    // Keep the hall board busy: a new picture (most rows change) whenever one is shown.
    let feeder = with_hall.then(|| {
        let (bus, sim) = (bus.clone(), sim.clone());
        tokio::spawn(async move {
            for n in 1.. {
                bus.show("hall", hall(n)).unwrap();
                let want = hall(n);
                sim.wait_until(Duration::from_secs(30), |s| {
                    s.frame(2).as_ref() == Some(&want)
                })
                .await;
            }
        })
    });
    let mut rng = fastrand::Rng::with_seed(7);
    let mut latencies = Vec::with_capacity(PRESSES);
    let mut to_batch = Vec::with_capacity(PRESSES);
    for n in 1..=PRESSES {
        // Presses land at random moments of the poll cycle and of the hall board's transfer.
        tokio::time::sleep(Duration::from_millis(rng.u64(20..120))).await;
        let want = bar(n);
        let pressed = Instant::now();
        sim.press(10, 1, 0).expect("FIFO has room");
        let shown = sim
            .wait_until(Duration::from_secs(10), |s| {
                s.frame(1).as_ref() == Some(&want)
            })
            .await;
        assert!(shown, "press {n} never reached the bar");
        latencies.push(pressed.elapsed());
        let batch = handed.lock().unwrap().take().expect("a batch");
        to_batch.push(batch - pressed);
    }
    if let Some(f) = feeder {
        f.abort();
    }
    let hall_commits = sim.device(2).map_or(0, |d| d.screen.unwrap().commits);
    let ids: Vec<String> = bus.boards().chain(bus.inputs()).map(String::from).collect();
    let timeouts = ids
        .iter()
        .map(|id| bus.stats(id).unwrap().borrow().no_answer)
        .sum();
    let poll = Duration::from_millis(50);
    // One poll period, the polls of the other pads, the pad's own read, the transaction in flight
    // (at most the longest write), and the bar's own update.
    let bound = poll + poll_wire() * u32::from(pads) + longest_transaction() + bar_update_wire();
    Result {
        label: format!(
            "{pads} pad{}{}",
            if pads == 1 { "" } else { "s" },
            if with_hall { " + hall board busy" } else { "" }
        ),
        latencies,
        to_batch,
        bound,
        hall_commits,
        timeouts,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "bar update (192x32 mono, A012 → A013) on the wire: {}",
        ms(bar_update_wire())
    );
    println!(
        "one pad poll on the wire: {}; longest transaction: {}",
        ms(poll_wire()),
        ms(longest_transaction())
    );
    println!();
    println!("| one bus: 192x32 bar and | presses | median | p90 | max | of which press → daemon (median) | bound | over bound | hall-board frames meanwhile | timeouts |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (pads, with_hall) in [(1, false), (1, true), (4, true), (8, true)] {
        let mut r = rt.block_on(scenario(pads, with_hall));
        r.latencies.sort();
        r.to_batch.sort();
        let n = r.latencies.len();
        let over = r.latencies.iter().filter(|l| **l > r.bound).count();
        println!(
            "| {} | {n} | {} | {} | {} | {} | {} | {over} | {} | {} |",
            r.label,
            ms(r.latencies[n / 2]),
            ms(r.latencies[n * 9 / 10]),
            ms(r.latencies[n - 1]),
            ms(r.to_batch[n / 2]),
            ms(r.bound),
            r.hall_commits,
            r.timeouts,
        );
    }
}
