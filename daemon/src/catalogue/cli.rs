//! Wordings of the CLI's own messages: reaching the daemon, where the socket path came from,
//! `check-config`, and answers it cannot read.

use std::path::Path;

use super::{say, Lang, Words};
use crate::cli::ClientError;

impl Words for ClientError {
    fn words(&self, lang: Lang) -> String {
        match self {
            ClientError::Connect { path, source } => {
                let path = path.display();
                say!(
                    lang,
                    "无法连接 {path} 上的 hallq：{source}（守护进程在运行吗？试试 `systemctl status hallq`）",
                    "cannot reach hallq at {path}: {source} (is the daemon running? try `systemctl status hallq`)"
                )
            }
            ClientError::Io { path, source } => {
                let path = path.display();
                say!(
                    lang,
                    "与 {path} 上的 hallq 的连接中断：{source}",
                    "lost the connection to hallq at {path}: {source}"
                )
            }
            ClientError::Garbled { path, detail } => {
                let path = path.display();
                say!(
                    lang,
                    "{path} 上的 hallq 回答的不是应答：{detail}",
                    "hallq at {path} answered something that is not a response: {detail}"
                )
            }
        }
    }
}

/// The config could not be read, so the socket comes from the running daemon's state file.
pub fn socket_from_state(
    config: &Path,
    errors: usize,
    socket: &Path,
    state: &Path,
    lang: Lang,
) -> String {
    let (config, socket, state) = (config.display(), socket.display(), state.display());
    say!(
        lang,
        "{config} 有 {errors} 处错误（`hallq check-config` 列出）；改用运行中的守护进程在 {state} 记下的控制套接字 {socket}",
        "{config} has {errors} error(s) (`hallq check-config` lists them); using the socket {socket} recorded by the running daemon in {state}"
    )
}

/// `check-config` found nothing wrong.
#[allow(clippy::too_many_arguments)]
pub fn config_ok(
    path: &Path,
    hall: &str,
    name: &str,
    services: usize,
    windows: usize,
    devices: usize,
    lang: Lang,
) -> String {
    let path = path.display();
    say!(
        lang,
        "{path}：正确：大厅 {hall}（{name}），{services} 项业务，{windows} 个窗口，{devices} 台设备",
        "{path}: ok: hall {hall} ({name}), {services} services, {windows} windows, {devices} devices"
    )
}

/// The daemon answered, but not in the shape this CLI expects (another version).
pub fn unreadable(error: &str, lang: Lang) -> String {
    say!(
        lang,
        "守护进程的应答读不懂（{error}）；试试 --json",
        "the daemon's answer does not read as expected ({error}); try --json"
    )
}

/// The daemon refused without a reason (should not happen).
pub fn refused_without_reason(lang: Lang) -> String {
    say!(
        lang,
        "守护进程拒绝了，但没说原因",
        "the daemon refused without saying why"
    )
}

/// `report --socket`: the report reads the store, which only the config names.
pub fn report_needs_config(lang: Lang) -> String {
    say!(
        lang,
        "report 读取存储：请给 --config，而不是 --socket",
        "report reads the store: give --config, not --socket"
    )
}
