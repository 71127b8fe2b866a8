//! The display bus task against the simulated boards on a pty pair: frames arrive, changed
//! rows after the first whole frame, only the newest pending frame is sent, a silent board is
//! reported and does not hold up the other, and a board that comes back gets the picture.

use std::io;
use std::time::Duration;

use hallq_display::{render, AnyFrame, BoardSpec, View, WindowBarState, WindowBarView};
use hallq_drivers::modbus::{
    spawn_bus, BoardConfig, BusConfig, BusHandle, DeviceKind, FifoOnPowerCycle, SimBus,
};
use hallq_drivers::HealthState;
use tokio_serial::SerialStream;

const WAIT: Duration = Duration::from_secs(10);

fn spec() -> BoardSpec {
    BoardSpec::from_config("64x16", 1).unwrap()
}

fn bar(window: u32, number: &str) -> AnyFrame {
    let view = View::WindowBar(WindowBarView {
        window,
        window_name: String::new(),
        state: WindowBarState::Calling {
            number: number.into(),
        },
        blink_on: false,
    });
    render(&view, spec(), 0)
}

fn board(id: &str, unit: u8) -> BoardConfig {
    BoardConfig {
        device_id: id.into(),
        unit,
        kind: DeviceKind::WindowDisplay,
        spec: spec(),
    }
}

/// A bus with boards `w1` (unit 1) and `w2` (unit 2), served by a simulator on a pty pair.
fn start(tune: impl FnOnce(&mut BusConfig)) -> (SimBus, BusHandle) {
    let sim = SimBus::new();
    sim.add_board(1, DeviceKind::WindowDisplay, spec());
    sim.add_board(2, DeviceKind::WindowDisplay, spec());
    let (master, slave) = SerialStream::pair().expect("pty pair");
    tokio::spawn(sim.clone().serve(master));
    let mut config = BusConfig::new("pty", vec![board("w1", 1), board("w2", 2)]);
    config.answer_margin = Duration::from_millis(60);
    config.retry_min = Duration::from_millis(20);
    config.retry_max = Duration::from_millis(200);
    tune(&mut config);
    let mut link = Some(slave);
    let (handle, _task) = spawn_bus(config, move || {
        let link = link.take();
        async move { link.ok_or_else(|| io::Error::other("the pty is gone")) }
    });
    (sim, handle)
}

async fn state(handle: &BusHandle, id: &str, want: HealthState) -> bool {
    let mut health = handle.health(id).unwrap();
    let reached = tokio::time::timeout(
        WAIT,
        health.wait_for(|h| h.state == want && h.cause.as_deref() != Some("connecting")),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    reached
}

#[tokio::test]
async fn frames_reach_every_board_then_only_changed_rows() {
    let (sim, bus) = start(|_| {});
    bus.show("w1", bar(1, "A001")).unwrap();
    bus.show("w2", bar(2, "B007")).unwrap();
    assert!(
        sim.wait_until(WAIT, |s| s.frame(1) == Some(bar(1, "A001"))
            && s.frame(2) == Some(bar(2, "B007")))
            .await
    );
    assert!(state(&bus, "w1", HealthState::Online).await);
    bus.show("w1", bar(1, "A002")).unwrap();
    bus.flush().await;
    assert_eq!(sim.frame(1), Some(bar(1, "A002")));
    let b1 = sim.device(1).unwrap().screen.unwrap();
    assert_eq!((b1.commits, b1.applied_seq), (2, 2));
    assert!(bus.show("nope", bar(1, "A001")).is_err());
    assert!(bus.ping(Duration::from_secs(1)).await);
}

#[tokio::test]
async fn only_the_newest_pending_frame_is_sent() {
    let (sim, bus) = start(|_| {});
    for n in 1..=40 {
        bus.show("w1", bar(1, &format!("A{n:03}"))).unwrap();
    }
    bus.flush().await;
    assert_eq!(sim.frame(1), Some(bar(1, "A040")));
    let commits = sim.device(1).unwrap().screen.unwrap().commits;
    assert!(commits < 5, "{commits} commits for 40 frames");
}

#[tokio::test]
async fn a_silent_board_goes_offline_without_holding_up_the_other_and_gets_the_frame_back() {
    let (sim, bus) = start(|_| {});
    bus.show("w1", bar(1, "A001")).unwrap();
    bus.show("w2", bar(2, "B001")).unwrap();
    bus.flush().await;
    sim.set_silent(2, true);
    bus.show("w2", bar(2, "B002")).unwrap();
    assert!(state(&bus, "w2", HealthState::Offline).await);
    assert_eq!(
        bus.health("w2").unwrap().borrow().cause.as_deref(),
        Some("no_answer")
    );
    // While w2 is retried with backoff, w1 gets each frame within a couple of timeouts.
    for n in 2..=6 {
        let frame = bar(1, &format!("A{n:03}"));
        let started = tokio::time::Instant::now();
        bus.show("w1", frame.clone()).unwrap();
        assert!(
            sim.wait_until(WAIT, |s| s.frame(1) == Some(frame.clone()))
                .await
        );
        assert!(
            started.elapsed() < Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(sim.frame(2), Some(bar(2, "B001")));
    // It comes back powered up again: it gets the current frame in full.
    sim.power_cycle(2, FifoOnPowerCycle::Lose);
    sim.set_silent(2, false);
    assert!(
        sim.wait_until(WAIT, |s| s.frame(2) == Some(bar(2, "B002")))
            .await
    );
    assert!(state(&bus, "w2", HealthState::Online).await);
}

#[tokio::test]
async fn a_restarted_board_is_noticed_by_the_poll_and_repainted() {
    let (sim, bus) = start(|c| c.poll_interval = Duration::from_millis(50));
    bus.show("w1", bar(1, "A001")).unwrap();
    bus.flush().await;
    sim.power_cycle(1, FifoOnPowerCycle::Lose);
    assert!(
        sim.wait_until(WAIT, |s| s.frame(1) == Some(bar(1, "A001")))
            .await
    );
}

#[tokio::test]
async fn a_board_of_another_size_is_reported_wrong_board() {
    let sim = SimBus::new();
    sim.add_board(
        1,
        DeviceKind::WindowDisplay,
        BoardSpec::from_config("128x32", 1).unwrap(),
    );
    let (master, slave) = SerialStream::pair().unwrap();
    tokio::spawn(sim.clone().serve(master));
    let mut link = Some(slave);
    let (bus, _task) = spawn_bus(BusConfig::new("pty", vec![board("w1", 1)]), move || {
        let link = link.take();
        async move { link.ok_or_else(|| io::Error::other("gone")) }
    });
    assert!(state(&bus, "w1", HealthState::Offline).await);
    assert_eq!(
        bus.health("w1").unwrap().borrow().cause.as_deref(),
        Some("wrong_board")
    );
}
