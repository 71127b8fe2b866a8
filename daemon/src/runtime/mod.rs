//! The runtime: wires the hall task, the control socket, the timers and the effect runner, and
//! runs them until shutdown.
//!
//! [`run`] is the whole daemon; `main` only parses arguments, sets up logging and signals, and
//! calls it. Tests call it too, with a [`clock::ManualClock`].

pub mod clock;
pub mod hall;
pub mod queries;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::control::server;
use crate::engine::{day, Command, Effect, Engine};
use crate::store::{self, Store, StoreError};
use clock::Clock;
use hall::{Hall, HallHandle};

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
}

/// Options a test or `main` sets.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub clock: Arc<dyn Clock>,
    /// How often the timer asks for rollover and tidal checks.
    pub tick: Duration,
    /// Told once the store is open and checked and the socket is serving.
    pub ready: Option<tokio::sync::mpsc::UnboundedSender<Ready>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            clock: Arc::new(clock::SystemClock),
            tick: TICK,
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

/// Run the daemon until `shutdown` is cancelled.
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let config = Arc::new(config);
    let (hall, _lock) = open_hall(&config, options.clock.clone())?;
    let business_day = hall.engine().state().business_day;
    let (effects_tx, effects_rx) = mpsc::unbounded_channel();
    let listener = server::bind(&config.socket_path())?;
    let (handle, thread) = hall::spawn(hall, effects_tx);

    tracing::info!(
        hall = %config.hall.id,
        business_day = %business_day,
        socket = %config.socket_path().display(),
        "hallq serving"
    );
    if let Some(ready) = &options.ready {
        let _ = ready.send(Ready {
            socket: config.socket_path(),
            business_day,
        });
    }

    let tasks = tokio_util::task::TaskTracker::new();
    tasks.spawn(server::serve(listener, handle.clone(), shutdown.clone()));
    tasks.spawn(timer(handle.clone(), options.tick, shutdown.clone()));
    tasks.spawn(run_effects(effects_rx));
    tasks.close();

    shutdown.cancelled().await;
    tracing::info!("hallq stopping");
    drop(handle);
    tasks.wait().await;
    let _ = std::fs::remove_file(config.socket_path());
    // Every handle is gone, so the hall thread finishes the request in flight and ends.
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    Ok(())
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

/// Carry out effects after their change is committed. Devices join here in later issues; for now
/// the journal is the only output.
async fn run_effects(mut effects: mpsc::UnboundedReceiver<Effect>) {
    while let Some(effect) = effects.recv().await {
        match effect {
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
            Effect::PrintTicket { .. } | Effect::WindowChanged { .. } | Effect::QueueChanged => {}
        }
    }
}
