//! One key worker per MQTT key device: its events applied through the inputs core in
//! sequence order, without gaps, and acknowledged after they are used up.
//!
//! The rule a device follows (`docs/devices/mqtt.md`): it keeps every event until an
//! acknowledgement covers it, and sends the ones not covered again, oldest first, when hallq's
//! `$state` becomes `ready`, when it reconnects, and every few seconds while any wait. So
//! hallq takes an event only when it is the next one: the seq after the last one used up, seq
//! 1 of an epoch it has taken nothing of, or the seq after the acknowledgement the device says
//! it holds (so a device still runs on after hallq's store was replaced). An older one is a
//! repeat (answered by the acknowledgement that is already there); a later one leaves a gap (an
//! event lost while hallq was away, or sent before hallq had subscribed) and waits for the
//! device to send again.
//!
//! ```text
//! Router --KeyEvent--> worker: next? --> Inputs::press --> used up? --> Outbox: keys/ack/set
//! ```

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::outbox::Outbox;
use super::router::Garbage;
use super::topics;
use super::wire::{Ack, KeyEvent};
use crate::command::InputMark;
use crate::runtime::inputs::{keymap, Inputs, KeyPress};

/// Events waiting for one device's worker; more are dropped unacknowledged (sent again).
pub const QUEUE: usize = 256;

/// Whether `event` is the one to take after `last` (the newest used up, if any): the one after
/// `last` in its epoch; the one after the acknowledgement the device says it holds (no event
/// waits between them) when hallq has no mark or one of that epoch; or seq 1 of an epoch hallq
/// has taken nothing of.
pub fn is_next(last: Option<(u16, u16)>, event: &KeyEvent) -> Next {
    let mark = InputMark {
        device: String::new(),
        epoch: event.epoch,
        seq: event.seq,
    };
    if last.is_some() && !mark.is_new(last) {
        return Next::Repeat;
    }
    let follows = |(epoch, seq): (u16, u16)| {
        epoch == event.epoch && event.seq == if seq == u16::MAX { 1 } else { seq + 1 }
    };
    let new_epoch = last.is_none_or(|(epoch, _)| epoch != event.epoch);
    // The device's own acknowledgement counts only where hallq's mark does not contradict it:
    // no mark at all (a new store), or one of the same epoch that is behind (an older backup).
    // Of another epoch it may be an old event come late, which hallq cannot tell from new.
    let vouched = event
        .acked
        .is_some_and(|a| follows(a) && last.is_none_or(|(epoch, _)| epoch == event.epoch));
    if last.is_some_and(follows) || vouched || (new_epoch && event.seq == 1) {
        Next::Take
    } else {
        Next::Gap
    }
}

/// What to do with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Take,
    Repeat,
    Gap,
}

/// Apply one device's events until shutdown.
pub async fn work(
    device: String,
    inputs: Inputs,
    outbox: Outbox,
    garbage: Arc<Garbage>,
    mut events: mpsc::Receiver<KeyEvent>,
    shutdown: CancellationToken,
) {
    let ack_topic = topics::key_ack(&device);
    let mut last: Option<(u16, u16)> = None;
    let mut loaded = false;
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return,
            event = events.recv() => match event {
                Some(e) => e,
                None => return,
            },
        };
        if !loaded {
            match inputs.applied(&device).await {
                // Not published now: a store restored from an older backup would send the
                // device's acknowledgement backwards.
                Ok(mark) => {
                    last = mark;
                    loaded = true;
                }
                Err(e) => {
                    tracing::warn!(
                        device,
                        "mqtt key event not applied, the device sends it again: {e}"
                    );
                    continue;
                }
            }
        }
        match is_next(last, &event) {
            Next::Repeat => {
                // The device did not get (or lost) the acknowledgement that covers it. `last`
                // is past the event, so this only ever moves the device's ack forward.
                if let Some((epoch, seq)) = last {
                    outbox.set(ack_topic.clone(), Ack { epoch, seq }.to_bytes());
                }
                continue;
            }
            Next::Gap => {
                tracing::debug!(
                    device,
                    epoch = event.epoch,
                    seq = event.seq,
                    "mqtt key event after a gap: waiting for the device to send the missing ones"
                );
                continue;
            }
            Next::Take => {}
        }
        // A key that means nothing is used up like any press (so the device moves on), and
        // counted as the device's garbage.
        let meaningless = inputs.device(&device).and_then(|d| {
            let services = &inputs.config().services;
            keymap::command(&d.role, services, event.key, event.value).err()
        });
        let press = KeyPress {
            device: device.clone(),
            epoch: event.epoch,
            seq: event.seq,
            key: event.key,
            value: event.value,
        };
        // The garbage line below says what was wrong; the core only uses it up.
        let pressed = match &meaningless {
            Some(e) => inputs.use_up_meaningless(press, e).await,
            None => inputs.press(press).await,
        };
        if !pressed.used_up() {
            tracing::warn!(
                device,
                seq = event.seq,
                "mqtt key event not applied, the device sends it again"
            );
            continue;
        }
        last = Some((event.epoch, event.seq));
        if let Some(e) = meaningless {
            garbage.note("unknown_key", &e);
        }
        let ack = Ack {
            epoch: event.epoch,
            seq: event.seq,
        };
        outbox.set(ack_topic.clone(), ack.to_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(epoch: u16, seq: u16) -> KeyEvent {
        KeyEvent {
            epoch,
            seq,
            key: 1,
            value: 0,
            acked: None,
        }
    }

    #[test]
    fn only_the_next_event_is_taken() {
        // Nothing taken yet: seq 1, or the one after the device's acknowledgement; a later one
        // may follow events sent before hallq subscribed, which the device sends again.
        assert_eq!(is_next(None, &ev(7, 1)), Next::Take);
        assert_eq!(is_next(None, &ev(7, 3)), Next::Gap);
        let vouched = KeyEvent {
            acked: Some((7, 39)),
            ..ev(7, 40)
        };
        assert_eq!(is_next(None, &vouched), Next::Take);
        assert_eq!(
            is_next(Some((7, 12)), &vouched),
            Next::Take,
            "a store behind the device"
        );
        assert_eq!(is_next(Some((7, 40)), &vouched), Next::Repeat);
        // An event of another epoch than the mark's is not vouched for by its own ack: it may
        // be an old one come late (the device moved on to epoch 8 since).
        assert_eq!(is_next(Some((8, 1)), &vouched), Next::Gap);
        assert_eq!(is_next(Some((7, 4)), &ev(7, 5)), Next::Take);
        assert_eq!(is_next(Some((7, 4)), &ev(7, 4)), Next::Repeat);
        assert_eq!(is_next(Some((7, 4)), &ev(7, 2)), Next::Repeat);
        assert_eq!(is_next(Some((7, 4)), &ev(7, 6)), Next::Gap);
        assert_eq!(is_next(Some((7, 65535)), &ev(7, 1)), Next::Take);
        assert_eq!(is_next(Some((7, 9)), &ev(8, 1)), Next::Take);
        assert_eq!(is_next(Some((7, 9)), &ev(8, 2)), Next::Gap);
    }
}
