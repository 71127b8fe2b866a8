//! Tidal-window advice (潮汐窗口) in a report: every piece of advice of the period, and the
//! episodes it forms.
//!
//! An episode of a service starts with advice to open a tidal window while none is running,
//! and ends with the next advice to close one, or else at the end of that business day (or,
//! for today, is still ongoing when the report is made). Further open advice inside an
//! episode belongs to it. Reads `tidal_advice` events; writes nothing.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{params, Connection};

use super::model::{Tidal, TidalAdviceRow, TidalEpisode};
use super::period::Period;
use super::sql::{count, each_row, text};
use super::{HallInfo, Options, ReportError};

/// One piece of advice as stored.
#[derive(Debug, Clone)]
pub(super) struct Advice {
    pub business_day: String,
    pub at: Timestamp,
    pub service: String,
    pub open: bool,
    pub waiting: u64,
}

pub(super) fn tidal(
    conn: &Connection,
    hall: &HallInfo,
    period: &Period,
    options: &Options,
) -> Result<Tidal, ReportError> {
    let sql = "
        SELECT e.business_day, e.at, a.value ->> '$.service', a.value ->> '$.advice',
               a.value ->> '$.waiting'
        FROM events e, json_each(e.body, '$.advice') a
        WHERE e.kind = 'tidal_advice' AND e.business_day BETWEEN ?1 AND ?2
        ORDER BY e.seq, a.key";
    let mut advice = Vec::new();
    each_row(
        conn,
        sql,
        params![period.first.to_string(), period.last.to_string()],
        |r| {
            let at = text(&r[1]).unwrap_or_default();
            advice.push(Advice {
                business_day: text(&r[0]).unwrap_or_default(),
                at: at
                    .parse()
                    .map_err(|e| ReportError::BadRow(format!("events.at {at:?}: {e}")))?,
                service: text(&r[2]).unwrap_or_default(),
                open: text(&r[3]).as_deref() == Some("open"),
                waiting: count(&r[4]),
            });
            Ok(())
        },
    )?;
    let local = |at: Timestamp| hall.local_time(at);
    Ok(Tidal {
        advice: advice
            .iter()
            .map(|a| TidalAdviceRow {
                business_day: a.business_day.clone(),
                at: local(a.at),
                service: a.service.clone(),
                advice: if a.open { "open" } else { "close" }.to_string(),
                waiting: a.waiting,
            })
            .collect(),
        episodes: episodes(&advice, hall, options.now),
    })
}

/// Group advice into episodes (see the module doc). `advice` is in the order given.
pub(super) fn episodes(advice: &[Advice], hall: &HallInfo, now: Timestamp) -> Vec<TidalEpisode> {
    let mut out = Vec::new();
    // Per service: the running episode's start, day and waiting count.
    let mut running: BTreeMap<String, (Timestamp, String, u64)> = BTreeMap::new();
    let end = |out: &mut Vec<TidalEpisode>,
               service: &str,
               (start, day, waiting): (Timestamp, String, u64),
               close: Option<Timestamp>| {
        let (ended, ended_by) = match close {
            Some(at) => (at, "close_advice"),
            None => {
                let day_end = day
                    .parse()
                    .map(|d| {
                        crate::engine::day::next_day_start(d, &hall.timezone, hall.day_starts_at)
                    })
                    .unwrap_or(now);
                if day_end > now {
                    (now, "ongoing")
                } else {
                    (day_end, "day_end")
                }
            }
        };
        out.push(TidalEpisode {
            business_day: day,
            service: service.to_string(),
            started_at: hall.local_time(start),
            ended_at: hall.local_time(ended),
            ended_by: ended_by.to_string(),
            minutes: ended.duration_since(start).as_secs_f64() / 60.0,
            waiting_at_start: waiting,
        });
    };
    for a in advice {
        // A new business day ends whatever the previous one left running.
        let stale: Vec<String> = running
            .iter()
            .filter(|(_, (_, day, _))| *day != a.business_day)
            .map(|(s, _)| s.clone())
            .collect();
        for service in stale {
            if let Some(ep) = running.remove(&service) {
                end(&mut out, &service, ep, None);
            }
        }
        match (a.open, running.remove(&a.service)) {
            (true, None) => {
                running.insert(a.service.clone(), (a.at, a.business_day.clone(), a.waiting));
            }
            (true, Some(ep)) => {
                running.insert(a.service.clone(), ep);
            }
            (false, Some(ep)) => end(&mut out, &a.service, ep, Some(a.at)),
            (false, None) => {}
        }
    }
    for (service, ep) in std::mem::take(&mut running) {
        end(&mut out, &service, ep, None);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hall() -> HallInfo {
        HallInfo::for_tests("Asia/Shanghai", "06:00")
    }

    fn advice(day: &str, at: &str, service: &str, open: bool) -> Advice {
        Advice {
            business_day: day.into(),
            at: at.parse().unwrap(),
            service: service.into(),
            open,
            waiting: if open { 20 } else { 1 },
        }
    }

    #[test]
    fn an_episode_runs_from_open_to_close_advice() {
        let list = [
            advice("2026-11-26", "2026-11-26T02:00:00Z", "A", true),
            advice("2026-11-26", "2026-11-26T02:10:00Z", "A", true),
            advice("2026-11-26", "2026-11-26T02:45:30Z", "A", false),
            advice("2026-11-26", "2026-11-26T03:00:00Z", "B", false),
        ];
        let now = "2026-12-01T00:00:00Z".parse().unwrap();
        let eps = episodes(&list, &hall(), now);
        assert_eq!(eps.len(), 1, "{eps:?}");
        assert_eq!(eps[0].service, "A");
        assert_eq!(eps[0].started_at, "2026-11-26 10:00:00");
        assert_eq!(eps[0].ended_at, "2026-11-26 10:45:30");
        assert_eq!(eps[0].ended_by, "close_advice");
        assert_eq!(eps[0].minutes, 45.5);
        assert_eq!(eps[0].waiting_at_start, 20);
    }

    #[test]
    fn an_unclosed_episode_ends_with_its_business_day_or_is_ongoing_today() {
        let list = [
            advice("2026-11-26", "2026-11-26T08:00:00Z", "A", true),
            advice("2026-11-27", "2026-11-27T01:00:00Z", "B", true),
        ];
        // The 26th ends at 06:00 local on the 27th (22:00 UTC on the 26th).
        let now = "2026-11-27T02:30:00Z".parse().unwrap();
        let eps = episodes(&list, &hall(), now);
        assert_eq!(eps.len(), 2);
        assert_eq!(
            (
                eps[0].ended_at.as_str(),
                eps[0].ended_by.as_str(),
                eps[0].minutes
            ),
            ("2026-11-27 06:00:00", "day_end", 14.0 * 60.0)
        );
        assert_eq!(
            (
                eps[1].ended_at.as_str(),
                eps[1].ended_by.as_str(),
                eps[1].minutes
            ),
            ("2026-11-27 10:30:00", "ongoing", 90.0)
        );
    }
}
