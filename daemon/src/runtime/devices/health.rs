//! Device health as the daemon reports it: `online | degraded | offline` with a cause, per
//! device, for `hallq status`, the systemd STATUS line and the journal.
//!
//! Device tasks (or the forwarders that watch them) write here; nothing here talks to devices.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    Online,
    Degraded,
    Offline,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Online => "online",
            HealthState::Degraded => "degraded",
            HealthState::Offline => "offline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceHealth {
    pub kind: &'static str,
    pub state: HealthState,
    /// Machine-readable cause such as `paper_out`, `disconnected`, `no_answer`.
    pub cause: Option<String>,
}

/// Every device's latest health; cloneable, cheap to read.
#[derive(Debug, Clone)]
pub struct HealthBoard {
    inner: Arc<Mutex<BTreeMap<String, DeviceHealth>>>,
    version: Arc<watch::Sender<u64>>,
}

impl Default for HealthBoard {
    fn default() -> Self {
        HealthBoard {
            inner: Arc::default(),
            version: Arc::new(watch::channel(0).0),
        }
    }
}

impl HealthBoard {
    /// Record a device's health; logs the transition once (`device=... cause=...`).
    pub fn set(&self, device: &str, health: DeviceHealth) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let previous = map.insert(device.to_string(), health.clone());
        drop(map);
        if previous.as_ref() == Some(&health) {
            return;
        }
        let cause = health.cause.as_deref().unwrap_or("");
        match health.state {
            HealthState::Online if previous.is_some() => {
                tracing::info!(device, kind = health.kind, "device online")
            }
            HealthState::Online => tracing::debug!(device, kind = health.kind, "device online"),
            HealthState::Degraded => {
                tracing::warn!(
                    device,
                    kind = health.kind,
                    cause,
                    "device degraded: {cause}"
                )
            }
            HealthState::Offline => {
                tracing::error!(device, kind = health.kind, cause, "device offline: {cause}")
            }
        }
        self.version.send_modify(|v| *v += 1);
    }

    pub fn snapshot(&self) -> BTreeMap<String, DeviceHealth> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A receiver that changes whenever any device's health does.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// `printer kiosk-1-printer paper_near_end` for every device not online, for STATUS=.
    pub fn problems(&self) -> Vec<String> {
        self.snapshot()
            .into_iter()
            .filter(|(_, h)| h.state != HealthState::Online)
            .map(|(id, h)| {
                format!(
                    "{} {id} {}",
                    h.kind,
                    h.cause.as_deref().unwrap_or(h.state.as_str())
                )
            })
            .collect()
    }
}
