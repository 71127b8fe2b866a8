//! Wordings of refusals and of the other reasons a request did not go through.

use jiff::civil::DateTime;

use super::{list, say, ticket_state, window_status, Lang, Words};
use crate::command::{Role, RoleSet};
use crate::engine::refusal::{Closed, Refusal};
use crate::runtime::error::HallError;

impl Words for Refusal {
    fn words(&self, lang: Lang) -> String {
        use Refusal::*;
        match self {
            UnknownService { service } => {
                let service = crate::privacy::echo(service);
                say!(lang, "没有业务 {service}", "unknown service {service}")
            }
            UnknownWindow { window } => {
                say!(lang, "没有{window}号窗口", "{window}号窗口 is not configured")
            }
            UnknownTicket { number } => say!(lang, "今天没有 {number} 号", "no ticket {number} today"),
            UnknownReservation { code } => {
                let code = crate::privacy::echo(code);
                let code = code.trim_matches('"');
                say!(lang, "今天没有预约号 {code}", "no reservation {code} for today")
            }
            UnknownKiosk { kiosk, known } => {
                let kiosk = crate::privacy::echo(kiosk);
                let known = list(known, lang);
                say!(
                    lang,
                    "没有取号机 {kiosk}（现有：{known}）",
                    "no kiosk {kiosk} in this hall (kiosks: {known})"
                )
            }
            UnknownHandoff { case_no } => say!(
                lang,
                "近期没有办件编号 {case_no} 的出件记录",
                "no recent handoff of case {case_no}"
            ),
            UnknownClerk { staff } => say!(
                lang,
                "没有工号 {staff} 的记录；`hallq clerk add {staff}` 可以添加",
                "no clerk {staff}; `hallq clerk add {staff}` adds them"
            ),
            GreenAndReservation => say!(
                lang,
                "一张票不能既是绿色通道又是预约",
                "a ticket is either green or a reservation, not both"
            ),
            BadClerkId => say!(
                lang,
                "工号须为 1 到 32 个字母、数字、'-'、'_' 或 '.'",
                "clerk id must be a staff number (工号) of 1 to 32 letters, digits, '-', '_' or '.'"
            ),
            ClerkIdLooksPersonal { clerk } => say!(
                lang,
                "工号 {clerk} 像是身份证号或电话号码；请用工号",
                "clerk id {clerk} looks like a resident ID or phone number; use the staff number (工号)"
            ),
            BadStaffNumber => say!(
                lang,
                "工号须为 1 到 32 个字母、数字、'-' 或 '_'",
                "a staff number is 1 to 32 letters, digits, '-' or '_'"
            ),
            BadPinHash { detail } => say!(lang, "PIN 的哈希无效（{detail}）", "{detail}"),
            BadCaseNo => say!(
                lang,
                "办件编号须为 1 到 64 个字符，不含空格或控制字符",
                "case number must be 1 to 64 characters without spaces or control characters"
            ),
            CaseNoLooksPersonal { case_no } => say!(
                lang,
                "办件编号 {case_no} 像是身份证号或电话号码；请填写办件系统中的办件编号",
                "case number {case_no} looks like a resident ID or phone number; enter the case number (办件编号) from the case system"
            ),
            BadReason => say!(
                lang,
                "更正须写明原因（--reason，1 到 200 个字符）",
                "a correction needs a reason (--reason, 1 to 200 characters)"
            ),
            BadLevel { level } => say!(
                lang,
                "评价等级 {level} 无效，应为 1 到 5",
                "evaluation level {level} is not 1..5"
            ),
            BadName { recipient: false } => say!(
                lang,
                "姓名须为 1 到 30 个字符，不含控制字符",
                "name must be 1 to 30 characters without control characters"
            ),
            BadName { recipient: true } => say!(
                lang,
                "收件人姓名须为 1 到 30 个字符，不含控制字符",
                "recipient name must be 1 to 30 characters without control characters"
            ),
            BadPhone { phone } => say!(
                lang,
                "电话 {phone} 不是大陆手机号（11 位，1[3-9]…）或固定电话（0xx-xxxxxxx）",
                "phone {phone} is not a mainland mobile (11 digits, 1[3-9]...) or landline (0xx-xxxxxxx) number"
            ),
            BadTitle => say!(lang, "文书名称须为 1 到 100 个字符", "document title must be 1 to 100 characters"),
            BadAddress => say!(lang, "地址须为 5 到 200 个字符", "address must be 5 to 200 characters"),
            IdBothForms => say!(
                lang,
                "身份证后四位和完整身份证号只能给一个",
                "give the ID's last 4 or the whole ID, not both"
            ),
            BadIdLast4 => say!(
                lang,
                "身份证后四位须为 3 位数字加一位数字或 X",
                "ID last 4 must be 3 digits and a digit or X"
            ),
            BadResidentId { id } => say!(
                lang,
                "身份证号 {id} 未通过 GB 11643 校验",
                "ID number {id} fails the GB 11643 check"
            ),
            UnknownCarrier { carrier, known } => {
                let known = list(known, lang);
                say!(
                    lang,
                    "不认识的快递公司 {carrier}；可用：{known}",
                    "unknown carrier {carrier}; known: {known}"
                )
            }
            BadTracking {
                tracking,
                carrier,
                pattern,
            } => say!(
                lang,
                "运单号 {tracking} 不是{carrier}的单号：应为 {pattern}",
                "tracking number {tracking} is not a {carrier} number: expected {pattern}"
            ),
            DateInPast { date } => say!(lang, "日期 {date} 已经过去", "date {date} is in the past"),
            SlotMissing { date, slot } => say!(
                lang,
                "{date} {slot} 这个时间不存在",
                "slot {date} {slot} does not exist"
            ),
            SlotPassed { date, slot } => say!(
                lang,
                "{date} {slot} 这个时段已经过去",
                "slot {date} {slot} has already passed"
            ),
            NoReservationCode => say!(
                lang,
                "这次预约没有抽取预约号",
                "no reservation code was drawn"
            ),
            BadCancelReason => say!(
                lang,
                "原因最多 200 个字符，且不含控制字符",
                "reason must be at most 200 characters without control characters"
            ),
            PhoneDigitsMissing { code } => say!(
                lang,
                "预约 {code} 需要预约时所留手机号的后四位",
                "reservation {code} needs the last four digits of the phone it was booked with"
            ),
            WindowClosed { window } => say!(
                lang,
                "{window}未开放（请先登录）",
                "{window} is closed (log in first)"
            ),
            WindowPaused { window } => say!(
                lang,
                "{window}已暂停（请先恢复）",
                "{window} is paused (resume first)"
            ),
            WindowBusy { window, number } => say!(
                lang,
                "{window}还有 {number}：请先办结、过号、挂起或转办",
                "{window} still has {number}: finish, skip, hold or transfer it first"
            ),
            WindowNotOpen { window, state } => {
                let state = window_status(*state, lang);
                say!(lang, "{window}当前为{state}，不是开放状态", "{window} is {state}, not open")
            }
            WindowNotPaused { window, state } => {
                let state = window_status(*state, lang);
                say!(lang, "{window}当前为{state}，不是暂停状态", "{window} is {state}, not paused")
            }
            WindowOpen { window, clerk } => say!(
                lang,
                "{window}已由工号 {clerk} 登录；请先退出",
                "{window} is already open for clerk {clerk}; log out first"
            ),
            WindowAlreadyClosed { window } => {
                say!(lang, "{window}已经关闭", "{window} is already closed")
            }
            ClerkElsewhere { clerk, window } => say!(
                lang,
                "工号 {clerk} 已在{window}登录；一人不能同时登录两个窗口",
                "clerk {clerk} is logged in at {window}; a clerk works at one window at a time"
            ),
            NoCurrentTicket { window } => {
                say!(lang, "{window}没有已叫的号", "{window} has no called ticket")
            }
            NothingWaiting { window } => {
                say!(lang, "{window}没有可叫的号", "no waiting ticket for {window}")
            }
            NotServed {
                window,
                service,
                number,
            } => say!(
                lang,
                "{window}不办理 {number} 的业务 {service}",
                "{window} does not serve service {service} of {number}"
            ),
            GreenOnly { window, number } => say!(
                lang,
                "{window}只办理绿色通道号，{number} 不是",
                "{window} takes green tickets only and {number} is not one"
            ),
            NothingToEvaluate { window } => {
                say!(lang, "{window}没有可评价的号", "no ticket to evaluate at {window}")
            }
            NothingHeld {
                window,
                seq: Some(seq),
            } => say!(
                lang,
                "{window}没有挂起的 {seq} 号",
                "no ticket number {seq} is held at {window}"
            ),
            NothingHeld { window, seq: None } => {
                say!(lang, "{window}没有挂起的号", "no ticket is held at {window}")
            }
            NotPickupWindow { window } => {
                say!(lang, "{window}不是出件窗口", "{window} is not a pickup window")
            }
            HeldElsewhere { number, window } => say!(
                lang,
                "{number} 挂起在{window}，只有那里能叫回",
                "{number} is held at {window}; only that window can call it back"
            ),
            NotCallable { number, state } => {
                let state = ticket_state(*state, lang);
                say!(
                    lang,
                    "{number} {state}，不在等候或挂起中",
                    "{number} is {state}, not waiting or held"
                )
            }
            AlreadyServing { number } => {
                say!(lang, "{number} 已在办理中", "{number} is already being served")
            }
            RecallLimit { number, limit } => say!(
                lang,
                "{number} 已重呼 {limit} 次（上限）：请改为过号",
                "{number} has been recalled {limit} times (the limit): skip it instead"
            ),
            SameService { number, service } => say!(
                lang,
                "{number} 已在业务 {service} 中",
                "{number} is already in service {service}"
            ),
            NoWindowServes { service, number } => say!(
                lang,
                "没有窗口办理业务 {service}；{number} 留在原窗口",
                "no window serves service {service}; {number} stays where it is"
            ),
            NotNoShow { number, state } => {
                let state = ticket_state(*state, lang);
                say!(
                    lang,
                    "{number} {state}，只有过号的票可以重排",
                    "{number} is {state}; only a no-show can be requeued"
                )
            }
            AlreadyRequeued { number } => {
                say!(lang, "{number} 已经重排过一次", "{number} has already been requeued once")
            }
            AlreadyEvaluated { number, level } => {
                let label = super::evaluation(*level, lang);
                say!(
                    lang,
                    "{number} 已评价过（{label}）",
                    "{number} has already been evaluated ({label})"
                )
            }
            CaseRequired { number, service } => say!(
                lang,
                "业务 {service} 办结须填办件编号：finish … --case 编号（{number}）",
                "service {service} needs a case number to finish {number}: finish ... --case NO"
            ),
            NotWaiting { number, state } => {
                let state = ticket_state(*state, lang);
                say!(
                    lang,
                    "{number} {state}，只有等候中的票可以作废",
                    "{number} is {state}; only a waiting ticket can be voided"
                )
            }
            HallClosed { why, next, today } => {
                let why = closed(*why, lang);
                match next {
                    Some(next) => {
                        let next = when(*next, *today);
                        say!(
                            lang,
                            "现在不能取号（{why}），下次开放：{next}",
                            "no tickets now ({why}); next opening {next}"
                        )
                    }
                    None => say!(
                        lang,
                        "现在不能取号（{why}），近一年内没有开放时间",
                        "no tickets now ({why}); no opening hours within a year"
                    ),
                }
            }
            DailyLimit { service, limit } => say!(
                lang,
                "业务 {service} 今天的 {limit} 个号已取完",
                "service {service} has reached its daily limit of {limit} tickets"
            ),
            NumbersUsedUp { service, max } => say!(
                lang,
                "业务 {service} 今天的 {max} 个号码已用完",
                "service {service} has used all {max} numbers of today"
            ),
            ReservationOtherDay { code, date } => say!(
                lang,
                "预约 {code} 是 {date} 的，不是今天",
                "reservation {code} is for {date}, not today"
            ),
            ReservationOtherService {
                code,
                service,
                asked,
            } => say!(
                lang,
                "预约 {code} 是业务 {service} 的，不是 {asked}",
                "reservation {code} is for service {service}, not {asked}"
            ),
            ReservationUsed { code, number } => say!(
                lang,
                "预约 {code} 已签到，号码 {number}",
                "reservation {code} has already checked in as {number}"
            ),
            CheckInTooEarly { code, slot, opens } => say!(
                lang,
                "预约 {code} 的时段是 {slot}：{opens} 起可签到",
                "reservation {code} is for {slot}: check-in opens at {opens}"
            ),
            PhoneDigitsWrong { code } => say!(
                lang,
                "手机号后四位与预约 {code} 不符",
                "the phone digits do not match reservation {code}"
            ),
            ReservationCancelled { code, reason } => say!(
                lang,
                "预约 {code} 已取消（{reason}），不能签到；请取普通号",
                "reservation {code} was cancelled ({reason}) and cannot check in; please take a normal ticket"
            ),
            ReservationAlreadyCancelled { code } => {
                say!(lang, "预约 {code} 已经取消", "reservation {code} is already cancelled")
            }
            ReservationCodeInUse { code } => say!(
                lang,
                "预约号 {code} 已被占用",
                "reservation code {code} is already in use"
            ),
            NoFreeReservationCode => say!(
                lang,
                "抽不到空闲的预约号",
                "no free reservation code could be drawn"
            ),
            SlotFull {
                service,
                date,
                slot,
                capacity,
                next,
                days,
            } => {
                let next = match next {
                    Some((day, at)) if day == date => {
                        say!(lang, "下一个空闲时段是 {at}", "the next free slot is {at}")
                    }
                    Some((day, at)) => say!(
                        lang,
                        "下一个空闲时段是 {day} {at}",
                        "the next free slot is {day} {at}"
                    ),
                    None => say!(
                        lang,
                        "未来 {days} 天内没有空闲时段",
                        "no slot is free in the next {days} days"
                    ),
                };
                say!(
                    lang,
                    "业务 {service} {date} 的 {slot} 时段已约满（{capacity}/{capacity}）；{next}",
                    "the {slot} slot of service {service} on {date} is full ({capacity} of {capacity} booked); {next}"
                )
            }
            DayStillCurrent { day } => {
                say!(lang, "营业日 {day} 尚未结束", "business day {day} is still current")
            }
            HandedOver {
                case_no,
                day: Some(day),
                method,
            } => {
                let method = method.as_deref().map(|m| handoff_method(m, lang)).unwrap_or("");
                say!(
                    lang,
                    "办件 {case_no} 已于 {day} 出件（{method}）",
                    "case {case_no} was already handed over on {day} ({method})"
                )
            }
            HandedOver {
                case_no, day: None, ..
            } => say!(
                lang,
                "办件 {case_no} 已经出件",
                "case {case_no} was already handed over"
            ),
            AlreadyScanned {
                case_no,
                window,
                at,
            } => say!(
                lang,
                "办件 {case_no} 已于 {at} 在{window}扫码；请记录出件",
                "case {case_no} was already scanned at {window} at {at}; record its handoff"
            ),
            ClerkExists { staff } => say!(
                lang,
                "工号 {staff} 已存在；`hallq clerk reset {staff}` 可重设 PIN",
                "clerk {staff} already exists; `hallq clerk reset {staff}` gives a new PIN"
            ),
            SyncStatusNotHere => say!(
                lang,
                "同步状态由同步任务回答，不由大厅线程回答",
                "sync status is answered by the sync task, not the hall"
            ),
            NothingToUndo { window } => say!(
                lang,
                "{window}今天没有可撤销的办结或过号",
                "{window} has no finish or skip to undo today"
            ),
            UndoTooLate { number, minutes } => say!(
                lang,
                "{number} 已超过 {minutes} 分钟，不能撤销",
                "{number} was closed more than {minutes} minutes ago and cannot be undone"
            ),
            UndoEvaluated { number } => say!(
                lang,
                "{number} 已有评价，不能撤销办结（先更正评价）",
                "{number} has been evaluated; its finish cannot be undone (correct the evaluation first)"
            ),
            NotDone { number, state } => {
                let state = ticket_state(*state, lang);
                say!(lang, "{number} {state}，尚未办结", "{number} is {state}, not done")
            }
            SameCase { number } => say!(
                lang,
                "{number} 的办件编号已经是这个",
                "{number} already has that case number"
            ),
            NoEvaluation { number } => {
                say!(lang, "{number} 没有评价", "{number} has no evaluation")
            }
            SameTicket { number } => say!(
                lang,
                "评价已经在 {number} 上",
                "the evaluation is already on {number}"
            ),
            NotHeld { number, state } => {
                let state = ticket_state(*state, lang);
                say!(lang, "{number} {state}，不是挂起的票", "{number} is {state}, not held")
            }
            AlreadyAtWindow { number, window } => say!(
                lang,
                "{number} 已挂起在{window}",
                "{number} is already held at {window}"
            ),
        }
    }
}

/// The roles a caller holds, by their config names (`kiosk, clerk`), or none.
fn roles(holds: RoleSet, lang: Lang) -> String {
    match (holds == RoleSet::NONE, lang) {
        (true, Lang::Zh) => "无角色".to_string(),
        _ => holds.to_string(),
    }
}

/// Why the hall issues no ticket now.
fn closed(why: Closed, lang: Lang) -> &'static str {
    match (why, lang) {
        (Closed::NotYetOpen, Lang::Zh) => "尚未开始办公",
        (Closed::Break, Lang::Zh) => "午间休息",
        (Closed::CutOff, Lang::Zh) => "已停止取号",
        (Closed::AfterHours, Lang::Zh) => "今日办公已结束",
        (Closed::Holiday, Lang::Zh) => "节假日休息",
        (Closed::DayOff, Lang::Zh) => "今日不办公",
        (Closed::NotYetOpen, Lang::En) => "not open yet",
        (Closed::Break, Lang::En) => "lunch break",
        (Closed::CutOff, Lang::En) => "ticket cut-off before closing",
        (Closed::AfterHours, Lang::En) => "closed for today",
        (Closed::Holiday, Lang::En) => "public holiday",
        (Closed::DayOff, Lang::En) => "closed today",
    }
}

/// `13:30` today, else `2026-11-27 08:30`.
fn when(next: DateTime, today: jiff::civil::Date) -> String {
    let hhmm = format!("{:02}:{:02}", next.hour(), next.minute());
    if next.date() == today {
        hhmm
    } else {
        format!("{} {hhmm}", next.date())
    }
}

fn handoff_method(method: &str, lang: Lang) -> &'static str {
    match (method, lang) {
        ("mail", Lang::Zh) => "邮寄",
        ("mail", Lang::En) => "mail",
        (_, Lang::Zh) => "自取",
        (_, Lang::En) => "pickup",
    }
}

/// A printer's trouble by its cause code, else the driver's own words.
fn printer_trouble(cause: &str, reason: &str, lang: Lang) -> String {
    let zh = match cause {
        "paper_out" => "缺纸",
        "cover_open" => "纸仓盖打开",
        "printer_error" => "打印机故障",
        "offline" => "脱机",
        "no_answer" => "无应答",
        "disconnected" => "未连接",
        "garbage_answer" => "应答无法识别",
        "task_stopped" => "打印任务已停止",
        _ => "",
    };
    match lang {
        Lang::Zh if !zh.is_empty() => zh.to_string(),
        _ => reason.to_string(),
    }
}

impl Words for HallError {
    fn words(&self, lang: Lang) -> String {
        match self {
            HallError::Refused(r) => r.words(lang),
            HallError::Store(e) => say!(
                lang,
                "无法记录这次变更，什么也没做：{e}",
                "could not record the change, nothing was done: {e}"
            ),
            HallError::Stopped => say!(lang, "hallq 正在停止", "hallq is shutting down"),
            HallError::PrinterUnavailable {
                kiosk,
                cause,
                reason,
            } => {
                let trouble = printer_trouble(cause, reason, lang);
                say!(
                    lang,
                    "取号机 {kiosk} 的打印机：{trouble}",
                    "printer {kiosk}: {trouble}"
                )
            }
            HallError::PrintFailed {
                kiosk,
                number,
                cause,
                reason,
                voided,
            } => {
                let trouble = printer_trouble(cause, reason, lang);
                match voided {
                    true => say!(
                        lang,
                        "{number} 已作废：取号机 {kiosk} 的打印机{trouble}；请重新取号",
                        "{number} was voided: printer {kiosk}: {trouble}; please take a new ticket"
                    ),
                    false => say!(
                        lang,
                        "{number} 未打印：取号机 {kiosk} 的打印机{trouble}；请重新取号",
                        "{number} was NOT printed: printer {kiosk}: {trouble}; please take a new ticket"
                    ),
                }
            }
            HallError::AlreadyApplied { device, seq } => say!(
                lang,
                "{device} 的按键事件 {seq} 已处理过",
                "key event {seq} of {device} was already applied"
            ),
            HallError::DiskFull(full) => {
                let (free, min, dir) = (&full.free, &full.min, &full.dir);
                say!(
                    lang,
                    "存储所在磁盘快满了（{dir} 剩余 {free}，至少需要 {min}）：腾出空间前不再发号；叫号照常",
                    "the disk of the store is nearly full ({free} free at {dir}, at least {min} needed): no new tickets until maintenance frees space; calling goes on"
                )
            }
            HallError::Forbidden {
                what,
                role,
                origin,
                holds,
            } => {
                let holds = roles(*holds, lang);
                let hint = match (role, lang) {
                    (Role::Evaluator, Lang::Zh) => "（评价由市民在窗口的评价器上进行；工作人员从不评价自己的服务）",
                    (_, Lang::Zh) => "（角色由配置的 [roles] 一节授予；见 docs/install.md 的 Roles）",
                    (Role::Evaluator, Lang::En) => " (the citizen rates on the window's evaluator; a clerk never rates their own service)",
                    (_, Lang::En) => " (the [roles] section of the config grants roles; docs/install.md, Roles)",
                };
                say!(
                    lang,
                    "{what} 需要 {role} 角色；{origin} 拥有：{holds}{hint}",
                    "{what} needs the {role} role; {origin} holds {holds}{hint}"
                )
            }
            HallError::Report(reason) => say!(lang, "报表：{reason}", "report: {reason}"),
            HallError::BackupFailed { path, reason } => {
                let path = path.display();
                say!(
                    lang,
                    "备份到 {path} 失败：{reason}",
                    "backup to {path} failed: {reason}"
                )
            }
        }
    }
}
