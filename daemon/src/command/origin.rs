//! Who or what asked: the origin every command carries into its event row, and the key event of
//! an input device that caused it.

use std::fmt;
use std::net::IpAddr;

/// Where a command came from. Stored with its event (`events.origin`) as [`Origin::to_string`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The `hallq` CLI on the control socket (it says so in its requests); the peer's user
    /// and group as the kernel reports them (SO_PEERCRED).
    Cli { uid: u32, gid: u32 },
    /// Any other client of the control socket (an integrator's script).
    Socket {
        uid: u32,
        gid: u32,
        pid: Option<i32>,
    },
    /// A device: a call pad, an evaluator, kiosk keys, a scanner (its config id).
    Device(String),
    /// The hall itself: its timer (rollover, tidal advice), or voiding an unprinted ticket.
    Hall,
    /// A web page: a clerk's call pad session or a kiosk, and the address it came from.
    Web { actor: WebActor, addr: IpAddr },
    /// The county platform: reservations pulled by the sync task.
    Upstream,
}

/// Who acts through a web page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WebActor {
    /// A clerk logged in on the call pad of `window`; `session` is the session's public tag
    /// (never its cookie), so a day's events can be told apart by login.
    Clerk {
        staff: String,
        window: u32,
        session: String,
    },
    /// The touch kiosk of this id.
    Kiosk(String),
    /// Anyone else: the hall TV, a read-only client (reads only; they leave no events).
    Reader,
}

impl fmt::Display for Origin {
    /// `cli uid=1000 gid=1000`, `socket uid=1000 gid=1000 pid=4242`, `device pad-3`, `hall`,
    /// `web clerk=0123 window=3 session=1f2e3d4c addr=192.0.2.30`, `web kiosk=kiosk-1 addr=192.0.2.21`,
    /// `upstream`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Cli { uid, gid } => write!(f, "cli uid={uid} gid={gid}"),
            Origin::Socket {
                uid,
                gid,
                pid: Some(pid),
            } => write!(f, "socket uid={uid} gid={gid} pid={pid}"),
            Origin::Socket {
                uid,
                gid,
                pid: None,
            } => write!(f, "socket uid={uid} gid={gid}"),
            Origin::Device(id) => write!(f, "device {id}"),
            Origin::Hall => f.write_str("hall"),
            Origin::Web {
                actor:
                    WebActor::Clerk {
                        staff,
                        window,
                        session,
                    },
                addr,
            } => write!(
                f,
                "web clerk={staff} window={window} session={session} addr={addr}"
            ),
            Origin::Web {
                actor: WebActor::Kiosk(kiosk),
                addr,
            } => write!(f, "web kiosk={kiosk} addr={addr}"),
            Origin::Web {
                actor: WebActor::Reader,
                addr,
            } => write!(f, "web reader addr={addr}"),
            Origin::Upstream => f.write_str("upstream"),
        }
    }
}

/// A key event of an input device (DESIGN §5): its device, the device's power-up epoch and the
/// event's sequence number. The hall records the newest applied mark per device in the same
/// transaction as the change the event caused, so a press read twice is applied once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputMark {
    pub device: String,
    pub epoch: u16,
    pub seq: u16,
}

impl InputMark {
    /// Whether this event comes after `applied` (the device's last applied epoch and seq):
    /// a new epoch is a restarted device, whose events are all new; within one epoch sequence
    /// numbers run 1..=65535 and wrap to 1 (never 0), and an event at most half the range after
    /// the last applied one is new, anything else was applied already.
    pub fn is_new(&self, applied: Option<(u16, u16)>) -> bool {
        match applied {
            Some((epoch, last)) if epoch == self.epoch => {
                let ahead = (u32::from(self.seq) + 65535 - u32::from(last)) % 65535;
                (1..=32767).contains(&ahead)
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(epoch: u16, seq: u16) -> InputMark {
        InputMark {
            device: "pad-1".into(),
            epoch,
            seq,
        }
    }

    #[test]
    fn sequence_numbers_wrap_past_65535_to_1() {
        assert!(mark(7, 1).is_new(None));
        assert!(mark(7, 6).is_new(Some((7, 5))));
        assert!(!mark(7, 5).is_new(Some((7, 5))), "the same event again");
        assert!(!mark(7, 4).is_new(Some((7, 5))), "an older event");
        assert!(mark(7, 1).is_new(Some((7, 65535))), "wrapped");
        assert!(mark(7, 3).is_new(Some((7, 65534))));
        assert!(!mark(7, 65535).is_new(Some((7, 2))));
        assert!(
            mark(9, 1).is_new(Some((7, 500))),
            "a new epoch starts afresh"
        );
    }

    #[test]
    fn origins_read_as_stored() {
        assert_eq!(
            Origin::Cli {
                uid: 1000,
                gid: 100
            }
            .to_string(),
            "cli uid=1000 gid=100"
        );
        assert_eq!(
            Origin::Socket {
                uid: 0,
                gid: 0,
                pid: Some(42)
            }
            .to_string(),
            "socket uid=0 gid=0 pid=42"
        );
        assert_eq!(Origin::Device("pad-3".into()).to_string(), "device pad-3");
        let clerk = WebActor::Clerk {
            staff: "0123".into(),
            window: 3,
            session: "1f2e3d4c".into(),
        };
        let addr = "192.0.2.30".parse().unwrap();
        assert_eq!(
            Origin::Web { actor: clerk, addr }.to_string(),
            "web clerk=0123 window=3 session=1f2e3d4c addr=192.0.2.30"
        );
        let kiosk = WebActor::Kiosk("kiosk-1".into());
        assert_eq!(
            Origin::Web { actor: kiosk, addr }.to_string(),
            "web kiosk=kiosk-1 addr=192.0.2.30"
        );
    }
}
