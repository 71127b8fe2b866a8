//! What the Modbus key tests and the benchmark share: a bus line on pty pairs (with or
//! without the fault layer) that the bus task can open again after a restart, and a stand-in
//! for the daemon that applies key events exactly as the daemon must — its durable mark per
//! device written together with each applied event — and can crash and restart.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_drivers::modbus::fault::{FaultLayer, Faults};
use hallq_drivers::modbus::{
    spawn_bus, AppliedMark, BusConfig, BusHandle, InputBatch, KeyEvent, SimBus,
};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_serial::{SerialPortBuilderExt, SerialStream};

pub const WAIT: Duration = Duration::from_secs(60);

/// An RS-485 line on ptys: the host opens `path`, the simulator serves the far end, with the
/// fault layer between them when asked.
pub struct Line {
    pub path: String,
    pub fault: Option<FaultLayer>,
    /// Held so the pty stays while the host closes and reopens it.
    _near: SerialStream,
}

impl Line {
    pub fn start(sim: &SimBus, faults: Option<(Faults, u64)>) -> Line {
        let line = sim.serve_pty(faults).expect("pty line");
        Line {
            path: line.path,
            fault: line.fault,
            _near: line.near,
        }
    }

    /// Starts a bus task on this line (opening the pty anew, as the daemon opens its port).
    pub fn spawn(&self, config: BusConfig) -> (BusHandle, JoinHandle<()>) {
        let path = self.path.clone();
        spawn_bus(config, move || {
            let path = path.clone();
            async move {
                tokio_serial::new(&path, 115_200)
                    .open_native_async()
                    .map_err(io::Error::other)
            }
        })
    }
}

/// A key event the stand-in applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub device: String,
    pub epoch: u16,
    pub event: KeyEvent,
}

/// What survives a restart of the stand-in: its "store".
#[derive(Debug, Default)]
pub struct Durable {
    /// `(epoch, last applied seq)` per device, written with each applied event.
    pub marks: HashMap<String, AppliedMark>,
    pub applied: Vec<Applied>,
}

/// The stand-in daemon: takes batches, applies each event its mark does not cover (one
/// "transaction" per event: the change and the mark together), answers with its mark.
pub struct StandIn {
    pub durable: Arc<Mutex<Durable>>,
    /// Changes after every applied event (the count of applied events).
    pub progress: watch::Sender<usize>,
    /// When set, the next batch is applied and then the stand-in dies before answering.
    pub crash_next: Arc<AtomicBool>,
    /// Devices whose batches are held forever (a daemon stuck on them).
    pub stuck: Arc<Mutex<Vec<String>>>,
    /// Events handed over that the durable marks covered (applied before, not applied again).
    pub skipped: Arc<AtomicUsize>,
}

impl Default for StandIn {
    fn default() -> Self {
        StandIn {
            durable: Arc::default(),
            progress: watch::channel(0).0,
            crash_next: Arc::default(),
            stuck: Arc::default(),
            skipped: Arc::default(),
        }
    }
}

impl StandIn {
    /// Runs one life of the stand-in on `batches`; calls `react` after applying a batch (the
    /// benchmark shows a frame there). Ends when the channel closes or it crashes.
    pub fn run(
        &self,
        mut batches: mpsc::Receiver<InputBatch>,
        mut react: impl FnMut(&InputBatch) + Send + 'static,
    ) -> JoinHandle<()> {
        let durable = self.durable.clone();
        let progress = self.progress.clone();
        let crash = self.crash_next.clone();
        let stuck = self.stuck.clone();
        let skipped = self.skipped.clone();
        tokio::spawn(async move {
            // In-memory state, rebuilt from the durable marks at every start.
            let mut marks = durable.lock().unwrap().marks.clone();
            let mut held = Vec::new();
            while let Some(batch) = batches.recv().await {
                if stuck.lock().unwrap().contains(&batch.device_id) {
                    held.push(batch);
                    continue;
                }
                let id = batch.device_id.clone();
                let mut mark = marks.get(&id).copied();
                let new: Vec<KeyEvent> = batch.new_events(mark).copied().collect();
                skipped.fetch_add(batch.events.len() - new.len(), Ordering::SeqCst);
                for event in new {
                    let m = AppliedMark {
                        epoch: batch.epoch,
                        seq: event.seq,
                    };
                    let mut d = durable.lock().unwrap();
                    d.applied.push(Applied {
                        device: id.clone(),
                        epoch: batch.epoch,
                        event,
                    });
                    d.marks.insert(id.clone(), m);
                    let n = d.applied.len();
                    drop(d);
                    marks.insert(id.clone(), m);
                    mark = Some(m);
                    progress.send_replace(n);
                }
                react(&batch);
                if crash.swap(false, Ordering::SeqCst) {
                    return;
                }
                if let Some(m) = mark.filter(|m| m.epoch == batch.epoch) {
                    batch.reply.applied(m);
                }
            }
        })
    }

    /// Waits until at least `n` events are applied; whether they were within `within`.
    pub async fn wait_applied(&self, n: usize, within: Duration) -> bool {
        let mut rx = self.progress.subscribe();
        tokio::time::timeout(within, rx.wait_for(|&k| k >= n))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The applied events of `device`, in the order applied.
    pub fn applied(&self, device: &str) -> Vec<(u16, KeyEvent)> {
        self.durable
            .lock()
            .unwrap()
            .applied
            .iter()
            .filter(|a| a.device == device)
            .map(|a| (a.epoch, a.event))
            .collect()
    }
}
