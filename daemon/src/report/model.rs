//! The report as typed data: every figure of `hallq report`, serialised as its JSON.
//!
//! Plain data with no behaviour beyond small constructors; `query` fills it from the store,
//! the formatters render it. `docs/reports.md` defines each figure; a renamed field here is a
//! renamed JSON key, so it is one in the docs too.

use serde::Serialize;

use super::period::Period;

/// Reasons a call can have, in the order the calling policy tries them (DESIGN §4).
pub const REASONS: [&str; 6] = [
    "streak-guard",
    "green",
    "max-wait",
    "reservation",
    "fifo",
    "explicit",
];
/// Ticket classes in report order.
pub const CLASSES: [&str; 3] = ["normal", "green", "reservation"];

/// Everything `hallq report` computes for one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub hall: HallHeader,
    pub period: Period,
    /// Number of business days in the period.
    pub days_in_period: u32,
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    /// Whether the handoff register shows personal data in clear.
    pub unmasked: bool,
    pub summary: Summary,
    pub services: Vec<ServiceRow>,
    pub windows: Vec<WindowRow>,
    pub clerks: Vec<ClerkRow>,
    pub classes: Vec<ClassRow>,
    pub call_reasons: Vec<ReasonCount>,
    pub reservations: Reservations,
    pub evaluations: Evaluations,
    pub handoffs: Handoffs,
    pub hourly: Vec<HourRow>,
    pub days: Vec<DayRow>,
    pub wait_distribution: Vec<WaitBins>,
    pub estimates: Estimates,
    pub tidal: Tidal,
    /// Caveats about the data (e.g. events already pruned from the store).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HallHeader {
    pub id: String,
    pub name: String,
    pub timezone: String,
    /// Local time a business day starts, `HH:MM`.
    pub day_starts_at: String,
}

/// Mean, median and 90th percentile of a duration, in seconds; None without samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Stats {
    pub count: u64,
    pub mean_seconds: Option<f64>,
    pub p50_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

/// Evaluations by level (national 好差评 scale) and the satisfaction rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct LevelCounts {
    /// 5 非常满意
    pub very_satisfied: u64,
    /// 4 满意
    pub satisfied: u64,
    /// 3 基本满意
    pub basically_satisfied: u64,
    /// 2 不满意
    pub dissatisfied: u64,
    /// 1 非常不满意
    pub very_dissatisfied: u64,
}

impl LevelCounts {
    pub fn add(&mut self, level: u8, n: u64) {
        match level {
            5 => self.very_satisfied += n,
            4 => self.satisfied += n,
            3 => self.basically_satisfied += n,
            2 => self.dissatisfied += n,
            1 => self.very_dissatisfied += n,
            _ => {}
        }
    }
    pub fn get(&self, level: u8) -> u64 {
        match level {
            5 => self.very_satisfied,
            4 => self.satisfied,
            3 => self.basically_satisfied,
            2 => self.dissatisfied,
            1 => self.very_dissatisfied,
            _ => 0,
        }
    }
    pub fn total(&self) -> u64 {
        (1..=5).map(|l| self.get(l)).sum()
    }
    /// (非常满意 + 满意) / all evaluated; None when nothing was evaluated.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        ratio(self.very_satisfied + self.satisfied, self.total())
    }
}

/// `part / whole`, None when `whole` is 0.
pub fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The evaluation figures of a group of finished tickets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct EvaluationFigures {
    /// Finished (done) tickets.
    pub finished: u64,
    /// Of those, evaluated within the evaluation timeout.
    pub evaluated: u64,
    pub levels: LevelCounts,
    pub satisfaction_rate: Option<f64>,
    /// evaluated / finished.
    pub evaluated_share: Option<f64>,
}

impl EvaluationFigures {
    pub fn finish(&mut self) {
        self.evaluated = self.levels.total();
        self.satisfaction_rate = self.levels.satisfaction_rate();
        self.evaluated_share = ratio(self.evaluated, self.finished);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Summary {
    pub issued: u64,
    pub served: u64,
    pub no_show: u64,
    pub voided: u64,
    pub expired: u64,
    /// Still waiting, called, serving or held (only for a period that includes today).
    pub open: u64,
    pub transfers: u64,
    pub holds: u64,
    pub requeued: u64,
    pub calls: u64,
    pub recalls: u64,
    pub wait: Stats,
    pub service_time: Stats,
    pub evaluations: EvaluationFigures,
    pub handoffs: u64,
}

/// One service (业务). Outcomes count where a ticket ended: issued + transferred_in −
/// transferred_out = served + no_show + voided + expired + open.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ServiceRow {
    pub code: String,
    pub name: String,
    pub issued: u64,
    pub transferred_in: u64,
    pub transferred_out: u64,
    pub served: u64,
    pub no_show: u64,
    pub voided: u64,
    pub expired: u64,
    pub open: u64,
    pub held: u64,
    pub requeued: u64,
    pub wait: Stats,
    pub service_time: Stats,
}

/// What happened at one window or with one clerk.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StaffFigures {
    /// Calls (call next and explicit calls, call-backs of held tickets included; not recalls).
    pub called: u64,
    pub recalls: u64,
    pub served: u64,
    pub no_show: u64,
    pub transferred_out: u64,
    pub held: u64,
    /// Tickets held here and never called back before the day ended.
    pub expired_held: u64,
    /// Wait of the tickets whose first call was here.
    pub wait: Stats,
    pub service_time: Stats,
    pub evaluations: EvaluationFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowRow {
    pub window: u32,
    pub name: String,
    #[serde(flatten)]
    pub figures: StaffFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClerkRow {
    /// Staff number (工号) as logged in.
    pub clerk: String,
    #[serde(flatten)]
    pub figures: StaffFigures,
}

/// Normal, green-channel (绿色通道) or reservation (预约) tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ClassRow {
    pub class: String,
    pub issued: u64,
    pub served: u64,
    pub wait: Stats,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonCount {
    /// `streak-guard`, `green`, `max-wait`, `reservation`, `fifo` or `explicit`.
    pub reason: String,
    pub calls: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Reservations {
    /// Reservations booked for a day of the period.
    pub booked: u64,
    /// Of those, checked in at a kiosk.
    pub checked_in: u64,
    /// Checked in within the check-in window: issued as reservation tickets.
    pub on_time: u64,
    /// Checked in too late: issued as normal tickets.
    pub late: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Evaluations {
    #[serde(flatten)]
    pub figures: EvaluationFigures,
    /// Every 不满意 / 非常不满意, for follow-up (差评整改), oldest first.
    pub poor: Vec<PoorEvaluation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoorEvaluation {
    pub business_day: String,
    pub ticket: String,
    pub service: String,
    pub window: Option<u32>,
    pub clerk: Option<String>,
    pub case_no: Option<String>,
    pub level: u8,
    pub label: String,
    /// Local time `YYYY-MM-DD HH:MM:SS`.
    pub evaluated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Handoffs {
    pub pickup: u64,
    pub mail: u64,
    /// Mailings per carrier code (`sf`, `ems`, ...), carriers with none left out.
    pub by_carrier: Vec<CarrierCount>,
    /// The register (出件登记), in the order recorded.
    pub register: Vec<RegisterRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CarrierCount {
    pub carrier: String,
    pub name: String,
    pub mail: u64,
}

/// One handoff; recipient, phone and address masked unless the report is `--unmasked`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisterRow {
    pub business_day: String,
    /// Local time `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    pub case_no: String,
    pub title: String,
    pub method: String,
    pub recipient: String,
    pub phone: String,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub address: Option<String>,
    pub window: Option<u32>,
    pub clerk: Option<String>,
}

/// Arrivals (tickets issued) and calls in one local clock hour, summed over the period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HourRow {
    pub hour: u8,
    pub arrivals: u64,
    pub calls: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct DayRow {
    pub business_day: String,
    pub issued: u64,
    pub served: u64,
    pub no_show: u64,
    pub voided: u64,
    pub expired: u64,
    pub pickup: u64,
    pub mail: u64,
}

/// Lower bounds of the wait bins, in minutes: [0, 5), [5, 10), ... [60, ∞).
pub const WAIT_BINS_MINUTES: [u32; 6] = [0, 5, 10, 20, 30, 60];

/// How a service's waits spread over [`WAIT_BINS_MINUTES`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitBins {
    pub service: String,
    pub name: String,
    pub counts: [u64; 6],
}

/// The printed estimate against the real wait (issue to first call).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Estimates {
    /// Called tickets whose issue (with its estimate) is on record.
    pub compared: u64,
    /// Estimate within ±20 % or ±3 minutes of the real wait.
    pub accurate: u64,
    /// Estimate lower than the real wait beyond that tolerance.
    pub too_low: u64,
    /// Estimate higher than the real wait beyond that tolerance.
    pub too_high: u64,
    pub accurate_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Tidal {
    /// Every piece of advice given, oldest first.
    pub advice: Vec<TidalAdviceRow>,
    pub episodes: Vec<TidalEpisode>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TidalAdviceRow {
    pub business_day: String,
    /// Local time `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    pub service: String,
    /// `open` or `close` a tidal window.
    pub advice: String,
    pub waiting: u64,
}

/// From advice to open a tidal window for a service until advice to close one (or the end of
/// that business day).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TidalEpisode {
    pub business_day: String,
    pub service: String,
    pub started_at: String,
    pub ended_at: String,
    /// `close_advice`, `day_end`, or `ongoing` (today, still running when the report was made).
    pub ended_by: String,
    pub minutes: f64,
    /// Waiting tickets when the advice to open was given.
    pub waiting_at_start: u64,
}
