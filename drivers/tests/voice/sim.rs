//! The voice task with the sim output and paused time: order, no overlap, completeness,
//! recalls, an unplugged and returning device, bounds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hallq_drivers::voice::output::sim::SimOutput;
use hallq_drivers::voice::wav::read_wav;
use hallq_drivers::voice::{
    spawn_voice, Announced, Call, Outcome, VoiceConfig, VoiceError, VoiceHandle,
};
use hallq_drivers::{Health, HealthState};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use crate::support::{self, call, expected, frames, recover, Piece};

struct Hall {
    voice: VoiceHandle,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

fn config() -> VoiceConfig {
    VoiceConfig::new("voice", support::template(), support::speech())
}

fn start(config: VoiceConfig) -> Hall {
    let dir = tempfile::tempdir().unwrap();
    let clips_dir = dir.path().join("clips");
    std::fs::create_dir(&clips_dir).unwrap();
    let clips = support::clips(&clips_dir);
    let out = dir.path().join("sim-voice");
    let output = SimOutput::create(&out).unwrap();
    let (voice, _join) = spawn_voice(config, clips, Box::new(output));
    Hall {
        voice,
        out,
        _dir: dir,
    }
}

/// The announcement files in the sim folder, in their numbered order.
fn files(dir: &Path) -> Vec<(String, Vec<i16>)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".wav") && !n.starts_with('.')),
        "{names:?}"
    );
    names
        .into_iter()
        .map(|n| {
            let audio = read_wav(&dir.join(&n)).unwrap();
            assert_eq!(audio.format, support::FORMAT);
            (n, audio.samples)
        })
        .collect()
}

async fn wait_health(
    health: &mut watch::Receiver<Health>,
    state: HealthState,
    cause: Option<&str>,
) {
    health
        .wait_for(|h| h.state == state && h.cause.as_deref() == cause)
        .await
        .expect("voice task alive");
}

async fn next_played(events: &mut broadcast::Receiver<Announced>) -> Announced {
    loop {
        let a = events.recv().await.expect("voice task alive");
        if a.outcome == Outcome::Played {
            return a;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn twenty_calls_within_two_seconds_are_announced_in_order_complete_and_apart() {
    let hall = start(config());
    let mut health = hall.voice.health();
    wait_health(&mut health, HealthState::Online, None).await;
    let mut events = hall.voice.announcements();
    let calls = support::twenty_calls();
    let mut called_at = HashMap::new();
    for c in &calls {
        called_at.insert(c.number.clone(), Instant::now());
        hall.voice.announce(c.clone()).unwrap();
        tokio::time::sleep(Duration::from_millis(95)).await;
    }
    hall.voice.idle().await;

    let files = files(&hall.out);
    assert_eq!(files.len(), 20);
    let mut previous_end: Option<Instant> = None;
    for (i, ((name, samples), c)) in files.iter().zip(&calls).enumerate() {
        assert_eq!(name, &format!("{:04}-{}.wav", i + 1, c.number));
        let pieces = recover(samples);
        assert_eq!(pieces, expected(c, &support::speech()), "{name}");
        assert_eq!(frames(&pieces), samples.len(), "{name}: durations add up");

        let a = events.recv().await.unwrap();
        assert_eq!(a.call, *c);
        assert_eq!(a.outcome, Outcome::Played);
        assert!(a.missing.is_empty());
        assert_eq!(
            a.length,
            support::FORMAT.duration_of(samples.len()),
            "{name}: the whole announcement played"
        );
        // No overlap: each starts after the previous one ended (plus the pause).
        let start = called_at[&c.number] + a.latency.unwrap();
        if let Some(end) = previous_end {
            assert!(
                start >= end + support::speech().gap,
                "{name} overlaps the one before"
            );
        }
        previous_end = Some(start + a.length);
    }
    let progress = hall.voice.progress().borrow().clone();
    assert_eq!(
        (progress.received, progress.played, progress.dropped),
        (20, 20, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn the_first_announcement_on_an_empty_queue_starts_at_once() {
    let hall = start(config());
    wait_health(&mut hall.voice.health(), HealthState::Online, None).await;
    let mut events = hall.voice.announcements();
    hall.voice.announce(call("A001", 1)).unwrap();
    let a = next_played(&mut events).await;
    // Paused time: nothing but the work itself stands between the call and the sound.
    assert_eq!(a.latency, Some(Duration::ZERO));
}

#[tokio::test(start_paused = true)]
async fn a_recall_during_its_own_announcement_plays_once_more_after_it_whole() {
    let hall = start(config());
    wait_health(&mut hall.voice.health(), HealthState::Online, None).await;
    let mut progress = hall.voice.progress();
    hall.voice.announce(call("A001", 1)).unwrap();
    progress
        .wait_for(|p| p.playing.as_deref() == Some("A001"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        progress.borrow().playing.as_deref(),
        Some("A001"),
        "still playing"
    );
    let recall = Call {
        recall: true,
        ..call("A001", 1)
    };
    // The clerk presses recall twice in a row.
    hall.voice.announce(recall.clone()).unwrap();
    hall.voice.announce(recall.clone()).unwrap();
    hall.voice.announce(call("B001", 2)).unwrap();
    hall.voice.idle().await;

    let files = files(&hall.out);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["0001-A001.wav", "0002-A001.wav", "0003-B001.wav"]);
    for (name, samples) in &files[..2] {
        assert_eq!(
            recover(samples),
            expected(&call("A001", 1), &support::speech()),
            "{name} is whole"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_recall_of_a_waiting_announcement_replaces_it_in_place() {
    let hall = start(config());
    wait_health(&mut hall.voice.health(), HealthState::Online, None).await;
    let mut events = hall.voice.announcements();
    for (n, w) in [("A001", 1), ("A002", 2), ("A003", 3)] {
        hall.voice.announce(call(n, w)).unwrap();
    }
    hall.voice
        .announce(Call {
            recall: true,
            ..call("A002", 2)
        })
        .unwrap();
    hall.voice.idle().await;
    let mut played = Vec::new();
    while let Ok(a) = events.try_recv() {
        played.push((a.call.number, a.call.recall));
    }
    assert_eq!(
        played,
        [
            ("A001".to_string(), false),
            ("A002".to_string(), true),
            ("A003".to_string(), false)
        ]
    );
    assert_eq!(files(&hall.out).len(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_unplugged_device_goes_offline_and_announcements_go_on_when_it_returns() {
    let hall = start(config());
    let mut health = hall.voice.health();
    wait_health(&mut health, HealthState::Online, None).await;
    let mut events = hall.voice.announcements();
    hall.voice.announce(call("A001", 1)).unwrap();
    hall.voice.idle().await;

    // Unplugged while idle: the periodic check notices.
    std::fs::remove_dir_all(&hall.out).unwrap();
    wait_health(&mut health, HealthState::Offline, Some("disconnected")).await;
    let calling = Instant::now();
    hall.voice.announce(call("B001", 2)).unwrap();
    hall.voice.announce(call("C001", 3)).unwrap();
    assert!(calling.elapsed().is_zero(), "announcing never waits");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(hall.voice.progress().borrow().waiting, 2);

    // Plugged back in: online again, and what waited is announced, in order.
    std::fs::create_dir(&hall.out).unwrap();
    wait_health(&mut health, HealthState::Online, None).await;
    hall.voice.idle().await;
    let mut played = Vec::new();
    while let Ok(a) = events.try_recv() {
        assert_eq!(a.outcome, Outcome::Played);
        played.push(a.call.number);
    }
    assert_eq!(played, ["A001", "B001", "C001"]);
    let files = files(&hall.out);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["0002-B001.wav", "0003-C001.wav"]);
    assert_eq!(
        recover(&files[1].1),
        expected(&call("C001", 3), &support::speech())
    );
}

#[tokio::test(start_paused = true)]
async fn an_announcement_the_failing_device_could_not_play_is_played_whole_on_its_return() {
    let mut config = config();
    // Check rarely, so the failure is found by the announcement itself.
    config.check_interval = Duration::from_secs(3600);
    let hall = start(config);
    let mut health = hall.voice.health();
    wait_health(&mut health, HealthState::Online, None).await;
    std::fs::remove_dir_all(&hall.out).unwrap();
    hall.voice.announce(call("A001", 1)).unwrap();
    wait_health(&mut health, HealthState::Offline, Some("disconnected")).await;
    assert_eq!(hall.voice.progress().borrow().waiting, 1, "put back");
    std::fs::create_dir(&hall.out).unwrap();
    hall.voice.idle().await;
    let files = files(&hall.out);
    assert_eq!(files.len(), 1);
    assert_eq!(
        recover(&files[0].1),
        expected(&call("A001", 1), &support::speech())
    );
}

#[tokio::test(start_paused = true)]
async fn a_device_gone_longer_than_the_hold_drops_what_waited_and_says_so() {
    let mut config = config();
    config.offline_hold = Duration::from_secs(10);
    let hall = start(config);
    let mut health = hall.voice.health();
    wait_health(&mut health, HealthState::Online, None).await;
    std::fs::remove_dir_all(&hall.out).unwrap();
    wait_health(&mut health, HealthState::Offline, Some("disconnected")).await;
    let mut events = hall.voice.announcements();
    hall.voice.announce(call("A001", 1)).unwrap();
    let a = events.recv().await.unwrap();
    assert_eq!(a.call.number, "A001");
    assert_eq!(
        a.outcome,
        Outcome::Dropped {
            reason: "device_offline"
        }
    );
    // Still gone: a new call is dropped at once, not kept for later.
    hall.voice.announce(call("A002", 2)).unwrap();
    let a = events.recv().await.unwrap();
    assert_eq!(
        (a.call.number.as_str(), a.outcome),
        (
            "A002",
            Outcome::Dropped {
                reason: "device_offline"
            }
        )
    );
    std::fs::create_dir(&hall.out).unwrap();
    wait_health(&mut health, HealthState::Online, None).await;
    hall.voice.announce(call("A003", 3)).unwrap();
    assert_eq!(next_played(&mut events).await.call.number, "A003");
    let names: Vec<String> = files(&hall.out).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 1);
    assert!(names[0].ends_with("-A003.wav"), "{names:?}");
}

#[tokio::test(start_paused = true)]
async fn announcing_is_bounded_and_never_waits() {
    let mut config = config();
    config.queue_capacity = 64;
    let hall = start(config);
    let mut events = hall.voice.announcements();
    // The task does not run while this loop does (one thread, no await): the inbox fills.
    let results: Vec<Result<(), VoiceError>> = (0..300)
        .map(|i| hall.voice.announce(call(&format!("A{i:03}"), 1)))
        .collect();
    let accepted = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(accepted, 256);
    assert!(results[256..].iter().all(|r| *r == Err(VoiceError::Busy)));
    tokio::task::yield_now().await;
    hall.voice
        .progress()
        .wait_for(|p| p.received == 256)
        .await
        .unwrap();
    // The queue holds 64: the oldest gave way, each with an outcome.
    let mut dropped = 0;
    while let Ok(a) = events.try_recv() {
        assert_eq!(
            a.outcome,
            Outcome::Dropped {
                reason: "queue_full"
            }
        );
        dropped += 1;
    }
    let progress = hall.voice.progress().borrow().clone();
    assert_eq!(dropped, progress.dropped);
    assert_eq!(
        progress.waiting as u64
            + progress.playing.iter().count() as u64
            + progress.played
            + dropped,
        256
    );
    assert!(progress.waiting <= 64);
}

#[tokio::test(start_paused = true)]
async fn the_task_answers_pings_while_it_plays() {
    let hall = start(config());
    wait_health(&mut hall.voice.health(), HealthState::Online, None).await;
    let mut progress = hall.voice.progress();
    hall.voice.announce(call("A001", 1)).unwrap();
    progress.wait_for(|p| p.playing.is_some()).await.unwrap();
    assert!(hall.voice.ping(Duration::from_millis(10)).await);
    assert!(progress.borrow().playing.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_missing_clip_is_reported_with_the_announcement_and_the_rest_is_said() {
    let dir = tempfile::tempdir().unwrap();
    support::write_clips(dir.path(), &["7", "qing"]);
    let clips = hallq_drivers::voice::ClipSet::load(dir.path()).unwrap();
    let out = dir.path().join("out");
    let (voice, _join) = spawn_voice(config(), clips, Box::new(SimOutput::create(&out).unwrap()));
    let mut events = voice.announcements();
    voice.announce(call("A017", 3)).unwrap();
    let a = next_played(&mut events).await;
    assert_eq!(a.missing, ["qing.wav", "7.wav"]);
    let samples = &files(&out)[0].1;
    let said: Vec<Piece> = recover(samples);
    let first: Vec<Piece> = ["chime", "a", "0", "1", "hao"]
        .map(|s| Piece::Clip(s.into()))
        .into();
    assert_eq!(said[..5], first[..]);
}
