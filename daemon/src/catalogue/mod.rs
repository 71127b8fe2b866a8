//! The message catalogue: every sentence hallq says to an operator — CLI answers, refusals,
//! `status`, `queue`, `doctor` — worded once here, in Chinese (the default) and English.
//!
//! A small typed table of our own rather than Fluent: every message is a Rust value (a
//! [`Refusal`](crate::engine::Refusal), an [`Outcome`](crate::engine::Outcome), a doctor
//! [`Note`](doctor::Note), ...) whose fields are typed, and its wording is one `match` with
//! both languages side by side ([`say!`]). A message without a wording in either language, or
//! a renamed field, is a compile error instead of a missing string at run time, and there are
//! no resource files to ship or parse.
//!
//! Rules the wordings keep (tested in `tests`): a window is always named as configured
//! (`7号窗口`, also in English), never `window 7`; personal data arrives here masked.
//! Journal lines are not worded here: they stay English (`Lang::En`) with structured fields.
//!
//! Owns: [`Lang`], the wordings. Does not own: which message applies (the engine, the CLI, the
//! doctor) or how it is printed.

pub mod cli;
pub mod doctor;
mod outcomes;
mod refusals;
pub mod sync;
pub mod views;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::engine::model::{TicketClass, TicketState, WindowStatus};

/// The language of operator-facing messages: `[hall] language`, `--lang`, or the socket
/// request's `lang`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// 中文 (the default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh_cn" | "zh-hans" | "中文" => Ok(Lang::Zh),
            "en" | "en-us" | "en_us" | "en-gb" | "english" => Ok(Lang::En),
            _ => Err("language must be \"zh\" or \"en\"".to_string()),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `say!(lang, "中文 {x}", "English {x}")`: the sentence in `lang`, formatted like `format!`
/// (names in braces are captured from the caller). Only the chosen language is formatted.
#[macro_export]
macro_rules! say {
    ($lang:expr, $zh:literal, $en:literal $(,)?) => {
        match $lang {
            $crate::catalogue::Lang::Zh => format!($zh),
            $crate::catalogue::Lang::En => format!($en),
        }
    };
}
pub use say;

/// Something that is worded for people.
pub trait Words {
    fn words(&self, lang: Lang) -> String;
}

/// A ticket class as people say it.
pub fn class(class: TicketClass, lang: Lang) -> &'static str {
    match (class, lang) {
        (TicketClass::Normal, Lang::Zh) => "普通",
        (TicketClass::Green, Lang::Zh) => "绿色通道",
        (TicketClass::Reservation, Lang::Zh) => "预约",
        (TicketClass::Normal, Lang::En) => "normal",
        (TicketClass::Green, Lang::En) => "green channel",
        (TicketClass::Reservation, Lang::En) => "reservation",
    }
}

/// A ticket state as people say it.
pub fn ticket_state(state: TicketState, lang: Lang) -> &'static str {
    match (state, lang) {
        (TicketState::Waiting, Lang::Zh) => "等候中",
        (TicketState::Called, Lang::Zh) => "已叫号",
        (TicketState::Serving, Lang::Zh) => "办理中",
        (TicketState::Done, Lang::Zh) => "已办结",
        (TicketState::NoShow, Lang::Zh) => "已过号",
        (TicketState::Held, Lang::Zh) => "挂起",
        (TicketState::Voided, Lang::Zh) => "已作废",
        (TicketState::Expired, Lang::Zh) => "已过期",
        (TicketState::Waiting, Lang::En) => "waiting",
        (TicketState::Called, Lang::En) => "called",
        (TicketState::Serving, Lang::En) => "being served",
        (TicketState::Done, Lang::En) => "done",
        (TicketState::NoShow, Lang::En) => "a no-show",
        (TicketState::Held, Lang::En) => "held",
        (TicketState::Voided, Lang::En) => "voided",
        (TicketState::Expired, Lang::En) => "expired",
    }
}

/// A window state as people say it.
pub fn window_status(status: WindowStatus, lang: Lang) -> &'static str {
    match (status, lang) {
        (WindowStatus::Closed, Lang::Zh) => "关闭",
        (WindowStatus::Open, Lang::Zh) => "开放",
        (WindowStatus::Paused, Lang::Zh) => "暂停",
        (WindowStatus::Closed, Lang::En) => "closed",
        (WindowStatus::Open, Lang::En) => "open",
        (WindowStatus::Paused, Lang::En) => "paused",
    }
}

/// 好差评 level in the operator's language.
pub fn evaluation(level: u8, lang: Lang) -> &'static str {
    match (level, lang) {
        (_, Lang::Zh) => crate::engine::model::evaluation_label(level),
        (5, Lang::En) => "very satisfied",
        (4, Lang::En) => "satisfied",
        (3, Lang::En) => "basically satisfied",
        (2, Lang::En) => "dissatisfied",
        (1, Lang::En) => "very dissatisfied",
        (_, Lang::En) => "?",
    }
}

/// A list joined the way each language joins them (`A、B` / `A, B`).
pub fn list(items: &[String], lang: Lang) -> String {
    items.join(match lang {
        Lang::Zh => "、",
        Lang::En => ", ",
    })
}

/// A number of minutes of waiting, or `暂无窗口` when no open window can call the ticket.
pub fn wait(minutes: Option<u32>, lang: Lang) -> String {
    match minutes {
        Some(m) => say!(lang, "约{m}分钟", "about {m} min"),
        None => say!(lang, "暂无窗口", "no window open"),
    }
}

#[cfg(test)]
mod tests;
