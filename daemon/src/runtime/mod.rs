//! The runtime: wires the hall task, the snapshot feeds, the device tasks, the issuing
//! service, the control socket and the timers, and runs them until shutdown.
//!
//! [`run`] is the whole daemon; `main` only parses arguments, sets up logging and signals, and
//! calls it. Tests call it too, with a [`clock::ManualClock`]. `docs/architecture.md` draws the
//! paths a request takes through these modules.

pub mod clock;
pub mod devices;
pub mod disk;
pub mod error;
pub mod hall;
pub mod history;
pub mod inputs;
pub mod issue;
pub mod notify;
pub mod queries;
pub mod services;
pub mod snapshot;
pub mod state_file;
pub mod watchdog;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::command::Command;
use crate::config::Config;
use crate::control::server;
use crate::engine::{day, Engine};
use crate::store::{self, Store, StoreError};
use crate::sync::{SyncHandle, SyncReport};
use clock::Clock;
use devices::Devices;
use hall::{Hall, HallHandle};
use inputs::Inputs;
use issue::IssuingService;
use notify::Notifier;
use services::Services;
use snapshot::{HallSnapshot, Publisher};
use state_file::LastState;
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
    #[error(
        "store {path} lacks what this hall already recorded ({missing}, per {state}): it was \
         deleted, moved or replaced by an older copy. Restore the latest backup (docs/install.md, \
         Backups), or start on this store anyway with `hallq run --new-store`"
    )]
    StoreBehind {
        path: PathBuf,
        missing: String,
        state: PathBuf,
    },
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Bind(#[from] server::BindError),
    #[error(transparent)]
    Devices(#[from] devices::DeviceError),
    #[error(transparent)]
    Web(#[from] crate::web::BindError),
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
    /// Start even on a store that lacks what the last state file says was recorded
    /// (`hallq run --new-store`).
    pub new_store: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            clock: Arc::new(clock::SystemClock),
            tick: TICK,
            watchdog: None,
            reload: Arc::default(),
            ready: None,
            new_store: false,
        }
    }
}

/// Sent when the daemon serves: where, and which business day it resumed.
#[derive(Debug, Clone)]
pub struct Ready {
    pub socket: PathBuf,
    /// Where the web pages are served (`[http]`), if they are.
    pub http: Option<std::net::SocketAddr>,
    pub business_day: jiff::civil::Date,
}

/// Open the store, take the lock, load the hall: everything `run` needs before serving.
///
/// The lock is an exclusive `flock` on the data directory itself (held by the returned
/// `File`), so no second daemon opens the store while one runs, and there is no lock file
/// whose deletion would allow it. The directory is made (or tightened to) 0700 and the store
/// files 0600: only the service user reads the store; people use the socket.
pub fn open_hall(config: &Arc<Config>, clock: Arc<dyn Clock>) -> Result<(Hall, File), RunError> {
    let dir = &config.hall.data_dir;
    let lock = lock_data_dir(dir)?;
    let path = config.store_path();
    let mut store = Store::open(&path)?;
    private_files(&path)?;
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
    Ok((Hall::new(engine, store, clock)?, lock))
}

/// Create `dir` (0700) or tighten it to 0700, and lock it exclusively.
fn lock_data_dir(dir: &Path) -> Result<File, RunError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let err = |source| RunError::Lock {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(err)?;
    let mode = std::fs::metadata(dir).map_err(err)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
        tracing::warn!(
            "{} was mode {:o}; made it 0700 (only the service user reads the store)",
            dir.display(),
            mode & 0o777
        );
    }
    let lock = File::open(dir).map_err(err)?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(RunError::Locked(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(source)) => Err(err(source)),
    }
}

/// The store and its WAL files readable by the service user only (stores made under an older
/// umask were 0640).
fn private_files(store: &Path) -> Result<(), RunError> {
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = store.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(
                |source| RunError::Lock {
                    path: path.clone(),
                    source,
                },
            )?;
        }
    }
    Ok(())
}

/// Refuse a store that lacks what the last state file says this hall already recorded
/// (deleted, replaced by an older backup, or another data directory), unless `new_store`.
fn check_not_behind(config: &Config, hall: &Hall, new_store: bool) -> Result<(), RunError> {
    let path = config.state_path();
    let state = match LastState::read(&path) {
        None => return Ok(()),
        Some(Err(e)) => {
            tracing::warn!("ignoring the last state file: {e}");
            return Ok(());
        }
        Some(Ok(state)) if state.hall_id != config.hall.id => return Ok(()),
        Some(Ok(state)) => state,
    };
    let today = hall.engine().state().business_day;
    let Some(missing) = state.missing_from(hall.store(), today)? else {
        return Ok(());
    };
    if new_store {
        tracing::warn!(
            "starting on {} although it lacks records ({missing}), as --new-store says; \
             today's numbers may repeat ones already handed out",
            config.store_path().display()
        );
        return Ok(());
    }
    Err(RunError::StoreBehind {
        path: config.store_path(),
        missing,
        state: path,
    })
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
    check_not_behind(&config, &hall, options.new_store)?;
    // Binding makes the runtime folder, where the state file goes too.
    let listener = server::bind(&config.socket_path())?;
    let hall = hall.with_state_file(config.state_path());
    let business_day = hall.engine().state().business_day;
    let (publisher, feeds, health) = Publisher::new(hall.engine(), options.clock.now());
    let web_listener = match &config.http {
        Some(http) => Some(crate::web::bind(http)?),
        None => None,
    };
    let http = web_listener.as_ref().and_then(|l| l.local_addr().ok());
    // Feed at half the interval systemd expects, as sd_watchdog_enabled(3) advises; the hall
    // thread beats four times per feed even when idle.
    let feed_every = options
        .watchdog
        .or_else(Notifier::watchdog_interval)
        .map(|interval| interval / 2);
    let thread_options = hall::ThreadOptions {
        beat_every: feed_every.map_or(Duration::from_secs(1), |f| {
            (f / 4).clamp(Duration::from_millis(5), Duration::from_secs(1))
        }),
        test_hooks: devices::printers::test_hooks_enabled()
            .then(|| config.hall.runtime_dir.clone()),
    };
    let (handle, thread) = hall::spawn(hall, publisher, thread_options);

    let device_stop = CancellationToken::new();
    let (mut devices, mut checks) = Devices::start(&config, &feeds, &health, &device_stop).await?;
    let heartbeat = handle.heartbeat().clone();
    let max_age = feed_every.unwrap_or(Duration::from_secs(30));
    checks.insert(0, Check::heartbeat("hall", heartbeat, max_age));
    let tasks = tokio_util::task::TaskTracker::new();
    let sync = crate::sync::start(
        &config,
        options.clock.clone(),
        handle.clone(),
        &feeds,
        &tasks,
        &shutdown,
    )?;
    let disk = disk::DiskGuard::new(config.hall.data_dir.clone(), config.store.min_free_mb);
    let services = Arc::new(Services {
        hall: handle.clone(),
        issuing: IssuingService::new(handle.clone(), devices.printers.clone(), disk),
        feeds: feeds.clone(),
        sync: sync.clone(),
        access: services::Access::new(config.clone()),
    });
    let inputs = Inputs::new(config.clone(), (*services).clone());
    devices.start_inputs(
        &config,
        &inputs,
        &services,
        &health,
        &mut checks,
        &device_stop,
    )?;

    let web = match web_listener {
        Some(listener) => {
            tracing::info!("web pages serving on http://{}", http.expect("bound"));
            let web =
                crate::web::spawn(listener, services.clone(), config.clone(), shutdown.clone());
            web.map_err(|e| tracing::error!("web: cannot start its thread: {e}"))
                .ok()
        }
        None => None,
    };
    tasks.spawn(server::serve(
        listener,
        services.clone(),
        config.control,
        shutdown.clone(),
    ));
    tasks.spawn(timer(handle.clone(), options.tick, shutdown.clone()));
    if let Some(every) = feed_every {
        tasks.spawn(watchdog::feed(
            checks,
            every,
            notifier.clone(),
            shutdown.clone(),
        ));
    }
    let reload = options.reload.clone();
    tasks.spawn(reloader(
        reload,
        config.clone(),
        handle.clone(),
        services.access.clone(),
        notifier.clone(),
        shutdown.clone(),
    ));

    let status = status_line(&feeds.snapshot.borrow(), Some(&sync.cached()));
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
            http,
            business_day,
        });
    }
    tasks.spawn(report_status(
        feeds.snapshot.clone(),
        sync,
        notifier.clone(),
        shutdown.clone(),
    ));
    tasks.close();

    shutdown.cancelled().await;
    tracing::info!("hallq stopping");
    notifier.stopping();
    let _ = std::fs::remove_file(config.socket_path());
    // The hall finishes the request in flight, then ends; the displays draw its last snapshot.
    handle.stop().await;
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    if let Some(web) = web {
        let _ = tokio::task::spawn_blocking(move || web.join()).await;
    }
    drop((services, handle));
    tasks.wait().await;
    devices.drain(DRAIN).await;
    device_stop.cancel();
    devices.finish(Duration::from_secs(2)).await;
    tracing::info!("hallq stopped");
    Ok(())
}

/// `serving; 12 waiting; tidal: open a window for A (20 waiting); no open window for B (3
/// waiting); printer kiosk-1-printer paper_near_end; sync ok` (English, like the journal).
/// `sync` is the upstream sync's report, where there is a sync task to ask.
pub fn status_line(snapshot: &HallSnapshot, sync: Option<&SyncReport>) -> String {
    let hall = &snapshot.hall;
    let waiting: u32 = hall.waiting.values().sum();
    let mut parts = vec!["serving".to_string(), format!("{waiting} waiting")];
    if snapshot.store.state == snapshot::StoreState::Fail {
        parts.push(format!("STORE FAIL: {}", snapshot.store.detail));
    }
    parts.extend(hall.tidal.iter().map(|t| {
        format!(
            "tidal: open a window for {} ({} waiting)",
            t.service, t.waiting
        )
    }));
    parts.extend(
        hall.unserved
            .iter()
            .map(|u| format!("no open window for {} ({} waiting)", u.service, u.waiting)),
    );
    parts.extend(snapshot::problems(&snapshot.devices));
    parts.extend(sync.map(|r| crate::catalogue::sync::summary(r, crate::catalogue::Lang::En)));
    parts.join("; ")
}

/// Keep systemd's STATUS= current: after queue changes, device health changes and sync
/// changes.
async fn report_status(
    mut snapshot: watch::Receiver<HallSnapshot>,
    mut sync: SyncHandle,
    notifier: Notifier,
    shutdown: CancellationToken,
) {
    let mut last = String::new();
    let mut sync_alive = true;
    loop {
        let line = status_line(&snapshot.borrow_and_update(), Some(&sync.cached()));
        if line != last {
            notifier.status(&line);
            last = line;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = snapshot.changed() => if r.is_err() { return },
            alive = sync.changed(), if sync_alive => sync_alive = alive,
        }
    }
}

/// Reload the config file on request (SIGHUP), keeping the running one if the new one is bad.
async fn reloader(
    reload: Arc<tokio::sync::Notify>,
    config: Arc<Config>,
    hall: HallHandle,
    access: services::Access,
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
            Ok(new) => match hall.reload(Arc::new(new.clone())).await {
                Ok(()) => {
                    access.update(Arc::new(new));
                    tracing::info!(
                        "reload: {} applied (device and [control] changes take effect at the \
                         next restart)",
                        path.display()
                    )
                }
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
                if let Err(e) = hall.execute_own(Command::Tick).await {
                    tracing::warn!("timer tick failed: {e}");
                }
            }
        }
    }
}
