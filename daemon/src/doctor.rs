//! `hallq doctor`: a maintenance check of everything hallq depends on, printed as a table of
//! OK / WARN / FAIL with a one-line hint for each problem (worded by `catalogue::doctor`). It
//! fails when the daemon does not answer, and warns about waiting tickets no open window can
//! call and about standing tidal advice.
//!
//! Runs in the CLI process, reads the config and the store read-only, probes devices, the
//! broker and the upstream with short timeouts, and asks the running daemon (if any) for its
//! view. It changes nothing.

use std::fmt;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use hallq_drivers::transport::{SerialConfig, UsblpConfig};
use hallq_drivers::HealthState;

use crate::catalogue::doctor::{Hint, Note};
use crate::catalogue::{Lang, Words};
use crate::command::{Query, Request};
use crate::config::{Config, Device, Transport, Voice, VoiceClips, VOICE_DEVICE_ID};
use crate::runtime::disk::{free_bytes, human_bytes};
use crate::runtime::queries::StatusView;
use crate::runtime::snapshot::{HallSnapshot, StoreState};
use crate::store::Store;

/// How long a network probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Free space below which a warning is given (or five times `[store] min_free_mb`, if more).
const DISK_WARN_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Ok => "OK",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        })
    }
}

/// One line of the report, typed; [`Finding::worded`] words it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub check: String,
    pub result: Verdict,
    pub detail: Note,
    pub hint: Option<Hint>,
}

/// A finding in words: the `checks` of `doctor --json`.
#[derive(Debug, Clone, Serialize)]
pub struct Worded {
    pub check: String,
    pub result: Verdict,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Finding {
    pub fn worded(&self, lang: Lang) -> Worded {
        Worded {
            check: self.check.clone(),
            result: self.result,
            detail: self.detail.words(lang),
            hint: self.hint.map(|h| h.words(lang)),
        }
    }
}

fn ok(check: impl Into<String>, detail: Note) -> Finding {
    Finding {
        check: check.into(),
        result: Verdict::Ok,
        detail,
        hint: None,
    }
}

fn problem(result: Verdict, check: impl Into<String>, detail: Note, hint: Hint) -> Finding {
    Finding {
        check: check.into(),
        result,
        detail,
        hint: Some(hint),
    }
}

/// Run every check. `config` is the parse result of `path`.
pub fn examine(path: &Path, config: Result<Config, String>) -> Vec<Finding> {
    let config = match config {
        Ok(c) => c,
        Err(errors) => {
            let first = errors.lines().next().unwrap_or("invalid").to_string();
            return vec![problem(
                Verdict::Fail,
                "config",
                Note::ConfigBad { first },
                Hint::FixConfig,
            )];
        }
    };
    let mut out = vec![ok(
        "config",
        Note::ConfigOk {
            path: path.to_path_buf(),
            hall: config.hall.id.clone(),
            services: config.services.len(),
            windows: config.windows.len(),
            devices: config.devices.len(),
        },
    )];
    let daemon = daemon_status(&config);
    let (store_finding, last_event) = store(&config, daemon.as_ref().map(|s| &s.snapshot));
    out.push(store_finding);
    out.push(disk(&config));
    let socket = config.socket_path();
    out.push(match &daemon {
        Some(status) => ok(
            "daemon",
            Note::DaemonServing {
                socket,
                day: status.snapshot.hall.business_day.to_string(),
            },
        ),
        // Everything after this needs the daemon: a hall without it issues no ticket.
        None => problem(
            Verdict::Fail,
            "daemon",
            Note::DaemonSilent { socket },
            Hint::StartDaemon,
        ),
    });
    if let Some(status) = &daemon {
        out.extend(queue(&status.snapshot));
    }
    for device in &config.devices {
        out.push(device_check(device, daemon.as_ref().map(|s| &s.snapshot)));
    }
    if let Some(voice) = &config.voice {
        out.push(voice_check(
            voice,
            &config,
            daemon.as_ref().map(|s| &s.snapshot),
        ));
    }
    if let Some(mqtt) = &config.mqtt {
        out.push(broker_check(mqtt, daemon.as_ref().map(|s| &s.snapshot)));
    }
    if let Some(upstream) = &config.upstream {
        out.push(sync_check(
            upstream,
            daemon.as_ref().and_then(|s| s.sync.as_ref()),
            &config.store_path(),
        ));
        out.push(match url_authority(&upstream.url) {
            Some(addr) => tcp_probe("upstream", &addr, Hint::UpstreamRoute),
            None => problem(
                Verdict::Fail,
                "upstream",
                Note::BadUrl {
                    url: upstream.url.clone(),
                },
                Hint::FixUpstreamUrl,
            ),
        });
    }
    out.push(clock(last_event, &config.hall.timezone));
    out
}

/// The queue as the daemon sees it: services nobody can serve now, and standing tidal advice.
fn queue(status: &HallSnapshot) -> Vec<Finding> {
    let h = &status.hall;
    let mut out: Vec<Finding> = h
        .unserved
        .iter()
        .map(|u| {
            problem(
                Verdict::Warn,
                "queue",
                Note::Unserved {
                    service: u.service.clone(),
                    name: u.name.clone(),
                    waiting: u.waiting,
                },
                Hint::OpenWindow,
            )
        })
        .collect();
    out.extend(h.tidal.iter().map(|t| {
        problem(
            Verdict::Warn,
            "tidal",
            Note::TidalAdvice {
                name: t.name.clone(),
                waiting: t.waiting,
            },
            Hint::OpenTidalWindow,
        )
    }));
    if out.is_empty() {
        out.push(ok(
            "queue",
            Note::QueueOk {
                waiting: h.waiting.values().sum(),
            },
        ));
    }
    out
}

/// The sync's backlog and credential, from the daemon's report or else the store itself.
fn sync_check(
    upstream: &crate::config::Upstream,
    report: Option<&crate::sync::SyncReport>,
    store_path: &Path,
) -> Finding {
    let limit = i64::from(upstream.warn_backlog_minutes) * 60;
    if let Some(r) = report {
        if r.credential_problem {
            let cause = r.last_error.as_ref().map_or("", |e| e.cause.as_str());
            let note = Note::SyncCredential {
                cause: cause.to_string(),
            };
            return problem(Verdict::Fail, "sync", note, Hint::TokenFile);
        }
    }
    let backlog = match report {
        Some(r) => Some((r.waiting, r.oldest_waiting_age_seconds, r.acked_through)),
        None => Store::open_read_only(store_path).ok().and_then(|s| {
            let (acked, _) = s.acked_through().ok()?;
            let b = s.backlog(acked).ok()?;
            let age = b
                .oldest_at
                .map(|t| jiff::Timestamp::now().as_second() - t.as_second());
            Some((b.waiting, age, acked))
        }),
    };
    let Some((waiting, age, acked)) = backlog else {
        return ok("sync", Note::SyncNoEvents);
    };
    let note = Note::SyncBacklog {
        acked,
        waiting,
        oldest: age,
        last_error: report
            .and_then(|r| r.last_error.as_ref())
            .map(|e| e.cause.clone()),
    };
    if age.is_some_and(|a| a > limit) {
        problem(Verdict::Warn, "sync", note, Hint::SyncBacklog)
    } else {
        ok("sync", note)
    }
}

fn store(config: &Config, daemon: Option<&HallSnapshot>) -> (Finding, Option<jiff::Timestamp>) {
    let path = config.store_path();
    if let Some(s) = daemon.filter(|s| s.store.state == StoreState::Fail) {
        let note = Note::StoreBad {
            detail: s.store.detail.clone(),
        };
        let finding = problem(Verdict::Fail, "store", note, Hint::StoreReplaced);
        return (finding, None);
    }
    if let Err(e) = std::fs::File::open(&path) {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            return (unreadable_store(&path, daemon.is_some()), None);
        }
    }
    if !path.exists() {
        let note = Note::StoreMissing { path };
        let finding = problem(Verdict::Warn, "store", note, Hint::StoreCreatedOnStart);
        return (finding, None);
    }
    let bad = |detail: String| {
        let note = Note::StoreBad { detail };
        problem(Verdict::Fail, "store", note, Hint::RestoreBackup)
    };
    let store = match Store::open_read_only(&path) {
        Ok(s) => s,
        Err(e) => return (bad(e.to_string()), None),
    };
    if let Err(e) = store.quick_check() {
        return (bad(format!("{}: {e}", path.display())), None);
    }
    match (store.event_stats(), store.last_event_at()) {
        (Ok((events, _)), Ok(last)) => (ok("store", Note::StoreOk { path, events }), last),
        (Err(e), _) | (_, Err(e)) => (bad(format!("{}: {e}", path.display())), None),
    }
}

/// The store is the service user's alone (0600 in a 0700 folder): another user's doctor
/// relies on the running daemon's own check.
fn unreadable_store(path: &Path, daemon_ok: bool) -> Finding {
    let path = path.to_path_buf();
    if daemon_ok {
        ok("store", Note::StoreIntactPerDaemon { path })
    } else {
        let note = Note::StoreUnreadable { path };
        problem(Verdict::Warn, "store", note, Hint::StoreServiceUser)
    }
}

fn disk(config: &Config) -> Finding {
    let dir = &config.hall.data_dir;
    // Before the first start the folder may not exist yet: measure where it will be created.
    let probe = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let fail_below = u64::from(config.store.min_free_mb) * 1024 * 1024;
    match free_bytes(probe) {
        Ok(free) => {
            let note = Note::DiskFree {
                free: human_bytes(free),
                dir: dir.clone(),
            };
            if free < fail_below {
                problem(Verdict::Fail, "disk", note, Hint::FreeSpaceNow)
            } else if free < DISK_WARN_BYTES.max(fail_below.saturating_mul(5)) {
                problem(Verdict::Warn, "disk", note, Hint::FreeSpaceSoon)
            } else {
                ok("disk", note)
            }
        }
        Err(e) => problem(
            Verdict::Fail,
            "disk",
            Note::DiskError {
                dir: dir.clone(),
                error: e.to_string(),
            },
            Hint::CheckDataDir,
        ),
    }
}

fn daemon_status(config: &Config) -> Option<StatusView> {
    let request = Request::Query(Query::Status);
    let response = crate::cli::request(&config.socket_path(), &request).ok()?;
    if !response.ok {
        return None;
    }
    serde_json::from_value(Value::Object(response.data)).ok()
}

fn device_check(device: &Device, daemon: Option<&HallSnapshot>) -> Finding {
    let name = format!("device {}", device.id);
    let reach = reachable(device);
    if reach.result != Verdict::Ok {
        return Finding {
            check: name,
            ..reach
        };
    }
    let health = daemon.and_then(|s| s.devices.get(&device.id));
    let state = health.map(|h| h.health.state);
    let cause = health.and_then(|h| h.health.cause.as_deref()).unwrap_or("");
    let verdict = match state {
        Some(HealthState::Offline) => Verdict::Fail,
        Some(HealthState::Degraded) => Verdict::Warn,
        _ => {
            return Finding {
                check: name,
                ..reach
            }
        }
    };
    let note = Note::Reported {
        reach: Box::new(reach.detail),
        state: state.map_or_else(|| "?".to_string(), |s| s.to_string()),
        cause: cause.to_string(),
    };
    problem(verdict, name, note, cause_hint(cause))
}

/// `[voice]`: the build can play to the output, the clips load in one format, none the hall
/// needs is missing, and the running daemon does not report the output offline. Voice that is
/// off because it is optional and has no clips is OK, with a hint.
fn voice_check(voice: &Voice, config: &Config, daemon: Option<&HallSnapshot>) -> Finding {
    use hallq_drivers::voice::{OutputConfig, ALSA_SUPPORTED};
    let output = voice.output.describe();
    if matches!(voice.output, OutputConfig::Alsa { .. }) && !ALSA_SUPPORTED {
        let note = Note::VoiceWithoutAlsa { output };
        return problem(Verdict::Fail, "voice", note, Hint::AlsaBuild);
    }
    let (clips, missing) = match voice.load_clips(&config.windows, &config.services) {
        Err(e) => {
            let note = Note::VoiceClipsBad {
                error: e.to_string(),
            };
            return problem(Verdict::Fail, "voice", note, Hint::ClipFormat);
        }
        Ok(VoiceClips::Off { reason }) => {
            // `optional = true` says the hall runs without voice when there are no clips: that
            // is a state, not a fault (the daemon logs one WARN line at start).
            let note = Note::VoiceOff { reason };
            return problem(Verdict::Ok, "voice", note, Hint::RecordClips);
        }
        Ok(VoiceClips::Ready { clips, missing }) => (clips, missing),
    };
    let ready = Note::VoiceReady {
        clips: clips.len(),
        format: clips.format().to_string(),
        dir: clips.dir().to_path_buf(),
        output,
    };
    let health = daemon.and_then(|s| s.devices.get(VOICE_DEVICE_ID));
    if health.map(|h| h.health.state) == Some(HealthState::Offline) {
        let cause = health.and_then(|h| h.health.cause.as_deref()).unwrap_or("");
        let note = Note::VoiceOffline {
            ready: Box::new(ready),
            cause: cause.to_string(),
        };
        return problem(Verdict::Fail, "voice", note, Hint::SpeakerCable);
    }
    let missing: Vec<(String, Vec<String>)> = missing
        .iter()
        .map(|m| (m.file.clone(), m.needed_for.clone()))
        .collect();
    let ignored = clips.ignored().to_vec();
    match missing.is_empty() && ignored.is_empty() {
        true => ok("voice", ready),
        false => {
            let note = Note::VoiceGaps {
                ready: Box::new(ready),
                missing,
                ignored,
            };
            problem(Verdict::Warn, "voice", note, Hint::RecordMissingClips)
        }
    }
}

/// The broker answers on its port, and the running daemon's link to it is up (else its cause:
/// `bad_credentials`, `tls_untrusted`, ...).
fn broker_check(mqtt: &crate::config::Mqtt, daemon: Option<&HallSnapshot>) -> Finding {
    let reach = tcp_probe(
        "broker",
        &format!("{}:{}", mqtt.host, mqtt.port),
        Hint::Broker,
    );
    if reach.result != Verdict::Ok {
        return reach;
    }
    let health = daemon.and_then(|s| s.devices.get(crate::config::MQTT_HEALTH_ID));
    match health {
        Some(h) if h.health.state != HealthState::Online => {
            let cause = h.health.cause.clone().unwrap_or_default();
            let note = Note::Reported {
                reach: Box::new(reach.detail),
                state: h.health.state.to_string(),
                cause: cause.clone(),
            };
            problem(Verdict::Fail, "broker", note, cause_hint(&cause))
        }
        _ => reach,
    }
}

fn cause_hint(cause: &str) -> Hint {
    match cause {
        "bad_credentials" | "not_authorized" | "password_file_unreadable" => {
            Hint::BrokerCredentials
        }
        "tls_untrusted" | "tls_failed" | "ca_file_unreadable" | "client_cert_unreadable" => {
            Hint::BrokerTls
        }
        "not_seen" | "lost" => Hint::DeviceOnBroker,
        "broker_offline" => Hint::Broker,
        "oversized_message" => Hint::OversizedMessage,
        "paper_out" => Hint::LoadPaper,
        "paper_near_end" => Hint::PaperReady,
        "cover_open" => Hint::CloseCover,
        "disconnected" | "offline" | "no_answer" => Hint::PowerAndCable,
        _ => Hint::DeviceJournal,
    }
}

fn reachable(device: &Device) -> Finding {
    match &device.transport {
        Transport::Serial(SerialConfig { path, .. }) | Transport::Usblp(UsblpConfig { path }) => {
            match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags_nonblocking()
                .open(path)
            {
                Ok(_) => ok("", Note::DeviceOpens { path: path.clone() }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => problem(
                    Verdict::Fail,
                    "",
                    Note::DeviceMissing { path: path.clone() },
                    Hint::CheckCableAndUdev,
                ),
                Err(e) => problem(
                    Verdict::Fail,
                    "",
                    Note::DeviceError {
                        path: path.clone(),
                        error: e.to_string(),
                    },
                    Hint::DialoutGroup,
                ),
            }
        }
        Transport::Tcp(tcp) => tcp_probe("", &tcp.addr, Hint::PrinterNetwork),
        Transport::Sim(dir) => {
            match std::fs::create_dir_all(dir).and_then(|_| tempfile_probe(dir)) {
                Ok(()) => ok("", Note::Simulated { dir: dir.clone() }),
                Err(e) => problem(
                    Verdict::Fail,
                    "",
                    Note::SimError {
                        dir: dir.clone(),
                        error: e.to_string(),
                    },
                    Hint::SimWritable,
                ),
            }
        }
        Transport::Mqtt => ok("", Note::OverMqtt),
    }
}

fn tempfile_probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(".hallq-doctor");
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}

trait NonBlocking {
    fn custom_flags_nonblocking(&mut self) -> &mut Self;
}

impl NonBlocking for std::fs::OpenOptions {
    fn custom_flags_nonblocking(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        // Do not wait for a modem's carrier, and do not become its controlling terminal.
        self.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
    }
}

fn tcp_probe(check: &str, addr: &str, hint: Hint) -> Finding {
    let unreachable = |why: String| {
        let note = Note::Unreachable {
            addr: addr.to_string(),
            why,
        };
        problem(Verdict::Fail, check, note, hint)
    };
    let addrs: Vec<_> = match addr.to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => return unreachable(e.to_string()),
    };
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, PROBE_TIMEOUT) {
            Ok(_) => {
                let note = Note::Reachable {
                    addr: addr.to_string(),
                };
                return ok(check, note);
            }
            Err(e) => last = Some(e),
        }
    }
    unreachable(last.map_or("no address".to_string(), |e| e.to_string()))
}

/// `https://host:8443/api` -> `host:8443`; default ports 80/443.
fn url_authority(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()) && !authority.ends_with(']'));
    if has_port {
        Some(authority.to_string())
    } else {
        Some(format!(
            "{authority}:{}",
            if scheme == "https" { 443 } else { 80 }
        ))
    }
}

fn clock(last_event: Option<jiff::Timestamp>, tz: &jiff::tz::TimeZone) -> Finding {
    let now = jiff::Timestamp::now();
    let year = jiff::tz::TimeZone::UTC.to_datetime(now).year();
    if !(2024..2100).contains(&year) {
        let note = Note::ClockImplausible {
            now: now.to_string(),
        };
        return problem(Verdict::Fail, "clock", note, Hint::Ntp);
    }
    if let Some(last) = last_event {
        let behind = last.as_second() - now.as_second();
        if behind > 300 {
            let note = Note::ClockBehind {
                now: now.to_string(),
                minutes: behind / 60,
                last: last.to_string(),
            };
            return problem(Verdict::Fail, "clock", note, Hint::Ntp);
        }
    }
    let local = tz
        .to_datetime(now)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    ok(
        "clock",
        Note::ClockOk {
            local,
            utc: now.to_string(),
        },
    )
}

/// The table for people.
pub fn render(findings: &[Finding], lang: Lang) -> String {
    let (check, result, detail, hint_label) = crate::catalogue::doctor::header(lang);
    let width = findings
        .iter()
        .map(|f| f.check.chars().count())
        .chain([check.chars().count()])
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = format!("{check:<width$}  {result:<6}  {detail}\n");
    for f in findings {
        let w = f.worded(lang);
        s.push_str(&format!(
            "{:<width$}  {:<6}  {}\n",
            w.check,
            w.result.to_string(),
            w.detail
        ));
        if let Some(h) = &w.hint {
            s.push_str(&format!("{:<width$}          {hint_label}: {h}\n", ""));
        }
    }
    s
}

/// The worst verdict.
pub fn worst(findings: &[Finding]) -> Verdict {
    findings
        .iter()
        .map(|f| f.result)
        .max()
        .unwrap_or(Verdict::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_authority_defaults_ports() {
        assert_eq!(
            url_authority("https://platform.example/api").as_deref(),
            Some("platform.example:443")
        );
        assert_eq!(
            url_authority("http://127.0.0.1:8080/x").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(url_authority("nonsense"), None);
    }

    #[test]
    fn voice_is_checked_for_its_clips_and_what_the_hall_lacks() {
        use hallq_drivers::voice::wav::encode_wav;
        use hallq_drivers::voice::{Audio, Format};
        let dir = tempfile::tempdir().unwrap();
        let text = |output: &str| {
            format!(
                "[hall]\nid = \"t\"\nname = \"t\"\n\n[[services]]\ncode = \"A\"\nname = \"a\"\nminutes = 5\n\n\
                 [[windows]]\nnumber = 1\nserves = [[\"A\"]]\n\n[voice]\nclips_dir = \"clips\"\noptional = true\n\
                 output = {output}\n"
            )
        };
        let config = crate::config::parse(
            &text("{ type = \"sim\", dir = \"out\" }"),
            &dir.path().join("hall.toml"),
        )
        .unwrap();
        let check = || voice_check(config.voice.as_ref().unwrap(), &config, None).worded(Lang::En);
        let f = check();
        assert_eq!(
            f.result,
            Verdict::Ok,
            "optional: off is a state, not a fault"
        );
        assert!(f
            .hint
            .as_deref()
            .unwrap()
            .contains("scripts/make-voice-clips"));
        assert!(
            f.detail.starts_with("voice is off: clip folder"),
            "{}",
            f.detail
        );

        let clips = dir.path().join("clips");
        std::fs::create_dir(&clips).unwrap();
        let write = |stem: &str, rate: u32| {
            let format = Format {
                channels: 1,
                sample_rate: rate,
            };
            let audio = Audio {
                format,
                samples: vec![5; 10],
            };
            std::fs::write(clips.join(format!("{stem}.wav")), encode_wav(&audio)).unwrap();
        };
        for stem in ["chime", "qing", "hao", "dao", "chuangkou", "banli", "a"] {
            write(stem, 16000);
        }
        for d in 0..9 {
            write(&d.to_string(), 16000);
        }
        let f = check();
        assert_eq!(f.result, Verdict::Warn);
        assert!(
            f.detail.ends_with("missing: 9.wav (ticket numbers)"),
            "{}",
            f.detail
        );
        write("9", 16000);
        let f = check();
        assert_eq!(f.result, Verdict::Ok, "{f:?}");
        assert!(f
            .detail
            .starts_with("17 clips (16-bit PCM, 16000 Hz, mono) in "));
        write("9", 8000);
        let f = check();
        assert_eq!(f.result, Verdict::Fail);
        assert!(
            f.detail.contains("9.wav is 16-bit PCM, 8000 Hz, mono"),
            "{}",
            f.detail
        );

        let alsa = crate::config::parse(
            &text("{ type = \"alsa\", device = \"default\" }"),
            &dir.path().join("hall.toml"),
        )
        .unwrap();
        let f = voice_check(alsa.voice.as_ref().unwrap(), &alsa, None).worded(Lang::En);
        if !hallq_drivers::voice::ALSA_SUPPORTED {
            assert_eq!(f.result, Verdict::Fail);
            assert!(
                f.detail.contains("built without ALSA support"),
                "{}",
                f.detail
            );
        } else {
            assert_eq!(f.result, Verdict::Fail, "the clip in another format");
        }
    }

    #[test]
    fn the_worst_verdict_decides() {
        let f = vec![
            ok("a", Note::OverMqtt),
            problem(Verdict::Warn, "b", Note::OverMqtt, Hint::Ntp),
        ];
        assert_eq!(worst(&f), Verdict::Warn);
        assert!(render(&f, Lang::En).contains("hint: set the clock"));
        assert!(render(&f, Lang::Zh).contains("建议: 校准时钟"));
    }
}
