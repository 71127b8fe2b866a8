//! Issue 9's promise at the drivers' level: over a thousand key presses from 8 devices on one
//! bus, through a fault layer that drops 10 % of requests and answers, holds 5 % of answers past
//! the timeout, duplicates 2 % and corrupts 2 % of frames, every press is applied exactly once
//! and in each device's press order — also with devices power-cycled (new epochs) and with the
//! daemon's stand-in crashing between applying a batch and answering it, then restarting with
//! only its durable marks (and a fresh bus task, as after a SIGKILL).

mod support;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use hallq_drivers::modbus::fault::Faults;
use hallq_drivers::modbus::{
    BusConfig, BusHandle, DeviceKind, FifoOnPowerCycle, InputConfig, InputSpec, KeyEvent, SimBus,
};
use support::{Line, StandIn, WAIT};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const DEVICES: u8 = 8;
const MARGIN: Duration = Duration::from_millis(30);

fn kind(unit: u8) -> DeviceKind {
    match unit % 3 {
        0 => DeviceKind::CallPad,
        1 => DeviceKind::Evaluator,
        _ => DeviceKind::KioskKeys,
    }
}

fn id(unit: u8) -> String {
    format!("dev-{unit}")
}

fn config(batches: mpsc::Sender<hallq_drivers::modbus::InputBatch>) -> BusConfig {
    let inputs = (1..=DEVICES)
        .map(|u| InputConfig::new(id(u), u, kind(u)))
        .collect();
    let mut c = BusConfig::new("faulty", Vec::new()).with_inputs(inputs, batches);
    c.answer_margin = MARGIN;
    c.retry_min = Duration::from_millis(10);
    c.retry_max = Duration::from_millis(100);
    c
}

/// One life of the "daemon": a bus task and the stand-in taking its batches.
fn start(line: &Line, daemon: &StandIn) -> (BusHandle, JoinHandle<()>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(8);
    let (bus, task) = line.spawn(config(tx));
    let stand_in = daemon.run(rx, |_| {});
    (bus, task, stand_in)
}

/// What the test pressed, per unit, in press order.
type Pressed = BTreeMap<u8, Vec<(u16, KeyEvent)>>;

/// Presses `n` keys spread over the devices; at the given press counts runs `at` (a power
/// cycle, a crash). A press the device refuses (FIFO full) is tried again once it has room.
async fn press(sim: &SimBus, n: usize, seed: u64, mut at: impl AsyncFnMut(usize)) -> Pressed {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut pressed = Pressed::new();
    let mut done = 0;
    while done < n {
        at(done).await;
        let unit = rng.u8(1..=DEVICES);
        let (key, value) = (rng.u16(1..=12), rng.u16(..));
        match sim.press(unit, key, value) {
            Some(p) => {
                pressed.entry(unit).or_default().push(p);
                done += 1;
            }
            None => {
                assert!(
                    sim.wait_until(WAIT, |s| s.waiting(unit) < 16).await,
                    "unit {unit} never drained"
                );
            }
        }
        // The pace of the presses: a busy hall, several presses a second per device.
        tokio::time::sleep(Duration::from_millis(rng.u64(0..4))).await;
    }
    pressed
}

/// Every press applied once, in press order, per device; and the devices drained.
async fn check(sim: &SimBus, daemon: &StandIn, pressed: &Pressed) {
    let total: usize = pressed.values().map(Vec::len).sum();
    assert!(
        daemon.wait_applied(total, WAIT).await,
        "applied {} of {total}",
        daemon.durable.lock().unwrap().applied.len()
    );
    for unit in 1..=DEVICES {
        let want = pressed.get(&unit).cloned().unwrap_or_default();
        let got = daemon.applied(&id(unit));
        assert_eq!(
            got.len(),
            want.len(),
            "unit {unit}: applied {} of {} presses",
            got.len(),
            want.len()
        );
        assert_eq!(got, want, "unit {unit}");
    }
    let all = daemon.durable.lock().unwrap().applied.len();
    assert_eq!(all, total, "applied more than pressed");
    assert!(
        sim.wait_until(WAIT, |s| (1..=DEVICES).all(|u| s.waiting(u) == 0))
            .await,
        "every applied press is acked in the end"
    );
}

fn devices(seed: u64) -> SimBus {
    let sim = SimBus::with_seed(seed);
    for unit in 1..=DEVICES {
        sim.add_input(unit, kind(unit), InputSpec::default());
    }
    sim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_1000_presses_through_a_faulty_line_with_two_power_cycles() {
    let sim = devices(1);
    let line = Line::start(&sim, Some((Faults::issue_9(3 * MARGIN), 42)));
    let daemon = StandIn::default();
    let (bus, _task, _stand_in) = start(&line, &daemon);
    let pressed = press(&sim, 1100, 7, async |done| {
        if done == 350 || done == 750 {
            // The FIFO survives (FRAM): its events keep the old epoch and come first.
            let lost = sim.power_cycle(if done == 350 { 3 } else { 6 }, FifoOnPowerCycle::Keep);
            assert!(lost.is_empty());
        }
    })
    .await;
    check(&sim, &daemon, &pressed).await;
    let epochs: HashSet<u16> = pressed[&3].iter().map(|(e, _)| *e).collect();
    assert_eq!(epochs.len(), 2, "unit 3 pressed in two epochs");
    // The faults really happened, and the host saw them as garbage where they were.
    let faults = line.fault.as_ref().unwrap().counts();
    assert!(
        faults.dropped_requests > 10 && faults.dropped_answers > 10,
        "{faults:?}"
    );
    assert!(
        faults.late > 5 && faults.duplicated > 0 && faults.corrupted > 0,
        "{faults:?}"
    );
    let garbage: u64 = (1..=DEVICES)
        .map(|u| bus.stats(&id(u)).unwrap().borrow().garbage.bad_crc)
        .sum();
    assert!(garbage > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_crashes_after_applying_and_restarts_from_its_durable_marks() {
    let sim = devices(2);
    let line = Line::start(&sim, Some((Faults::issue_9(3 * MARGIN), 43)));
    let daemon = StandIn::default();
    let mut life = Some(start(&line, &daemon));
    let mut crashes = 0;
    let pressed = press(&sim, 1000, 8, async |done| {
        if done % 200 != 100 {
            return;
        }
        // The next batch is applied, then the daemon dies before answering it; its bus task
        // dies with it (SIGKILL). A new life starts from the durable marks alone.
        let (bus, task, stand_in) = life.take().unwrap();
        daemon.crash_next.store(true, Ordering::SeqCst);
        let _ = stand_in.await;
        task.abort();
        let _ = task.await;
        drop(bus);
        crashes += 1;
        if done == 500 {
            sim.power_cycle(2, FifoOnPowerCycle::Keep);
        }
        life = Some(start(&line, &daemon));
    })
    .await;
    assert_eq!(crashes, 5);
    check(&sim, &daemon, &pressed).await;
    // The batches applied just before each crash were never acked: they came again, and the
    // durable marks kept them from being applied twice.
    assert!(daemon.skipped.load(Ordering::SeqCst) >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cycle_that_loses_the_fifo_loses_only_unapplied_presses_never_doubles_one() {
    let sim = devices(3);
    let line = Line::start(&sim, Some((Faults::issue_9(3 * MARGIN), 44)));
    let daemon = StandIn::default();
    let (_bus, _task, _stand_in) = start(&line, &daemon);
    let mut lost = Vec::new();
    let pressed = press(&sim, 300, 9, async |done| {
        if done == 100 || done == 200 {
            lost.extend(
                sim.power_cycle(5, FifoOnPowerCycle::Lose)
                    .into_iter()
                    .map(|(e, ev)| (5u8, e, ev)),
            );
        }
    })
    .await;
    // Every press is applied once, except lost ones that had not been applied yet.
    let lost: HashSet<(u8, u16, u16)> = lost.iter().map(|(u, e, ev)| (*u, *e, ev.seq)).collect();
    let expected: usize = pressed.values().map(Vec::len).sum::<usize>();
    assert!(
        sim.wait_until(WAIT, |s| (1..=DEVICES).all(|u| s.waiting(u) == 0))
            .await
    );
    for unit in 1..=DEVICES {
        let got = daemon.applied(&id(unit));
        let want: Vec<_> = pressed
            .get(&unit)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|(e, ev)| !lost.contains(&(unit, *e, ev.seq)) || got.contains(&(*e, *ev)))
            .collect();
        assert_eq!(got, want, "unit {unit}");
    }
    let applied = daemon.durable.lock().unwrap().applied.len();
    assert!(applied <= expected);
}
