//! The control socket under attack (issue 16): a flood of clients must not starve the
//! watchdog, idle connections must not exhaust file descriptors or keep `status` out, slow and
//! silent clients are timed out, and accept errors are counted rather than logged one by one.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use hallq_tests::util::notify::{count, NotifySocket};
use hallq_tests::util::{Daemon, HallSpec};

fn hall_with(extra: &str) -> HallSpec {
    HallSpec {
        extra: extra.to_string(),
        ..HallSpec::default()
    }
}

/// One request on a new connection, the answer line (bounded wait).
fn ask(socket: &Path, line: &str) -> String {
    let mut s = UnixStream::connect(socket).expect("socket connects");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // A refused connection may already be closed by the daemon: its line is still there.
    let _ = s.write_all(line.as_bytes());
    let mut answer = String::new();
    BufReader::new(&s).read_line(&mut answer).unwrap();
    answer
}

/// Raise this test process's own open-file limit to at least `n` (up to its hard limit).
fn allow_open_files(n: libc::rlim_t) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < n {
            limit.rlim_cur = n.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
        assert!(
            limit.rlim_cur >= n,
            "this test needs {n} open files; the hard limit is {}",
            limit.rlim_max
        );
    }
}

/// The median time of `n` `status` requests, each on its own connection as the CLI makes them.
fn status_latency(socket: &Path, n: usize) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            let answer = ask(socket, "{\"cmd\":\"status\"}\n");
            assert!(answer.contains("\"ok\":true"), "{answer}");
            start.elapsed()
        })
        .collect();
    times.sort();
    times[n / 2]
}

/// Reproduces: the watchdog probed the hall with `try_send` on its request queue, so 600
/// clients keeping that queue full made hallq withhold WATCHDOG=1 and systemd kill a healthy
/// daemon. Now the hall thread's own heartbeat is checked: WATCHDOG=1 keeps its rate.
#[test]
fn a_flood_of_clients_does_not_starve_the_watchdog() {
    const CLIENTS: usize = 600;
    const REQUESTS: usize = 600;
    allow_open_files((CLIENTS + 200) as libc::rlim_t);
    let mut d = Daemon::new(&hall_with("[control]\nmax_connections = 1000\n"));
    let (notify, path) = NotifySocket::bind(d.dir.path());
    d.env("NOTIFY_SOCKET", &path);
    d.env("WATCHDOG_USEC", "1000000"); // fed every 500 ms
    d.start();
    notify.wait_for("READY=1", Duration::from_secs(10)).unwrap();
    let idle_window = Duration::from_secs(3);
    let idle = count(&notify.collect(idle_window), "WATCHDOG=1");
    assert!(idle >= 3, "fed while idle: {idle}");

    let socket = d.socket();
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let mut s = UnixStream::connect(&socket).expect("connects");
                s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
                // A past day's handoffs: a store read on the hall thread (as a script polling
                // old records would make), so the hall thread is the bottleneck and its request
                // queue stays full.
                let batch = "{\"cmd\":\"handoffs\",\"day\":\"2020-01-01\"}\n".repeat(REQUESTS);
                s.write_all(batch.as_bytes()).unwrap();
                let mut answers = 0;
                for line in BufReader::new(&s).lines() {
                    assert!(line.unwrap().contains("\"ok\":true"));
                    answers += 1;
                    if answers == REQUESTS {
                        break;
                    }
                }
                answers
            })
        })
        .collect();
    let mut during = Vec::new();
    while clients.iter().any(|c| !c.is_finished()) {
        during.extend(notify.collect(Duration::from_millis(200)));
    }
    let flood = started.elapsed();
    let answered: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(answered, CLIENTS * REQUESTS);
    let fed = count(&during, "WATCHDOG=1");
    let idle_rate = idle as f64 / idle_window.as_secs_f64();
    let flood_rate = fed as f64 / flood.as_secs_f64();
    eprintln!(
        "{answered} requests in {flood:?}; WATCHDOG=1 {idle_rate:.2}/s idle, {flood_rate:.2}/s under the flood"
    );
    assert!(
        flood_rate >= 0.6 * idle_rate && fed >= 2,
        "WATCHDOG=1 at {flood_rate:.2}/s under the flood against {idle_rate:.2}/s idle ({fed} in {flood:?})"
    );
    assert!(
        !d.logs().iter().any(|l| l.contains("not answering")),
        "no task looked stuck"
    );
}

/// Reproduces: every connection was served for as long as it stayed open, with no cap; 2,000
/// idle connections took 2,000 of the daemon's file descriptors (1,024 under systemd's
/// default) and new clients, `hallq status` among them, could not even connect. Now the
/// longest-idle connection makes room, so `status` answers as fast as on an idle socket.
#[test]
fn idle_connections_do_not_keep_status_out() {
    allow_open_files(2300);
    let mut d = Daemon::new(&HallSpec::default());
    d.limit_open_files(1024);
    d.start();
    let socket = d.socket();
    let quiet = status_latency(&socket, 41);

    let idle: Vec<UnixStream> = (0..2000)
        .map(|_| UnixStream::connect(&socket).expect("connects"))
        .collect();
    let busy = status_latency(&socket, 41);
    let ratio = busy.as_secs_f64() / quiet.as_secs_f64();
    eprintln!(
        "status median: {quiet:?} quiet, {busy:?} beside 2000 idle connections ({ratio:.2}x)"
    );
    // Normal latency: measured 1.02x on the project machine (BENCHMARKS.md); twice allows for
    // a busy CI host without letting a per-connection cost (which made it 10x and more) pass.
    assert!(
        ratio < 2.0,
        "status {ratio:.1}x slower beside idle connections"
    );
    // The connections made to wait were told why when they were closed.
    let mut first = idle.into_iter().next().unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut text = String::new();
    let _ = first.read_to_string(&mut text);
    assert!(text.contains("make room for another client"), "{text:?}");
}

/// Reproduces: accept errors (EMFILE) were logged once per failure, ten lines a second for as
/// long as the flood lasted. Now: one line, then at most one per minute with a count.
#[test]
fn accept_errors_are_counted_not_logged_one_by_one() {
    allow_open_files(400);
    let mut d = Daemon::new(&hall_with("[control]\nmax_connections = 4096\n"));
    d.limit_open_files(64);
    d.start();
    let socket = d.socket();
    let mut held = Vec::new();
    // Fewer than the listen backlog beyond what the daemon can accept, so connect never blocks.
    for _ in 0..150 {
        match UnixStream::connect(&socket) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    // Keep them while the daemon keeps failing to accept the rest of the backlog.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let lines: Vec<String> = d
        .logs()
        .into_iter()
        .filter(|l| l.contains("accept failed"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("Too many open files"), "{}", lines[0]);
    drop(held);
    // Room again: the daemon serves.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if ask(&socket, "{\"cmd\":\"status\"}\n").contains("\"ok\":true") {
            break;
        }
        assert!(Instant::now() < deadline, "the daemon serves again");
    }
}

/// Reproduces: a client that opened a connection and sent nothing, or half a line, held it
/// forever. Now the idle and line timeouts close it with a reason.
#[test]
fn silent_and_slow_clients_are_timed_out() {
    let d = Daemon::start_new(&hall_with(
        "[control]\nline_timeout_seconds = 1\nidle_timeout_seconds = 2\n",
    ));
    let mut silent = UnixStream::connect(d.socket()).unwrap();
    let mut slow = UnixStream::connect(d.socket()).unwrap();
    slow.write_all(b"{\"cmd\":").unwrap();
    for (s, expected) in [
        (&mut silent, "without a request for 2 s"),
        (&mut slow, "did not end within 1 s"),
    ] {
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text)
            .expect("the daemon closes the connection");
        assert!(text.contains(expected), "{text:?}");
    }
}

/// Reproduces: with the hall thread stuck, the watchdog's probe still went through while the
/// queue had room, and every client that connected waited forever on an unbounded number of
/// connections. Now a frozen hall stops WATCHDOG=1 (no heartbeat), and beyond
/// `max_connections` busy connections a newcomer is refused with a clear line.
#[test]
fn a_frozen_hall_stops_the_watchdog_and_a_full_socket_says_busy() {
    let mut d = Daemon::new(&hall_with("[control]\nmax_connections = 2\n"));
    let (notify, path) = NotifySocket::bind(d.dir.path());
    d.env("NOTIFY_SOCKET", &path);
    d.env("WATCHDOG_USEC", "200000");
    d.env("HALLQ_TEST_HOOKS", "1");
    d.start();
    assert!(count(&notify.collect(Duration::from_millis(600)), "WATCHDOG=1") >= 2);

    std::fs::write(d.dir.path().join("run/test-freeze-hall"), b"").unwrap();
    assert!(d
        .wait_for_log("freezes for good", Duration::from_secs(10))
        .is_some());
    let stuck = d.wait_for_log("not answering", Duration::from_secs(10));
    assert!(stuck.is_some_and(|l| l.contains("hall")), "{:#?}", d.logs());
    let after = notify.collect(Duration::from_millis(1500));
    assert_eq!(count(&after, "WATCHDOG=1"), 0, "{after:?}");

    // Connections that ask the frozen hall wait; once two of them wait (an idle one makes
    // room for a newcomer, so it may take a few), the next client is refused at once.
    let mut waiting = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let mut s = UnixStream::connect(d.socket()).unwrap();
        // Refused itself when the last status was still being answered: try again.
        let _ = s.write_all(b"{\"cmd\":\"queue\"}\n");
        waiting.push(s);
        let answer = ask(&d.socket(), "{\"cmd\":\"status\"}\n");
        if answer.contains("\"code\":\"busy\"") || Instant::now() > deadline {
            break answer;
        }
    };
    assert!(
        refused.contains("control.max_connections"),
        "{refused} (with {} waiting)",
        waiting.len()
    );
}
