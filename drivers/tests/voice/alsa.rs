//! The voice task through ALSA itself: the device is ALSA's `file` plugin with the `null`
//! plugin behind it, so libasound opens, configures and plays a real PCM and the sound lands in
//! a file the test reads back — no sound card needed. The tests point `ALSA_CONFIG_PATH` at a
//! config of their own (the system's alsa.conf plus PCMs they define and remove, as a sound
//! card comes and goes). Real time: the ALSA thread does not know tokio's clock.
//!
//! What cannot run without a kernel sound device: a card unplugged while open (`ENODEV`, state
//! `DISCONNECTED`); the file plugin also swallows write errors. The task's handling of a device
//! lost mid-run is tested with the sim output (`sim.rs`), which shares it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use hallq_drivers::voice::{
    open_output, spawn_voice, Outcome, OutputConfig, VoiceConfig, VoiceHandle,
};
use hallq_drivers::{Health, HealthState};
use tokio::sync::watch;

use crate::support::{self, call, expected, recover, Piece};

/// The ALSA device name that writes raw samples into `path`.
fn file_device(path: &Path) -> String {
    format!("file:FILE=\"{}\",FORMAT=raw", path.display())
}

fn config() -> VoiceConfig {
    let mut config = VoiceConfig::new("voice", support::template(), support::speech());
    config.backoff_min = Duration::from_millis(20);
    config.backoff_max = Duration::from_millis(200);
    config.check_interval = Duration::from_millis(200);
    config
}

fn start(config: VoiceConfig, clips_dir: &Path, device: String) -> VoiceHandle {
    alsa_config_file();
    std::fs::create_dir_all(clips_dir).unwrap();
    let clips = support::clips(clips_dir);
    let output = open_output(&OutputConfig::Alsa { device }).unwrap();
    spawn_voice(config, clips, output).0
}

async fn wait_health(
    health: &mut watch::Receiver<Health>,
    state: HealthState,
    cause: Option<&str>,
) {
    let waited = tokio::time::timeout(
        Duration::from_secs(20),
        health.wait_for(|h| h.state == state && h.cause.as_deref() == cause),
    )
    .await
    .map(|r| r.map(drop));
    match waited {
        Ok(r) => r.expect("voice task alive"),
        Err(_) => panic!(
            "health never became {state} {cause:?}: {:?}",
            *health.borrow()
        ),
    }
}

/// The samples ALSA wrote, without the silence written when the device was opened.
fn recording(path: &Path) -> Vec<Piece> {
    let bytes = std::fs::read(path).unwrap();
    let samples: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut pieces = recover(&samples);
    if matches!(pieces.first(), Some(Piece::Silence(_))) {
        pieces.remove(0);
    }
    pieces
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_calls_within_two_seconds_play_through_alsa_in_order_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("out.raw");
    let voice = start(config(), &dir.path().join("clips"), file_device(&raw));
    let mut health = voice.health();
    wait_health(&mut health, HealthState::Online, None).await;
    let mut events = voice.announcements();
    let calls = support::twenty_calls();
    for c in &calls {
        voice.announce(c.clone()).unwrap();
        tokio::time::sleep(Duration::from_millis(95)).await;
    }
    tokio::time::timeout(Duration::from_secs(60), voice.idle())
        .await
        .expect("all announced within a minute");
    let mut want = Vec::new();
    for c in &calls {
        let a = events.recv().await.unwrap();
        assert_eq!((&a.call, &a.outcome), (c, &Outcome::Played));
        assert!(a.latency.is_some());
        want.extend(expected(c, &support::speech()));
    }
    // Back to back in the stream, none mixed into another, none cut.
    assert_eq!(recording(&raw), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_is_not_there_is_offline_until_it_appears_then_plays_what_waited() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("out.raw");
    // The PCM is named in the config but not (yet) defined: an unplugged sound card.
    define_pcm("hallq_test_late", None);
    let voice = start(
        config(),
        &dir.path().join("clips"),
        "hallq_test_late".into(),
    );
    let mut health = voice.health();
    wait_health(&mut health, HealthState::Offline, Some("disconnected")).await;
    let mut progress = voice.progress();
    voice.announce(call("A001", 1)).unwrap();
    voice.announce(call("B002", 9)).unwrap();
    progress.wait_for(|p| p.waiting == 2).await.unwrap();
    assert_eq!(voice.current_health(), Health::offline("disconnected"));
    // Plugged in: ALSA reads its changed config at the next open.
    define_pcm("hallq_test_late", Some(&raw));
    wait_health(&mut health, HealthState::Online, None).await;
    tokio::time::timeout(Duration::from_secs(20), voice.idle())
        .await
        .unwrap();
    let mut want = expected(&call("A001", 1), &support::speech());
    want.extend(expected(&call("B002", 9), &support::speech()));
    assert_eq!(recording(&raw), want);
}

/// ALSA reads `ALSA_CONFIG_PATH` from the environment, once per process here: a config of the
/// test's own that includes the system's alsa.conf and adds the PCMs the tests define.
fn alsa_config_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("alsa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("asound.conf");
        std::fs::write(&file, "<confdir:alsa.conf>\n").unwrap();
        // Set before any test calls into ALSA (every ALSA test comes through here first).
        std::env::set_var("ALSA_CONFIG_PATH", &file);
        file
    })
}

/// Defines the PCM `name` as ALSA's `file` plugin writing raw samples to `path`, or (`None`)
/// removes it. The config file is replaced (new inode), so ALSA re-reads it at the next open.
fn define_pcm(name: &str, path: Option<&Path>) {
    static PCMS: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let file = alsa_config_file();
    let mut pcms = PCMS.lock().unwrap();
    match path {
        Some(path) => pcms.insert(name.to_string(), path.to_path_buf()),
        None => pcms.remove(name),
    };
    let mut text = String::from("<confdir:alsa.conf>\n");
    for (name, path) in pcms.iter() {
        text.push_str(&format!(
            "pcm.{name} {{\n    type file\n    slave.pcm \"null\"\n    file \"{}\"\n    format \"raw\"\n}}\n",
            path.display()
        ));
    }
    let temp = file.with_extension("tmp");
    std::fs::write(&temp, text).unwrap();
    std::fs::rename(&temp, file).unwrap();
}
