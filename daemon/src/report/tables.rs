//! The report laid out as titled tables, in Chinese: the shared shape of the text, CSV and
//! HTML formats, so that all three show the same sections, columns and numbers.
//!
//! Cells keep their kind (count, minutes, share, text) and each format renders them; this
//! module decides what is shown, not how.

use super::lists::carrier_name;
use super::model::*;

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(u64),
    /// A duration given in seconds, shown in minutes with one decimal; "—" when absent.
    Minutes(Option<f64>),
    /// A share 0..1, shown as a percentage with one decimal; "—" when absent.
    Share(Option<f64>),
}

impl Cell {
    /// The cell as people read it.
    pub fn show(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Minutes(Some(s)) => format!("{:.1}", s / 60.0),
            Cell::Share(Some(r)) => format!("{:.1}%", r * 100.0),
            Cell::Minutes(None) | Cell::Share(None) => "—".to_string(),
        }
    }

    pub fn is_number(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt(s: &Option<impl ToString>) -> Cell {
    t(s.as_ref()
        .map_or_else(|| "—".to_string(), |v| v.to_string()))
}

/// A titled table with a header row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Stable English key (also the JSON section it comes from).
    pub key: &'static str,
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

fn table(key: &'static str, title: &'static str, headers: &[&'static str]) -> Table {
    Table {
        key,
        title,
        headers: headers.to_vec(),
        rows: Vec::new(),
    }
}

fn stats_cells(s: &Stats) -> [Cell; 3] {
    [
        Cell::Minutes(s.mean_seconds),
        Cell::Minutes(s.p50_seconds),
        Cell::Minutes(s.p90_seconds),
    ]
}

pub fn class_label(class: &str) -> &'static str {
    match class {
        "green" => "绿色通道",
        "reservation" => "预约",
        _ => "普通",
    }
}

pub fn reason_label(reason: &str) -> &'static str {
    match reason {
        "streak-guard" => "连续优先保护（streak-guard）",
        "green" => "绿色通道（green）",
        "max-wait" => "超时优先（max-wait）",
        "reservation" => "预约（reservation）",
        "fifo" => "顺序（fifo）",
        _ => "指定叫号（explicit）",
    }
}

const STAFF_HEADERS: [&str; 16] = [
    "叫号",
    "重呼",
    "办结",
    "过号",
    "转出",
    "挂起",
    "挂起未回",
    "等候均值(分)",
    "等候中位(分)",
    "等候P90(分)",
    "办理均值(分)",
    "办理中位(分)",
    "办理P90(分)",
    "已评价",
    "满意率",
    "评价率",
];

fn staff_cells(f: &StaffFigures) -> Vec<Cell> {
    let mut cells = vec![
        Cell::Count(f.called),
        Cell::Count(f.recalls),
        Cell::Count(f.served),
        Cell::Count(f.no_show),
        Cell::Count(f.transferred_out),
        Cell::Count(f.held),
        Cell::Count(f.expired_held),
    ];
    cells.extend(stats_cells(&f.wait));
    cells.extend(stats_cells(&f.service_time));
    cells.push(Cell::Count(f.evaluations.evaluated));
    cells.push(Cell::Share(f.evaluations.satisfaction_rate));
    cells.push(Cell::Share(f.evaluations.evaluated_share));
    cells
}

/// Every section of the report as a table, in reading order.
pub fn tables(r: &Report) -> Vec<Table> {
    let mut out = vec![summary(r), services(r)];

    let mut windows = table(
        "windows",
        "按窗口",
        &[&["窗口", "名称"][..], &STAFF_HEADERS].concat(),
    );
    for w in &r.windows {
        let mut row = vec![Cell::Count(u64::from(w.window)), t(&w.name)];
        row.extend(staff_cells(&w.figures));
        windows.rows.push(row);
    }
    out.push(windows);

    let mut clerks = table(
        "clerks",
        "按工号",
        &[&["工号"][..], &STAFF_HEADERS].concat(),
    );
    for c in &r.clerks {
        let mut row = vec![t(&c.clerk)];
        row.extend(staff_cells(&c.figures));
        clerks.rows.push(row);
    }
    out.push(clerks);

    out.push(priority(r));
    out.extend(evaluations(r));
    out.extend(handoffs(r));
    out.extend(load(r));
    out.extend(tidal(r));
    if !r.notes.is_empty() {
        let mut notes = table("notes", "说明", &["说明"]);
        notes.rows = r.notes.iter().map(|n| vec![t(n)]).collect();
        out.push(notes);
    }
    out
}

fn summary(r: &Report) -> Table {
    let s = &r.summary;
    let mut tb = table("summary", "概况", &["指标", "数值"]);
    let rows: Vec<(&str, Cell)> = vec![
        ("取号", Cell::Count(s.issued)),
        ("办结", Cell::Count(s.served)),
        ("过号", Cell::Count(s.no_show)),
        ("作废", Cell::Count(s.voided)),
        ("过期未叫", Cell::Count(s.expired)),
        ("未结", Cell::Count(s.open)),
        ("转办", Cell::Count(s.transfers)),
        ("挂起", Cell::Count(s.holds)),
        ("过号重排", Cell::Count(s.requeued)),
        ("叫号", Cell::Count(s.calls)),
        ("重呼", Cell::Count(s.recalls)),
        ("平均等候(分)", Cell::Minutes(s.wait.mean_seconds)),
        ("等候中位数(分)", Cell::Minutes(s.wait.p50_seconds)),
        ("等候P90(分)", Cell::Minutes(s.wait.p90_seconds)),
        ("平均办理(分)", Cell::Minutes(s.service_time.mean_seconds)),
        ("办理中位数(分)", Cell::Minutes(s.service_time.p50_seconds)),
        ("办理P90(分)", Cell::Minutes(s.service_time.p90_seconds)),
        ("已评价", Cell::Count(s.evaluations.evaluated)),
        ("满意率", Cell::Share(s.evaluations.satisfaction_rate)),
        ("评价率", Cell::Share(s.evaluations.evaluated_share)),
        ("出件", Cell::Count(s.handoffs)),
        ("预计等候准确率", Cell::Share(r.estimates.accurate_share)),
    ];
    tb.rows = rows.into_iter().map(|(k, v)| vec![t(k), v]).collect();
    tb
}

fn services(r: &Report) -> Table {
    let mut tb = table(
        "services",
        "按业务",
        &[
            "业务",
            "名称",
            "取号",
            "转入",
            "转出",
            "办结",
            "过号",
            "作废",
            "过期未叫",
            "未结",
            "挂起",
            "过号重排",
            "等候均值(分)",
            "等候中位(分)",
            "等候P90(分)",
            "办理均值(分)",
            "办理中位(分)",
            "办理P90(分)",
        ],
    );
    for s in &r.services {
        let mut row = vec![t(&s.code), t(&s.name)];
        row.extend(
            [
                s.issued,
                s.transferred_in,
                s.transferred_out,
                s.served,
                s.no_show,
                s.voided,
                s.expired,
                s.open,
                s.held,
                s.requeued,
            ]
            .map(Cell::Count),
        );
        row.extend(stats_cells(&s.wait));
        row.extend(stats_cells(&s.service_time));
        tb.rows.push(row);
    }
    tb
}

fn priority(r: &Report) -> Table {
    let mut tb = table(
        "classes",
        "绿色通道与预约",
        &[
            "类别",
            "取号",
            "办结",
            "等候均值(分)",
            "等候中位(分)",
            "等候P90(分)",
        ],
    );
    for (c, key) in r.classes.iter().zip(CLASSES) {
        let mut row = vec![
            t(class_label(key)),
            Cell::Count(c.issued),
            Cell::Count(c.served),
        ];
        row.extend(stats_cells(&c.wait));
        tb.rows.push(row);
    }
    let res = &r.reservations;
    tb.rows.push(vec![
        t("预约登记（当期日期）"),
        Cell::Count(res.booked),
        t(format!(
            "签到 {}，准时 {}，迟到按普通号 {}",
            res.checked_in, res.on_time, res.late
        )),
        t(""),
        t(""),
        t(""),
    ]);
    tb
}

fn evaluations(r: &Report) -> Vec<Table> {
    let e = &r.evaluations.figures;
    let mut levels = table("evaluations", "好差评", &["评价", "次数", "占比"]);
    for level in (1..=5).rev() {
        let n = e.levels.get(level);
        levels.rows.push(vec![
            t(format!("{level} {}", super::level_label(level))),
            Cell::Count(n),
            Cell::Share(ratio(n, e.evaluated)),
        ]);
    }
    levels.rows.push(vec![
        t("已评价 / 办结"),
        Cell::Count(e.evaluated),
        t(format!("{}", e.finished)),
    ]);
    levels.rows.push(vec![
        t("满意率（非常满意+满意）"),
        t(""),
        Cell::Share(e.satisfaction_rate),
    ]);
    levels
        .rows
        .push(vec![t("评价率"), t(""), Cell::Share(e.evaluated_share)]);

    let mut poor = table(
        "poor_evaluations",
        "差评整改清单",
        &[
            "业务日",
            "评价时间",
            "票号",
            "业务",
            "窗口",
            "工号",
            "办件编号",
            "评价",
        ],
    );
    for p in &r.evaluations.poor {
        poor.rows.push(vec![
            t(&p.business_day),
            t(&p.evaluated_at),
            t(&p.ticket),
            t(&p.service),
            opt(&p.window),
            opt(&p.clerk),
            opt(&p.case_no),
            t(format!("{} {}", p.level, p.label)),
        ]);
    }
    vec![levels, poor]
}

fn handoffs(r: &Report) -> Vec<Table> {
    let h = &r.handoffs;
    let mut counts = table("handoffs", "出件", &["方式", "件数"]);
    counts.rows.push(vec![t("自取"), Cell::Count(h.pickup)]);
    counts.rows.push(vec![t("邮寄"), Cell::Count(h.mail)]);
    for c in &h.by_carrier {
        counts
            .rows
            .push(vec![t(format!("邮寄·{}", c.name)), Cell::Count(c.mail)]);
    }
    let mut register = table(
        "register",
        if r.unmasked {
            "出件登记（明文）"
        } else {
            "出件登记（已脱敏）"
        },
        &[
            "业务日",
            "时间",
            "办件编号",
            "文书",
            "方式",
            "领取人",
            "电话",
            "快递",
            "运单号",
            "地址",
            "窗口",
            "工号",
        ],
    );
    for g in &h.register {
        register.rows.push(vec![
            t(&g.business_day),
            t(&g.at),
            t(&g.case_no),
            t(&g.title),
            t(if g.method == "mail" {
                "邮寄"
            } else {
                "自取"
            }),
            t(&g.recipient),
            t(&g.phone),
            t(g.carrier.as_deref().map(carrier_name).unwrap_or_default()),
            t(g.tracking.clone().unwrap_or_default()),
            t(g.address.clone().unwrap_or_default()),
            opt(&g.window),
            opt(&g.clerk),
        ]);
    }
    vec![counts, register]
}

fn load(r: &Report) -> Vec<Table> {
    let mut days = table(
        "days",
        "按日",
        &[
            "业务日",
            "取号",
            "办结",
            "过号",
            "作废",
            "过期未叫",
            "自取",
            "邮寄",
        ],
    );
    for d in &r.days {
        let mut row = vec![t(&d.business_day)];
        row.extend(
            [
                d.issued, d.served, d.no_show, d.voided, d.expired, d.pickup, d.mail,
            ]
            .map(Cell::Count),
        );
        days.rows.push(row);
    }
    let mut hourly = table("hourly", "分时段取号与叫号", &["时段", "取号", "叫号"]);
    for h in r.hourly.iter().filter(|h| h.arrivals + h.calls > 0) {
        hourly.rows.push(vec![
            t(format!("{:02}:00-{:02}:00", h.hour, (h.hour + 1) % 24)),
            Cell::Count(h.arrivals),
            Cell::Count(h.calls),
        ]);
    }
    let mut reasons = table("call_reasons", "叫号原因", &["原因", "次数"]);
    for c in &r.call_reasons {
        reasons
            .rows
            .push(vec![t(reason_label(&c.reason)), Cell::Count(c.calls)]);
    }
    let mut bins = table(
        "wait_distribution",
        "等候时长分布（人数）",
        &[
            "业务", "<5分", "5-10分", "10-20分", "20-30分", "30-60分", "≥60分",
        ],
    );
    for b in &r.wait_distribution {
        let mut row = vec![t(format!("{} {}", b.service, b.name))];
        row.extend(b.counts.map(Cell::Count));
        bins.rows.push(row);
    }
    let e = &r.estimates;
    let mut est = table("estimates", "预计等候准确率", &["指标", "数值"]);
    est.rows = vec![
        vec![t("比较票数"), Cell::Count(e.compared)],
        vec![t("准确（±20%或±3分钟内）"), Cell::Count(e.accurate)],
        vec![t("偏短"), Cell::Count(e.too_low)],
        vec![t("偏长"), Cell::Count(e.too_high)],
        vec![t("准确率"), Cell::Share(e.accurate_share)],
    ];
    vec![days, hourly, reasons, bins, est]
}

fn tidal(r: &Report) -> Vec<Table> {
    let mut advice = table(
        "tidal_advice",
        "潮汐窗口建议",
        &["业务日", "时间", "业务", "建议", "等候人数"],
    );
    for a in &r.tidal.advice {
        advice.rows.push(vec![
            t(&a.business_day),
            t(&a.at),
            t(&a.service),
            t(if a.advice == "open" {
                "开启"
            } else {
                "关闭"
            }),
            Cell::Count(a.waiting),
        ]);
    }
    let mut episodes = table(
        "tidal_episodes",
        "潮汐时段",
        &[
            "业务日",
            "业务",
            "开始",
            "结束",
            "结束原因",
            "时长(分)",
            "开始时等候",
        ],
    );
    for ep in &r.tidal.episodes {
        episodes.rows.push(vec![
            t(&ep.business_day),
            t(&ep.service),
            t(&ep.started_at),
            t(&ep.ended_at),
            t(match ep.ended_by.as_str() {
                "close_advice" => "建议关闭",
                "day_end" => "业务日结束",
                _ => "进行中",
            }),
            Cell::Minutes(Some(ep.minutes * 60.0)),
            Cell::Count(ep.waiting_at_start),
        ]);
    }
    vec![advice, episodes]
}
