//! One animator task per board: it renders the board's view with `hallq-display`, blinks a
//! new call for [`BLINK`]'s duration, scrolls text wider than the board ([`SCROLL_STEP_PX`]
//! every [`SCROLL_TICK`]), and hands a frame on to its [`Sink`] only when it differs from the
//! last one.

use std::time::Duration;

use hallq_display::{render, scroll_period, AnyFrame, Blink, BoardSpec, View};
use hallq_drivers::modbus::BusHandle;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::sim_folder::SimFolder;

/// A new call blinks once a second for ten seconds.
pub const BLINK: Blink = Blink {
    period: Duration::from_secs(1),
    duration: Duration::from_secs(10),
};
/// Scrolling text moves this many pixels per tick...
pub const SCROLL_STEP_PX: u32 = 2;
/// ...every this long (20 px/s).
pub const SCROLL_TICK: Duration = Duration::from_millis(100);

/// What an animator is told.
pub enum ToBoard {
    /// Show this view; `new_call` starts the blink.
    Show { view: View, new_call: bool },
    /// Render and hand over the current frame, then answer.
    Sync(oneshot::Sender<()>),
    /// Answer (liveness).
    Ping(oneshot::Sender<()>),
}

/// Where an animator's frames go.
pub enum Sink {
    Bus {
        bus: BusHandle,
        device: String,
    },
    Sim(SimFolder),
    /// A Homie device's `display/frame/set` topic: every frame as a whole-frame update
    /// (retained, so a device that connects gets the picture at once).
    Mqtt {
        outbox: crate::mqtt::Outbox,
        device: String,
    },
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
pub async fn animate(
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
            Sink::Mqtt { outbox, device } => {
                let update = frame.encode_update(None).to_bytes();
                outbox.set(crate::mqtt::topics::frame(device), update);
            }
            Sink::Sim(folder) => {
                if let Err(e) = folder.write(frame).await {
                    tracing::warn!(dir = %folder.dir.display(), "sim display: frame not written: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallq_display::{WindowBarState, WindowBarView};

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
}
