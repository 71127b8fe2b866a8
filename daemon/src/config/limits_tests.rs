//! Tests of the limits a config may set: every numeric key bounded, `[control]`, `[roles]`,
//! and display sizes accepted exactly as the renderer accepts them.

use std::path::Path;

use super::tests::BASE as HALL;
use super::*;
use crate::role::Role;

fn example_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/hall.example.toml");
    std::fs::read_to_string(path).unwrap()
}

/// Every `key = <integer>` line of the production example, set to u32::MAX in turn, is refused
/// with an error naming that key: no numeric key is unbounded (before, `personal_data_days` and
/// `reservation_late_minutes` at 4294967295 passed `check-config` and crashed the hall thread).
#[test]
fn every_numeric_key_has_an_upper_bound() {
    let text = example_text();
    let mut keys = 0;
    for (n, line) in text.lines().enumerate() {
        let Some((key, rest)) = line.split_once(" = ") else {
            continue;
        };
        let key = key.trim();
        let value = rest.split_whitespace().next().unwrap_or("");
        if key.starts_with('#') || value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        keys += 1;
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[n] = line.replacen(value, "4294967295", 1);
        let changed = lines.join("\n");
        match parse(&changed, Path::new("hall.toml")) {
            Ok(_) => panic!("{key} = 4294967295 (line {}) was accepted", n + 1),
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.contains(&format!("{key}: must be between"))
                        || e.contains(&format!("{key}: no window number")),
                    "{key} (line {}): {e}",
                    n + 1
                );
            }
        }
    }
    assert!(keys >= 25, "the sweep saw only {keys} numeric keys");
}

#[test]
fn the_two_values_that_crashed_the_hall_are_refused() {
    let base = example_text();
    for (from, to) in [
        (
            "personal_data_days = 180",
            "personal_data_days = 4294967295",
        ),
        (
            "reservation_late_minutes = 15",
            "reservation_late_minutes = 4294967295",
        ),
    ] {
        let e = parse(&base.replace(from, to), Path::new("hall.toml")).unwrap_err();
        assert!(e.to_string().contains("must be between"), "{e}");
    }
}

#[test]
fn control_limits_have_defaults_and_bounds() {
    let c = parse(&example_text(), Path::new("hall.toml")).unwrap();
    assert_eq!(c.control, Control::default());
    assert_eq!(c.control.max_connections, 64);
    let text = example_text().replace("max_connections = 64", "max_connections = 0");
    let e = parse(&text, Path::new("hall.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("control.max_connections: must be between 1 and 4096, got 0"),
        "{e}"
    );
}

#[test]
fn without_roles_every_socket_peer_holds_all_but_evaluator() {
    let c = parse(HALL, Path::new("hall.toml")).unwrap();
    let roles = c.socket_roles(1000, 1000);
    for role in Role::ALL {
        assert_eq!(roles.contains(role), role != Role::Evaluator, "{role}");
    }
}

#[test]
fn roles_map_users_groups_and_members_by_name_or_number() {
    let text = format!(
        "{HALL}\n[roles]\ngroups = {{ root = [\"supervisor\"], \"4242\" = [\"kiosk\"] }}\n\
         users = {{ root = [\"operator\"], \"1001\" = [\"clerk\", \"evaluator\"] }}\n"
    );
    let c = parse(&text, Path::new("hall.toml")).unwrap();
    let root = c.socket_roles(0, 0);
    assert!(root.contains(Role::Operator) && root.contains(Role::Supervisor));
    assert!(!root.contains(Role::Clerk));
    let clerk = c.socket_roles(1001, 1001);
    assert!(clerk.contains(Role::Clerk) && clerk.contains(Role::Evaluator));
    assert!(c.socket_roles(5000, 4242).contains(Role::Kiosk));
    assert!(
        c.socket_roles(5000, 5000).is_empty(),
        "nobody else holds anything"
    );
}

#[test]
fn unknown_roles_groups_and_users_are_errors_at_their_place() {
    let text = format!(
        "{HALL}\n[roles]\ngroups = {{ no-such-group-hallq = [\"clerk\"], root = [\"admin\"] }}\n\
         users = {{ no-such-user-hallq = [\"operator\"], \"7\" = [] }}\n"
    );
    let errors: Vec<String> = parse(&text, Path::new("hall.toml"))
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "hall.toml:20:12: roles.groups: no group \"no-such-group-hallq\" on this machine (create it with `groupadd`, see docs/install.md)",
            "hall.toml:20:53: roles.groups.root: unknown role \"admin\" (expected kiosk, clerk, supervisor, evaluator or operator)",
            "hall.toml:21:11: roles.users: no user \"no-such-user-hallq\" on this machine",
            "hall.toml:21:52: roles.users.7: must name at least one role",
        ]
    );
}

/// `check-config` accepts exactly the boards the renderer draws: for sizes at and beyond the
/// limits, the config is accepted if and only if `hallq-display` builds the board, and every
/// accepted board renders both layouts at its size.
#[test]
fn display_sizes_accepted_are_exactly_those_that_render() {
    use hallq_display::{render, BoardSpec, HallBoardView, View, WindowBarState, WindowBarView};
    let sides = [0, 1, 11, 12, 13, 64, 2047, 2048, 2049, 65535, 65536];
    for w in sides {
        for h in [0, 12, 32, 2048, 2049] {
            for colors in [1, 2] {
                let size = format!("{w}x{h}");
                let text = format!(
                    "{HALL}\n[[devices]]\nid = \"bar\"\nkind = \"window_display\"\nwindow = 1\n\
                     protocol = \"modbus\"\nsize = \"{size}\"\ncolors = {colors}\n\
                     transport = {{ type = \"sim\", dir = \"sim/bar\" }}\n"
                );
                let config = parse(&text, Path::new("hall.toml"));
                let renderer = BoardSpec::from_config(&size, colors);
                assert_eq!(
                    config.is_ok(),
                    renderer.is_ok(),
                    "{size} colors {colors}: check-config and the renderer disagree"
                );
                let Ok(config) = config else { continue };
                let spec = config.devices[0].board().unwrap();
                assert_eq!(spec, renderer.unwrap());
                if w.max(h) > 256 {
                    continue; // rendering the largest boards is slow in debug builds
                }
                let bar = View::WindowBar(WindowBarView {
                    window: 1,
                    window_name: "1号窗口".into(),
                    state: WindowBarState::Calling {
                        number: "A001".into(),
                    },
                    blink_on: true,
                });
                for view in [bar, View::HallBoard(HallBoardView::default())] {
                    let frame = render(&view, spec, 0);
                    assert_eq!(frame.spec(), spec, "{size}");
                }
            }
        }
    }
}
