//! A sound device that hangs: it opens and answers checks, but never finishes playing. The
//! task must give up on the announcement after its length plus the margin, report `stuck`,
//! open the device again, and keep taking calls meanwhile.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallq_drivers::voice::output::OutputFuture;
use hallq_drivers::voice::{spawn_voice, Audio, Format, Output, VoiceConfig};
use hallq_drivers::HealthState;

use crate::support::{self, call};

/// Opens fine, never finishes a play.
struct Hung {
    opens: Arc<AtomicUsize>,
}

impl Output for Hung {
    fn describe(&self) -> String {
        "hung".into()
    }
    fn open(&mut self, _: Format) -> OutputFuture<()> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
    fn play(&mut self, _: Arc<Audio>, _: &str) -> OutputFuture<Instant> {
        Box::pin(std::future::pending())
    }
    fn check(&mut self) -> OutputFuture<()> {
        Box::pin(async { Ok(()) })
    }
    fn close(&mut self) {}
}

#[tokio::test(start_paused = true)]
async fn a_device_that_never_finishes_is_stuck_and_opened_again() {
    let dir = tempfile::tempdir().unwrap();
    let clips = support::clips(dir.path());
    let opens = Arc::new(AtomicUsize::new(0));
    let config = VoiceConfig::new("voice", support::template(), support::speech());
    let margin = config.stuck_margin;
    let output = Hung {
        opens: opens.clone(),
    };
    let (voice, _join) = spawn_voice(config, clips, Box::new(output));
    let mut health = voice.health();
    health
        .wait_for(|h| h.state == HealthState::Online)
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    voice.announce(call("A001", 1)).unwrap();
    health
        .wait_for(|h| h.cause.as_deref() == Some("stuck"))
        .await
        .unwrap();
    assert!(
        started.elapsed() > margin,
        "given the announcement's length plus the margin"
    );
    assert!(started.elapsed() < margin + Duration::from_secs(5));
    // Still taking calls, and the cut announcement waits to be played again.
    voice.announce(call("B001", 2)).unwrap();
    assert!(voice.ping(Duration::from_millis(10)).await);
    health
        .wait_for(|h| h.state == HealthState::Online)
        .await
        .unwrap();
    assert_eq!(opens.load(Ordering::SeqCst), 2);
    let progress = voice.progress().borrow().clone();
    assert_eq!(progress.received, 2);
    assert_eq!(progress.played, 0);
}
