//! The hall board: the big board everyone in the hall watches.
//!
//! Owns: what it shows — the latest calls as citizens read them, `请 A012 号到 3号窗口办理`
//! (newest first, the newest number inverse while it blinks), the waiting count per service by
//! its name (its short name where the name does not fit), and one notice line (a tidal window
//! that opened, announcements), arranged by the board's size: one scrolling line on 16-px
//! boards, calls over notice on 32-px boards, columns with a notice row on taller ones. Does not
//! own: which calls are recent or what the counts are (the daemon's hall state).

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
    /// A shorter name for where `name` does not fit, e.g. `综合`; empty means none.
    pub short_name: String,
    /// Waiting tickets.
    pub count: u32,
}

impl ServiceWaiting {
    /// The name to show: the short name when asked for and configured.
    fn label(&self, short: bool) -> &str {
        match short && !self.short_name.is_empty() {
            true => &self.short_name,
            false => &self.name,
        }
    }
}

/// Narrowest board that gets two columns (calls | waiting).
const TWO_COLUMNS_FROM: u32 = 192;

/// What the waiting column must have room for: a four-character name and its count.
const MIN_WAITING_ROW: &str = "综合受理 999人";

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

/// `请 A012 号到 3号窗口办理`
fn call_spans(view: &HallBoardView, index: usize) -> Vec<Span> {
    let call = &view.recent[index];
    vec![
        Span::new("请 ", Role::Text),
        Span::highlighted(
            call.number.clone(),
            Role::Number,
            index == 0 && view.blink_on,
        ),
        Span::new(" 号到 ", Role::Text),
        Span::new(window_label(call.window, &call.window_name), Role::Window),
        Span::new("办理", Role::Text),
    ]
}

fn no_calls() -> Vec<Span> {
    vec![Span::new("暂无叫号", Role::Text)]
}

/// `等候 综合受理12人 社保医保3人`, with short names when the full ones do not fit `width`.
fn waiting_summary(waiting: &[ServiceWaiting], label: &str, g: &Grid, width: u32) -> Vec<Span> {
    let spans = |short: bool| {
        let mut spans = vec![Span::new(label, Role::Text)];
        for s in waiting {
            spans.push(Span::new(format!(" {}", s.label(short)), Role::Text));
            spans.push(Span::new(format!("{}人", s.count), Role::Count));
        }
        spans
    };
    let full = spans(false);
    match width_of(g.style, &full) > width {
        true => spans(true),
        false => full,
    }
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
            waiting_summary(&view.waiting, "等候", g, g.width)
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
        None => waiting_summary(&view.waiting, "等候", g, g.width),
    };
    vec![
        g.zone(0, 0, g.width, Align::Center, calls),
        g.zone(1, 0, g.width, Align::Center, second),
    ]
}

fn many_rows(view: &HallBoardView, notice: Option<&str>, g: &Grid, n: u32) -> Vec<Zone> {
    let body = n - u32::from(notice.is_some());
    let mut zones = Vec::new();
    // Calls and waiting side by side when a call fits the left column (at least half the
    // board) and a service name with its count the rest; else calls use the whole width and
    // the waiting counts a summary row, so a call never scrolls for lack of room.
    let call_w = view
        .recent
        .first()
        .map_or(0, |_| width_of(g.style, &call_spans(view, 0)));
    let left = call_w.max(g.width / 2);
    let right_room = g.width.saturating_sub(left + 4);
    if g.width >= TWO_COLUMNS_FROM && right_room >= g.style.width(MIN_WAITING_ROW) {
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
                waiting_summary(&view.waiting, "等候", g, g.width),
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
        let full = vec![Span::new(s.label(false), Role::Text)];
        let name = match width_of(g.style, &full) > width - count_w {
            true => vec![Span::new(s.label(true), Role::Text)],
            false => full,
        };
        zones.push(g.zone(row, x, width - count_w, Align::Left, name));
        let n = vec![Span::new(format!("{}人", s.count), Role::Count)];
        zones.push(g.zone(row, x + width - count_w, count_w, Align::Right, n));
    }
    if (shown as usize) < waiting.len() && count > 0 {
        let rest = waiting_summary(&waiting[shown as usize..], "其他", g, width);
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
                    short_name: "综合".into(),
                    count: 12,
                },
                ServiceWaiting {
                    code: "B".into(),
                    name: "不动产".into(),
                    short_name: String::new(),
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
            "请 A012 号到 3号窗口办理",
            "请 B005 号到 1号窗口办理",
            "综合受理",
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
                name: format!("业务{}", (b'A' + i) as char),
                short_name: String::new(),
                count: u32::from(i),
            })
            .collect();
        let t = texts(&plan(&v, Size::new(384, 96)));
        assert!(t.iter().any(|z| z.starts_with("其他 业务D")), "{t:?}");
    }

    #[test]
    fn a_board_too_narrow_for_calls_beside_the_counts_gives_the_calls_the_whole_width() {
        let t = texts(&plan(&sample(), Size::new(256, 64)));
        assert_eq!(
            t,
            [
                "请 A012 号到 3号窗口办理",
                "请 B005 号到 1号窗口办理",
                "等候 综合受理12人 不动产3人",
                "请开放潮汐窗口"
            ]
        );
    }

    #[test]
    fn services_are_named_and_abbreviated_only_where_they_do_not_fit() {
        let mut v = sample();
        v.notice = None;
        v.recent.clear();
        v.waiting[0].name = "综合受理业务办理专窗".into();
        // A 32-px board: the summary line does not fit with the long name.
        let t = texts(&plan(&v, Size::new(192, 32)));
        assert!(t.iter().any(|z| z == "等候 综合12人 不动产3人"), "{t:?}");
        // A column too narrow for it: the short name; one with room: the full name.
        let narrow = texts(&plan(&v, Size::new(384, 96)));
        assert!(narrow.iter().any(|z| z == "综合"), "{narrow:?}");
        let wide = texts(&plan(&sample(), Size::new(384, 96)));
        assert!(wide.iter().any(|z| z == "综合受理"), "{wide:?}");
        assert!(
            !wide.iter().any(|z| z.starts_with("A ")),
            "no bare codes: {wide:?}"
        );
    }
}
