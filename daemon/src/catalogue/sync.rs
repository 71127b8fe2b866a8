//! The upstream sync's report worded for people: the one line of `hallq status` and the systemd
//! STATUS line (English there, like the journal), and the lines of `hallq sync status`.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{say, Lang};
use crate::sync::report::SyncReport;

/// A short line: off, a credential problem, ok, or how many events wait (and since when).
pub fn summary(r: &SyncReport, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("上报同步：{}", state(r, lang)),
        Lang::En => state(r, lang),
    }
}

/// The summary without its Chinese "上报同步：" (the English one reads well after a URL).
fn state(r: &SyncReport, lang: Lang) -> String {
    if r.url.is_none() {
        return say!(lang, "未启用", "sync off");
    }
    if r.credential_problem {
        return say!(
            lang,
            "凭据无效，请检查 [upstream] token_file",
            "sync: credential problem (check [upstream] token_file)"
        );
    }
    let age = r
        .oldest_waiting_age_seconds
        .map(|s| {
            let age = human_age(s, lang);
            say!(lang, "，最早的已等 {age}", ", oldest {age}")
        })
        .unwrap_or_default();
    let n = r.waiting;
    match &r.last_error {
        None if n == 0 => say!(lang, "正常", "sync ok"),
        None => say!(lang, "{n} 条待上报{age}", "sync: {n} waiting{age}"),
        Some(e) => {
            let cause = &e.cause;
            say!(
                lang,
                "失败（{cause}）：{n} 条待上报{age}",
                "sync failing ({cause}): {n} waiting{age}"
            )
        }
    }
}

/// The lines of `hallq sync status`; times in `tz`, with their offset (`2026-11-26 09:48:00 +08`).
pub fn status(r: &SyncReport, lang: Lang, tz: &TimeZone) -> Vec<String> {
    let Some(url) = &r.url else {
        return vec![say!(
            lang,
            "未启用上报同步（配置中没有 [upstream]）；事件都保留在本地",
            "upstream sync is off (no [upstream] in the config); events are kept"
        )];
    };
    let when = |t: &Timestamp| {
        let offset = tz.to_offset(*t);
        let local = offset.to_datetime(*t);
        format!("{} {offset}", local.strftime("%Y-%m-%d %H:%M:%S"))
    };
    let state = state(r, lang);
    let mut out = vec![say!(
        lang,
        "上报平台 {url}：{state}",
        "upstream {url}: {state}"
    )];
    let (acked, last) = (r.acked_through, r.last_seq);
    out.push(match r.acked_at.map(|t| when(&t)) {
        Some(at) => say!(
            lang,
            "已确认到第 {acked} 条事件（共 {last} 条，确认于 {at}）",
            "acknowledged through event {acked} of {last} (at {at})"
        ),
        None => say!(
            lang,
            "已确认到第 {acked} 条事件（共 {last} 条）",
            "acknowledged through event {acked} of {last}"
        ),
    });
    let n = r.waiting;
    out.push(match (r.oldest_waiting_at, r.oldest_waiting_age_seconds) {
        (Some(at), Some(age)) => {
            let (at, age) = (when(&at), human_age(age, lang));
            say!(
                lang,
                "待上报：{n} 条，最早一条产生于 {at}（已等 {age}）",
                "waiting: {n} events, oldest from {at} ({age} old)"
            )
        }
        _ => say!(lang, "待上报：{n} 条", "waiting: {n} events"),
    });
    out.push(match &r.last_success_at {
        Some(t) => {
            let t = when(t);
            say!(lang, "上次成功：{t}", "last success: {t}")
        }
        None => say!(
            lang,
            "上次成功：本次启动后尚无成功记录",
            "last success: none since start"
        ),
    });
    if let Some(e) = &r.last_error {
        let (at, cause, attempts, since) = (when(&e.at), &e.cause, e.attempts, when(&e.since));
        out.push(say!(
            lang,
            "上次错误：{at} {cause}（自 {since} 起已连续失败 {attempts} 次）",
            "last error: {at} {cause} ({attempts} attempts since {since})"
        ));
    }
    if let Some(t) = &r.next_attempt_at {
        let t = when(t);
        out.push(say!(lang, "下次尝试：{t}", "next attempt: {t}"));
    }
    let p = &r.reservations;
    let pulled = match p.last_success_at {
        Some(t) => {
            let t = when(&t);
            say!(lang, "拉取于 {t}", "pulled {t}")
        }
        None => say!(lang, "尚未拉取", "not pulled yet"),
    };
    let listed: Vec<String> = p.listed.iter().map(|(d, n)| format!("{d}: {n}")).collect();
    let listed = if listed.is_empty() {
        String::new()
    } else {
        format!(" ({})", listed.join(", "))
    };
    out.push(say!(
        lang,
        "预约：{pulled}{listed}",
        "reservations: {pulled}{listed}"
    ));
    if let Some(e) = &p.last_error {
        let (at, cause) = (when(&e.at), &e.cause);
        out.push(say!(
            lang,
            "预约上次错误：{at} {cause}",
            "reservations last error: {at} {cause}"
        ));
    }
    let pruned = r.pruned_events;
    out.push(say!(
        lang,
        "保留期：本次启动后清理了 {pruned} 条已确认的事件",
        "retention: {pruned} acknowledged events pruned since start"
    ));
    out
}

/// `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h` (`45 秒`, `12 分钟`, `3 小时 5 分钟`, `2 天 4 小时`);
/// a zero second part is left out (`3 h`, `2 d`).
pub fn human_age(seconds: i64, lang: Lang) -> String {
    let s = seconds.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    let (m_of_h, h_of_d) = (m % 60, h % 24);
    match s {
        0..60 => say!(lang, "{s} 秒", "{s} s"),
        60..3600 => say!(lang, "{m} 分钟", "{m} min"),
        3600..86_400 if m_of_h == 0 => say!(lang, "{h} 小时", "{h} h"),
        3600..86_400 => say!(lang, "{h} 小时 {m_of_h} 分钟", "{h} h {m_of_h} min"),
        _ if h_of_d == 0 => say!(lang, "{d} 天", "{d} d"),
        _ => say!(lang, "{d} 天 {h_of_d} 小时", "{d} d {h_of_d} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::client::FailureKind;
    use crate::sync::report::{LastError, ReservationPull};

    fn report() -> SyncReport {
        SyncReport {
            url: Some("https://platform.example/api".into()),
            as_of: "2026-11-26T02:00:00Z".parse().unwrap(),
            acked_through: 120,
            acked_at: None,
            last_seq: 130,
            waiting: 10,
            oldest_waiting_at: Some("2026-11-26T01:48:00Z".parse().unwrap()),
            oldest_waiting_age_seconds: Some(720),
            last_success_at: None,
            last_error: None,
            credential_problem: false,
            next_attempt_at: None,
            reservations: ReservationPull::default(),
            pruned_events: 0,
            retention_checked_at: None,
            warn_backlog_minutes: 60,
            backlog_too_old: false,
        }
    }

    #[test]
    fn the_summary_says_what_matters_first() {
        let mut r = report();
        assert_eq!(summary(&r, Lang::En), "sync: 10 waiting, oldest 12 min");
        assert_eq!(
            summary(&r, Lang::Zh),
            "上报同步：10 条待上报，最早的已等 12 分钟"
        );
        r.last_error = Some(LastError {
            at: r.as_of,
            kind: FailureKind::Status,
            cause: "HTTP 500 Internal Server Error".into(),
            since: r.as_of,
            attempts: 3,
        });
        assert_eq!(
            summary(&r, Lang::En),
            "sync failing (HTTP 500 Internal Server Error): 10 waiting, oldest 12 min"
        );
        r.credential_problem = true;
        assert!(summary(&r, Lang::En).contains("credential problem"));
        assert!(summary(&r, Lang::Zh).contains("凭据无效"));
        r.url = None;
        assert_eq!(summary(&r, Lang::En), "sync off");
        assert_eq!(summary(&r, Lang::Zh), "上报同步：未启用");
        assert_eq!(human_age(2 * 86_400 + 3700, Lang::En), "2 d 1 h");
        assert_eq!(human_age(3 * 3600 + 300, Lang::Zh), "3 小时 5 分钟");
        assert_eq!(human_age(3 * 3600 + 20, Lang::Zh), "3 小时");
        assert_eq!(human_age(2 * 86_400, Lang::En), "2 d");
    }

    #[test]
    fn sync_status_has_the_same_lines_in_both_languages() {
        let mut r = report();
        r.last_error = Some(LastError {
            at: r.as_of,
            kind: FailureKind::Timeout,
            cause: "timed out".into(),
            since: r.as_of,
            attempts: 2,
        });
        r.next_attempt_at = Some(r.as_of);
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let (zh, en) = (status(&r, Lang::Zh, &tz), status(&r, Lang::En, &tz));
        assert_eq!(
            zh[0],
            "上报平台 https://platform.example/api：失败（timed out）：10 条待上报，最早的已等 12 分钟"
        );
        assert!(zh[2].contains("2026-11-26 09:48:00 +08"), "{zh:?}");
        assert_eq!(zh.len(), en.len(), "{zh:?} / {en:?}");
        assert!(
            en[2].starts_with("waiting: 10 events, oldest from"),
            "{en:?}"
        );
        assert!(zh[2].starts_with("待上报：10 条"), "{zh:?}");
        for line in &zh {
            assert!(
                !line.contains("waiting") && !line.contains("attempt"),
                "{line}"
            );
        }
    }
}
