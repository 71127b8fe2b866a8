//! The runtime: wires the hall task, the control socket, the timers and the effect runner, and
//! runs them until shutdown.
//!
//! [`run`] is the whole daemon; `main` only parses arguments, sets up logging and signals, and
//! calls it. Tests call it too, with a [`clock::ManualClock`].

pub mod clock;
pub mod devices;
pub mod hall;
pub mod notify;
pub mod queries;
pub mod watchdog;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::control::server;
use crate::engine::{day, Command, Effect, Engine};
use crate::store::{self, Store, StoreError};
use clock::Clock;
use devices::Devices;
use hall::{Hall, HallHandle, Query};
use notify::Notifier;
use watchdog::Check;

/// How often the timer asks for rollover and tidal checks.
pub const TICK: Duration = Duration::from_secs(5);

/// Why the daemon could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("store {path} belongs to hall {found:?}, but the config is for hall {expected:?}")]
    WrongHall {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("another hallq is using {0} (lock held)")]
    Locked(PathBuf),
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Bind(#[from] server::BindError),
    #[error(transparent)]
    Devices(#[from] devices::DeviceError),
}

/// Options a test or `main` sets.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub clock: Arc<dyn Clock>,
    /// How often the timer asks for rollover and tidal checks.
    pub tick: Duration,
    /// Feed the watchdog at this interval even without systemd (tests); systemd's
    /// `WATCHDOG_USEC` is used when this is None.
    pub watchdog: Option<Duration>,
    /// Notified to reload the config file (SIGHUP).
    pub reload: Arc<tokio::sync::Notify>,
    /// Told once the store is open and checked and the socket is serving.
    pub ready: Option<tokio::sync::mpsc::UnboundedSender<Ready>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            clock: Arc::new(clock::SystemClock),
            tick: TICK,
            watchdog: None,
            reload: Arc::default(),
            ready: None,
        }
    }
}

/// Sent when the daemon serves: where, and which business day it resumed.
#[derive(Debug, Clone)]
pub struct Ready {
    pub socket: PathBuf,
    pub business_day: jiff::civil::Date,
}

/// Open the store, take the lock, load the hall: everything `run` needs before serving.
pub fn open_hall(config: &Arc<Config>, clock: Arc<dyn Clock>) -> Result<(Hall, File), RunError> {
    let lock_path = config.hall.data_dir.join("hallq.lock");
    std::fs::create_dir_all(&config.hall.data_dir).map_err(|source| RunError::Lock {
        path: lock_path.clone(),
        source,
    })?;
    let lock = File::create(&lock_path).map_err(|source| RunError::Lock {
        path: lock_path.clone(),
        source,
    })?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(RunError::Locked(lock_path)),
        Err(std::fs::TryLockError::Error(source)) => {
            return Err(RunError::Lock {
                path: lock_path,
                source,
            })
        }
    }

    let path = config.store_path();
    let mut store = Store::open(&path)?;
    store.quick_check()?;
    let now = clock.now();
    let today = day::business_day(now, &config.hall.timezone, config.hall.day_starts_at);
    store.init_hall(&config.hall.id, today)?;
    let found = store.hall_id()?;
    if found != config.hall.id {
        return Err(RunError::WrongHall {
            path,
            found,
            expected: config.hall.id.clone(),
        });
    }
    let state = store::load_state(&store)?;
    let engine = Engine::new(config.clone(), state);
    Ok((Hall::new(engine, store, clock), lock))
}

/// What the control socket and the effect runner share.
#[derive(Debug)]
pub struct Ctx {
    pub hall: HallHandle,
    pub devices: Arc<Devices>,
}

/// How long shutdown waits for device queues to drain.
pub const DRAIN: Duration = Duration::from_secs(5);

/// Run the daemon until `shutdown` is cancelled.
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let config = Arc::new(config);
    let notifier = Notifier::new();
    let (hall, _lock) = open_hall(&config, options.clock.clone())?;
    let business_day = hall.engine().state().business_day;
    let (effects_tx, effects_rx) = mpsc::unbounded_channel();
    let listener = server::bind(&config.socket_path())?;
    let (handle, thread) = hall::spawn(hall, effects_tx);

    let device_stop = CancellationToken::new();
    let (devices, mut checks) = Devices::start(&config, &handle, &device_stop).await?;
    let devices = Arc::new(devices);
    let hall_check = handle.clone();
    checks.insert(
        0,
        Check::new("hall", move |t| {
            let hall = hall_check.clone();
            async move { hall.alive(t).await }
        }),
    );
    let ctx = Arc::new(Ctx {
        hall: handle.clone(),
        devices: devices.clone(),
    });

    let tasks = tokio_util::task::TaskTracker::new();
    tasks.spawn(server::serve(listener, ctx.clone(), shutdown.clone()));
    tasks.spawn(timer(handle.clone(), options.tick, shutdown.clone()));
    let (nudge_tx, nudge_rx) = watch::channel(());
    tasks.spawn(run_effects(effects_rx, ctx.clone(), nudge_tx));
    if let Some(interval) = options.watchdog.or_else(Notifier::watchdog_interval) {
        // Feed at half the interval systemd expects, as sd_watchdog_enabled(3) advises.
        tasks.spawn(watchdog::feed(
            checks,
            interval / 2,
            notifier.clone(),
            shutdown.clone(),
        ));
    }
    let reload = options.reload.clone();
    tasks.spawn(reloader(
        reload,
        config.clone(),
        handle.clone(),
        notifier.clone(),
        shutdown.clone(),
    ));

    let status = status_line(&handle, &devices).await;
    tracing::info!(
        hall = %config.hall.id,
        business_day = %business_day,
        socket = %config.socket_path().display(),
        status = %status,
        "hallq serving"
    );
    notifier.ready(&status);
    if let Some(ready) = &options.ready {
        let _ = ready.send(Ready {
            socket: config.socket_path(),
            business_day,
        });
    }
    tasks.spawn(report_status(
        handle.clone(),
        devices.clone(),
        notifier.clone(),
        nudge_rx,
        shutdown.clone(),
    ));
    tasks.close();

    shutdown.cancelled().await;
    tracing::info!("hallq stopping");
    notifier.stopping();
    let _ = std::fs::remove_file(config.socket_path());
    // The hall finishes the request in flight, then ends; its effects sender goes with it, so
    // the effect runner drains what was committed and ends too.
    handle.stop().await;
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    drop((ctx, handle));
    tasks.wait().await;
    devices.drain(DRAIN).await;
    device_stop.cancel();
    tracing::info!("hallq stopped");
    Ok(())
}

/// `serving; 12 waiting; printer kiosk-1-printer paper_near_end`
async fn status_line(hall: &HallHandle, devices: &Devices) -> String {
    let waiting: u64 = match hall.query(Query::Status).await {
        Ok(v) => v["waiting"]
            .as_object()
            .map_or(0, |m| m.values().filter_map(|n| n.as_u64()).sum()),
        Err(_) => 0,
    };
    let mut parts = vec!["serving".to_string(), format!("{waiting} waiting")];
    parts.extend(devices.health.problems());
    parts.join("; ")
}

/// Keep systemd's STATUS= current: after queue changes and device health changes.
async fn report_status(
    hall: HallHandle,
    devices: Arc<Devices>,
    notifier: Notifier,
    mut nudges: watch::Receiver<()>,
    shutdown: CancellationToken,
) {
    let mut health = devices.health.subscribe();
    let mut last = String::new();
    loop {
        let line = status_line(&hall, &devices).await;
        if line != last {
            notifier.status(&line);
            last = line;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = nudges.changed() => if r.is_err() { return },
            r = health.changed() => if r.is_err() { return },
        }
    }
}

/// Reload the config file on request (SIGHUP), keeping the running one if the new one is bad.
async fn reloader(
    reload: Arc<tokio::sync::Notify>,
    config: Arc<Config>,
    hall: HallHandle,
    notifier: Notifier,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = reload.notified() => {}
        }
        notifier.reloading();
        let path = config.source.clone();
        match crate::config::load(&path) {
            Err(errors) => tracing::error!(
                "reload: {} is invalid, keeping the running configuration:\n{errors}",
                path.display()
            ),
            Ok(new) => match hall.reload(Arc::new(new)).await {
                Ok(()) => tracing::info!(
                    "reload: {} applied (device changes take effect at the next restart)",
                    path.display()
                ),
                Err(why) => tracing::error!("reload: {why}; keeping the running configuration"),
            },
        }
        notifier.ready_again();
    }
}

/// Periodic rollover and tidal checks.
async fn timer(hall: HallHandle, every: Duration, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => {
                if let Err(e) = hall.execute(Command::Tick).await {
                    tracing::warn!("timer tick failed: {e}");
                }
            }
        }
    }
}

/// Carry out effects after their change is committed: devices, the journal, STATUS=.
async fn run_effects(
    mut effects: mpsc::UnboundedReceiver<Effect>,
    ctx: Arc<Ctx>,
    nudge: watch::Sender<()>,
) {
    while let Some(effect) = effects.recv().await {
        match &effect {
            Effect::Announce {
                window,
                number,
                recall,
            } => {
                tracing::info!(window, ticket = %number, recall, "announce");
            }
            Effect::TidalAdvice {
                service,
                advice,
                waiting,
            } => {
                tracing::warn!(service = %service, waiting, "tidal advice: {} a tidal window", advice.as_str());
            }
            Effect::DayRolledOver { day } => {
                tracing::info!(business_day = %day, "business day started")
            }
            Effect::QueueChanged => nudge.send_replace(()),
            Effect::PrintTicket { .. } | Effect::WindowChanged { .. } => {}
        }
        ctx.devices.apply(&effect, &ctx.hall).await;
    }
}
