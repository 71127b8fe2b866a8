//! Voice calling in the daemon: the voice task started from `[voice]`, fed every call and
//! recall from the snapshot's call stream, its health in the device table and its liveness in
//! the watchdog.
//!
//! Owns: starting the task (clips checked again at start: a clip set that `check-config`
//! would refuse stops the start with the same `file:line:col` error; missing clips are one
//! WARN line each), and the follower that hands calls to the task in call order. Does not
//! own: composing, queueing or playing (`hallq-drivers` voice), or when a call happens.

use std::sync::Arc;

use hallq_drivers::voice::{open_output, spawn_voice, Call, VoiceHandle};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::{forward_health, DeviceError};
use crate::config::{voice_missing_lines, Config, VoiceClips, VOICE_DEVICE_ID};
use crate::runtime::snapshot::{DeviceClass, DeviceHealthTable, Feeds, RecentCall};
use crate::runtime::watchdog::Check;

/// Start the voice task when `[voice]` is configured and its clips are there.
pub fn start(
    config: &Arc<Config>,
    feeds: &Feeds,
    health: &DeviceHealthTable,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) -> Result<Option<VoiceHandle>, DeviceError> {
    let Some(voice) = &config.voice else {
        return Ok(None);
    };
    let bad = |message: String| DeviceError::Config {
        device: VOICE_DEVICE_ID.into(),
        message,
    };
    let (clips, missing) = match voice.load_clips(&config.windows, &config.services) {
        Err(e) => return Err(bad(e.to_string())),
        Ok(VoiceClips::Off { reason }) => {
            tracing::warn!(device = VOICE_DEVICE_ID, "{reason}");
            return Ok(None);
        }
        Ok(VoiceClips::Ready { clips, missing }) => (clips, missing),
    };
    for line in voice_missing_lines(&missing) {
        tracing::warn!(device = VOICE_DEVICE_ID, "{line}");
    }
    let output = open_output(&voice.output)
        .map_err(|e| bad(format!("output {}: {e}", voice.output.describe())))?;
    let (handle, task) = spawn_voice(voice.task_config(), clips, output);
    let stop = shutdown.clone();
    tokio::spawn(async move {
        stop.cancelled().await;
        task.abort();
    });
    tokio::spawn(forward_health(
        handle.health(),
        health.clone(),
        VOICE_DEVICE_ID.to_string(),
        DeviceClass::Voice,
        shutdown.clone(),
    ));
    tokio::spawn(follow(feeds.calls(), handle.clone(), shutdown.clone()));
    let probe = handle.clone();
    checks.push(Check::new("voice", move |t| {
        let probe = probe.clone();
        async move { probe.ping(t).await }
    }));
    Ok(Some(handle))
}

/// Hand every call and recall to the voice task, in call order. A full or stopped task is a
/// log line, never a delay for the caller.
async fn follow(
    mut calls: broadcast::Receiver<RecentCall>,
    voice: VoiceHandle,
    shutdown: CancellationToken,
) {
    loop {
        let call = tokio::select! {
            _ = shutdown.cancelled() => return,
            call = calls.recv() => call,
        };
        match call {
            Ok(c) => {
                let call = Call {
                    window: c.window,
                    number: c.number.clone(),
                    service: c.service.clone(),
                    recall: c.recall,
                };
                if let Err(e) = voice.announce(call) {
                    tracing::warn!(device = VOICE_DEVICE_ID, ticket = %c.number, "not announced: {e}");
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    device = VOICE_DEVICE_ID,
                    "{n} calls were not announced (voice fell behind)"
                );
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
