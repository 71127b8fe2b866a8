//! How the CLI lays out the hall's views for people: `status`, `queue`, `reservations`,
//! `handoff list`, `clerk list`, `ticket NUMBER`, and the backup report — each a function of
//! the typed view (as the daemon sent it) and the language, returning the lines to print. The
//! upstream sync's own lines (`sync status`, the sync line of `status`) are the sync report's,
//! in English like the journal.

use std::fmt::Write;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{class, evaluation, list, say, ticket_state, wait, window_status, Lang, Words};
use crate::config::WindowKind;
use crate::engine::outcome::HandoffHow;
use crate::engine::views::{ClerksView, HandoffsView, QueueView, ReservationsView, Unserved};
use crate::runtime::history::{HistoryEntry, TicketHistory};
use crate::runtime::queries::StatusView;
use crate::runtime::snapshot::{problems, HallSnapshot, StoreState};
use crate::store::BackupReport;

/// `HH:MM` of `at` in the hall's zone (the system's when the name is unknown).
fn hhmm(at: Timestamp, tz: &str) -> String {
    let zone = TimeZone::get(tz).unwrap_or_else(|_| TimeZone::system());
    zone.to_datetime(at).strftime("%H:%M").to_string()
}

fn window_kind(kind: WindowKind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (WindowKind::Standard, Lang::Zh) => "综合",
        (WindowKind::Green, Lang::Zh) => "爱心",
        (WindowKind::Tidal, Lang::Zh) => "潮汐",
        (WindowKind::Pickup, Lang::Zh) => "出件",
        (kind, Lang::En) => kind.as_str(),
    }
}

/// The warning for a service whose waiting tickets no open window can call.
pub fn unserved(u: &Unserved, lang: Lang) -> String {
    let (code, name, n) = (&u.service, &u.name, u.waiting);
    say!(
        lang,
        "{code} {name}有 {n} 人等候，但没有开放的窗口能办理（预计等候：暂无窗口）",
        "{code} {name} has {n} waiting and no open window serves it (estimate: no window open)"
    )
}

/// `hallq status`.
pub fn status(view: &StatusView, lang: Lang) -> String {
    let s = &view.snapshot;
    let h = &s.hall;
    let mut out = String::new();
    let (name, id, day) = (&h.name, &h.hall, h.business_day);
    let _ = writeln!(
        out,
        "{}",
        say!(
            lang,
            "{name}（{id}），营业日 {day}",
            "{name} ({id}), business day {day}"
        )
    );
    let parts: Vec<String> = h.waiting.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let waiting = list(&parts, lang);
    let _ = writeln!(
        out,
        "{}",
        say!(lang, "等候：{waiting}", "waiting: {waiting}")
    );
    if !h.remaining.is_empty() {
        let parts: Vec<String> = h
            .remaining
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let left = list(&parts, lang);
        let _ = writeln!(
            out,
            "{}",
            say!(lang, "今日余号：{left}", "tickets left today: {left}")
        );
    }
    let (issued, done, voided) = (h.issued, h.done, h.voided);
    let _ = writeln!(
        out,
        "{}",
        say!(
            lang,
            "已取号 {issued}，已办结 {done}，已作废 {voided}",
            "issued {issued}, done {done}, voided {voided}"
        )
    );
    if s.store.state == StoreState::Fail {
        let detail = &s.store.detail;
        let _ = writeln!(
            out,
            "{}",
            say!(lang, "存储：故障：{detail}", "store: FAIL: {detail}")
        );
    }
    let troubles = problems(&s.devices);
    match (s.devices.len(), troubles.is_empty()) {
        (0, _) => {}
        (n, true) => {
            let _ = writeln!(
                out,
                "{}",
                say!(lang, "设备：{n} 台全部在线", "devices: all {n} online")
            );
        }
        (_, false) => {
            let t = list(&troubles, lang);
            let _ = writeln!(out, "{}", say!(lang, "设备：{t}", "devices: {t}"));
        }
    }
    let garbage: Vec<String> = s
        .devices
        .iter()
        .filter_map(|(id, d)| d.garbage.filter(|n| *n > 0).map(|n| format!("{id} {n}")))
        .collect();
    if !garbage.is_empty() {
        let garbage = list(&garbage, lang);
        let _ = writeln!(
            out,
            "{}",
            say!(
                lang,
                "设备发来的无效数据：{garbage}",
                "garbage from devices: {garbage}"
            )
        );
    }
    if let Some(sync) = &view.sync {
        let _ = writeln!(out, "{}", super::sync::summary(sync, lang));
    }
    for u in &h.unserved {
        let w = unserved(u, lang);
        let _ = writeln!(out, "{}", say!(lang, "警告：{w}", "warning: {w}"));
    }
    for t in tidal_advice(s, lang) {
        let _ = writeln!(out, "{t}");
    }
    for w in &h.windows {
        let ticket = match (&w.number, w.ticket_state) {
            (Some(n), Some(st)) => format!("{n} {}", ticket_state(st, lang)),
            _ => "-".into(),
        };
        let clerk = w.clerk.as_deref().unwrap_or("-");
        let clerk = say!(lang, "工号 {clerk}", "clerk {clerk}");
        let _ = writeln!(
            out,
            "  {:<12} {:<8} {:<6} {:<12} {}",
            w.name,
            window_kind(w.kind, lang),
            window_status(w.state, lang),
            clerk,
            ticket
        );
    }
    out
}

/// Standing tidal advice, one line per service (status, doctor).
pub fn tidal_advice(s: &HallSnapshot, lang: Lang) -> Vec<String> {
    s.hall
        .tidal
        .iter()
        .map(|t| {
            let (name, n) = (&t.name, t.waiting);
            say!(
                lang,
                "潮汐窗口建议：{name}等候 {n} 人，请开放一个潮汐窗口",
                "tidal advice: {name} has {n} waiting; open a tidal window"
            )
        })
        .collect()
}

/// `hallq queue`.
pub fn queue(q: &QueueView, lang: Lang) -> String {
    let mut out = String::new();
    for svc in &q.services {
        let (code, name, n) = (&svc.service, &svc.name, svc.waiting.len());
        let _ = writeln!(
            out,
            "{}",
            say!(
                lang,
                "{code} {name}：{n} 人等候",
                "{code} {name}: {n} waiting"
            )
        );
        for t in &svc.waiting {
            let (number, ahead) = (&t.number, t.ahead);
            let class = class(t.class, lang);
            let wait = wait(t.estimated_wait_minutes, lang);
            let requeued = match (t.requeued, lang) {
                (true, Lang::Zh) => "（重排）",
                (true, Lang::En) => " (requeued)",
                _ => "",
            };
            let slot = match (&t.slot, t.waiting_for_slot) {
                (Some(slot), true) => {
                    say!(lang, "（等到 {slot} 时段）", " (waits for its {slot} slot)")
                }
                (Some(slot), false) => say!(lang, "（时段 {slot}）", " (slot {slot})"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {}",
                say!(
                    lang,
                    "{number:<6} {class}{requeued}  前面 {ahead} 人，{wait}{slot}",
                    "{number:<6} {class}{requeued}  {ahead} ahead, {wait}{slot}"
                )
            );
        }
    }
    for h in &q.held {
        let number = &h.number;
        let window = h.window_name.clone().unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{}",
            say!(
                lang,
                "挂起：{number} 在{window}",
                "held: {number} at {window}"
            )
        );
    }
    for n in &q.no_shows {
        let number = &n.number;
        let window = n.window_name.clone().unwrap_or_else(|| "-".into());
        let at = n.at.map(|t| hhmm(t, &q.timezone)).unwrap_or_default();
        let _ = writeln!(
            out,
            "{}",
            say!(
                lang,
                "过号（可重排一次：requeue {number}）：{number}，{window}，{at}",
                "no-show (can be requeued once: requeue {number}): {number} at {window}, {at}"
            )
        );
    }
    out
}

/// `hallq reservations`.
pub fn reservations(r: &ReservationsView, lang: Lang) -> String {
    let (date, n) = (r.date, r.reservations.len());
    let mut out = say!(
        lang,
        "{date} 的预约：{n} 个\n",
        "reservations on {date}: {n}\n"
    );
    for r in &r.reservations {
        let state = match (&r.ticket, &r.cancelled) {
            (Some(t), _) => say!(lang, "已签到，号码 {t}", "checked in as {t}"),
            (None, Some(why)) => say!(lang, "已取消：{why}", "cancelled: {why}"),
            (None, None) => say!(lang, "未签到", "not checked in"),
        };
        let source = match (r.source.as_str(), lang) {
            ("upstream", Lang::Zh) => "上级平台",
            (_, Lang::Zh) => "本厅",
            (source, Lang::En) => source,
        };
        let _ = writeln!(
            out,
            "  {} {} {} {} {} {source} {state}",
            r.code, r.slot, r.service, r.name, r.phone
        );
    }
    out
}

/// `hallq handoff list`: time, window and clerk of every record.
pub fn handoffs(h: &HandoffsView, lang: Lang) -> String {
    let (day, n) = (h.day, h.handoffs.len());
    let mut out = say!(
        lang,
        "{day} 的出件记录：{n} 条\n",
        "handoffs on {day}: {n}\n"
    );
    for r in &h.handoffs {
        let at = hhmm(r.at, &h.timezone);
        let window = r
            .window_name
            .clone()
            .or_else(|| r.window.map(|w| format!("{w}号窗口")))
            .unwrap_or_else(|| "-".into());
        let clerk = r.clerk.as_deref().unwrap_or("-");
        let how = match &r.how {
            HandoffHow::Mail {
                carrier_name,
                tracking,
                address,
                ..
            } => say!(
                lang,
                "邮寄 {carrier_name} {tracking} 至 {address}",
                "mail {carrier_name} {tracking} to {address}"
            ),
            HandoffHow::Pickup { verification } => {
                let v = match (verification.as_str(), lang) {
                    ("id_last4", Lang::Zh) => "核验身份证后四位",
                    (_, Lang::Zh) => "签字",
                    ("id_last4", Lang::En) => "ID last 4 checked",
                    (_, Lang::En) => "signature",
                };
                say!(lang, "自取（{v}）", "pickup ({v})")
            }
        };
        let voided = match &r.voided {
            Some(v) => {
                let reason = &v.reason;
                say!(lang, " 【已作废：{reason}】", " [voided: {reason}]")
            }
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {at} {window} {} {} {} {} {} {} {how}{voided}",
            say!(lang, "工号 {clerk}", "clerk {clerk}"),
            r.id,
            r.case_no,
            r.title,
            r.recipient,
            r.phone
        );
    }
    if !h.pending.is_empty() {
        let n = h.pending.len();
        let _ = writeln!(
            out,
            "{}",
            say!(
                lang,
                "已扫码、待记录出件：{n} 件",
                "scanned, waiting to be recorded: {n}"
            )
        );
        for p in &h.pending {
            let (case, window) = (&p.case_no, format!("{}号窗口", p.window));
            let at = hhmm(p.scanned_at, &h.timezone);
            let _ = writeln!(
                out,
                "  {}",
                say!(
                    lang,
                    "{case}，{window}，{at} 起",
                    "{case} at {window} since {at}"
                )
            );
        }
    }
    out
}

/// `hallq clerk list`: staff numbers and when their PIN was set (never the PIN).
pub fn clerks(c: &ClerksView, lang: Lang) -> String {
    let n = c.clerks.len();
    let mut out = say!(lang, "工号：{n} 个\n", "clerks: {n}\n");
    for clerk in &c.clerks {
        let (staff, at) = (&clerk.staff, clerk.updated_at);
        let _ = writeln!(
            out,
            "  {}",
            say!(
                lang,
                "{staff:<12} PIN 设于 {at}",
                "{staff:<12} PIN set {at}"
            )
        );
    }
    out
}

/// `hallq ticket NUMBER`: the ticket, then one line per event.
pub fn ticket(t: &TicketHistory, lang: Lang) -> String {
    let (number, id, name, day) = (&t.number, &t.id, &t.service_name, t.business_day);
    let class = class(t.class, lang);
    let state = ticket_state(t.state, lang);
    let mut out = say!(
        lang,
        "{number}（{id}）{name}，{class}，现在{state}，营业日 {day}\n",
        "{number} ({id}) {name}, {class}, now {state}, business day {day}\n"
    );
    for e in &t.entries {
        let at = hhmm(e.at, &t.timezone);
        let what = entry(e, lang);
        let by = e.origin.as_deref().unwrap_or("-");
        let _ = writeln!(out, "  {at}  {what}  [{by}]");
    }
    out
}

/// One history line.
fn entry(e: &HistoryEntry, lang: Lang) -> String {
    let w = e.window_name.clone().unwrap_or_default();
    let clerk = e.clerk.as_deref().unwrap_or("-");
    let reason = e.reason.as_deref().unwrap_or("");
    let detail = e.detail.as_deref().unwrap_or("");
    let service = e.service.as_deref().unwrap_or("");
    let case = e.case_no.as_deref().unwrap_or("-");
    match e.event.as_str() {
        "ticket_issued" => say!(lang, "取号，业务 {service}，前面 {detail} 人", "issued for service {service}, {detail} ahead"),
        "ticket_called" => say!(lang, "叫号到{w}（工号 {clerk}，原因 {reason}）", "called to {w} (clerk {clerk}, reason {reason})"),
        "ticket_recalled" => say!(lang, "在{w}重呼", "recalled at {w}"),
        "service_started" => say!(lang, "{w}开始办理（工号 {clerk}）", "service started at {w} (clerk {clerk})"),
        "service_finished" => say!(lang, "{w}办结（工号 {clerk}，办件编号 {case}）", "finished at {w} (clerk {clerk}, case {case})"),
        "ticket_skipped" => say!(lang, "在{w}过号（工号 {clerk}）", "marked no-show at {w} (clerk {clerk})"),
        "ticket_held" => say!(lang, "挂起在{w}（工号 {clerk}）", "held at {w} (clerk {clerk})"),
        "ticket_transferred" => say!(lang, "从{w}转到业务 {service}（工号 {clerk}）", "transferred from {w} to service {service} (clerk {clerk})"),
        "ticket_requeued" => say!(lang, "过号重排", "requeued"),
        "ticket_voided" => say!(lang, "作废：{detail}", "voided: {detail}"),
        "ticket_expired" => say!(lang, "营业日结束，过期", "expired at the end of the business day"),
        "evaluation_recorded" => {
            let level = e.level.unwrap_or(0);
            let label = evaluation(level, lang);
            say!(lang, "在{w}评价 {level}（{label}）", "evaluated {level} ({label}) at {w}")
        }
        "correction_undo" => {
            let undid = match (detail, lang) {
                ("finish", Lang::Zh) => "办结",
                ("skip", Lang::Zh) => "过号",
                ("skip", Lang::En) => "no-show",
                (other, _) => other,
            };
            say!(lang, "更正：撤销{w}的{undid}（原因：{reason}）", "correction: undid the {undid} at {w} (reason: {reason})")
        }
        "case_corrected" => say!(lang, "更正：办件编号 {detail} 改为 {case}（原因：{reason}）", "correction: case number {detail} changed to {case} (reason: {reason})"),
        "evaluation_moved" => {
            let level = e.level.unwrap_or(0);
            say!(lang, "更正：评价 {level} 与 {detail} 之间移动（原因：{reason}）", "correction: evaluation {level} moved between this ticket and {detail} (reason: {reason})")
        }
        "window_forced_closed" => say!(lang, "更正：{w}被强制退出，回到原位等候（原因：{reason}）", "correction: {w} was closed by a supervisor; back to waiting at its place (reason: {reason})"),
        "held_moved" => say!(lang, "更正：挂起位置从{detail}移到{w}（原因：{reason}）", "correction: held ticket moved from {detail} to {w} (reason: {reason})"),
        other => other.to_string(),
    }
}

impl Words for BackupReport {
    fn words(&self, lang: Lang) -> String {
        let (path, bytes, events, tickets) =
            (self.path.display(), self.bytes, self.events, self.tickets);
        say!(
            lang,
            "已备份到 {path}（{bytes} 字节，{events} 条事件，{tickets} 张票，完整性检查通过）",
            "backed up to {path} ({bytes} bytes, {events} events, {tickets} tickets, integrity ok)"
        )
    }
}
