//! Call pads, evaluators and kiosk keys on the bus task, against the simulator on a pty: presses
//! reach the daemon's stand-in in order and are acked after it applied them; pad screens, text
//! and LEDs; a power-cycled pad; a stuck daemon holds up only its device; garbage on the bus is
//! counted per device while the other devices keep being served.

mod support;

use std::time::Duration;

use hallq_display::{render, AnyFrame, BoardSpec, PadScreenView, PadState, View};
use hallq_drivers::modbus::fault::Faults;
use hallq_drivers::modbus::keys::EventBlock;
use hallq_drivers::modbus::pad::{call_pad_leds, pad_text, TextSize};
use hallq_drivers::modbus::{
    AppliedMark, BoardConfig, BusConfig, BusHandle, DeviceKind, DeviceStats, FifoOnPowerCycle,
    InputConfig, InputSpec, KeyEvent, PadText, SimBus,
};
use hallq_drivers::HealthState;
use support::{Line, StandIn, WAIT};
use tokio::sync::mpsc;

fn screen() -> BoardSpec {
    BoardSpec::from_config("128x32", 1).unwrap()
}

fn pad_view(current: &str, waiting: u32) -> PadScreenView {
    PadScreenView {
        window: 3,
        window_name: String::new(),
        state: PadState::Called,
        current: Some(current.into()),
        waiting,
        last_error: None,
    }
}

fn pad_frame(current: &str, waiting: u32) -> AnyFrame {
    render(&View::PadScreen(pad_view(current, waiting)), screen(), 0)
}

const TEXT: TextSize = TextSize {
    lines: 2,
    columns: 16,
};

/// Unit 1: call pad with a 128x32 screen; 2: call pad with 2x16 text and 5 LEDs; 3: evaluator;
/// 4: kiosk keys; 5: a window bar.
fn hall(sim: &SimBus) {
    let pixel = InputSpec {
        screen: Some(screen()),
        ..InputSpec::default()
    };
    sim.add_input(1, DeviceKind::CallPad, pixel);
    let text = InputSpec {
        text: TEXT,
        leds: 5,
        ..InputSpec::default()
    };
    sim.add_input(2, DeviceKind::CallPad, text);
    sim.add_input(3, DeviceKind::Evaluator, InputSpec::default());
    sim.add_input(4, DeviceKind::KioskKeys, InputSpec::default());
    sim.add_board(5, DeviceKind::WindowDisplay, screen());
}

fn config(batches: mpsc::Sender<InputBatch>) -> BusConfig {
    let mut pad = InputConfig::new("pad-1", 1, DeviceKind::CallPad);
    pad.screen = Some(screen());
    let inputs = vec![
        pad,
        InputConfig::new("pad-2", 2, DeviceKind::CallPad),
        InputConfig::new("eval-3", 3, DeviceKind::Evaluator),
        InputConfig::new("keys-4", 4, DeviceKind::KioskKeys),
    ];
    let bar = BoardConfig {
        device_id: "bar-5".into(),
        unit: 5,
        kind: DeviceKind::WindowDisplay,
        spec: screen(),
    };
    let mut c = BusConfig::new("pty", vec![bar]).with_inputs(inputs, batches);
    c.answer_margin = Duration::from_millis(40);
    c.retry_min = Duration::from_millis(20);
    c.retry_max = Duration::from_millis(200);
    c.garbage_quiet = Duration::from_millis(300);
    c
}

use hallq_drivers::modbus::InputBatch;

struct Hall {
    sim: SimBus,
    line: Line,
    bus: BusHandle,
    daemon: StandIn,
}

fn start(faults: Option<(Faults, u64)>) -> Hall {
    let sim = SimBus::with_seed(17);
    hall(&sim);
    let line = Line::start(&sim, faults);
    let (tx, rx) = mpsc::channel(16);
    let (bus, _task) = line.spawn(config(tx));
    let daemon = StandIn::default();
    daemon.run(rx, |_| {});
    Hall {
        sim,
        line,
        bus,
        daemon,
    }
}

async fn online(bus: &BusHandle, id: &str) -> bool {
    let mut health = bus.health(id).unwrap();
    tokio::time::timeout(WAIT, health.wait_for(|h| h.state == HealthState::Online))
        .await
        .is_ok_and(|r| r.is_ok())
}

async fn stats_until(bus: &BusHandle, id: &str, f: impl Fn(&DeviceStats) -> bool) -> DeviceStats {
    let mut stats = bus.stats(id).unwrap();
    let reached = tokio::time::timeout(WAIT, stats.wait_for(|s| f(s)))
        .await
        .is_ok_and(|r| r.is_ok());
    assert!(reached, "{id}: {:?}", *stats.borrow());
    let s = stats.borrow().clone();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presses_are_applied_in_order_and_acked_after() {
    let h = start(None);
    let mut pressed = Vec::new();
    for (unit, key, value) in [
        (1, 11, 1024),
        (1, 1, 0),
        (2, 9, 0),
        (3, 5, 0),
        (4, 2, 0),
        (1, 4, 0),
    ] {
        let (epoch, event) = h.sim.press(unit, key, value).unwrap();
        pressed.push((unit, epoch, event));
    }
    assert!(h.daemon.wait_applied(6, WAIT).await);
    let pad1: Vec<(u16, KeyEvent)> = pressed
        .iter()
        .filter(|p| p.0 == 1)
        .map(|p| (p.1, p.2))
        .collect();
    assert_eq!(h.daemon.applied("pad-1"), pad1);
    assert_eq!(h.daemon.applied("eval-3").len(), 1);
    assert_eq!(h.daemon.applied("keys-4")[0].1.key, 2);
    // Every device drops what was applied: the host acked each one's last seq.
    assert!(
        h.sim
            .wait_until(WAIT, |s| (1..=4).all(|u| s.waiting(u) == 0))
            .await
    );
    let epoch = h.sim.device(1).unwrap().keys.unwrap().epoch;
    assert_eq!(h.sim.acks(1).last(), Some(&AppliedMark { epoch, seq: 3 }));
    let stats = h.bus.stats("pad-1").unwrap().borrow().clone();
    assert_eq!(stats.events_delivered, 3);
    assert_eq!(stats.garbage.total(), 0);
    assert_eq!(h.bus.inputs().count(), 4);
    assert_eq!(h.bus.boards().collect::<Vec<_>>(), ["bar-5"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pads_show_frames_text_and_leds_and_get_them_again_after_a_power_cycle() {
    let h = start(None);
    assert!(online(&h.bus, "pad-2").await);
    h.bus.show("pad-1", pad_frame("A012", 7)).unwrap();
    let text = pad_text(&pad_view("A012", 7), TEXT);
    h.bus
        .show_text("pad-2", PadText::CallPad(pad_view("A012", 7)))
        .unwrap();
    let leds = call_pad_leds(PadState::Called, false);
    h.bus.set_leds("pad-2", leds).unwrap();
    // A device without text or LEDs ignores them.
    h.bus
        .show_text("eval-3", PadText::Lines(vec!["x".into()]))
        .unwrap();
    h.bus.flush().await;
    assert_eq!(h.sim.frame(1), Some(pad_frame("A012", 7)));
    assert!(
        h.sim
            .wait_until(WAIT, |s| s.text(2) == text
                && s.device(2).unwrap().leds == leds)
            .await
    );
    assert_eq!(text, ["A012 已呼叫", "等候 7人"]);
    // Power cycles: screens go dark, text blank, LEDs off; the host notices the new epoch and
    // shows everything again.
    h.sim.power_cycle(1, FifoOnPowerCycle::Lose);
    h.sim.power_cycle(2, FifoOnPowerCycle::Lose);
    assert!(
        h.sim
            .wait_until(WAIT, |s| s.frame(1) == Some(pad_frame("A012", 7))
                && s.text(2) == text
                && s.device(2).unwrap().leds == leds)
            .await
    );
    h.bus.show("pad-1", pad_frame("A013", 6)).unwrap();
    h.bus.flush().await;
    assert_eq!(h.sim.frame(1), Some(pad_frame("A013", 6)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_daemon_holds_up_only_that_devices_keys() {
    let h = start(None);
    h.daemon.stuck.lock().unwrap().push("pad-2".into());
    h.sim.press(2, 1, 0).unwrap();
    assert!(
        stats_until(&h.bus, "pad-2", |s| s.events_delivered == 1)
            .await
            .events_delivered
            == 1
    );
    for n in 0..5u16 {
        h.sim.press(1, 1, n).unwrap();
        h.sim.press(3, 5, 0).unwrap();
        h.bus
            .show("bar-5", pad_frame(&format!("B{n:03}"), n.into()))
            .unwrap();
    }
    assert!(h.daemon.wait_applied(10, WAIT).await);
    h.bus.flush().await;
    assert_eq!(h.sim.frame(5), Some(pad_frame("B004", 4)));
    // pad-2's press is neither applied nor acked, and it is not polled again meanwhile.
    assert!(h.daemon.applied("pad-2").is_empty());
    assert_eq!(h.sim.waiting(2), 1);
    assert!(h.sim.acks(2).is_empty());
    assert_eq!(h.bus.stats("pad-2").unwrap().borrow().events_delivered, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_counted_per_device_and_the_others_keep_being_served() {
    let h = start(Some((Faults::NONE, 5)));
    assert!(online(&h.bus, "keys-4").await);
    // Faulty firmware on unit 3: an EVENT_COUNT of 9, then a seq that goes backwards.
    let mut count_9 = EventBlock::encode(0x0042, &[]);
    count_9[1] = 9;
    h.sim
        .with_device(3, |d| d.keys.as_mut().unwrap().raw_block = Some(count_9));
    let backwards = [5, 4].map(|seq| KeyEvent {
        seq,
        key: 5,
        value: 0,
    });
    let s = stats_until(&h.bus, "eval-3", |s| s.garbage.bad_events >= 3).await;
    assert_eq!(s.events_delivered, 0);
    let mut regs = EventBlock::encode(0x0042, &backwards[..1]);
    regs[1] = 2;
    regs[5..8].copy_from_slice(&[4, 5, 0]);
    h.sim
        .with_device(3, |d| d.keys.as_mut().unwrap().raw_block = Some(regs));
    let before = h.bus.stats("eval-3").unwrap().borrow().garbage.bad_events;
    stats_until(&h.bus, "eval-3", |s| s.garbage.bad_events > before).await;
    // Meanwhile unit 4 keeps working.
    h.sim.press(4, 1, 0).unwrap();
    assert!(h.daemon.wait_applied(1, WAIT).await);
    // Broken frames on the line: corrupted CRCs, answers cut short, answers from another unit.
    let fault = h.line.fault.as_ref().unwrap();
    for faults in [
        // Both ways: half the requests get through, half of their answers are broken.
        Faults {
            corrupt: 0.5,
            ..Faults::NONE
        },
        Faults {
            truncate: 1.0,
            ..Faults::NONE
        },
        Faults {
            wrong_unit: 1.0,
            ..Faults::NONE
        },
    ] {
        fault.set(faults);
        let before = h.bus.stats("keys-4").unwrap().borrow().garbage.total();
        stats_until(&h.bus, "keys-4", |s| s.garbage.total() > before).await;
    }
    fault.set(Faults::NONE);
    let g = h.bus.stats("keys-4").unwrap().borrow().garbage.clone();
    assert!(
        g.bad_crc > 0 && g.truncated > 0 && g.wrong_unit > 0,
        "{g:?}"
    );
    // The device comes back and its presses are applied; the faulty one is still reported.
    h.sim.press(4, 2, 0).unwrap();
    h.sim.press(1, 1, 0).unwrap();
    assert!(h.daemon.wait_applied(3, WAIT).await);
    assert!(h.bus.ping(Duration::from_secs(5)).await);
    assert!(h.daemon.applied("eval-3").is_empty());
    let mut health = h.bus.health("eval-3").unwrap();
    let degraded = tokio::time::timeout(
        WAIT,
        health.wait_for(|h| h.cause.as_deref() == Some("garbage_answer")),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    assert!(degraded, "{:?}", *health.borrow());
}
