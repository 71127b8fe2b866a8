//! Hall configs for tests, written as TOML into the test's temporary folder.

use std::fmt::Write;

/// One window of a test hall.
#[derive(Debug, Clone)]
pub struct WindowSpec {
    pub number: u32,
    pub serves: Vec<Vec<&'static str>>,
    pub kind: &'static str,
}

/// A test hall: services A, B, C (and any extras) and its windows.
#[derive(Debug, Clone)]
pub struct HallSpec {
    pub services: Vec<(&'static str, &'static str)>,
    pub windows: Vec<WindowSpec>,
    /// Extra TOML appended as is (policy overrides, devices).
    pub extra: String,
}

impl Default for HallSpec {
    fn default() -> Self {
        HallSpec {
            services: vec![("A", "综合受理"), ("B", "社保医保"), ("C", "不动产登记")],
            windows: vec![
                WindowSpec {
                    number: 1,
                    serves: vec![vec!["A"], vec!["B"]],
                    kind: "standard",
                },
                WindowSpec {
                    number: 2,
                    serves: vec![vec!["B"], vec!["A", "C"]],
                    kind: "standard",
                },
                WindowSpec {
                    number: 3,
                    serves: vec![vec!["C"]],
                    kind: "standard",
                },
                WindowSpec {
                    number: 4,
                    serves: vec![vec!["A", "B", "C"]],
                    kind: "standard",
                },
                WindowSpec {
                    number: 5,
                    serves: vec![vec!["A", "B", "C"]],
                    kind: "green",
                },
            ],
            extra: String::new(),
        }
    }
}

impl HallSpec {
    /// One standard window, 1, serving every service, with `extra` appended (devices).
    pub fn one_window(extra: String) -> Self {
        HallSpec {
            windows: vec![WindowSpec {
                number: 1,
                serves: vec![vec!["A", "B", "C"]],
                kind: "standard",
            }],
            extra,
            ..HallSpec::default()
        }
    }

    /// `n` standard windows that all serve A.
    pub fn windows_serving_a(n: u32) -> Self {
        HallSpec {
            windows: (1..=n)
                .map(|number| WindowSpec {
                    number,
                    serves: vec![vec!["A"]],
                    kind: "standard",
                })
                .collect(),
            ..HallSpec::default()
        }
    }

    /// A simulated evaluator `window-{w}-evaluator` at window `w`: its presses are the lines of
    /// `sim/window-{w}-evaluator/press` ([`crate::util::Daemon::press`]).
    pub fn with_evaluator(mut self, window: u32) -> Self {
        writeln!(
            self.extra,
            "\n[[devices]]\nid = \"window-{window}-evaluator\"\nkind = \"evaluator\"\n\
             window = {window}\nprotocol = \"modbus\"\n\
             transport = {{ type = \"sim\", dir = \"sim/window-{window}-evaluator\" }}"
        )
        .unwrap();
        self
    }

    /// A `[roles]` section granting this test's own user `roles` (and nobody anything else).
    pub fn granting_me(mut self, roles: &[&str]) -> Self {
        let roles: Vec<String> = roles.iter().map(|r| format!("{r:?}")).collect();
        writeln!(
            self.extra,
            "\n[roles]\nusers = {{ \"{}\" = [{}] }}",
            own_id("Uid:"),
            roles.join(", ")
        )
        .unwrap();
        self
    }

    /// The config file text; data and runtime folders are relative to the config file.
    pub fn toml(&self) -> String {
        let mut t = String::from(
            "[hall]\nid = \"e2e-hall\"\nname = \"端到端测试大厅\"\ntimezone = \"Asia/Shanghai\"\n\
             data_dir = \"data\"\nruntime_dir = \"run\"\n\n",
        );
        for (code, name) in &self.services {
            writeln!(
                t,
                "[[services]]\ncode = \"{code}\"\nname = \"{name}\"\nminutes = 8\n"
            )
            .unwrap();
        }
        for w in &self.windows {
            let groups: Vec<String> = w
                .serves
                .iter()
                .map(|g| {
                    format!(
                        "[{}]",
                        g.iter()
                            .map(|c| format!("\"{c}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            writeln!(
                t,
                "[[windows]]\nnumber = {}\nname = \"{}号窗口\"\nserves = [{}]\nkind = \"{}\"\n",
                w.number,
                w.number,
                groups.join(", "),
                w.kind
            )
            .unwrap();
        }
        t.push_str(&self.extra);
        t
    }
}

/// Tomorrow's date in the test halls' time zone (Asia/Shanghai), `YYYY-MM-DD`: a date that
/// works whatever the hour the test runs.
pub fn hall_tomorrow() -> String {
    jiff::Timestamp::now()
        .in_tz("Asia/Shanghai")
        .unwrap()
        .date()
        .tomorrow()
        .unwrap()
        .to_string()
}

/// Every role there is.
pub const ALL_ROLES: &[&str] = &["kiosk", "clerk", "supervisor", "evaluator", "operator"];

/// This process's real uid (`Uid:`) or gid (`Gid:`), which the daemon sees as its peer's
/// (read from /proc, no libc needed).
pub fn own_id(field: &str) -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}
