//! Wordings of `hallq doctor`: what each check found ([`Note`]) and what to do about it
//! ([`Hint`]).

use std::path::PathBuf;

use super::{say, Lang, Words};

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    ConfigOk {
        path: PathBuf,
        hall: String,
        services: usize,
        windows: usize,
        devices: usize,
    },
    /// The first error of a config that does not load (the full list is check-config's).
    ConfigBad {
        first: String,
    },
    StoreMissing {
        path: PathBuf,
    },
    StoreOk {
        path: PathBuf,
        events: i64,
    },
    /// The store could not be opened or checked.
    StoreBad {
        detail: String,
    },
    DiskFree {
        free: String,
        dir: PathBuf,
    },
    DiskError {
        dir: PathBuf,
        error: String,
    },
    DaemonServing {
        socket: PathBuf,
        day: String,
    },
    DaemonSilent {
        socket: PathBuf,
    },
    DeviceOpens {
        path: PathBuf,
    },
    DeviceMissing {
        path: PathBuf,
    },
    DeviceError {
        path: PathBuf,
        error: String,
    },
    Reachable {
        addr: String,
    },
    Unreachable {
        addr: String,
        why: String,
    },
    BadUrl {
        url: String,
    },
    Simulated {
        dir: PathBuf,
    },
    SimError {
        dir: PathBuf,
        error: String,
    },
    OverMqtt,
    /// What the device check found, and that hallq reports the device `state` for `cause`.
    Reported {
        reach: Box<Note>,
        state: String,
        cause: String,
    },
    ClockImplausible {
        now: String,
    },
    ClockBehind {
        now: String,
        minutes: i64,
        last: String,
    },
    ClockOk {
        local: String,
        utc: String,
    },
    /// Waiting tickets no open window can call.
    Unserved {
        service: String,
        name: String,
        waiting: u32,
    },
    /// Tidal advice standing now.
    TidalAdvice {
        name: String,
        waiting: u32,
    },
    QueueOk {
        waiting: u32,
    },
}

/// What to do about a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    FixConfig,
    StoreCreatedOnStart,
    RestoreBackup,
    FreeSpaceNow,
    FreeSpaceSoon,
    CheckDataDir,
    StartDaemon,
    CheckCableAndUdev,
    DialoutGroup,
    PrinterNetwork,
    SimWritable,
    Broker,
    UpstreamRoute,
    FixUpstreamUrl,
    LoadPaper,
    PaperReady,
    CloseCover,
    PowerAndCable,
    DeviceJournal,
    Ntp,
    OpenWindow,
    OpenTidalWindow,
}

impl Words for Note {
    fn words(&self, lang: Lang) -> String {
        match self {
            Note::ConfigOk {
                path,
                hall,
                services,
                windows,
                devices,
            } => {
                let path = path.display();
                say!(
                    lang,
                    "{path}：大厅 {hall}，{services} 项业务，{windows} 个窗口，{devices} 台设备",
                    "{path}: hall {hall}, {services} services, {windows} windows, {devices} devices"
                )
            }
            Note::ConfigBad { first } => first.clone(),
            Note::StoreMissing { path } => {
                let path = path.display();
                say!(lang, "{path} 尚不存在", "{path} does not exist yet")
            }
            Note::StoreOk { path, events } => {
                let path = path.display();
                say!(
                    lang,
                    "{path}：完整性正常，{events} 条事件",
                    "{path}: integrity ok, {events} events"
                )
            }
            Note::StoreBad { detail } => detail.clone(),
            Note::DiskFree { free, dir } => {
                let dir = dir.display();
                say!(lang, "{dir} 剩余 {free}", "{free} free at {dir}")
            }
            Note::DiskError { dir, error } => {
                let dir = dir.display();
                format!("{dir}: {error}")
            }
            Note::DaemonServing { socket, day } => {
                let socket = socket.display();
                say!(
                    lang,
                    "正在 {socket} 服务；营业日 {day}",
                    "serving at {socket}; business day {day}"
                )
            }
            Note::DaemonSilent { socket } => {
                let socket = socket.display();
                say!(lang, "{socket} 没有应答", "not answering at {socket}")
            }
            Note::DeviceOpens { path } => {
                let path = path.display();
                say!(lang, "{path} 可以打开", "{path} opens")
            }
            Note::DeviceMissing { path } => {
                let path = path.display();
                say!(lang, "{path} 不存在", "{path} is missing")
            }
            Note::DeviceError { path, error } => {
                let path = path.display();
                format!("{path}: {error}")
            }
            Note::Reachable { addr } => say!(lang, "{addr} 可以连通", "{addr} reachable"),
            Note::Unreachable { addr, why } => format!("{addr}: {why}"),
            Note::BadUrl { url } => {
                say!(lang, "无法从 {url} 读出主机", "cannot read host from {url}")
            }
            Note::Simulated { dir } => {
                let dir = dir.display();
                say!(lang, "模拟设备，目录 {dir}", "simulated in {dir}")
            }
            Note::SimError { dir, error } => {
                let dir = dir.display();
                format!("{dir}: {error}")
            }
            Note::OverMqtt => say!(
                lang,
                "经 MQTT 连接（见 broker 一项）",
                "over MQTT (see broker)"
            ),
            Note::Reported {
                reach,
                state,
                cause,
            } => {
                let reach = reach.words(lang);
                say!(
                    lang,
                    "{reach}；hallq 报告其状态为 {state}：{cause}",
                    "{reach}; hallq reports it {state}: {cause}"
                )
            }
            Note::ClockImplausible { now } => {
                say!(
                    lang,
                    "系统时间 {now} 不合理",
                    "system time {now} is implausible"
                )
            }
            Note::ClockBehind { now, minutes, last } => say!(
                lang,
                "系统时间 {now} 比存储中最后一条事件 {last} 早 {minutes} 分钟",
                "system time {now} is {minutes} min behind the store's last event {last}"
            ),
            Note::ClockOk { local, utc } => {
                say!(
                    lang,
                    "大厅时间 {local}（{utc}）",
                    "{local} hall time ({utc})"
                )
            }
            Note::Unserved {
                service,
                name,
                waiting,
            } => super::views::unserved(
                &crate::engine::views::Unserved {
                    service: service.clone(),
                    name: name.clone(),
                    waiting: *waiting,
                },
                lang,
            ),
            Note::TidalAdvice { name, waiting } => say!(
                lang,
                "{name}等候 {waiting} 人：建议开放一个潮汐窗口",
                "{name} has {waiting} waiting: open a tidal window"
            ),
            Note::QueueOk { waiting } => say!(
                lang,
                "{waiting} 人等候，每项有人等候的业务都有开放的窗口",
                "{waiting} waiting; every service with waiting tickets has an open window"
            ),
        }
    }
}

impl Words for Hint {
    fn words(&self, lang: Lang) -> String {
        match self {
            Hint::FixConfig => say!(lang, "修改配置文件；`hallq check-config --config PATH` 会列出所有错误", "fix the file; `hallq check-config --config PATH` lists every error"),
            Hint::StoreCreatedOnStart => say!(lang, "hallq 第一次启动时会创建它", "it is created when hallq first starts"),
            Hint::RestoreBackup => say!(lang, "恢复最近的备份（docs/install.md 备份一节），或把文件移走从空库开始", "restore the last backup (docs/install.md, Backups) or move the file aside to start empty"),
            Hint::FreeSpaceNow => say!(lang, "立即清理空间：磁盘满了就无法记录取号", "free space now: the store cannot record tickets on a full disk"),
            Hint::FreeSpaceSoon => say!(lang, "尽快清理空间（旧日志：`journalctl --vacuum-size=200M`）", "free some space soon (old logs: `journalctl --vacuum-size=200M`)"),
            Hint::CheckDataDir => say!(lang, "检查 [hall] data_dir 是否存在", "check [hall] data_dir exists"),
            Hint::StartDaemon => say!(lang, "启动它：`systemctl start hallq`（或在终端运行 `hallq run --config PATH`）；然后看 `journalctl -u hallq -e`", "start it: `systemctl start hallq` (or `hallq run --config PATH` in a terminal); then `journalctl -u hallq -e`"),
            Hint::CheckCableAndUdev => say!(lang, "检查线缆和 udev 规则（docs/install.md）；`ls -l /dev/hallq-*`", "check the cable and the udev rule (docs/install.md); `ls -l /dev/hallq-*`"),
            Hint::DialoutGroup => say!(lang, "hallq 是否在 dialout 组？（docs/install.md）", "is hallq in the dialout group? (docs/install.md)"),
            Hint::PrinterNetwork => say!(lang, "检查打印机的电源、网线和 IP 地址", "check the printer's power, cable and IP address"),
            Hint::SimWritable => say!(lang, "模拟设备目录必须可写", "the sim folder must be writable"),
            Hint::Broker => say!(lang, "Mosquitto 是否在运行且可达？`systemctl status mosquitto`", "is Mosquitto running and reachable? `systemctl status mosquitto`"),
            Hint::UpstreamRoute => say!(lang, "检查网络路由和 [upstream] url", "check the network route and [upstream] url"),
            Hint::FixUpstreamUrl => say!(lang, "修改 [upstream] url", "fix [upstream] url"),
            Hint::LoadPaper => say!(lang, "装入新纸卷", "load a new paper roll"),
            Hint::PaperReady => say!(lang, "准备好新纸卷", "have a paper roll ready"),
            Hint::CloseCover => say!(lang, "合上打印机纸仓盖", "close the printer cover"),
            Hint::PowerAndCable => say!(lang, "检查电源和线缆；`journalctl -u hallq DEVICE=<id>`", "check power and cable; `journalctl -u hallq DEVICE=<id>`"),
            Hint::DeviceJournal => say!(lang, "查看 `journalctl -u hallq DEVICE=<id>`", "see `journalctl -u hallq DEVICE=<id>`"),
            Hint::Ntp => say!(lang, "校准时钟并开启 NTP：`timedatectl set-ntp true`", "set the clock and enable NTP: `timedatectl set-ntp true`"),
            Hint::OpenWindow => say!(lang, "让办理该业务的窗口登录（`hallq login 窗口 工号`），或转办这些号", "log a clerk in at a window that serves it (`hallq login WINDOW CLERK`), or transfer the tickets"),
            Hint::OpenTidalWindow => say!(lang, "开放一个潮汐窗口：`hallq login 窗口 工号`", "open a tidal window: `hallq login WINDOW CLERK`"),
        }
    }
}

/// The table's header and the hint label.
pub fn header(lang: Lang) -> (&'static str, &'static str, &'static str, &'static str) {
    match lang {
        Lang::Zh => ("检查项", "结果", "详情", "建议"),
        Lang::En => ("CHECK", "RESULT", "DETAIL", "hint"),
    }
}
