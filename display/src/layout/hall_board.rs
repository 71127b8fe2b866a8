//! The hall board: the big board everyone in the hall watches.
//!
//! Owns: what it shows — the latest calls as rows `A012→3号窗口` (newest first, the newest inverse
//! while it blinks), the waiting count per service, and one notice line (tidal-window advice,
//! announcements), arranged by the board's size: one scrolling line on 16-px boards, calls over
//! notice on 32-px boards, columns with a notice row on taller ones. Does not own: which calls are
//! recent or what the counts are (the daemon's hall state).

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

use super::window_bar::window_label;
use super::{base_style, row_rect, rows, width_of, Align, BoardColor, Plan, Role, Span, Zone};
use crate::font::TextStyle;

/// What the hall board shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HallBoardView {
    /// The latest calls, newest first.
    pub recent: Vec<RecentCall>,
    /// Waiting tickets per service, in display order.
    pub waiting: Vec<ServiceWaiting>,
    /// One line of notice (tidal advice, announcement); `None` or blank for none.
    pub notice: Option<String>,
    /// Whether the newest call's blink highlight is on in this frame.
    pub blink_on: bool,
}

/// One call: which ticket goes to which window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecentCall {
    /// Ticket number, e.g. `A012`.
    pub number: String,
    /// Window number.
    pub window: u32,
    /// Window name (`3号窗口`); empty means `{window}号窗口`.
    pub window_name: String,
}

/// How many tickets of one service are waiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceWaiting {
    /// Service code (ticket prefix), e.g. `A`.
    pub code: String,
    /// Service name, e.g. `综合受理`.
    pub name: String,
    /// Waiting tickets.
    pub count: u32,
}

/// Narrowest board that gets two columns (calls | waiting).
const TWO_COLUMNS_FROM: u32 = 192;

/// The zones of the hall board for a board of `size`.
pub fn plan(view: &HallBoardView, size: Size) -> Plan {
    let style = base_style(size.height);
    let (n, top) = rows(size.height, style);
    let notice = super::shown(view.notice.as_deref());
    let grid = Grid {
        style,
        top,
        width: size.width,
    };
    let zones = match n {
        1 => one_row(view, notice, &grid),
        2 => two_rows(view, notice, &grid),
        _ => many_rows(view, notice, &grid, n),
    };
    Plan { zones }
}

/// Draws the hall board into `target` (its whole area) at scroll position `scroll_px`.
pub fn draw<D, C>(view: &HallBoardView, target: &mut D, scroll_px: u32) -> Result<(), D::Error>
where
    D: DrawTarget<Color = C>,
    C: BoardColor,
{
    plan(view, target.bounding_box().size).draw(target, scroll_px)
}

struct Grid {
    style: TextStyle,
    top: u32,
    width: u32,
}

impl Grid {
    fn zone(&self, row: u32, x: u32, width: u32, align: Align, spans: Vec<Span>) -> Zone {
        let area: Rectangle = row_rect(self.top, self.style.line_height(), row, x, width);
        Zone::new(area, self.style, align, spans)
    }
}

fn call_spans(view: &HallBoardView, index: usize) -> Vec<Span> {
    let call = &view.recent[index];
    vec![
        Span::highlighted(
            call.number.clone(),
            Role::Number,
            index == 0 && view.blink_on,
        ),
        Span::new("→", Role::Text),
        Span::new(window_label(call.window, &call.window_name), Role::Window),
    ]
}

fn no_calls() -> Vec<Span> {
    vec![Span::new("暂无叫号", Role::Text)]
}

fn waiting_summary(waiting: &[ServiceWaiting], label: &str) -> Vec<Span> {
    let mut spans = vec![Span::new(label, Role::Text)];
    for s in waiting {
        spans.push(Span::new(format!(" {}:", s.code), Role::Text));
        spans.push(Span::new(format!("{}人", s.count), Role::Count));
    }
    spans
}

fn notice_spans(notice: &str) -> Vec<Span> {
    vec![Span::new(notice, Role::Notice)]
}

fn one_row(view: &HallBoardView, notice: Option<&str>, g: &Grid) -> Vec<Zone> {
    let mut spans = Vec::new();
    for i in 0..view.recent.len().min(3) {
        if i > 0 {
            spans.push(Span::new("  ", Role::Text));
        }
        spans.extend(call_spans(view, i));
    }
    if let Some(notice) = notice {
        if !spans.is_empty() {
            spans.push(Span::new("  ", Role::Text));
        }
        spans.extend(notice_spans(notice));
    }
    if spans.is_empty() {
        spans = if view.waiting.is_empty() {
            vec![Span::new("欢迎光临", Role::Text)]
        } else {
            waiting_summary(&view.waiting, "等候")
        };
    }
    vec![g.zone(0, 0, g.width, Align::Center, spans)]
}

fn two_rows(view: &HallBoardView, notice: Option<&str>, g: &Grid) -> Vec<Zone> {
    let mut calls: Vec<Span> = Vec::new();
    for i in 0..view.recent.len() {
        let mut next = calls.clone();
        if i > 0 {
            next.push(Span::new("  ", Role::Text));
        }
        next.extend(call_spans(view, i));
        if i > 0 && width_of(g.style, &next) > g.width {
            break;
        }
        calls = next;
    }
    if calls.is_empty() {
        calls = no_calls();
    }
    let second = match notice {
        Some(n) => notice_spans(n),
        None => waiting_summary(&view.waiting, "等候"),
    };
    vec![
        g.zone(0, 0, g.width, Align::Center, calls),
        g.zone(1, 0, g.width, Align::Center, second),
    ]
}

fn many_rows(view: &HallBoardView, notice: Option<&str>, g: &Grid, n: u32) -> Vec<Zone> {
    let body = n - u32::from(notice.is_some());
    let mut zones = Vec::new();
    if g.width >= TWO_COLUMNS_FROM {
        let left = g.width / 2;
        let (right_x, right_w) = (left + 4, g.width - left - 4);
        let header = u32::from(body >= 5);
        if header == 1 {
            zones.push(g.zone(
                0,
                0,
                left,
                Align::Left,
                vec![Span::new("最近叫号", Role::Text)],
            ));
            zones.push(g.zone(
                0,
                right_x,
                right_w,
                Align::Left,
                vec![Span::new("等候人数", Role::Text)],
            ));
        }
        zones.extend(call_rows(view, g, header, body - header, left));
        zones.extend(waiting_rows(
            &view.waiting,
            g,
            header,
            body - header,
            right_x,
            right_w,
        ));
    } else {
        let with_summary = !view.waiting.is_empty() && body >= 2;
        let call_rows_n = body - u32::from(with_summary);
        zones.extend(call_rows(view, g, 0, call_rows_n, g.width));
        if with_summary {
            zones.push(g.zone(
                call_rows_n,
                0,
                g.width,
                Align::Left,
                waiting_summary(&view.waiting, "等候"),
            ));
        }
    }
    if let Some(notice) = notice {
        zones.push(g.zone(n - 1, 0, g.width, Align::Center, notice_spans(notice)));
    }
    zones
}

fn call_rows(view: &HallBoardView, g: &Grid, first_row: u32, count: u32, width: u32) -> Vec<Zone> {
    if view.recent.is_empty() {
        return vec![g.zone(first_row, 0, width, Align::Left, no_calls())];
    }
    (0..view.recent.len().min(count as usize))
        .map(|i| {
            g.zone(
                first_row + i as u32,
                0,
                width,
                Align::Left,
                call_spans(view, i),
            )
        })
        .collect()
}

fn waiting_rows(
    waiting: &[ServiceWaiting],
    g: &Grid,
    first_row: u32,
    count: u32,
    x: u32,
    width: u32,
) -> Vec<Zone> {
    let count_w = g.style.width("999人").min(width / 2);
    let mut zones = Vec::new();
    let shown = if waiting.len() as u32 > count {
        count.saturating_sub(1)
    } else {
        count
    };
    for (i, s) in waiting.iter().take(shown as usize).enumerate() {
        let row = first_row + i as u32;
        let name = vec![Span::new(format!("{} {}", s.code, s.name), Role::Text)];
        zones.push(g.zone(row, x, width - count_w, Align::Left, name));
        let n = vec![Span::new(format!("{}人", s.count), Role::Count)];
        zones.push(g.zone(row, x + width - count_w, count_w, Align::Right, n));
    }
    if (shown as usize) < waiting.len() && count > 0 {
        let rest = waiting_summary(&waiting[shown as usize..], "其他");
        zones.push(g.zone(first_row + shown, x, width, Align::Left, rest));
    }
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> HallBoardView {
        HallBoardView {
            recent: vec![
                RecentCall {
                    number: "A012".into(),
                    window: 3,
                    window_name: String::new(),
                },
                RecentCall {
                    number: "B005".into(),
                    window: 1,
                    window_name: String::new(),
                },
            ],
            waiting: vec![
                ServiceWaiting {
                    code: "A".into(),
                    name: "综合受理".into(),
                    count: 12,
                },
                ServiceWaiting {
                    code: "B".into(),
                    name: "不动产".into(),
                    count: 3,
                },
            ],
            notice: Some("请开放潮汐窗口".into()),
            blink_on: false,
        }
    }

    fn texts(p: &Plan) -> Vec<String> {
        p.zones.iter().map(Zone::text).collect()
    }

    #[test]
    fn newest_call_comes_first_at_every_size() {
        for (w, h) in [(64, 16), (128, 32), (192, 32), (256, 64), (384, 96)] {
            let p = plan(&sample(), Size::new(w, h));
            let first = p
                .zones
                .iter()
                .find(|z| z.text().contains("A012"))
                .expect("newest call shown");
            assert!(p
                .zones
                .iter()
                .all(|z| !z.text().contains("B005") || z.area.top_left.y >= first.area.top_left.y));
        }
    }

    #[test]
    fn big_board_has_columns_and_a_notice_row() {
        let t = texts(&plan(&sample(), Size::new(384, 96)));
        for want in [
            "最近叫号",
            "等候人数",
            "A012→3号窗口",
            "B005→1号窗口",
            "A 综合受理",
            "12人",
            "请开放潮汐窗口",
        ] {
            assert!(t.iter().any(|z| z == want), "{want} missing from {t:?}");
        }
    }

    #[test]
    fn services_beyond_the_rows_are_summed_up_on_the_last_row() {
        let mut v = sample();
        v.waiting = (0..6)
            .map(|i| ServiceWaiting {
                code: format!("{}", (b'A' + i) as char),
                name: "业务".into(),
                count: u32::from(i),
            })
            .collect();
        let t = texts(&plan(&v, Size::new(256, 64)));
        assert!(t.iter().any(|z| z.starts_with("其他 C:")), "{t:?}");
    }
}
