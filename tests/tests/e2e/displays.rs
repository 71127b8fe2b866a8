//! LED displays end to end: the real binary driving Modbus boards on a pty and sim folders.
//!
//! One pty is an RS-485 bus with the window-3 bar (unit 1) and the hall board (unit 2), served
//! by the drivers' board simulator in this process; the same two layouts also go to sim
//! folders. Pictures are compared pixel for pixel with `hallq_display::render` of the expected
//! view (either blink phase, since a new call blinks).

use std::path::Path;
use std::time::{Duration, Instant};

use hallq_display::{AnyFrame, BoardSpec, PngOptions};
use hallq_drivers::modbus::DeviceKind;
use hallq_tests::util::frames;
use hallq_tests::util::modbus_sim::ModbusBus;
use hallq_tests::util::{Daemon, HallSpec};

const WAIT: Duration = Duration::from_secs(15);

fn bar_spec() -> BoardSpec {
    BoardSpec::from_config("128x32", 1).unwrap()
}

fn hall_spec() -> BoardSpec {
    BoardSpec::from_config("256x64", 2).unwrap()
}

fn hall(bus: &Path) -> HallSpec {
    let bus = bus.display();
    HallSpec {
        extra: format!(
            r#"
[[devices]]
id = "window-3-display"
kind = "window_display"
window = 3
protocol = "modbus"
size = "128x32"
address = 1
transport = {{ type = "serial", path = "{bus}", baud = 115200 }}

[[devices]]
id = "hall-board"
kind = "hall_board"
protocol = "modbus"
size = "256x64"
colors = 2
address = 2
transport = {{ type = "serial", path = "{bus}", baud = 115200 }}

[[devices]]
id = "window-3-sim"
kind = "window_display"
window = 3
protocol = "modbus"
size = "128x32"
transport = {{ type = "sim", dir = "sim/window-3" }}

[[devices]]
id = "hall-board-sim"
kind = "hall_board"
protocol = "modbus"
size = "256x64"
colors = 2
transport = {{ type = "sim", dir = "sim/hall-board" }}
"#
        ),
        ..HallSpec::windows_serving_a(3)
    }
}

fn start() -> (ModbusBus, Daemon) {
    let bus = ModbusBus::start();
    bus.add_board(1, DeviceKind::WindowDisplay, bar_spec());
    bus.add_board(2, DeviceKind::HallBoard, hall_spec());
    let d = Daemon::start_new(&hall(&bus.path));
    (bus, d)
}

/// The window-3 bar calling `number`, in both blink phases.
fn bar_calling(number: &str) -> [AnyFrame; 2] {
    frames::window_bar_calling(bar_spec(), 3, number)
}

/// The hall board with these calls (newest first) and waiting counts for A, B, C, at every
/// position of its waiting row: the three services by their full names do not fit 256 px, so
/// the row scrolls, and a frame may be caught anywhere along it (one whole cycle of it).
fn hall_board(calls: &[(&str, u32)], waiting: [u32; 3]) -> Vec<AnyFrame> {
    let [a, b, c] = waiting;
    let waiting = [
        ("A", "综合受理", a),
        ("B", "社保医保", b),
        ("C", "不动产登记", c),
    ];
    let at = |px| frames::hall_board_scrolled(hall_spec(), calls, &waiting, px);
    let first = at(0);
    let cycle = (1..4096).find(|px| at(*px) == first).unwrap_or(4096);
    (0..cycle).flat_map(at).collect()
}

/// Waits until `current.png` in the sim folder is one of `frames`.
fn sim_shows(dir: &Path, frames: &[AnyFrame]) -> bool {
    // Encoded as they are needed: a scrolling board has hundreds of expected frames.
    let mut pngs: Vec<Vec<u8>> = Vec::with_capacity(frames.len());
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(bytes) = std::fs::read(dir.join("current.png")) {
            if pngs.contains(&bytes) {
                return true;
            }
            for f in &frames[pngs.len()..] {
                pngs.push(f.to_png(PngOptions::default()).unwrap());
                if pngs.last() == Some(&bytes) {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Waits until `hallq status --json` reports the device in `state`.
fn device_state(d: &Daemon, id: &str, state: &str) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if d.status()["devices"][id]["state"] == state {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_call_shows_on_the_window_bar_and_first_on_the_hall_board() {
    let (bus, d) = start();
    // Initial frames at start: the idle hall.
    assert!(bus.wait_until(WAIT, |s| s.frame(2)
        == Some(hall_board(&[], [0, 0, 0])[0].clone())));
    d.ok(&["login", "3", "c3"]);
    let first = d.ok(&["issue", "A"])["number"]
        .as_str()
        .unwrap()
        .to_string();
    d.ok(&["issue", "A"]);
    let called = d.ok(&["call", "3"]);
    assert_eq!(called["number"], first.as_str());

    let bar = bar_calling(&first);
    assert!(
        bus.wait_until(WAIT, |s| s.frame(1).is_some_and(|f| bar.contains(&f))),
        "window-3 bar shows:\n{}",
        bus.frame(1).unwrap().to_ascii()
    );
    let board = hall_board(&[(&first, 3)], [1, 0, 0]);
    assert!(
        bus.wait_until(WAIT, |s| s.frame(2).is_some_and(|f| board.contains(&f))),
        "hall board shows:\n{}",
        bus.frame(2).unwrap().to_ascii()
    );
    let sim = d.dir.path().join("sim");
    assert!(sim_shows(&sim.join("window-3"), &bar));
    assert!(sim_shows(&sim.join("hall-board"), &board));
    assert!(std::fs::read_dir(sim.join("window-3"))
        .unwrap()
        .any(|e| e.unwrap().file_name() == "0001.png"));

    // The next call goes on top.
    d.ok(&["finish", "3"]);
    let second = d.ok(&["call", "3"])["number"].as_str().unwrap().to_string();
    let board = hall_board(&[(&second, 3), (&first, 3)], [0, 0, 0]);
    assert!(bus.wait_until(WAIT, |s| s.frame(2).is_some_and(|f| board.contains(&f))));
    assert!(bus.wait_until(WAIT, |s| s
        .frame(1)
        .is_some_and(|f| bar_calling(&second).contains(&f))));
    for id in [
        "window-3-display",
        "hall-board",
        "window-3-sim",
        "hall-board-sim",
    ] {
        assert!(device_state(&d, id, "online"), "{id}");
        assert_eq!(d.status()["devices"][id]["kind"], "display");
    }
}

#[test]
fn a_board_that_stops_answering_is_offline_and_the_other_still_updates() {
    let (bus, d) = start();
    assert!(device_state(&d, "hall-board", "online"));
    bus.sim.set_silent(2, true);
    d.ok(&["login", "3", "c3"]);
    let number = d.ok(&["issue", "A"])["number"]
        .as_str()
        .unwrap()
        .to_string();
    d.ok(&["call", "3"]);
    let bar = bar_calling(&number);
    assert!(bus.wait_until(WAIT, |s| s.frame(1).is_some_and(|f| bar.contains(&f))));
    assert!(device_state(&d, "hall-board", "offline"));
    assert_eq!(d.status()["devices"]["hall-board"]["cause"], "no_answer");
    assert_eq!(d.status()["devices"]["window-3-display"]["state"], "online");
    // Back again: it gets the current picture at once.
    bus.sim.set_silent(2, false);
    let board = hall_board(&[(&number, 3)], [0, 0, 0]);
    assert!(bus.wait_until(WAIT, |s| s.frame(2).is_some_and(|f| board.contains(&f))));
    assert!(device_state(&d, "hall-board", "online"));
}

/// For BENCHMARKS.md: `hallq call 3` to the last commit on a bus whose simulator holds every
/// answer for the wire time at 115200 baud (see the numbers with `--nocapture`).
#[test]
fn call_to_last_byte_at_115200() {
    let (bus, d) = start();
    bus.emulate_baud(Some(115_200));
    assert!(device_state(&d, "hall-board", "online"));
    d.ok(&["login", "3", "c3"]);
    for round in 0..5 {
        let number = d.ok(&["issue", "A"])["number"]
            .as_str()
            .unwrap()
            .to_string();
        if round > 0 {
            d.ok(&["finish", "3"]);
        }
        let bar = bar_calling(&number);
        let started = Instant::now();
        d.ok(&["call", "3"]);
        let cli = started.elapsed();
        assert!(bus.wait_until(WAIT, |s| s.frame(1).is_some_and(|f| bar.contains(&f))));
        let bar_done = started.elapsed();
        println!(
            "call {round}: CLI returned {:.0} ms, window bar committed {:.0} ms",
            cli.as_secs_f64() * 1e3,
            bar_done.as_secs_f64() * 1e3
        );
    }
}
