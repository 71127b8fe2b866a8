//! Helpers shared by the engine-level tests: a hall config, times in Asia/Shanghai, and a tiny
//! deterministic random source so scripted days are reproducible.

#![allow(dead_code)]

pub mod reference;

use std::path::Path;
use std::sync::Arc;

use hallq::config::Config;
use hallq::engine::{Engine, HallState};
use jiff::Timestamp;

/// Six windows with different preference groups over services A, B, C: window 5 is a green
/// window (green first, then like a standard window), window 6 a green-only one.
pub const HALL: &str = r#"
[hall]
id = "test-hall"
name = "测试政务服务中心"
timezone = "Asia/Shanghai"
data_dir = "data"
runtime_dir = "run"

[policy]
priority_streak_limit = 2
max_wait_minutes = 45
reservation_early_minutes = 30
reservation_late_minutes = 15
recall_limit = 2
requeue_after = 3

[[services]]
code = "A"
name = "综合受理"
minutes = 8

[[services]]
code = "B"
name = "社保医保"
minutes = 6

[[services]]
code = "C"
name = "不动产登记"
minutes = 12

[[windows]]
number = 1
name = "1号窗口"
serves = [["A"], ["B"]]

[[windows]]
number = 2
name = "2号窗口"
serves = [["B"], ["A", "C"]]

[[windows]]
number = 3
name = "3号窗口"
serves = [["C"]]

[[windows]]
number = 4
name = "4号窗口"
serves = [["A", "B", "C"]]

[[windows]]
number = 5
name = "爱心窗口"
serves = [["A", "B", "C"]]
kind = "green"

[[windows]]
number = 6
name = "6号窗口(绿色通道)"
serves = [["A", "B", "C"]]
kind = "green"
green_only = true
"#;

/// [`HALL`] with its data and runtime folders inside `dir`.
pub fn hall_in(dir: &Path) -> String {
    HALL.replace(
        "data_dir = \"data\"",
        &format!("data_dir = {:?}", dir.join("data").display().to_string()),
    )
    .replace(
        "runtime_dir = \"run\"",
        &format!("runtime_dir = {:?}", dir.join("run").display().to_string()),
    )
}

/// The test hall with its store and socket inside `dir`, the business day starting at
/// `day_starts_at`.
pub fn hall_starting_at(dir: &Path, day_starts_at: &str) -> Arc<Config> {
    config(&hall_in(dir).replacen(
        "\n[policy]",
        &format!("day_starts_at = {day_starts_at:?}\n\n[policy]"),
        1,
    ))
}

/// The daemon running in-process on `clock`, once it serves: its task, what it said when
/// ready, and the token that stops it.
pub async fn start_daemon(
    config: &Config,
    clock: &hallq::runtime::clock::ManualClock,
    tick: std::time::Duration,
) -> (
    tokio::task::JoinHandle<Result<(), hallq::runtime::RunError>>,
    hallq::runtime::Ready,
    tokio_util::sync::CancellationToken,
) {
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel();
    let options = hallq::runtime::RunOptions {
        clock: Arc::new(clock.clone()),
        tick,
        ready: Some(ready_tx),
        ..Default::default()
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let daemon = tokio::spawn(hallq::runtime::run(
        config.clone(),
        options,
        shutdown.clone(),
    ));
    let ready = ready_rx.recv().await.expect("daemon ready");
    (daemon, ready, shutdown)
}

pub fn config(text: &str) -> Arc<Config> {
    Arc::new(
        hallq::config::parse(text, Path::new("/etc/hallq/test.toml")).expect("test config parses"),
    )
}

/// A hall config `text` (written like [`HALL`]) with its store and runtime folders in `dir`.
pub fn config_in(dir: &Path, text: &str) -> Arc<Config> {
    let text = text
        .replace(
            "data_dir = \"data\"",
            &format!("data_dir = {:?}", dir.join("data").display().to_string()),
        )
        .replace(
            "runtime_dir = \"run\"",
            &format!("runtime_dir = {:?}", dir.join("run").display().to_string()),
        );
    config(&text)
}

/// 2026-11-26 at local `hh:mm` in Asia/Shanghai.
pub fn local(hh: i8, mm: i8) -> Timestamp {
    jiff::civil::date(2026, 11, 26)
        .at(hh, mm, 0, 0)
        .in_tz("Asia/Shanghai")
        .expect("valid local time")
        .timestamp()
}

pub fn engine(config: &Arc<Config>, now: Timestamp) -> Engine {
    let day =
        hallq::engine::day::business_day(now, &config.hall.timezone, config.hall.day_starts_at);
    Engine::new(config.clone(), HallState::empty(day))
}

/// xorshift64*: reproducible without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// 0..n
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
