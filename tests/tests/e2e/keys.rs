//! Key devices end to end (issue 9): the real binary applying call pads, evaluators and kiosk
//! keys on a pty RS-485 bus served by the drivers' simulator — through the fault layer, across
//! SIGKILLs and power cycles — with the window bar, the hall board and the pads showing the
//! result, refused presses saying why, and garbage counted per device.
//!
//! Everything is checked in what the devices show and in the store's event log (origin
//! `device <id>`), never in wall-clock times.

use std::collections::BTreeMap;
use std::time::Duration;

use hallq_display::{BoardSpec, PadScreenView, PadState};
use hallq_drivers::modbus::fault::Faults;
use hallq_drivers::modbus::pad::TextSize;
use hallq_drivers::modbus::{DeviceKind, FifoOnPowerCycle, InputSpec, KeyEvent};
use hallq_tests::util::modbus_sim::ModbusBus;
use hallq_tests::util::{frames, Daemon, HallSpec, WindowSpec};

const WAIT: Duration = Duration::from_secs(30);

/// One `[[devices]]` table of a device on the bus at `path`.
fn on_bus(id: &str, kind: &str, place: &str, unit: u8, path: &str, extra: &str) -> String {
    format!(
        "[[devices]]\nid = \"{id}\"\nkind = \"{kind}\"\n{place}\nprotocol = \"modbus\"\n\
         address = {unit}\n{extra}\ntransport = {{ type = \"serial\", path = \"{path}\", baud = 115200 }}\n\n"
    )
}

fn text_pad() -> InputSpec {
    InputSpec {
        text: TextSize {
            lines: 2,
            columns: 16,
        },
        leds: 5,
        ..InputSpec::default()
    }
}

// ---- Every press exactly once, whatever the bus and the daemon do. ----------------------------

const KIOSK_UNITS: u8 = 7;
const PAD_UNIT: u8 = 8;
const PRESSES: usize = 1100;
const BUTTONS: [&str; 3] = ["A", "B", "C"];

/// Seven kiosk keys (each press issues a ticket of its button's service) and a call pad whose
/// presses are recalls (each recorded with its count), so a press applied twice or lost shows
/// in the event log, and so does one applied out of order.
fn exactly_once_hall(path: &str) -> HallSpec {
    let mut extra = String::from("[numbering]\ndigits = 4\n\n[policy]\nrecall_limit = 1000\n\n");
    for unit in 1..=KIOSK_UNITS {
        let keys = "buttons = [\"A\", \"B\", \"C\"]\npoll_ms = 20";
        extra += &on_bus(
            &format!("keys-{unit}"),
            "kiosk_keys",
            "kiosk = \"k\"",
            unit,
            path,
            keys,
        );
    }
    extra += &on_bus(
        "pad-1",
        "caller",
        "window = 1",
        PAD_UNIT,
        path,
        "poll_ms = 20",
    );
    HallSpec::one_window(extra)
}

/// What happens during the run besides the presses.
#[derive(Clone, Copy)]
enum Event {
    Kill,
    PowerCycle(u8, FifoOnPowerCycle),
}

/// Presses [`PRESSES`] keys over the 8 devices through the fault layer, doing `events` at the
/// given press counts, then checks the event log: every press not lost in a power cycle is
/// applied exactly once, in each device's press order.
fn presses_are_applied_exactly_once(events: &[(usize, Event)], seed: u64) {
    let bus = ModbusBus::start_with_faults(Faults::issue_9(Duration::from_millis(300)), seed);
    for unit in 1..=PAD_UNIT {
        let kind = if unit == PAD_UNIT {
            DeviceKind::CallPad
        } else {
            DeviceKind::KioskKeys
        };
        bus.add_input(unit, kind, InputSpec::default());
    }
    let path = bus.path.display().to_string();
    let mut d = Daemon::start_new(&exactly_once_hall(&path));
    d.ok(&["login", "1", "c1"]);
    d.ok(&["issue", "A"]);
    d.ok(&["call", "1"]);

    let mut rng = seed;
    let mut next = |n: u64| {
        // xorshift: the same presses for the same seed.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut pressed: BTreeMap<u8, Vec<(u16, KeyEvent)>> = BTreeMap::new();
    let mut lost: Vec<(u8, u16, KeyEvent)> = Vec::new();
    let mut done = 0;
    while done < PRESSES {
        for (_, event) in events.iter().filter(|(at, _)| *at == done) {
            match *event {
                Event::Kill => {
                    d.kill();
                    d.start();
                }
                Event::PowerCycle(unit, fifo) => {
                    let gone = bus.power_cycle(unit, fifo);
                    lost.extend(gone.into_iter().map(|(epoch, e)| (unit, epoch, e)));
                }
            }
        }
        let unit = 1 + next(u64::from(PAD_UNIT)) as u8;
        let key = if unit == PAD_UNIT {
            2
        } else {
            1 + next(3) as u16
        };
        match bus.press(unit, key, 0) {
            Some(p) => {
                pressed.entry(unit).or_default().push(p);
                done += 1;
            }
            None => assert!(
                bus.wait_until(WAIT, |s| s.waiting(unit) < 32),
                "unit {unit}'s FIFO never drained"
            ),
        }
    }
    assert!(
        bus.wait_until(Duration::from_secs(120), |s| (1..=PAD_UNIT)
            .all(|u| s.waiting(u) == 0)),
        "every press acknowledged"
    );
    let counts = bus.fault_counts();
    assert!(
        counts.dropped_requests > 0 && counts.dropped_answers > 0 && counts.late > 0,
        "the faults happened: {counts:?}"
    );
    assert!(
        counts.duplicated > 0 && counts.corrupted > 0,
        "the faults happened: {counts:?}"
    );

    let log = d.events();
    // Each press in order, and whether it was still in the FIFO when the device lost it. Such a
    // press may have been applied all the same: the host read and applied it, and the power went
    // before its acknowledgement reached the device.
    let presses = |unit: u8| -> Vec<(u16, bool)> {
        pressed[&unit]
            .iter()
            .map(|(epoch, e)| (e.key, lost.contains(&(unit, *epoch, *e))))
            .collect()
    };
    let mut applied = 0;
    for unit in 1..=KIOSK_UNITS {
        let origin = format!("device keys-{unit}");
        let services: Vec<String> = log
            .iter()
            .filter(|(kind, o, _)| kind == "ticket_issued" && o.as_deref() == Some(&origin))
            .map(|(_, _, body)| body["service"].as_str().unwrap().to_string())
            .collect();
        let wanted: Vec<(String, bool)> = presses(unit)
            .into_iter()
            .map(|(k, lost)| (BUTTONS[usize::from(k) - 1].to_string(), lost))
            .collect();
        assert!(
            applied_in_order(&services, &wanted),
            "keys-{unit}: once each, in press order: applied {services:?}, pressed {wanted:?}"
        );
        applied += services.len();
    }
    let recalls: Vec<u64> = log
        .iter()
        .filter(|(kind, o, _)| kind == "ticket_recalled" && o.as_deref() == Some("device pad-1"))
        .map(|(_, _, body)| body["recall_count"].as_u64().unwrap())
        .collect();
    let kept = presses(PAD_UNIT).iter().filter(|(_, lost)| !lost).count();
    let all = presses(PAD_UNIT).len();
    assert!(
        (kept..=all).contains(&recalls.len())
            && recalls.iter().copied().eq(1..=recalls.len() as u64),
        "pad-1: every recall once, counted in order: {} recalls of {kept}..={all}",
        recalls.len()
    );
    applied += recalls.len();
    assert!(applied >= 1000, "{applied} presses applied");
    assert!(
        (PRESSES - lost.len()..=PRESSES).contains(&applied),
        "{applied} applied of {PRESSES} presses, {} of them lost in a power cycle",
        lost.len()
    );
    let status = d.status();
    let garbage: u64 = (1..=KIOSK_UNITS)
        .map(|u| {
            status["devices"][format!("keys-{u}")]["garbage"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert!(garbage > 0, "corrupted frames are counted per device");
}

/// Whether `applied` is `pressed` in order with nothing twice, every press kept and any of the
/// lost ones (`true`) left out. (Keys repeat, so which presses were left out is searched for:
/// `fits[i][j]` says whether the first `i` presses can give the first `j` applied.)
fn applied_in_order(applied: &[String], pressed: &[(String, bool)]) -> bool {
    let mut fits = vec![vec![false; applied.len() + 1]; pressed.len() + 1];
    fits[0][0] = true;
    for (i, (key, lost)) in pressed.iter().enumerate() {
        for j in 0..=applied.len() {
            if !fits[i][j] {
                continue;
            }
            if *lost {
                fits[i + 1][j] = true;
            }
            if applied.get(j) == Some(key) {
                fits[i + 1][j + 1] = true;
            }
        }
    }
    fits[pressed.len()][applied.len()]
}

#[test]
fn over_a_thousand_presses_through_a_faulty_bus_are_applied_once_in_order() {
    presses_are_applied_exactly_once(&[], 0x9e37_79b9);
}

#[test]
fn the_same_across_five_sigkills_and_two_power_cycles() {
    let events = [
        (150, Event::Kill),
        (250, Event::PowerCycle(3, FifoOnPowerCycle::Keep)),
        (330, Event::Kill),
        (510, Event::Kill),
        (600, Event::PowerCycle(5, FifoOnPowerCycle::Lose)),
        (690, Event::Kill),
        (870, Event::Kill),
    ];
    presses_are_applied_exactly_once(&events, 0x5eed_0009);
}

// ---- What a press does, and what the devices show. ---------------------------------------------

const BAR: u8 = 1;
const BOARD: u8 = 2;
const PAD: u8 = 3;
const RATE: u8 = 4;
const KEYS: u8 = 5;
const TEXT_PAD: u8 = 6;

fn bar_spec() -> BoardSpec {
    BoardSpec::from_config("128x32", 1).unwrap()
}

fn board_spec() -> BoardSpec {
    BoardSpec::from_config("256x64", 2).unwrap()
}

fn pad_spec() -> BoardSpec {
    BoardSpec::from_config("128x64", 1).unwrap()
}

/// Window 3 with its bar, pixel-screen call pad and evaluator; window 4 with a text call pad;
/// the hall board; kiosk keys at kiosk 2; sim printers at kiosks 1 and 2.
fn start_hall() -> (ModbusBus, Daemon) {
    let bus = ModbusBus::start();
    bus.add_board(BAR, DeviceKind::WindowDisplay, bar_spec());
    bus.add_board(BOARD, DeviceKind::HallBoard, board_spec());
    let pad = InputSpec {
        screen: Some(pad_spec()),
        leds: 5,
        ..InputSpec::default()
    };
    bus.add_input(PAD, DeviceKind::CallPad, pad);
    let rate = InputSpec {
        leds: 2,
        ..text_pad()
    };
    bus.add_input(RATE, DeviceKind::Evaluator, rate);
    let keys = InputSpec {
        leds: 3,
        ..text_pad()
    };
    bus.add_input(KEYS, DeviceKind::KioskKeys, keys);
    bus.add_input(TEXT_PAD, DeviceKind::CallPad, text_pad());
    let path = bus.path.display().to_string();
    let mut extra = String::new();
    let w3 = "window = 3";
    extra += &on_bus(
        "window-3-display",
        "window_display",
        w3,
        BAR,
        &path,
        "size = \"128x32\"",
    );
    extra += &on_bus(
        "hall-board",
        "hall_board",
        "",
        BOARD,
        &path,
        "size = \"256x64\"\ncolors = 2",
    );
    extra += &on_bus("pad-3", "caller", w3, PAD, &path, "size = \"128x64\"");
    extra += &on_bus("rate-3", "evaluator", w3, RATE, &path, "");
    let buttons = "buttons = [\"A\", \"green:B\", \"C\"]";
    extra += &on_bus(
        "keys-2",
        "kiosk_keys",
        "kiosk = \"kiosk-2\"",
        KEYS,
        &path,
        buttons,
    );
    extra += &on_bus("pad-4", "caller", "window = 4", TEXT_PAD, &path, "");
    for kiosk in [1, 2] {
        extra += &format!(
            "[[devices]]\nid = \"kiosk-{kiosk}-printer\"\nkind = \"printer\"\nkiosk = \"kiosk-{kiosk}\"\n\
             protocol = \"escpos\"\nstatus_max_age_ms = 0\n\
             transport = {{ type = \"sim\", dir = \"sim/kiosk-{kiosk}-printer\" }}\n\n"
        );
    }
    let spec = HallSpec {
        windows: vec![
            WindowSpec {
                number: 3,
                serves: vec![vec!["A"], vec!["B"]],
                kind: "standard",
            },
            WindowSpec {
                number: 4,
                serves: vec![vec!["C"]],
                kind: "standard",
            },
        ],
        extra,
        ..HallSpec::default()
    };
    let d = Daemon::start_new(&spec);
    for id in ["pad-3", "rate-3", "keys-2", "pad-4", "window-3-display"] {
        assert!(device_online(&d, id), "{id}");
    }
    (bus, d)
}

fn device_online(d: &Daemon, id: &str) -> bool {
    hallq_tests::util::holds_within(WAIT, || d.status()["devices"][id]["state"] == "online")
}

/// Waits until the text pad at `unit` shows `lines`.
fn text_shows(bus: &ModbusBus, unit: u8, lines: &[&str]) -> bool {
    bus.wait_until(WAIT, |s| s.text(unit) == lines)
}

#[test]
fn a_pad_press_calls_the_next_ticket_and_the_bar_the_board_and_the_pad_show_it() {
    let (bus, d) = start_hall();
    bus.press(PAD, 11, 1024).unwrap(); // login: clerk 1024
    bus.press(PAD, 1, 0).unwrap(); // call next: nobody waits yet
    assert!(bus.wait_until(WAIT, |s| s.waiting(PAD) == 0));
    d.ok(&["issue", "A"]);
    d.ok(&["issue", "B", "--green"]);
    bus.press(PAD, 1, 0).unwrap();
    // The policy's choice, and its reason: what `hallq call 3` records for a green ticket.
    let want = frames::window_bar_calling(bar_spec(), 3, "B001");
    assert!(
        bus.wait_until(WAIT, |s| s.frame(BAR).is_some_and(|f| want.contains(&f))),
        "window bar shows:\n{}",
        bus.frame(BAR).unwrap().to_ascii()
    );
    let waiting = [
        ("A", "综合受理", 1),
        ("B", "社保医保", 0),
        ("C", "不动产登记", 0),
    ];
    let board = frames::hall_board(board_spec(), &[("B001", 3)], &waiting);
    assert!(
        bus.wait_until(WAIT, |s| s.frame(BOARD).is_some_and(|f| board.contains(&f))),
        "hall board shows:\n{}",
        bus.frame(BOARD).unwrap().to_ascii()
    );
    let screen = frames::pad_screen(
        pad_spec(),
        PadScreenView {
            window: 3,
            window_name: "3号窗口".into(),
            state: PadState::Called,
            current: Some("B001".into()),
            waiting: 1,
            last_error: None,
        },
    );
    assert!(
        bus.wait_until(WAIT, |s| s.frame(PAD) == Some(screen.clone())),
        "pad screen shows:\n{}",
        bus.frame(PAD).unwrap().to_ascii()
    );
    // LEDs: window open, a ticket called.
    assert!(bus.wait_until(WAIT, |s| s.device(PAD).unwrap().leds == 0b00011));
    let pad = d.events_from("pad-3");
    let kinds: Vec<&str> = pad.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["clerk_login", "ticket_called"],
        "the refused press left nothing"
    );
    let called = &pad[1].1;
    assert_eq!(
        (
            called["number"].as_str(),
            called["reason"].as_str(),
            called["clerk"].as_str()
        ),
        (Some("B001"), Some("green"), Some("1024"))
    );
    // The same as the CLI's call: the next one by the same rules at the same window.
    d.ok(&["finish", "3"]);
    let by_cli = d.ok(&["call", "3"]);
    assert_eq!(
        (by_cli["number"].as_str(), by_cli["reason"].as_str()),
        (Some("A001"), Some("fifo"))
    );
}

#[test]
fn an_evaluator_press_rates_the_served_ticket_once() {
    let (bus, d) = start_hall();
    d.ok(&["login", "3", "c3"]);
    d.ok(&["issue", "A"]);
    d.ok(&["call", "3"]);
    d.ok(&["start", "3"]);
    assert!(text_shows(&bus, RATE, &["请评价", "A001"]));
    assert!(bus.wait_until(WAIT, |s| s.device(RATE).unwrap().leds == 0b01));
    bus.press(RATE, 4, 0).unwrap();
    assert!(text_shows(&bus, RATE, &["谢谢您的评价", "A001 满意"]));
    bus.press(RATE, 5, 0).unwrap(); // a second press: refused, the first one counts
    assert!(text_shows(&bus, RATE, &["已评价", ""]));
    d.ok(&["finish", "3"]);
    let rated: Vec<_> = d
        .events_from("rate-3")
        .into_iter()
        .filter(|(k, _)| k == "evaluation_recorded")
        .map(|(_, body)| (body["number"].clone(), body["level"].clone()))
        .collect();
    assert_eq!(rated, [(serde_json::json!("A001"), serde_json::json!(4))]);
}

#[test]
fn a_kiosk_key_prints_at_its_own_kiosk_and_not_without_paper() {
    let (bus, d) = start_hall();
    assert!(bus.wait_until(WAIT, |s| s.device(KEYS).unwrap().leds == 0b111));
    bus.press(KEYS, 2, 0).unwrap(); // green:B
    assert!(text_shows(&bus, KEYS, &["B001 请取票", "前面0人"]));
    let printed = |kiosk: u32| -> Vec<String> {
        let dir = d.dir.path().join(format!("sim/kiosk-{kiosk}-printer"));
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".txt"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    assert_eq!(printed(2), ["0001-B001.txt"]);
    assert!(printed(1).is_empty(), "not at the other kiosk");
    let issued = d.events_from("keys-2");
    assert_eq!(issued.len(), 1);
    assert_eq!(
        (issued[0].1["class"].as_str(), issued[0].1["kiosk"].as_str()),
        (Some("green"), Some("kiosk-2"))
    );

    // Out of paper: the printer gate refuses before a number is used; the keys say why.
    let status = d.dir.path().join("sim/kiosk-2-printer/status");
    std::fs::write(&status, "paper_out").unwrap();
    bus.press(KEYS, 1, 0).unwrap();
    assert!(text_shows(&bus, KEYS, &["打印机缺纸", "请稍后再试"]));
    assert_eq!(d.events_from("keys-2").len(), 1, "no ticket issued");
    assert_eq!(d.status()["waiting"]["A"], 0);
    std::fs::remove_file(&status).unwrap();
    bus.press(KEYS, 1, 0).unwrap();
    assert!(text_shows(&bus, KEYS, &["A001 请取票", "前面0人"]));
    assert_eq!(printed(2), ["0001-B001.txt", "0002-A001.txt"]);
}

#[test]
fn refused_presses_change_nothing_and_the_pad_says_why() {
    let (bus, d) = start_hall();
    bus.press(TEXT_PAD, 11, 7).unwrap();
    assert!(text_shows(&bus, TEXT_PAD, &["4号窗口 空闲", "等候 0人"]));
    let before = d.events().len();
    bus.press(TEXT_PAD, 1, 0).unwrap();
    assert!(text_shows(&bus, TEXT_PAD, &["4号窗口 空闲", "无人等候"]));
    // The refused LED is lit with the window's open LED.
    assert!(bus.wait_until(WAIT, |s| s.device(TEXT_PAD).unwrap().leds == 0b10001));
    d.ok(&["issue", "C"]);
    bus.press(TEXT_PAD, 9, 0).unwrap(); // pause
    assert!(text_shows(&bus, TEXT_PAD, &["4号窗口 暂停", "等候 1人"]));
    bus.press(TEXT_PAD, 1, 0).unwrap();
    assert!(text_shows(&bus, TEXT_PAD, &["4号窗口 暂停", "暂停中"]));
    bus.press(TEXT_PAD, 42, 0).unwrap(); // no such key
    assert!(text_shows(&bus, TEXT_PAD, &["4号窗口 暂停", "无效按键"]));
    assert!(
        bus.wait_until(WAIT, |s| s.waiting(TEXT_PAD) == 0),
        "all acked"
    );
    let kinds: Vec<String> = d.events()[before..]
        .iter()
        .map(|(k, _, _)| k.clone())
        .collect();
    assert_eq!(
        kinds,
        ["ticket_issued", "window_paused"],
        "refusals change nothing"
    );
    let status = d.status();
    assert_eq!(status["waiting"]["C"], 1);
    assert_eq!(status["windows"][1]["state"], "paused");
    let unknown = d
        .logs()
        .iter()
        .filter(|l| l.contains("key press ignored") && l.contains("pad-4"))
        .count();
    assert_eq!(unknown, 1, "an unknown key is logged once");
    bus.press(TEXT_PAD, 42, 0).unwrap();
    bus.press(TEXT_PAD, 10, 0).unwrap(); // resume
    assert!(text_shows(&bus, TEXT_PAD, &["4号窗口 空闲", "等候 1人"]));
    let unknown = d
        .logs()
        .iter()
        .filter(|l| l.contains("key press ignored") && l.contains("pad-4"))
        .count();
    assert_eq!(unknown, 1, "still once per device and code");
}

#[test]
fn garbage_from_one_device_is_counted_and_logged_once_while_the_others_are_served() {
    let (bus, d) = start_hall();
    // Faulty firmware: EVENT_COUNT 9, and later a seq that jumps backwards within a read.
    let mut count_above_8 = vec![0x1234, 9];
    count_above_8.resize(26, 0);
    bus.sim.with_device(RATE, |dev| {
        dev.keys.as_mut().unwrap().raw_block = Some(count_above_8.clone());
    });
    let gone = |d: &Daemon| {
        d.status()["devices"]["rate-3"]["garbage"]
            .as_u64()
            .unwrap_or(0)
    };
    wait_until("garbage counted in status", || gone(&d) >= 3);
    // The others are served meanwhile.
    bus.press(TEXT_PAD, 11, 9).unwrap();
    assert!(text_shows(&bus, TEXT_PAD, &["4号窗口 空闲", "等候 0人"]));
    let mut backwards = vec![0x1234, 2, 5, 1, 0, 4, 1, 0];
    backwards.resize(26, 0);
    bus.sim.with_device(RATE, |dev| {
        dev.keys.as_mut().unwrap().raw_block = Some(backwards.clone());
    });
    let more = gone(&d) + 2;
    wait_until("the backwards seqs counted", || gone(&d) >= more);
    let lines: Vec<String> = d
        .logs()
        .into_iter()
        .filter(|l| l.contains("garbage on the bus"))
        .collect();
    assert_eq!(lines.len(), 1, "one line per burst: {lines:#?}");
    assert!(lines[0].contains("device=rate-3"), "{}", lines[0]);
    assert_eq!(d.status()["devices"]["pad-4"]["garbage"], 0);
    assert!(
        d.events_from("rate-3").is_empty(),
        "garbage applies nothing"
    );
}

// ---- Scanners. -----------------------------------------------------------------------------------

/// A pickup window (6) with its scanner and kiosk 1 with its printer and scanner, all simulated:
/// a line appended to a scanner's `scan` file is one scanned code.
fn scanner_hall() -> Daemon {
    let mut spec = HallSpec::default();
    spec.windows.push(WindowSpec {
        number: 6,
        serves: vec![vec!["A"]],
        kind: "pickup",
    });
    spec.extra += "[[devices]]\nid = \"kiosk-1-printer\"\nkind = \"printer\"\nkiosk = \"kiosk-1\"\n\
         protocol = \"escpos\"\nstatus_max_age_ms = 0\n\
         transport = { type = \"sim\", dir = \"sim/kiosk-1-printer\" }\n\n\
         [[devices]]\nid = \"pickup-scanner\"\nkind = \"scanner\"\nwindow = 6\nprotocol = \"lines\"\n\
         transport = { type = \"sim\", dir = \"sim/pickup-scanner\" }\n\n\
         [[devices]]\nid = \"kiosk-1-scanner\"\nkind = \"scanner\"\nkiosk = \"kiosk-1\"\n\
         protocol = \"lines\"\ntransport = { type = \"sim\", dir = \"sim/kiosk-1-scanner\" }\n";
    let d = Daemon::start_new(&spec);
    for id in ["pickup-scanner", "kiosk-1-scanner"] {
        assert!(device_online(&d, id), "{id}");
    }
    d
}

fn scan(d: &Daemon, scanner: &str, code: &str) {
    use std::io::Write;
    let path = d.dir.path().join(format!("sim/{scanner}/scan"));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    writeln!(f, "{code}").unwrap();
}

fn wait_until(what: &str, done: impl FnMut() -> bool) {
    hallq_tests::util::wait_until(what, WAIT, done);
}

#[test]
fn a_case_scanned_at_the_pickup_window_waits_for_its_handoff_once() {
    let d = scanner_hall();
    scan(&d, "pickup-scanner", "ZW2026-0042");
    wait_until("the scan recorded", || {
        !d.events_from("pickup-scanner").is_empty()
    });
    let scanned = d.events_from("pickup-scanner");
    assert_eq!(scanned.len(), 1, "{scanned:?}");
    assert_eq!(scanned[0].1["case_no"], "ZW2026-0042", "{scanned:?}");
    assert_eq!(scanned[0].1["window"], 6, "{scanned:?}");
    // Scanned twice: refused (the hall logs the refusal's code), nothing more recorded.
    scan(&d, "pickup-scanner", "ZW2026-0042");
    assert!(
        d.wait_for_log("refusal=\"already_scanned\"", WAIT)
            .is_some(),
        "{:?}",
        d.logs()
    );
    assert_eq!(d.events_from("pickup-scanner").len(), 1);
    // The clerk records the handoff of the scanned case at the scanning window.
    let done = d.ok(&[
        "handoff",
        "pickup",
        "--case",
        "ZW2026-0042",
        "--title",
        "不动产权证书",
        "--recipient",
        "王小明",
        "--phone",
        "13912345678",
    ]);
    assert_eq!(done["window"], 6, "{done}");
}

#[test]
fn a_reservation_code_scanned_at_a_kiosk_checks_in_and_prints_there() {
    let d = scanner_hall();
    let Some(code) = d.reserve_soon("B", "13812341234") else {
        println!("skipped near midnight: the slot would be tomorrow");
        return;
    };
    // An unknown code prints nothing.
    scan(&d, "kiosk-1-scanner", "999999");
    assert!(
        d.wait_for_log("no such reservation today", WAIT).is_some(),
        "{:?}",
        d.logs()
    );
    // The booking's own code: no phone digits asked, the ticket prints at this kiosk.
    scan(&d, "kiosk-1-scanner", &code);
    wait_until("the check-in", || {
        !d.events_from("kiosk-1-scanner").is_empty()
    });
    let issued = d.events_from("kiosk-1-scanner");
    assert_eq!(
        (issued[0].1["class"].as_str(), issued[0].1["kiosk"].as_str()),
        (Some("reservation"), Some("kiosk-1")),
        "{issued:?}"
    );
    let printed = d.dir.path().join("sim/kiosk-1-printer");
    wait_until("the ticket printed", || {
        std::fs::read_dir(&printed).is_ok_and(|r| {
            r.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with("B001.txt"))
        })
    });
}
