//! A real Mosquitto 2.x broker per test, for the end-to-end tests of hallq's MQTT link.
//!
//! Owns: one `mosquitto` child process on 127.0.0.1 on a port that was free, in a temp dir of
//! its own holding its config, its log (`mosquitto.log`), what it printed on stdout and stderr
//! (`mosquitto.out`) and, per kind, its password and ACL files or its TLS certificates; killing
//! it (a crash, SIGKILL) and starting it again on the same port; reading its log.
//!
//! Three kinds: [`Broker::open`] (anonymous clients allowed), [`Broker::with_acl`] (a
//! `mosquitto_passwd` password file and an ACL file, no anonymous clients) and [`Broker::tls`]
//! (a TLS listener whose CA and server certificate `openssl` makes at run time in the temp
//! dir; no key or certificate is checked in).
//!
//! Does not own: hallq, or any MQTT client. The binaries are found on `PATH`, then in
//! `/usr/sbin` and `/usr/bin` (Debian's `mosquitto` package puts the broker in `/usr/sbin`).
//!
//! Mosquitto run as root drops privileges to the user `mosquitto` (or `nobody`) unless the
//! config says `user root`, and that user can neither create its log in the root-owned temp dir
//! nor read the 0600 password or key files (2.0.11 then keeps running with no log at all, its one
//! complaint on stderr). So when the tests run as root the config says `user root`; as anyone
//! else Mosquitto ignores `user` and runs as the caller. The temp dir is 0700 (tempfile makes it
//! 0755 under umask 022) and every file in it 0600: later 2.0 releases warn about password and
//! ACL files others can read, and say they will refuse them.

use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a start may take before the broker must accept TCP connections.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// How often a start is polled (the process, its log, a TCP connect).
const POLL: Duration = Duration::from_millis(20);
/// Ports tried at the first start, should another process take the free port first.
const FIRST_START_ATTEMPTS: usize = 5;

/// What the broker asks of its clients; decides the config lines past the common ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    Acl,
    Tls,
}

/// One Mosquitto on 127.0.0.1 on a free port, in a temp dir of its own; killed on drop.
pub struct Broker {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    config: PathBuf,
    kind: Kind,
    /// `max_packet_size 65536`, as hallq's docs require (off only to show what happens
    /// without it).
    packet_limit: bool,
}

/// The CA files of a [`Broker::tls`] broker, PEM, in the broker's dir.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA that signed the server certificate (CN and SAN 127.0.0.1, SAN DNS localhost).
    pub ca: PathBuf,
    /// A CA unrelated to the broker: a client trusting only it must refuse the broker.
    pub other_ca: PathBuf,
}

impl Broker {
    /// A broker that lets anonymous clients in (`allow_anonymous true`).
    pub fn open() -> Broker {
        let mut broker = Broker::unstarted(Kind::Open);
        broker.first_start();
        broker
    }

    /// An open broker without `max_packet_size`, as Mosquitto comes: a client may leave a
    /// message of any size (to show what a huge retained one does to hallq).
    pub fn open_without_packet_limit() -> Broker {
        let mut broker = Broker::unstarted(Kind::Open);
        broker.packet_limit = false;
        broker.first_start();
        broker
    }

    /// A broker that lets in only `users` (user, password), each allowed what `acl` (an ACL
    /// file's text, verbatim) says; `allow_anonymous false`.
    pub fn with_acl(users: &[(&str, &str)], acl: &str) -> Broker {
        let mut broker = Broker::unstarted(Kind::Acl);
        let passwords = broker.dir().join("passwd");
        write_private(&passwords, "");
        let tool = find_bin("mosquitto_passwd");
        for (user, password) in users {
            let out = Command::new(&tool)
                .arg("-b")
                .arg(&passwords)
                .args([user, password])
                .stdin(Stdio::null())
                .output()
                .expect("mosquitto_passwd runs");
            assert!(
                out.status.success(),
                "mosquitto_passwd -b for {user:?} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        set_private(&passwords);
        write_private(&broker.dir().join("acl"), acl);
        broker.first_start();
        broker
    }

    /// A broker with a TLS listener only, anonymous clients allowed; its CA and server
    /// certificate (CN 127.0.0.1, SAN IP:127.0.0.1 and DNS:localhost, EC P-256) and an
    /// unrelated CA are made now with `openssl`. TLS versions are Mosquitto's default (1.2, 1.3).
    pub fn tls() -> (Broker, TlsFiles) {
        let mut broker = Broker::unstarted(Kind::Tls);
        let dir = broker.dir().to_path_buf();
        make_ca(&dir, "ca", "hallq test CA");
        make_ca(&dir, "other-ca", "hallq unrelated test CA");
        make_server_cert(&dir);
        broker.first_start();
        let files = TlsFiles {
            ca: dir.join("ca.pem"),
            other_ca: dir.join("other-ca.pem"),
        };
        (broker, files)
    }

    /// The TCP port it listens on, on 127.0.0.1; the same across [`Broker::restart`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its temp dir: config, log, and the password, ACL or certificate files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A crash: SIGKILL, then wait for it to be gone. Nothing happens if it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start it again, killed first if still running, on the same port with the same config;
    /// returns once it accepts TCP connections. Retries for 10 s should binding fail.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            match self.launch() {
                Ok(()) => return,
                Err(status) if Instant::now() < deadline => {
                    eprintln!(
                        "mosquitto on port {} exited at restart ({status}), trying again",
                        self.port
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(status) => panic!(
                    "mosquitto did not start again on port {} ({status}).\n{}",
                    self.port,
                    self.diagnostics()
                ),
            }
        }
    }

    /// Whether the broker process is alive.
    pub fn running(&mut self) -> bool {
        let exited = match self.child.as_mut() {
            None => return false,
            Some(child) => !matches!(child.try_wait(), Ok(None)),
        };
        if exited {
            self.kill();
        }
        !exited
    }

    /// The text of its log file (`mosquitto.log`, every log type), across restarts.
    pub fn log(&self) -> String {
        read_lossy(&self.log_path())
    }

    /// A broker of `kind` with its temp dir, not yet configured or started.
    fn unstarted(kind: Kind) -> Broker {
        let dir = tempfile::tempdir().expect("temp dir for mosquitto");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700))
            .expect("mode 0700 on the broker's temp dir");
        let config = dir.path().join("mosquitto.conf");
        Broker {
            child: None,
            port: 0,
            dir,
            config,
            kind,
            packet_limit: true,
        }
    }

    /// The first start: a free port, the config for it, the broker; a new port should the broker
    /// exit (another process may have taken the port between our check and its bind).
    fn first_start(&mut self) {
        for attempt in 1..=FIRST_START_ATTEMPTS {
            self.port = free_port();
            self.write_config();
            match self.launch() {
                Ok(()) => return,
                Err(status) => eprintln!(
                    "mosquitto on port {} exited at start ({status}), attempt {attempt} of \
                     {FIRST_START_ATTEMPTS}",
                    self.port
                ),
            }
        }
        panic!(
            "mosquitto did not start in {FIRST_START_ATTEMPTS} attempts.\n{}",
            self.diagnostics()
        );
    }

    /// Writes `mosquitto.conf` for the current port and kind.
    fn write_config(&self) {
        let dir = self.dir();
        let mut text = format!(
            "# hallq test broker ({kind:?}), written by tests/src/util/mosquitto.rs\n\
             listener {port} 127.0.0.1\n\
             persistence false\n\
             log_dest file {log}\n\
             log_type all\n\
             log_timestamp true\n\
             log_timestamp_format %Y-%m-%dT%H:%M:%S\n",
            kind = self.kind,
            port = self.port,
            log = self.log_path().display(),
        );
        if self.packet_limit {
            text.push_str(
                "# hallq's docs require this limit. It counts the whole MQTT packet (header,\n\
                 # topic, payload): the broker disconnects a client that sends a larger one.\n\
                 max_packet_size 65536\n",
            );
        }
        if running_as_root() {
            text.push_str(
                "# As root Mosquitto would switch to user mosquitto, which cannot read this dir.\n\
                 user root\n",
            );
        }
        let path = |name: &str| dir.join(name).display().to_string();
        match self.kind {
            Kind::Open => text.push_str("allow_anonymous true\n"),
            Kind::Acl => text.push_str(&format!(
                "allow_anonymous false\npassword_file {}\nacl_file {}\n",
                path("passwd"),
                path("acl")
            )),
            Kind::Tls => text.push_str(&format!(
                "allow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\n",
                path("ca.pem"),
                path("server.pem"),
                path("server.key")
            )),
        }
        write_private(&self.config, &text);
    }

    /// Starts `mosquitto -c <config>` and waits until it logged that it runs and accepts a TCP
    /// connection; the exit status if it exited first. Panics after [`READY_WITHIN`].
    fn launch(&mut self) -> Result<(), ExitStatus> {
        assert!(self.child.is_none(), "mosquitto is already running");
        let log_before = fs::metadata(self.log_path()).map_or(0, |m| m.len() as usize);
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(self.dir().join("mosquitto.out"))
            .expect("mosquitto.out opens");
        let child = Command::new(find_bin("mosquitto"))
            .arg("-c")
            .arg(&self.config)
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("mosquitto.out handle cloned"))
            .stderr(out)
            .spawn()
            .expect("mosquitto starts");
        let child = self.child.insert(child);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(status);
            }
            // The "running" line comes once every listener is bound: what answers the connect
            // is then this broker, not a process that took the port before it.
            let log = fs::read(self.dir.path().join("mosquitto.log")).unwrap_or_default();
            let started = String::from_utf8_lossy(log.get(log_before..).unwrap_or_default())
                .lines()
                .any(|l| l.contains("mosquitto version") && l.ends_with(" running"));
            if started && TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                panic!(
                    "mosquitto did not accept connections on port {} within {READY_WITHIN:?}.\n{}",
                    self.port,
                    self.diagnostics()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir().join("mosquitto.log")
    }

    /// Its config, log and output, for a failure message.
    fn diagnostics(&self) -> String {
        format!(
            "--- {}:\n{}\n--- mosquitto.log:\n{}\n--- mosquitto stdout/stderr:\n{}",
            self.config.display(),
            read_lossy(&self.config),
            self.log(),
            read_lossy(&self.dir().join("mosquitto.out"))
        )
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `name` on `PATH`, else in /usr/sbin or /usr/bin, if it is there.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Like [`which`], but panics naming the package when it is missing.
fn find_bin(name: &str) -> PathBuf {
    which(name).unwrap_or_else(|| {
        let package = if name == "openssl" {
            "openssl"
        } else {
            "mosquitto"
        };
        panic!("{name} is not installed (not on PATH, /usr/sbin or /usr/bin): install {package}")
    })
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("bound address").port()
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Writes `text` to `path`, readable and writable by the owner only.
fn write_private(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("{} written: {e}", path.display()));
    set_private(path);
}

/// Mode 0600 on `path`.
fn set_private(path: &Path) {
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("mode 0600 on {}: {e}", path.display()));
}

/// The file's text, invalid UTF-8 replaced; empty if it does not exist.
fn read_lossy(path: &Path) -> String {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
        Err(e) => panic!("{} read: {e}", path.display()),
    }
}

/// Runs `openssl <words> <args>` in `dir` (`words` split at spaces); panics with its output if
/// it fails.
fn openssl(dir: &Path, words: &str, args: &[&str]) {
    let out = Command::new(find_bin("openssl"))
        .args(words.split_whitespace())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {words} {args:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed CA `<name>.pem` with its key `<name>.key` (EC P-256, valid 7 days).
fn make_ca(dir: &Path, name: &str, common_name: &str) {
    let (key, cert) = (format!("{name}.key"), format!("{name}.pem"));
    let subject = format!("/CN={common_name}");
    openssl(
        dir,
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 -sha256 \
         -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
        &["-keyout", &key, "-out", &cert, "-subj", &subject],
    );
    set_private(&dir.join(key));
}

/// `server.pem` and `server.key`: a server certificate for 127.0.0.1 and localhost signed by
/// `ca.pem`, with the extensions strict verifiers (webpki) want.
fn make_server_cert(dir: &Path) {
    openssl(
        dir,
        "req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
         -keyout server.key -out server.csr -subj /CN=127.0.0.1",
        &[],
    );
    set_private(&dir.join("server.key"));
    write_private(
        &dir.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         subjectAltName=IP:127.0.0.1,DNS:localhost\n\
         subjectKeyIdentifier=hash\n\
         authorityKeyIdentifier=keyid\n",
    );
    // A serial of its own per certificate, so no `.srl` file is needed.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let serial = format!("0x{nanos:x}");
    openssl(
        dir,
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -days 7 -sha256 \
         -extfile server.ext -out server.pem",
        &["-set_serial", &serial],
    );
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn connects(port: u16) -> bool {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
    }

    /// MQTT 3.1.1 CONNECT with these credentials; the CONNACK return code (0 accepted,
    /// 5 not authorised).
    fn connack(port: u16, credentials: Option<(&str, &str)>) -> u8 {
        fn string(out: &mut Vec<u8>, s: &str) {
            let len = u16::try_from(s.len()).expect("MQTT string fits u16");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        let mut body = Vec::new();
        string(&mut body, "MQTT");
        body.push(4); // protocol level 3.1.1
        body.push(if credentials.is_some() { 0xC2 } else { 0x02 }); // user, password, clean
        body.extend_from_slice(&30u16.to_be_bytes()); // keep alive, seconds
        string(&mut body, "hallq-tooling-test");
        if let Some((user, password)) = credentials {
            string(&mut body, user);
            string(&mut body, password);
        }
        let mut packet = vec![0x10];
        let mut remaining = body.len();
        loop {
            let byte = (remaining % 128) as u8;
            remaining /= 128;
            packet.push(if remaining > 0 { byte | 0x80 } else { byte });
            if remaining == 0 {
                break;
            }
        }
        packet.extend_from_slice(&body);
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("broker connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout set");
        stream.write_all(&packet).expect("CONNECT sent");
        let mut answer = [0u8; 4];
        stream.read_exact(&mut answer).expect("CONNACK read");
        assert_eq!(answer[..2], [0x20, 0x02], "not a CONNACK: {answer:?}");
        answer[3]
    }

    #[test]
    fn open_broker_accepts_and_comes_back_on_the_same_port_after_a_kill() {
        let mut broker = Broker::open();
        let port = broker.port();
        assert!(broker.running());
        assert!(connects(port));
        assert_eq!(
            connack(port, None),
            0,
            "anonymous refused: {}",
            broker.log()
        );

        broker.kill();
        assert!(!broker.running());
        assert!(!connects(port), "port {port} still accepts after the kill");

        broker.restart();
        assert_eq!(broker.port(), port);
        assert!(broker.running());
        assert!(connects(port));
        let log = broker.log();
        assert_eq!(
            log.lines().filter(|l| l.ends_with(" running")).count(),
            2,
            "two starts in one log:\n{log}"
        );
        assert!(log.contains(&format!("port {port}")), "{log}");

        // restart on a running broker kills it first.
        broker.restart();
        assert_eq!(broker.port(), port);
        assert!(connects(port));
    }

    #[test]
    fn acl_broker_takes_the_password_file_and_refuses_strangers() {
        let acl = "user hall\ntopic readwrite hallq/#\n";
        let mut broker = Broker::with_acl(&[("hall", "s3cret: with space"), ("ops", "x")], acl);
        assert!(broker.running());
        for name in ["", "passwd", "acl", "mosquitto.conf", "mosquitto.log"] {
            let path = broker.dir().join(name);
            let mode = fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
            let want = if name.is_empty() { 0o700 } else { 0o600 };
            assert_eq!(mode, want, "mode of {}", path.display());
        }
        let log = broker.log();
        assert!(
            !log.to_lowercase().contains("error") && !log.contains("Warning: File"),
            "the broker complained:\n{log}"
        );
        let passwords = fs::read_to_string(broker.dir().join("passwd")).expect("passwd read");
        assert!(passwords.starts_with("hall:$7$"), "hashed: {passwords}");
        assert_eq!(
            fs::read_to_string(broker.dir().join("acl")).expect("acl"),
            acl
        );

        let port = broker.port();
        assert_eq!(connack(port, Some(("hall", "s3cret: with space"))), 0);
        assert_eq!(connack(port, Some(("ops", "x"))), 0);
        assert_eq!(connack(port, Some(("hall", "wrong"))), 5);
        assert_eq!(connack(port, None), 5, "anonymous let in");

        broker.kill();
        broker.restart();
        assert_eq!(connack(port, Some(("hall", "s3cret: with space"))), 0);
    }

    /// `openssl s_client` against the broker trusting only `ca`; its success and output.
    fn s_client(port: u16, ca: &Path, check: &[&str]) -> (bool, String) {
        let out = Command::new(find_bin("openssl"))
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-CAfile",
            ])
            .arg(ca)
            .arg("-verify_return_error")
            .args(check)
            .stdin(Stdio::null())
            .output()
            .expect("openssl s_client runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    #[test]
    fn tls_broker_is_trusted_through_its_ca_only() {
        let (mut broker, files) = Broker::tls();
        assert!(broker.running());
        assert!(files.ca.starts_with(broker.dir()) && files.other_ca.starts_with(broker.dir()));
        let port = broker.port();

        for check in [
            ["-verify_ip", "127.0.0.1"],
            ["-verify_hostname", "localhost"],
        ] {
            let (ok, text) = s_client(port, &files.ca, &check);
            assert!(ok, "{check:?} with the right CA failed:\n{text}");
            assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
        }

        let (ok, text) = s_client(port, &files.other_ca, &[]);
        assert!(!ok, "the unrelated CA was accepted:\n{text}");
        assert!(text.contains("certificate verify failed"), "{text}");

        broker.kill();
        broker.restart();
        let (ok, text) = s_client(port, &files.ca, &["-verify_ip", "127.0.0.1"]);
        assert!(ok, "after restart:\n{text}");
    }
}
