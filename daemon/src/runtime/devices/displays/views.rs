//! What each board shows, from the hall snapshot: a window's bar from its window, the hall
//! board from the recent calls, the waiting counts and the standing tidal advice.

use hallq_display::{
    HallBoardView, RecentCall as BoardCall, ServiceWaiting, WindowBarState, WindowBarView,
};

use crate::config::Config;
use crate::engine::model::WindowStatus;
use crate::engine::views::{TidalNotice, WindowView};
use crate::runtime::snapshot::HallSnapshot;

/// A window's bar: the ticket it calls, idle, paused or closed.
pub fn window_bar(w: &WindowView) -> WindowBarView {
    let state = match (w.state, w.calling()) {
        (WindowStatus::Closed, _) => WindowBarState::Closed,
        (WindowStatus::Paused, _) => WindowBarState::Paused,
        (WindowStatus::Open, Some(number)) => WindowBarState::Calling {
            number: number.to_string(),
        },
        (WindowStatus::Open, None) => WindowBarState::Idle,
    };
    WindowBarView {
        window: w.window,
        window_name: w.name.clone(),
        state,
        blink_on: false,
    }
}

/// The hall board: recent calls, waiting per service in config order, the notice line.
pub fn hall_board(snapshot: &HallSnapshot, config: &Config) -> HallBoardView {
    let waiting = config
        .services
        .iter()
        .map(|s| ServiceWaiting {
            code: s.code.clone(),
            name: s.name.clone(),
            count: snapshot.hall.waiting.get(&s.code).copied().unwrap_or(0),
        })
        .collect();
    HallBoardView {
        recent: snapshot
            .recent_calls
            .iter()
            .map(|c| BoardCall {
                number: c.number.clone(),
                window: c.window,
                window_name: c.window_name.clone(),
            })
            .collect(),
        waiting,
        notice: snapshot.hall.tidal.first().map(tidal_notice),
        blink_on: false,
    }
}

/// `综合受理等候20人，潮汐窗口即将开放`
pub(crate) fn tidal_notice(t: &TidalNotice) -> String {
    format!("{}等候{}人，潮汐窗口即将开放", t.name, t.waiting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WindowKind;
    use crate::engine::model::TicketState;

    fn window(state: WindowStatus, ticket: Option<(&str, TicketState)>) -> WindowView {
        WindowView {
            window: 3,
            name: "3号窗口".into(),
            kind: WindowKind::Standard,
            state,
            clerk: None,
            number: ticket.map(|(n, _)| n.to_string()),
            ticket_state: ticket.map(|(_, s)| s),
            streak: 0,
        }
    }

    #[test]
    fn window_bars_follow_the_window_state() {
        let states: Vec<_> = [
            window(WindowStatus::Open, Some(("A012", TicketState::Called))),
            window(WindowStatus::Open, Some(("A009", TicketState::Done))),
            window(WindowStatus::Paused, Some(("A010", TicketState::Serving))),
            window(WindowStatus::Closed, None),
        ]
        .iter()
        .map(|w| window_bar(w).state)
        .collect();
        assert_eq!(
            states,
            [
                WindowBarState::Calling {
                    number: "A012".into()
                },
                WindowBarState::Idle,
                WindowBarState::Paused,
                WindowBarState::Closed,
            ]
        );
    }
}
