//! LED displays in the daemon: window bars and hall boards redrawn from the hall's state after
//! every committed call, recall, transfer, pause, resume, finish and rollover.
//!
//! Owns: which boards exist (`window_display` and `hall_board` devices with protocol `modbus`),
//! one bus task per serial path (boards on one RS-485 port share it; `hallq-drivers` sends the
//! frames), a PNG writer for `sim` transports (`NNNN.png` per frame and `current.png` in the
//! device's folder), the display state that is not in the hall's status (the last
//! [`RECENT_CALLS`] calls, the notice line), turning the hall's status into views, and one small
//! animation task per board that renders with `hallq-display`, blinks a new call for
//! [`BLINK`]'s duration and scrolls text wider than the board ([`SCROLL_STEP_PX`] every
//! [`SCROLL_TICK`]), sending a frame only when it differs from the last one. Health goes to the
//! [`HealthBoard`] as kind `display`; every bus task and animator answers a liveness check.
//!
//! Does not own: layouts or encoding (`hallq-display`), the Modbus profile (`hallq-drivers`,
//! `docs/devices/modbus-profile.md`), or the hall's state (queried, never changed). Displays on
//! other transports (MQTT) belong to the MQTT work and are skipped with a warning.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_display::{
    render, scroll_period, AnyFrame, Blink, BoardSpec, HallBoardView, PngOptions, RecentCall,
    ServiceWaiting, View, WindowBarState, WindowBarView,
};
use hallq_drivers::modbus::{spawn_bus, BoardConfig, BusConfig, BusHandle, DeviceKind};
use hallq_drivers::transport::SerialConfig;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::health::{DeviceHealth, HealthBoard, HealthState};
use super::DeviceError;
use crate::config::{self, Config, DeviceKind as ConfigKind};
use crate::engine::{estimate::TidalAdvice, Effect};
use crate::runtime::hall::{HallHandle, Query};
use crate::runtime::watchdog::Check;

/// Calls the hall board remembers (newest first); a recall moves its number to the top.
pub const RECENT_CALLS: usize = 8;
/// A new call blinks once a second for ten seconds.
pub const BLINK: Blink = Blink {
    period: Duration::from_secs(1),
    duration: Duration::from_secs(10),
};
/// Scrolling text moves this many pixels per tick...
pub const SCROLL_STEP_PX: u32 = 2;
/// ...every this long (20 px/s).
pub const SCROLL_TICK: Duration = Duration::from_millis(100);
/// Numbered PNGs a sim display keeps (older ones are deleted; `current.png` always stays).
pub const SIM_KEEP: u32 = 500;
/// Size of a window display without `size` in the config.
pub const DEFAULT_WINDOW_SIZE: &str = "192x32";
/// Size of a hall board without `size` in the config.
pub const DEFAULT_HALL_SIZE: &str = "384x96";

/// The display tasks.
#[derive(Debug, Default)]
pub struct Displays {
    boards: Vec<Board>,
    buses: Vec<BusHandle>,
    config: Option<Arc<Config>>,
    state: Mutex<Shared>,
}

/// One board as the daemon sees it: what it shows and where its animator is.
#[derive(Debug)]
struct Board {
    id: String,
    kind: ConfigKind,
    window: Option<u32>,
    tx: mpsc::UnboundedSender<ToBoard>,
}

/// What the hall board shows beyond the hall's status.
#[derive(Debug, Default)]
struct Shared {
    recent: VecDeque<RecentCall>,
    notice: Option<String>,
}

enum ToBoard {
    /// Show this view; `new_call` starts the blink.
    Show { view: View, new_call: bool },
    /// Render and hand over the current frame, then answer.
    Sync(oneshot::Sender<()>),
    /// Answer (liveness).
    Ping(oneshot::Sender<()>),
}

/// Where an animator's frames go.
enum Sink {
    Bus { bus: BusHandle, device: String },
    Sim(SimFolder),
}

impl Displays {
    /// Start a bus task per serial path, an animator per board, and show the current status.
    pub async fn start(
        config: &Arc<Config>,
        hall: &HallHandle,
        health: &HealthBoard,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Result<Displays, DeviceError> {
        let mut displays = Displays {
            config: Some(config.clone()),
            ..Displays::default()
        };
        let mut buses: BTreeMap<String, (u32, Vec<BoardConfig>)> = BTreeMap::new();
        let mut sinks = Vec::new();
        for device in config.devices.iter().filter(|d| is_board(d)) {
            let spec = board_spec(device)?;
            match device.transport_type() {
                "serial" => {
                    let path = transport_str(device, "path")?;
                    let baud = device
                        .transport
                        .get("baud")
                        .and_then(toml::Value::as_integer)
                        .and_then(|b| u32::try_from(b).ok())
                        .unwrap_or(9600);
                    let unit = device
                        .extra
                        .get("address")
                        .and_then(toml::Value::as_integer)
                        .and_then(|a| u8::try_from(a).ok())
                        .ok_or_else(|| config_error(device, &"a serial display needs address"))?;
                    let kind = match device.kind {
                        ConfigKind::HallBoard => DeviceKind::HallBoard,
                        _ => DeviceKind::WindowDisplay,
                    };
                    let bus = buses.entry(path).or_insert((baud, Vec::new()));
                    bus.1.push(BoardConfig {
                        device_id: device.id.clone(),
                        unit,
                        kind,
                        spec,
                    });
                }
                "sim" => {
                    let dir = PathBuf::from(transport_str(device, "dir")?);
                    let folder = SimFolder::open(dir).map_err(|e| config_error(device, &e))?;
                    health.set(&device.id, display_health(HealthState::Online, None));
                    sinks.push((device, spec, Sink::Sim(folder)));
                }
                other => {
                    tracing::warn!(device = %device.id, transport = other, "display transport not supported yet; skipped");
                    let cause = Some("unsupported_transport".to_string());
                    health.set(&device.id, display_health(HealthState::Offline, cause));
                }
            }
        }
        for (path, (baud, boards)) in buses {
            let bus = start_bus(&path, baud, boards, health, checks, shutdown);
            for id in bus.boards() {
                let device = config.devices.iter().find(|d| d.id == id).expect("a board");
                let spec = board_spec(device)?;
                sinks.push((
                    device,
                    spec,
                    Sink::Bus {
                        bus: bus.clone(),
                        device: id.to_string(),
                    },
                ));
            }
            displays.buses.push(bus);
        }
        for (device, spec, sink) in sinks {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(animate(spec, rx, sink, shutdown.clone()));
            let probe = tx.clone();
            checks.push(Check::new(format!("display {}", device.id), move |t| {
                let probe = probe.clone();
                async move {
                    let (reply, answer) = oneshot::channel();
                    probe.send(ToBoard::Ping(reply)).is_ok()
                        && matches!(tokio::time::timeout(t, answer).await, Ok(Ok(())))
                }
            }));
            displays.boards.push(Board {
                id: device.id.clone(),
                kind: device.kind,
                window: device.window,
                tx,
            });
        }
        displays.show_initial(hall).await;
        Ok(displays)
    }

    /// The calls at the windows now become the hall board's recent calls; every board shows
    /// the current status.
    async fn show_initial(&self, hall: &HallHandle) {
        let Some(status) = self.status(hall).await else {
            return;
        };
        {
            let mut state = self.lock();
            for w in status_windows(&status) {
                if let (Some(number), true) = (w.number.clone(), w.at_window) {
                    state.recent.push_back(RecentCall {
                        number,
                        window: w.window,
                        window_name: w.name.clone(),
                    });
                }
            }
            state.recent.truncate(RECENT_CALLS);
        }
        self.redraw(&status, None);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn status(&self, hall: &HallHandle) -> Option<Value> {
        if self.boards.is_empty() {
            return None;
        }
        match hall.query(Query::Status).await {
            Ok(status) => Some(status),
            Err(e) => {
                tracing::warn!("displays: cannot read the hall status: {e}");
                None
            }
        }
    }

    /// Redraw the boards after a committed effect.
    pub async fn apply(&self, effect: &Effect, hall: &HallHandle) {
        if matches!(effect, Effect::PrintTicket { .. }) {
            return;
        }
        let Some(status) = self.status(hall).await else {
            return;
        };
        let mut called = None;
        {
            let mut state = self.lock();
            match effect {
                Effect::Announce { window, number, .. } => {
                    let window_name = self
                        .config
                        .as_ref()
                        .and_then(|c| c.window(*window))
                        .map(|w| w.name.clone())
                        .unwrap_or_default();
                    state.recent.retain(|c| c.number != *number);
                    state.recent.push_front(RecentCall {
                        number: number.clone(),
                        window: *window,
                        window_name,
                    });
                    state.recent.truncate(RECENT_CALLS);
                    called = Some(*window);
                }
                Effect::TidalAdvice {
                    service,
                    advice,
                    waiting,
                } => {
                    state.notice = self.tidal_notice(service, *advice, *waiting);
                }
                Effect::DayRolledOver { .. } => {
                    state.recent.clear();
                    state.notice = None;
                }
                _ => {}
            }
        }
        self.redraw(&status, called);
    }

    /// `综合受理等候20人，潮汐窗口即将开放` for an open advice; a close advice clears the line.
    fn tidal_notice(&self, service: &str, advice: TidalAdvice, waiting: u32) -> Option<String> {
        let name = self
            .config
            .as_ref()
            .and_then(|c| c.service(service))
            .map_or(service, |s| s.name.as_str());
        match advice {
            TidalAdvice::Open => Some(format!("{name}等候{waiting}人，潮汐窗口即将开放")),
            TidalAdvice::Close => None,
        }
    }

    /// Hand every board its view; `called` is the window of a new call (it blinks).
    fn redraw(&self, status: &Value, called: Option<u32>) {
        let windows = status_windows(status);
        let hall_view = self.hall_view(status);
        for board in &self.boards {
            let (view, new_call) = match board.kind {
                ConfigKind::HallBoard => (View::HallBoard(hall_view.clone()), called.is_some()),
                _ => {
                    let Some(w) = windows.iter().find(|w| Some(w.window) == board.window) else {
                        continue;
                    };
                    (View::WindowBar(w.bar()), called == board.window)
                }
            };
            if board.tx.send(ToBoard::Show { view, new_call }).is_err() {
                tracing::warn!(device = %board.id, "display animator stopped");
            }
        }
    }

    fn hall_view(&self, status: &Value) -> HallBoardView {
        let state = self.lock();
        let waiting = self
            .config
            .iter()
            .flat_map(|c| c.services.iter())
            .map(|s| ServiceWaiting {
                code: s.code.clone(),
                name: s.name.clone(),
                count: status["waiting"][&s.code].as_u64().unwrap_or(0) as u32,
            })
            .collect();
        HallBoardView {
            recent: state.recent.iter().cloned().collect(),
            waiting,
            notice: state.notice.clone(),
            blink_on: false,
        }
    }

    /// Wait until queued frames are sent (boards that are offline are not waited for).
    pub async fn drain(&self) {
        for board in &self.boards {
            let (reply, answer) = oneshot::channel();
            if board.tx.send(ToBoard::Sync(reply)).is_ok() {
                let _ = answer.await;
            }
        }
        for bus in &self.buses {
            bus.flush().await;
        }
    }
}

fn is_board(device: &config::Device) -> bool {
    matches!(
        device.kind,
        ConfigKind::WindowDisplay | ConfigKind::HallBoard
    ) && device.protocol == "modbus"
}

fn config_error(device: &config::Device, message: &dyn std::fmt::Display) -> DeviceError {
    DeviceError::Config {
        device: device.id.clone(),
        message: message.to_string(),
    }
}

fn transport_str(device: &config::Device, key: &str) -> Result<String, DeviceError> {
    device
        .transport
        .get(key)
        .and_then(toml::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| config_error(device, &format!("transport needs {key}")))
}

fn board_spec(device: &config::Device) -> Result<BoardSpec, DeviceError> {
    let default = match device.kind {
        ConfigKind::HallBoard => DEFAULT_HALL_SIZE,
        _ => DEFAULT_WINDOW_SIZE,
    };
    let size = device
        .extra
        .get("size")
        .and_then(toml::Value::as_str)
        .unwrap_or(default);
    let colors = device
        .extra
        .get("colors")
        .and_then(toml::Value::as_integer)
        .unwrap_or(1);
    BoardSpec::from_config(size, u8::try_from(colors).unwrap_or(0))
        .map_err(|e| config_error(device, &e))
}

fn display_health(state: HealthState, cause: Option<String>) -> DeviceHealth {
    DeviceHealth {
        kind: "display",
        state,
        cause,
    }
}

/// Starts the task of one RS-485 bus, forwards its boards' health, registers its check.
fn start_bus(
    path: &str,
    baud: u32,
    boards: Vec<BoardConfig>,
    health: &HealthBoard,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) -> BusHandle {
    let mut config = BusConfig::new(path, boards);
    config.baud = Some(baud);
    let mut serial = SerialConfig::new(path);
    serial.baud = baud;
    let (bus, task) = spawn_bus(config, move || {
        let serial = serial.clone();
        async move { hallq_drivers::transport::serial::open(&serial) }
    });
    let stop = shutdown.clone();
    tokio::spawn(async move {
        stop.cancelled().await;
        task.abort();
    });
    for id in bus.boards() {
        let mut rx = bus.health(id).expect("a board of this bus");
        let (board, id, stop) = (health.clone(), id.to_string(), shutdown.clone());
        tokio::spawn(async move {
            loop {
                let h = rx.borrow_and_update().clone();
                let state = match h.state {
                    hallq_drivers::HealthState::Online => HealthState::Online,
                    hallq_drivers::HealthState::Degraded => HealthState::Degraded,
                    hallq_drivers::HealthState::Offline => HealthState::Offline,
                };
                board.set(&id, display_health(state, h.cause));
                tokio::select! {
                    _ = stop.cancelled() => return,
                    r = rx.changed() => if r.is_err() { return },
                }
            }
        });
    }
    let probe = bus.clone();
    checks.push(Check::new(format!("display bus {path}"), move |t| {
        let probe = probe.clone();
        async move { probe.ping(t).await }
    }));
    bus
}

/// One window of the hall status, as the window bar needs it.
#[derive(Debug)]
struct WindowStatus {
    window: u32,
    name: String,
    state: String,
    number: Option<String>,
    /// The ticket is called to or served at the window.
    at_window: bool,
}

impl WindowStatus {
    fn bar(&self) -> WindowBarView {
        let state = match (self.state.as_str(), &self.number) {
            ("closed", _) => WindowBarState::Closed,
            ("paused", _) => WindowBarState::Paused,
            (_, Some(number)) if self.at_window => WindowBarState::Calling {
                number: number.clone(),
            },
            _ => WindowBarState::Idle,
        };
        WindowBarView {
            window: self.window,
            window_name: self.name.clone(),
            state,
            blink_on: false,
        }
    }
}

fn status_windows(status: &Value) -> Vec<WindowStatus> {
    let windows = status["windows"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    windows
        .iter()
        .filter_map(|w| {
            Some(WindowStatus {
                window: u32::try_from(w["window"].as_u64()?).ok()?,
                name: w["name"].as_str().unwrap_or_default().to_string(),
                state: w["state"].as_str().unwrap_or("closed").to_string(),
                number: w["number"].as_str().map(str::to_string),
                at_window: matches!(w["ticket_state"].as_str(), Some("called" | "serving")),
            })
        })
        .collect()
}

/// The board's view now, with its blink.
struct Animation {
    spec: BoardSpec,
    view: Option<View>,
    blink_since: Option<Instant>,
    tick: u32,
    last: Option<AnyFrame>,
}

impl Animation {
    /// The frame to show at `now`, and when the picture may next change on its own.
    fn frame(&self, now: Instant) -> Option<(AnyFrame, Option<Instant>)> {
        let mut view = self.view.clone()?;
        let since = self.blink_since.map(|t| now - t);
        let blink_on = since.is_some_and(|s| BLINK.highlight_on(s));
        match &mut view {
            View::WindowBar(v) => v.blink_on = blink_on,
            View::HallBoard(v) => v.blink_on = blink_on,
            View::PadScreen(_) => {}
        }
        let period = scroll_period(&view, self.spec);
        let scroll = if period > 0 {
            self.tick.wrapping_mul(SCROLL_STEP_PX) % period
        } else {
            0
        };
        let frame = render(&view, self.spec, scroll);
        let blinking = since.is_some_and(|s| s < BLINK.duration);
        let next = if period > 0 {
            Some(now + SCROLL_TICK)
        } else if blinking {
            Some(now + BLINK.period / 2)
        } else {
            None
        };
        Some((frame, next))
    }
}

/// One board's animator: renders its view, blinks and scrolls, hands changed frames on.
async fn animate(
    spec: BoardSpec,
    mut rx: mpsc::UnboundedReceiver<ToBoard>,
    mut sink: Sink,
    shutdown: CancellationToken,
) {
    let mut anim = Animation {
        spec,
        view: None,
        blink_since: None,
        tick: 0,
        last: None,
    };
    let mut next: Option<Instant> = None;
    loop {
        let mut sync = None;
        let sleep = tokio::time::sleep_until(
            next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)),
        );
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = sleep, if next.is_some() => anim.tick = anim.tick.wrapping_add(1),
            msg = rx.recv() => match msg {
                None => return,
                Some(ToBoard::Ping(reply)) => { let _ = reply.send(()); continue; }
                Some(ToBoard::Sync(reply)) => sync = Some(reply),
                Some(ToBoard::Show { view, new_call }) => {
                    if new_call {
                        anim.blink_since = Some(Instant::now());
                    } else if anim.view.as_ref() == Some(&view) {
                        continue;
                    }
                    anim.view = Some(view);
                }
            },
        }
        let Some((frame, wake)) = anim.frame(Instant::now()) else {
            next = None;
            continue;
        };
        next = wake;
        if anim.last.as_ref() != Some(&frame) {
            sink.show(&frame).await;
            anim.last = Some(frame);
        }
        if let Some(reply) = sync {
            let _ = reply.send(());
        }
    }
}

impl Sink {
    async fn show(&mut self, frame: &AnyFrame) {
        match self {
            Sink::Bus { bus, device } => {
                if let Err(e) = bus.show(device, frame.clone()) {
                    tracing::warn!(device = %device, "display frame not queued: {e}");
                }
            }
            Sink::Sim(folder) => {
                if let Err(e) = folder.write(frame).await {
                    tracing::warn!(dir = %folder.dir.display(), "sim display: frame not written: {e}");
                }
            }
        }
    }
}

/// A sim display's folder: `NNNN.png` for every frame shown, `current.png` for the latest.
struct SimFolder {
    dir: PathBuf,
    next: u32,
}

impl SimFolder {
    fn open(dir: PathBuf) -> std::io::Result<SimFolder> {
        std::fs::create_dir_all(&dir)?;
        let next = highest_numbered(&dir)? + 1;
        Ok(SimFolder { dir, next })
    }

    async fn write(&mut self, frame: &AnyFrame) -> std::io::Result<()> {
        let png = frame
            .to_png(PngOptions::default())
            .map_err(std::io::Error::other)?;
        let numbered = self.dir.join(format!("{:04}.png", self.next));
        tokio::fs::write(&numbered, &png).await?;
        let tmp = self.dir.join("current.png.tmp");
        tokio::fs::write(&tmp, &png).await?;
        tokio::fs::rename(&tmp, self.dir.join("current.png")).await?;
        if let Some(old) = self.next.checked_sub(SIM_KEEP) {
            let _ = tokio::fs::remove_file(self.dir.join(format!("{old:04}.png"))).await;
        }
        self.next += 1;
        Ok(())
    }
}

/// The highest `NNNN.png` in the folder, 0 when none.
fn highest_numbered(dir: &Path) -> std::io::Result<u32> {
    let mut highest = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        if let Some(n) = name
            .to_string_lossy()
            .strip_suffix(".png")
            .and_then(|n| n.parse::<u32>().ok())
        {
            highest = highest.max(n);
        }
    }
    Ok(highest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn window_bars_follow_the_window_state() {
        let status = json!({"windows": [
            {"window": 3, "name": "3号窗口", "state": "open", "number": "A012", "ticket_state": "called"},
            {"window": 4, "name": "", "state": "open", "number": "A009", "ticket_state": "done"},
            {"window": 5, "name": "", "state": "paused", "number": "A010", "ticket_state": "serving"},
            {"window": 6, "name": "", "state": "closed", "number": null, "ticket_state": null},
        ]});
        let states: Vec<_> = status_windows(&status)
            .iter()
            .map(|w| w.bar().state)
            .collect();
        assert_eq!(
            states,
            [
                WindowBarState::Calling {
                    number: "A012".into()
                },
                WindowBarState::Idle,
                WindowBarState::Paused,
                WindowBarState::Closed,
            ]
        );
    }

    #[test]
    fn a_new_call_blinks_then_stays_still() {
        let spec = BoardSpec::from_config("128x32", 1).unwrap();
        let view = View::WindowBar(WindowBarView {
            window: 3,
            window_name: String::new(),
            state: WindowBarState::Calling {
                number: "A012".into(),
            },
            blink_on: false,
        });
        let start = Instant::now();
        let anim = Animation {
            spec,
            view: Some(view.clone()),
            blink_since: Some(start),
            tick: 0,
            last: None,
        };
        let (on, next) = anim.frame(start).unwrap();
        assert_eq!(next, Some(start + Duration::from_millis(500)));
        let (off, _) = anim.frame(start + Duration::from_millis(500)).unwrap();
        assert_ne!(on, off);
        assert_eq!(off, render(&view, spec, 0));
        let (still, next) = anim.frame(start + BLINK.duration).unwrap();
        assert_eq!((still, next), (render(&view, spec, 0), None));
    }

    #[test]
    fn sim_folders_go_on_numbering() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(highest_numbered(dir.path()).unwrap(), 0);
        std::fs::write(dir.path().join("0041.png"), b"").unwrap();
        std::fs::write(dir.path().join("current.png"), b"").unwrap();
        assert_eq!(highest_numbered(dir.path()).unwrap(), 41);
    }
}
