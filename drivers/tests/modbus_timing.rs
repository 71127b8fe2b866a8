//! Numbers for BENCHMARKS.md (see the numbers with `--nocapture`): bytes of typical display
//! updates against the whole frame over Modbus RTU (with framing), their wire time at 115200
//! baud, and the measured time from `show` to the board's commit with the simulator holding
//! every answer for the wire time at 115200 baud.

use std::io;
use std::time::{Duration, Instant};

use hallq_display::{
    render, AnyFrame, BoardSpec, HallBoardView, RecentCall, ServiceWaiting, View, WindowBarState,
    WindowBarView,
};
use hallq_drivers::modbus::profile::{self, update_writes};
use hallq_drivers::modbus::{spawn_bus, BoardConfig, BusConfig, BusHandle, DeviceKind, SimBus};
use tokio_serial::SerialStream;

const BAUD: u32 = 115_200;

fn bar(number: Option<&str>) -> View {
    View::WindowBar(WindowBarView {
        window: 3,
        window_name: "3号窗口".into(),
        state: number.map_or(WindowBarState::Idle, |n| WindowBarState::Calling {
            number: n.into(),
        }),
        blink_on: false,
    })
}

fn hall(calls: &[&str], waiting: u32) -> View {
    View::HallBoard(HallBoardView {
        recent: calls
            .iter()
            .map(|n| RecentCall {
                number: n.to_string(),
                window: 3,
                window_name: "3号窗口".into(),
            })
            .collect(),
        waiting: [("A", "综合受理"), ("B", "社保医保"), ("C", "不动产登记")]
            .iter()
            .map(|(c, n)| ServiceWaiting {
                code: c.to_string(),
                name: n.to_string(),
                short_name: String::new(),
                count: waiting,
            })
            .collect(),
        notice: None,
        blink_on: false,
    })
}

/// (update bytes, Modbus bytes both ways, requests, wire time) of `next` over `prev`.
fn cost(prev: Option<&AnyFrame>, next: &AnyFrame) -> (usize, usize, usize, Duration) {
    let bytes = next.encode_update(prev).to_bytes();
    let writes = update_writes(1, 1, &bytes);
    let (host, boards) = profile::wire_bytes(&writes);
    let gaps = profile::frame_gap(BAUD, 10) * (2 * writes.len() as u32);
    let time = profile::wire_time(host + boards, BAUD, 10) + gaps;
    (bytes.len(), host + boards, writes.len(), time)
}

#[test]
fn bytes_per_update_over_modbus() {
    println!("| board | update | update bytes | Modbus bytes (both ways) | requests | wire time at 115200 |");
    println!("|---|---|---:|---:|---:|---:|");
    for (size, colors) in [
        ("64x16", 1),
        ("128x32", 1),
        ("192x32", 2),
        ("256x64", 2),
        ("384x96", 2),
    ] {
        let spec = BoardSpec::from_config(size, colors).unwrap();
        let idle = render(&bar(None), spec, 0);
        let a12 = render(&bar(Some("A012")), spec, 0);
        let a13 = render(&bar(Some("A013")), spec, 0);
        let before = render(&hall(&["A012", "A011", "A010"], 5), spec, 0);
        let after = render(&hall(&["A013", "A012", "A011"], 4), spec, 0);
        let rows = [
            ("window bar: full frame", None, &a12),
            ("window bar: idle → A012", Some(&idle), &a12),
            ("window bar: A012 → A013", Some(&a12), &a13),
            ("hall board: full frame", None, &after),
            ("hall board: new call + counts", Some(&before), &after),
        ];
        for (what, prev, next) in rows {
            let (bytes, wire, requests, time) = cost(prev, next);
            println!(
                "| {size} {}c | {what} | {bytes} | {wire} | {requests} | {:.1} ms |",
                colors,
                time.as_secs_f64() * 1e3
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_to_commit_at_115200_emulated() {
    let spec = BoardSpec::from_config("192x32", 2).unwrap();
    let hall_spec = BoardSpec::from_config("384x96", 2).unwrap();
    let sim = SimBus::new();
    sim.add_board(1, DeviceKind::WindowDisplay, spec);
    sim.add_board(2, DeviceKind::HallBoard, hall_spec);
    sim.emulate_baud(Some(BAUD));
    let (master, slave) = SerialStream::pair().unwrap();
    tokio::spawn(sim.clone().serve(master));
    let boards = vec![
        BoardConfig {
            device_id: "bar".into(),
            unit: 1,
            kind: DeviceKind::WindowDisplay,
            spec,
        },
        BoardConfig {
            device_id: "hall".into(),
            unit: 2,
            kind: DeviceKind::HallBoard,
            spec: hall_spec,
        },
    ];
    let mut config = BusConfig::new("pty", boards);
    config.baud = Some(BAUD);
    let mut link = Some(slave);
    let (bus, _task) = spawn_bus(config, move || {
        let link = link.take();
        async move { link.ok_or_else(|| io::Error::other("gone")) }
    });
    println!("| what (192x32 2c bar + 384x96 2c hall board, one bus) | show → last commit |");
    println!("|---|---:|");
    timed(
        &bus,
        &sim,
        "first frames, both boards (full)",
        vec![
            ("bar", 1, render(&bar(None), spec, 0)),
            (
                "hall",
                2,
                render(&hall(&["A012", "A011", "A010"], 5), hall_spec, 0),
            ),
        ],
    )
    .await;
    timed(
        &bus,
        &sim,
        "a call: bar idle → A013 and hall board new call",
        vec![
            ("bar", 1, render(&bar(Some("A013")), spec, 0)),
            (
                "hall",
                2,
                render(&hall(&["A013", "A012", "A011"], 4), hall_spec, 0),
            ),
        ],
    )
    .await;
    timed(
        &bus,
        &sim,
        "a call: bar only (A013 → A014)",
        vec![("bar", 1, render(&bar(Some("A014")), spec, 0))],
    )
    .await;
}

async fn timed(bus: &BusHandle, sim: &SimBus, label: &str, frames: Vec<(&str, u8, AnyFrame)>) {
    let started = Instant::now();
    for (id, _, f) in &frames {
        bus.show(id, f.clone()).unwrap();
    }
    let done = sim
        .wait_until(Duration::from_secs(10), |s| {
            frames
                .iter()
                .all(|(_, unit, f)| s.frame(*unit).as_ref() == Some(f))
        })
        .await;
    assert!(done);
    println!(
        "| {label} | {:.1} ms |",
        started.elapsed().as_secs_f64() * 1e3
    );
}
