//! Wordings of what a committed command did (the CLI's answer, the journal line in English).

use super::{class, evaluation, say, ticket_state, wait, Lang, Words};
use crate::engine::estimate::TidalAdvice;
use crate::engine::outcome::{
    HandoffHow, IssueNote, Move, Outcome, TidalAdviceGiven, Undid, WindowAction,
};

impl Words for Outcome {
    fn words(&self, lang: Lang) -> String {
        match self {
            Outcome::Issued(i) => {
                let (number, name, ahead) = (&i.number, &i.service_name, i.ahead);
                let class = class(i.class, lang);
                let wait = wait(i.estimated_wait_minutes, lang);
                let mut m = say!(
                    lang,
                    "{number} {name}（{class}）：前面 {ahead} 人，{wait}",
                    "{number} {name} ({class}): {ahead} ahead, {wait}"
                );
                if let Some(slot) = &i.slot {
                    m.push_str(&say!(lang, "；预约时段 {slot}", "; slot {slot}"));
                }
                if let Some(note) = &i.note {
                    m.push_str(&note.words(lang));
                }
                if let Some(kiosk) = &i.printed_at {
                    m.push_str(&say!(lang, "；已在 {kiosk} 打印", "; printed at {kiosk}"));
                }
                m
            }
            Outcome::Reserved(r) => {
                let (code, name, date, slot) = (&r.code, &r.service_name, r.date, &r.slot);
                let (who, phone) = (&r.name, &r.phone);
                say!(
                    lang,
                    "预约 {code}：{date} {slot} {name}，{who} {phone}",
                    "reservation {code}: {name} on {date} at {slot} for {who} {phone}"
                )
            }
            Outcome::ReservationCancelled(r) => {
                let (code, date, reason) = (&r.code, r.date, &r.reason);
                say!(
                    lang,
                    "{date} 的预约 {code} 已取消：{reason}",
                    "reservation {code} of {date} cancelled: {reason}"
                )
            }
            Outcome::ReservationsSynced(s) => {
                let date = s.date;
                let (added, updated) = (s.added.len(), s.updated.len());
                let (reinstated, cancelled) = (s.reinstated.len(), s.cancelled.len());
                let skipped = s.skipped.len();
                say!(
                    lang,
                    "上级平台 {date} 的预约：新增 {added}，更新 {updated}，恢复 {reinstated}，取消 {cancelled}，跳过 {skipped}",
                    "upstream reservations of {date}: {added} added, {updated} updated, {reinstated} reinstated, {cancelled} cancelled, {skipped} skipped"
                )
            }
            Outcome::Voided(v) => {
                let (number, cause) = (&v.number, &v.cause);
                say!(lang, "{number} 已作废：{cause}", "{number} voided: {cause}")
            }
            Outcome::Called(c) => {
                let (number, window) = (&c.number, &c.window_name);
                let reason = c.reason;
                say!(
                    lang,
                    "请 {number} 号到{window}办理（{reason}）",
                    "{number} to {window} ({reason})"
                )
            }
            Outcome::Recalled(r) => {
                let (number, window, count, limit) =
                    (&r.number, &r.window_name, r.recall_count, r.limit);
                say!(
                    lang,
                    "{number} 重呼到{window}（第 {count} 次，共 {limit} 次）",
                    "{number} recalled to {window} ({count} of {limit})"
                )
            }
            Outcome::Moved(m) => {
                let (n, w, service) = (&m.number, &m.window_name, &m.service);
                match m.how {
                    Move::Start => say!(lang, "{w}开始办理 {n}", "serving {n} at {w}"),
                    Move::Finish => say!(lang, "{w}已办结 {n}", "finished {n} at {w}"),
                    Move::Skip { may_requeue: true } => say!(
                        lang,
                        "{n} 在{w}过号（可重排一次）",
                        "{n} marked no-show at {w} (it can be requeued once)"
                    ),
                    Move::Skip { may_requeue: false } => {
                        say!(lang, "{n} 在{w}过号", "{n} marked no-show at {w}")
                    }
                    Move::Hold => {
                        let no = m.window;
                        say!(
                            lang,
                            "{n} 挂起在{w}；叫回：call {no} --ticket {n}",
                            "{n} held at {w}; call it back with `call {no} --ticket {n}`"
                        )
                    }
                    Move::Transfer => say!(
                        lang,
                        "{n} 从{w}转到业务 {service}",
                        "{n} transferred from {w} to service {service}"
                    ),
                }
            }
            Outcome::Requeued(r) => {
                let (n, ahead) = (&r.number, r.ahead);
                say!(
                    lang,
                    "{n} 已重排：前面 {ahead} 人",
                    "{n} requeued: {ahead} ahead"
                )
            }
            Outcome::Window(w) => {
                let clerk = w.was.as_deref().or(w.clerk.as_deref()).unwrap_or("");
                let name = &w.window_name;
                match w.action {
                    WindowAction::Pause => say!(lang, "{name}已暂停", "{name} paused"),
                    WindowAction::Resume => say!(lang, "{name}已恢复", "{name} resumed"),
                    WindowAction::Login => say!(
                        lang,
                        "工号 {clerk} 已登录{name}",
                        "clerk {clerk} logged in at {name}"
                    ),
                    WindowAction::Logout => say!(
                        lang,
                        "工号 {clerk} 已退出{name}",
                        "clerk {clerk} logged out of {name}"
                    ),
                    WindowAction::ForceLogout => {
                        let reason = w.reason.as_deref().unwrap_or("");
                        let mut m = say!(
                            lang,
                            "已强制退出{name}（工号 {clerk}，原因：{reason}）",
                            "forced clerk {clerk} out of {name} (reason: {reason})"
                        );
                        if let Some(n) = &w.returned {
                            m.push_str(&say!(
                                lang,
                                "；{n} 回到原位等候",
                                "; {n} waits again at its place"
                            ));
                        }
                        m
                    }
                }
            }
            Outcome::Evaluated(e) => {
                let (n, level, w) = (&e.number, e.level, &e.window_name);
                let label = evaluation(level, lang);
                say!(
                    lang,
                    "{n} 在{w}评价为 {level}（{label}）",
                    "{n} evaluated {level} ({label}) at {w}"
                )
            }
            Outcome::HandedOver(h) => {
                let (id, case, who, phone) = (&h.id, &h.case_no, &h.recipient, &h.phone);
                match &h.how {
                    HandoffHow::Pickup { .. } => say!(
                        lang,
                        "{id}：办件 {case} 已交给 {who} {phone}",
                        "{id}: case {case} handed over to {who} {phone}"
                    ),
                    HandoffHow::Mail {
                        tracking,
                        carrier_name,
                        ..
                    } => say!(
                        lang,
                        "{id}：办件 {case} 已由{carrier_name} {tracking} 寄给 {who} {phone}",
                        "{id}: case {case} sent by {carrier_name} {tracking} to {who} {phone}"
                    ),
                }
            }
            Outcome::Clerk(c) => {
                let staff = &c.staff;
                match c.action {
                    "added" => say!(lang, "已添加工号 {staff}", "clerk {staff} added"),
                    "reset" => say!(
                        lang,
                        "工号 {staff} 的 PIN 已重置，其网页登录已全部结束",
                        "PIN of clerk {staff} reset; their web sessions have ended"
                    ),
                    _ => say!(
                        lang,
                        "已删除工号 {staff}，其网页登录已全部结束",
                        "clerk {staff} removed; their web sessions have ended"
                    ),
                }
            }
            Outcome::Scanned(s) => {
                let (case, w) = (&s.pending.case_no, &s.window_name);
                say!(
                    lang,
                    "办件 {case} 已在{w}扫码：用 `handoff pickup --case {case}`（或 `handoff mail`）记录出件",
                    "case {case} scanned at {w}: record its handoff with `handoff pickup --case {case}` (or `handoff mail`)"
                )
            }
            Outcome::DayStarted(d) => {
                let (to, from, n) = (d.to, d.from, d.expired);
                say!(
                    lang,
                    "营业日 {to} 开始；{from} 有 {n} 张票过期",
                    "business day {to} started; {n} tickets of {from} expired"
                )
            }
            Outcome::Advised(a) => {
                let parts: Vec<String> = a.advice.iter().map(|t| t.words(lang)).collect();
                let parts = super::list(&parts, lang);
                say!(lang, "潮汐窗口建议：{parts}", "tidal advice: {parts}")
            }
            Outcome::Undone(u) => {
                let (n, w, reason) = (&u.number, &u.window_name, &u.reason);
                let state = ticket_state(u.state, lang);
                match u.undid {
                    Undid::Finish => say!(
                        lang,
                        "已撤销 {n} 在{w}的办结，现为{state}（原因：{reason}）",
                        "undid the finish of {n} at {w}; it is {state} again (reason: {reason})"
                    ),
                    Undid::Skip => say!(
                        lang,
                        "已撤销 {n} 在{w}的过号，现为{state}（原因：{reason}）",
                        "undid the no-show of {n} at {w}; it is {state} again (reason: {reason})"
                    ),
                }
            }
            Outcome::CaseCorrected(c) => {
                let (n, to, reason) = (&c.number, &c.to, &c.reason);
                let from = c.from.as_deref().unwrap_or("-");
                say!(
                    lang,
                    "{n} 的办件编号已由 {from} 更正为 {to}（原因：{reason}）",
                    "case number of {n} corrected from {from} to {to} (reason: {reason})"
                )
            }
            Outcome::EvaluationMoved(m) => {
                let (from, to, level, reason) = (&m.from, &m.to, m.level, &m.reason);
                let label = evaluation(level, lang);
                say!(
                    lang,
                    "评价 {level}（{label}）已从 {from} 移到 {to}（原因：{reason}）",
                    "evaluation {level} ({label}) moved from {from} to {to} (reason: {reason})"
                )
            }
            Outcome::HandoffVoided(v) => {
                let (id, case, reason) = (&v.id, &v.case_no, &v.reason);
                say!(
                    lang,
                    "出件记录 {id}（办件 {case}）已作废（原因：{reason}）",
                    "handoff {id} (case {case}) voided (reason: {reason})"
                )
            }
            Outcome::HeldMoved(h) => {
                let (n, from, to, reason) = (&h.number, &h.from_name, &h.window_name, &h.reason);
                say!(
                    lang,
                    "挂起的 {n} 已从{from}移到{to}（原因：{reason}）",
                    "held {n} moved from {from} to {to} (reason: {reason})"
                )
            }
            Outcome::Nothing => String::new(),
        }
    }
}

impl Words for IssueNote {
    fn words(&self, lang: Lang) -> String {
        match self {
            IssueNote::LateCheckIn { slot, closed_at } => say!(
                lang,
                "；已过 {slot} 时段的签到时间（{closed_at} 截止），按普通号发放",
                "; late for the {slot} slot (check-in closed at {closed_at}): issued as a normal ticket"
            ),
        }
    }
}

impl Words for TidalAdviceGiven {
    fn words(&self, lang: Lang) -> String {
        let (name, waiting) = (&self.service_name, self.waiting);
        match self.advice {
            TidalAdvice::Open => say!(
                lang,
                "{name}等候 {waiting} 人，建议开放一个潮汐窗口",
                "{name} has {waiting} waiting: open a tidal window"
            ),
            TidalAdvice::Close => say!(
                lang,
                "{name}只剩 {waiting} 人等候，可关闭一个潮汐窗口",
                "{name} has {waiting} waiting: a tidal window may close"
            ),
        }
    }
}
