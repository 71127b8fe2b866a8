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
    /// The store could not be opened or checked, or the daemon reports its file gone.
    StoreBad {
        detail: String,
    },
    /// Not readable by this user, but the running daemon reports it intact.
    StoreIntactPerDaemon {
        path: PathBuf,
    },
    StoreUnreadable {
        path: PathBuf,
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
    /// The upstream refuses the token.
    SyncCredential {
        cause: String,
    },
    SyncNoEvents,
    /// How far the upstream acknowledged, what waits (the oldest's age) and the last error.
    SyncBacklog {
        acked: i64,
        waiting: u64,
        /// The oldest waiting event's age in seconds.
        oldest: Option<i64>,
        last_error: Option<String>,
    },
    /// `[voice] output` is ALSA in a build without it.
    VoiceWithoutAlsa {
        output: String,
    },
    /// The clips do not load (the loader's words).
    VoiceClipsBad {
        error: String,
    },
    /// Optional voice without clips: off (the loader's words).
    VoiceOff {
        reason: String,
    },
    VoiceReady {
        clips: usize,
        format: String,
        dir: PathBuf,
        output: String,
    },
    /// The clips are ready but hallq reports the output offline.
    VoiceOffline {
        ready: Box<Note>,
        cause: String,
    },
    /// Clips the hall needs that are missing (file, what needs it), and files ignored.
    VoiceGaps {
        ready: Box<Note>,
        missing: Vec<(String, Vec<String>)>,
        ignored: Vec<String>,
    },
}

/// What to do about a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    FixConfig,
    StoreCreatedOnStart,
    RestoreBackup,
    StoreReplaced,
    StoreServiceUser,
    FreeSpaceNow,
    FreeSpaceSoon,
    CheckDataDir,
    StartDaemon,
    CheckCableAndUdev,
    DialoutGroup,
    PrinterNetwork,
    SimWritable,
    Broker,
    BrokerCredentials,
    BrokerTls,
    DeviceOnBroker,
    OversizedMessage,
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
    TokenFile,
    SyncBacklog,
    AlsaBuild,
    ClipFormat,
    RecordClips,
    SpeakerCable,
    RecordMissingClips,
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
            Note::StoreIntactPerDaemon { path } => {
                let path = path.display();
                say!(
                    lang,
                    "{path}：运行中的守护进程报告其完好（仅服务用户可读）",
                    "{path}: the running daemon reports it intact (readable by the service user only)"
                )
            }
            Note::StoreUnreadable { path } => {
                let path = path.display();
                say!(
                    lang,
                    "{path}：当前用户无法读取",
                    "{path}: not readable by this user"
                )
            }
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
            Note::SyncCredential { cause } => {
                say!(lang, "凭据无效：{cause}", "credential problem: {cause}")
            }
            Note::SyncNoEvents => say!(lang, "尚无事件记录", "no events recorded yet"),
            Note::SyncBacklog {
                acked,
                waiting,
                oldest,
                last_error,
            } => {
                let mut m = say!(
                    lang,
                    "已确认到第 {acked} 条事件；{waiting} 条待上报",
                    "acknowledged through event {acked}; {waiting} waiting"
                );
                if let Some(age) = oldest.map(|s| super::sync::human_age(s, lang)) {
                    m.push_str(&say!(lang, "，最早的已等 {age}", ", oldest {age} old"));
                }
                if let Some(cause) = last_error {
                    m.push_str(&say!(lang, "；上次错误：{cause}", "; last error: {cause}"));
                }
                m
            }
            Note::VoiceWithoutAlsa { output } => say!(
                lang,
                "输出为 {output}，但这个 hallq 构建时未带 ALSA 支持",
                "output {output}, but this hallq was built without ALSA support"
            ),
            Note::VoiceClipsBad { error } => error.clone(),
            Note::VoiceOff { reason } => reason.clone(),
            Note::VoiceReady {
                clips,
                format,
                dir,
                output,
            } => {
                let dir = dir.display();
                say!(
                    lang,
                    "{dir} 中 {clips} 段语音（{format}），输出 {output}",
                    "{clips} clips ({format}) in {dir}, output {output}"
                )
            }
            Note::VoiceOffline { ready, cause } => {
                let ready = ready.words(lang);
                say!(
                    lang,
                    "{ready}；hallq 报告输出离线：{cause}",
                    "{ready}; hallq reports the output offline: {cause}"
                )
            }
            Note::VoiceGaps {
                ready,
                missing,
                ignored,
            } => {
                let ready = ready.words(lang);
                let mut gaps: Vec<String> = missing
                    .iter()
                    .map(|(file, needed_for)| {
                        let needed_for = super::list(needed_for, lang);
                        say!(lang, "{file}（{needed_for}）", "{file} ({needed_for})")
                    })
                    .collect();
                gaps.extend(ignored.iter().map(|file| {
                    say!(
                        lang,
                        "{file} 被忽略（不是 ASCII 文件名）",
                        "{file} ignored (not an ASCII clip name)"
                    )
                }));
                let gaps = super::list(&gaps, lang);
                say!(lang, "{ready}；缺少：{gaps}", "{ready}; missing: {gaps}")
            }
        }
    }
}

impl Words for Hint {
    fn words(&self, lang: Lang) -> String {
        match self {
            Hint::FixConfig => say!(lang, "修改配置文件；`hallq check-config --config PATH` 会列出所有错误", "fix the file; `hallq check-config --config PATH` lists every error"),
            Hint::StoreCreatedOnStart => say!(lang, "hallq 第一次启动时会创建它", "it is created when hallq first starts"),
            Hint::StoreReplaced => say!(lang, "hallq 正在写的文件已不在原路径：先保存它持有的记录再停止它（docs/install.md 故障排查：存储被删除或替换）", "hallq writes to a file that is no longer at its path: do not stop it before saving what it holds (docs/install.md, Troubleshooting: store deleted or replaced)"),
            Hint::StoreServiceUser => say!(lang, "存储仅供服务用户读写；启动 hallq，或运行 `sudo -u hallq hallq doctor` 检查文件本身", "the store is for the service user only; start hallq, or run `sudo -u hallq hallq doctor` for a check of the file itself"),
            Hint::RestoreBackup => say!(lang, "恢复最近的备份（docs/install.md 备份一节），或把文件移走从空库开始", "restore the last backup (docs/install.md, Backups) or move the file aside to start empty"),
            Hint::FreeSpaceNow => say!(lang, "立即清理空间：低于 [store] min_free_mb 时 hallq 拒绝发号", "free space now: below [store] min_free_mb hallq refuses to issue tickets"),
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
            Hint::BrokerCredentials => say!(lang, "代理服务器拒绝了 hallq 的用户名或密码：检查 [mqtt] username 和 password_file（以及 Mosquitto 的 password_file）", "the broker refused hallq's username or password: check [mqtt] username and password_file (and Mosquitto's password_file)"),
            Hint::BrokerTls => say!(lang, "TLS 失败：[mqtt] ca_file 须是签发代理服务器证书的 CA，证书须含 [mqtt] host 的名称或地址", "TLS failed: [mqtt] ca_file must be the CA that signed the broker's certificate, and the certificate must name [mqtt] host"),
            Hint::DeviceOnBroker => say!(lang, "设备是否通电并连到代理服务器？`mosquitto_sub -t 'homie/5/<id>/#' -v`", "is the device powered and connected to the broker? `mosquitto_sub -t 'homie/5/<id>/#' -v`"),
            Hint::OversizedMessage => say!(lang, "代理服务器转来一条超过 1 MiB 的消息（多半是某设备主题上的保留消息）：`mosquitto_sub -v -t 'homie/5/#'` 找到它，`mosquitto_pub -r -n -t 主题` 清除，并在 Mosquitto 设置 max_packet_size 65536", "the broker handed hallq a message over 1 MiB (most likely retained on a device's topic): find it with `mosquitto_sub -v -t 'homie/5/#'`, clear it with `mosquitto_pub -r -n -t TOPIC`, and set max_packet_size 65536 in Mosquitto"),
            Hint::PowerAndCable => say!(lang, "检查电源和线缆；`journalctl -u hallq DEVICE=<id>`", "check power and cable; `journalctl -u hallq DEVICE=<id>`"),
            Hint::DeviceJournal => say!(lang, "查看 `journalctl -u hallq DEVICE=<id>`", "see `journalctl -u hallq DEVICE=<id>`"),
            Hint::Ntp => say!(lang, "校准时钟并开启 NTP：`timedatectl set-ntp true`", "set the clock and enable NTP: `timedatectl set-ntp true`"),
            Hint::OpenWindow => say!(lang, "让办理该业务的窗口登录（`hallq login 窗口 工号`），或转办这些号", "log a clerk in at a window that serves it (`hallq login WINDOW CLERK`), or transfer the tickets"),
            Hint::OpenTidalWindow => say!(lang, "开放一个潮汐窗口：`hallq login 窗口 工号`", "open a tidal window: `hallq login WINDOW CLERK`"),
            Hint::TokenFile => say!(lang, "检查 [upstream] token_file（hallq 可读，且是平台签发的令牌）", "check [upstream] token_file (readable by hallq, the token the platform issued)"),
            Hint::SyncBacklog => say!(lang, "平台超过 [upstream] warn_backlog_minutes 未接收事件：`hallq sync status`，`journalctl -u hallq -g upstream`", "the platform has not taken events for longer than [upstream] warn_backlog_minutes: `hallq sync status`, `journalctl -u hallq -g upstream`"),
            Hint::AlsaBuild => say!(lang, "安装带 `--features hallq-drivers/alsa` 构建的 hallq（docs/voice.md）", "install a hallq built with `--features hallq-drivers/alsa` (docs/voice.md)"),
            Hint::ClipFormat => say!(lang, "所有语音片段须为同一采样率和声道数的 16 位 PCM（docs/voice.md 录音一节）", "every clip must be 16-bit PCM in one rate and channel count (docs/voice.md, Recording)"),
            Hint::RecordClips => say!(lang, "录制语音片段（docs/voice.md）；演示大厅可运行 scripts/make-voice-clips", "record the clips (docs/voice.md); for the demo hall run scripts/make-voice-clips"),
            Hint::SpeakerCable => say!(lang, "检查音箱连线和 `aplay -L`；`journalctl -u hallq DEVICE=voice`", "check the speaker's cable and `aplay -L`; `journalctl -u hallq DEVICE=voice`"),
            Hint::RecordMissingClips => say!(lang, "录制缺少的片段（docs/voice.md）；在此之前播报会略过它们", "record the missing clips (docs/voice.md); until then announcements leave them out"),
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
