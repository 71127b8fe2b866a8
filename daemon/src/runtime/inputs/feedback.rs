//! What a key device shows after a press and whenever the hall changes: a call pad's screen
//! (window state, current ticket, waiting count, why the last press was refused), an
//! evaluator's and kiosk keys' text lines, and every kind's indicator LEDs — pure functions of
//! the hall snapshot and the device's last press.
//!
//! Owns: [`Feedback`], [`Note`] (what the last press said, for a while), and the short Chinese
//! words a device shows for a refused press ([`refusal_text`]: `暂停中`, `无人等候`,
//! `打印机缺纸`, ...), at most 16 bytes of GB2312 so a one-line pad shows them whole. The
//! words are chosen from the command, the error's kind and the window's state after the
//! refusal (a refusal changes nothing), not from the English message, so they hold when
//! messages are reworded.
//!
//! Does not own: sending anything (the Modbus and MQTT front ends), rendering a pixel screen
//! (`hallq-display`'s pad-screen layout), laying text out for a pad's size (the drivers'
//! `pad_text`).

use hallq_display::{PadScreenView, PadState};
use hallq_drivers::modbus::pad::{self, call_pad_leds, leds, TextSize};
use hallq_drivers::HealthState;

use super::keymap::Role;
use crate::command::Command;
use crate::config::Config;
use crate::engine::model::{evaluation_label, TicketState, WindowStatus};
use crate::engine::views::WindowView;
use crate::engine::{Outcome, Refusal};
use crate::runtime::error::HallError;
use crate::runtime::snapshot::HallSnapshot;

/// What one key device should show now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// Call pads: their screen's view (a pixel screen renders it with the pad-screen layout,
    /// a text screen lays it out for its lines with [`Feedback::text_lines`]).
    pub pad: Option<PadScreenView>,
    /// Evaluators and kiosk keys: the lines of their text, first line first.
    pub lines: Vec<String>,
    /// Indicator LEDs, bit 0 = LED 1, with the profile's meaning per kind (`pad::leds`).
    pub leds: u16,
}

impl Feedback {
    /// The text for a screen of `lines` x `columns` bytes: a call pad's view laid out by the
    /// profile's rules, or the lines as they are.
    pub fn text_lines(&self, lines: u16, columns: u16) -> Vec<String> {
        match &self.pad {
            Some(view) => pad::pad_text(view, TextSize { lines, columns }),
            None => self.lines.clone(),
        }
    }
}

/// What a device's last press said, shown until it expires (the runtime forgets it after
/// [`super::NOTE_FOR`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Refused: the words for the device.
    Refused(String),
    /// An evaluation was recorded: its level.
    Evaluated { number: String, level: u8 },
    /// A ticket was issued (and printed) at the kiosk.
    Issued { number: String, ahead: u32 },
}

impl Note {
    /// The note a press leaves, if it leaves one.
    pub fn of(outcome: &Outcome) -> Option<Note> {
        match outcome {
            Outcome::Evaluated(e) => Some(Note::Evaluated {
                number: e.number.clone(),
                level: e.level,
            }),
            Outcome::Issued(i) => Some(Note::Issued {
                number: i.number.clone(),
                ahead: i.ahead,
            }),
            _ => None,
        }
    }

    fn refused(&self) -> Option<&str> {
        match self {
            Note::Refused(why) => Some(why),
            _ => None,
        }
    }
}

/// What a device of `role` shows for `snapshot`, given its last press's `note`.
pub fn feedback(
    role: &Role,
    config: &Config,
    snapshot: &HallSnapshot,
    note: Option<&Note>,
) -> Feedback {
    match role {
        Role::CallPad { window } => {
            let view = call_pad_view(*window, config, snapshot, note);
            let refused = note.and_then(Note::refused).is_some();
            Feedback {
                leds: call_pad_leds(view.state, refused),
                pad: Some(view),
                lines: Vec::new(),
            }
        }
        Role::Evaluator { window } => evaluator(*window, config, snapshot, note),
        Role::KioskKeys { kiosk, buttons } => {
            let lines = match note {
                Some(Note::Refused(why)) => vec![why.clone(), "请稍后再试".into()],
                Some(Note::Issued { number, ahead }) => {
                    vec![format!("{number} 请取票"), format!("前面{ahead}人")]
                }
                _ => vec!["请按键取号".into()],
            };
            let lit = if printer_can_print(kiosk, config, snapshot) {
                (1..=buttons.len() as u16).fold(0, |bits, n| bits | leds::button(n))
            } else {
                0
            };
            Feedback {
                pad: None,
                lines,
                leds: lit,
            }
        }
    }
}

/// A call pad's screen: its window's state and ticket, the tickets waiting for it, the error.
fn call_pad_view(
    window: u32,
    config: &Config,
    snapshot: &HallSnapshot,
    note: Option<&Note>,
) -> PadScreenView {
    let w = window_view(window, snapshot);
    let state = match w.map(|w| (w.state, w.ticket_state)) {
        None | Some((WindowStatus::Closed, _)) => PadState::LoggedOut,
        Some((WindowStatus::Paused, _)) => PadState::Paused,
        Some((WindowStatus::Open, Some(TicketState::Called))) => PadState::Called,
        Some((WindowStatus::Open, Some(TicketState::Serving))) => PadState::Serving,
        Some((WindowStatus::Open, _)) => PadState::Idle,
    };
    PadScreenView {
        window,
        window_name: config
            .window(window)
            .map_or_else(String::new, |w| w.name.clone()),
        state,
        current: w.and_then(WindowView::calling).map(str::to_string),
        waiting: waiting_for(window, config, snapshot),
        last_error: note.and_then(Note::refused).map(str::to_string),
    }
}

fn evaluator(
    window: u32,
    config: &Config,
    snapshot: &HallSnapshot,
    note: Option<&Note>,
) -> Feedback {
    let serving = window_view(window, snapshot)
        .filter(|w| w.ticket_state == Some(TicketState::Serving))
        .and_then(|w| w.number.clone());
    let (lines, leds) = match (note, serving) {
        (Some(Note::Evaluated { number, level }), _) => (
            vec![
                "谢谢您的评价".into(),
                format!("{number} {}", evaluation_label(*level)),
            ],
            leds::THANKS,
        ),
        (Some(Note::Refused(why)), _) => (vec![why.clone()], 0),
        (_, Some(number)) => (vec!["请评价".into(), number], leds::RATE_NOW),
        _ => {
            let name = config
                .window(window)
                .map_or_else(|| format!("{window}号窗口"), |w| w.name.clone());
            (vec!["欢迎".into(), name], 0)
        }
    };
    Feedback {
        pad: None,
        lines,
        leds,
    }
}

fn window_view(window: u32, snapshot: &HallSnapshot) -> Option<&WindowView> {
    snapshot.hall.windows.iter().find(|w| w.window == window)
}

/// Tickets waiting in the services `window` serves.
pub fn waiting_for(window: u32, config: &Config, snapshot: &HallSnapshot) -> u32 {
    let Some(w) = config.window(window) else {
        return 0;
    };
    w.serves
        .iter()
        .flatten()
        .map(|code| snapshot.hall.waiting.get(code).copied().unwrap_or(0))
        .sum()
}

/// Whether the kiosk's printer can take a ticket now, as far as its health says (a hall
/// without printers issues without printing).
fn printer_can_print(kiosk: &str, config: &Config, snapshot: &HallSnapshot) -> bool {
    let Some(printer) = config
        .devices
        .iter()
        .find(|d| d.printer().is_some() && d.kiosk.as_deref() == Some(kiosk))
    else {
        return true;
    };
    snapshot.devices.get(&printer.id).is_none_or(|d| {
        d.health.state == HealthState::Online || d.health.cause.as_deref() == Some("paper_near_end")
    })
}

/// The words a device shows for a refused `command` (at most 16 bytes of GB2312). `window`
/// is the device's window as it is after the refusal, `waiting` the tickets waiting for it.
pub fn refusal_text(
    command: &Command,
    error: &HallError,
    window: Option<&WindowView>,
    waiting: u32,
) -> String {
    let refusal = match error {
        HallError::PrinterUnavailable { reason, .. } => return printer_text(reason).into(),
        HallError::PrintFailed { .. } => return "打印失败 请重取".into(),
        HallError::Refused(r) => r,
        _ => return "暂不可用".into(),
    };
    let current = window.and_then(WindowView::calling);
    let status = window.map(|w| w.state);
    let serving = window.is_some_and(|w| w.ticket_state == Some(TicketState::Serving));
    let finish_first = |n: &str| format!("请先办结{n}");
    let text = match command {
        Command::Issue { .. } => match refusal {
            Refusal::UnknownReservation(_) => "无此预约",
            _ => "暂停取号",
        },
        Command::Evaluate { .. } if serving => "已评价",
        Command::Evaluate { .. } => "无待评价",
        Command::Login { .. } if status != Some(WindowStatus::Closed) => "已登录",
        Command::Login { .. } => "工号无效",
        _ if status == Some(WindowStatus::Closed) => "未登录",
        Command::Pause { .. } if status == Some(WindowStatus::Paused) => "已暂停",
        Command::Resume { .. } => "未暂停",
        Command::Call { .. } | Command::CallHeld { .. } => {
            if status == Some(WindowStatus::Paused) {
                "暂停中"
            } else if let Some(n) = current {
                return finish_first(n);
            } else if matches!(command, Command::CallHeld { .. }) {
                "无挂起号"
            } else if waiting == 0 {
                "无人等候"
            } else {
                "无可呼叫号"
            }
        }
        Command::Logout { .. } => match current {
            Some(n) => return finish_first(n),
            None => "不能退出",
        },
        _ if current.is_none() => "无当前号",
        Command::Recall { .. } if serving => "办理中",
        Command::Recall { .. } => "已达重呼上限",
        Command::Start { .. } => "已在办理",
        Command::Transfer { .. } => match refusal {
            Refusal::UnknownService(_) => "无此业务",
            _ => "不能转移",
        },
        _ => "不能执行",
    };
    text.into()
}

/// A printer's refusal (the drivers' words for it) in the kiosk's words.
fn printer_text(reason: &str) -> &'static str {
    use hallq_drivers::Refusal as Printer;
    match [
        Printer::PaperOut,
        Printer::CoverOpen,
        Printer::Error,
        Printer::Offline,
    ]
    .into_iter()
    .find(|r| r.to_string() == reason)
    {
        Some(Printer::PaperOut) => "打印机缺纸",
        Some(Printer::CoverOpen) => "打印机开盖",
        Some(Printer::Error) => "打印机故障",
        _ => "打印机离线",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WindowKind;
    use hallq_drivers::modbus::pad::encode_line;

    fn window(state: WindowStatus, ticket: Option<(&str, TicketState)>) -> WindowView {
        WindowView {
            window: 3,
            name: "3号窗口".into(),
            kind: WindowKind::Standard,
            state,
            clerk: Some("1024".into()),
            number: ticket.map(|(n, _)| n.to_string()),
            ticket_state: ticket.map(|(_, s)| s),
            streak: 0,
        }
    }

    fn refused() -> HallError {
        HallError::Refused(Refusal::NotAllowed("whatever the words".into()))
    }

    #[test]
    fn refusals_say_why_in_a_pad_s_words() {
        let call = Command::call_next(3);
        let open = window(WindowStatus::Open, None);
        let busy = window(WindowStatus::Open, Some(("A012", TicketState::Called)));
        let serving = window(WindowStatus::Open, Some(("A012", TicketState::Serving)));
        let paused = window(WindowStatus::Paused, None);
        let closed = window(WindowStatus::Closed, None);
        let text =
            |c: &Command, w: &WindowView, waiting| refusal_text(c, &refused(), Some(w), waiting);
        assert_eq!(text(&call, &paused, 4), "暂停中");
        assert_eq!(text(&call, &open, 0), "无人等候");
        assert_eq!(text(&call, &busy, 4), "请先办结A012");
        assert_eq!(text(&call, &closed, 4), "未登录");
        let held = Command::CallHeld {
            window: 3,
            seq: None,
        };
        assert_eq!(text(&held, &open, 4), "无挂起号");
        assert_eq!(text(&Command::Recall { window: 3 }, &open, 0), "无当前号");
        assert_eq!(text(&Command::Recall { window: 3 }, &serving, 0), "办理中");
        assert_eq!(
            text(&Command::Recall { window: 3 }, &busy, 0),
            "已达重呼上限"
        );
        assert_eq!(text(&Command::Start { window: 3 }, &serving, 0), "已在办理");
        assert_eq!(text(&Command::Resume { window: 3 }, &open, 0), "未暂停");
        assert_eq!(
            text(
                &Command::Logout {
                    window: 3,
                    force: false
                },
                &busy,
                0
            ),
            "请先办结A012"
        );
        let login = Command::Login {
            window: 3,
            clerk: "7".into(),
        };
        assert_eq!(text(&login, &open, 0), "已登录");
        let rate = Command::Evaluate {
            window: 3,
            level: 5,
        };
        assert_eq!(text(&rate, &serving, 0), "已评价");
        assert_eq!(text(&rate, &open, 0), "无待评价");
        let issue = Command::issue("A", crate::command::IssueClass::Normal);
        let paper = HallError::PrinterUnavailable {
            kiosk: "kiosk-1".into(),
            reason: hallq_drivers::Refusal::PaperOut.to_string(),
        };
        assert_eq!(refusal_text(&issue, &paper, None, 0), "打印机缺纸");
        let gone = HallError::PrinterUnavailable {
            kiosk: "kiosk-1".into(),
            reason: "the link timed out".into(),
        };
        assert_eq!(refusal_text(&issue, &gone, None, 0), "打印机离线");
        assert_eq!(refusal_text(&issue, &refused(), None, 0), "暂停取号");
    }

    #[test]
    fn every_refusal_fits_a_one_line_pad() {
        let words = [
            "暂停中",
            "无人等候",
            "请先办结A0123",
            "未登录",
            "无挂起号",
            "无当前号",
            "办理中",
            "已达重呼上限",
            "已在办理",
            "未暂停",
            "已暂停",
            "已登录",
            "工号无效",
            "已评价",
            "无待评价",
            "打印机缺纸",
            "打印机开盖",
            "打印机故障",
            "打印机离线",
            "打印失败 请重取",
            "暂停取号",
            "无此预约",
            "无此业务",
            "不能转移",
            "不能执行",
            "无可呼叫号",
            "不能退出",
            "暂不可用",
            "无效按键",
            "谢谢您的评价",
            "请按键取号",
            "请稍后再试",
        ];
        for w in words {
            let bytes = encode_line(w, 16);
            assert_eq!(
                pad::decode_line(&bytes),
                w,
                "{w} must fit 16 bytes of GB2312"
            );
        }
    }
}
