//! Power cuts: the daemon is killed mid-day and comes back where it was.

use hallq_tests::util::{Daemon, HallSpec};

#[test]
fn a_killed_daemon_continues_numbering_and_keeps_every_window() {
    let mut d = Daemon::start_new(&HallSpec::default());
    d.ok(&["login", "1", "clerk-01"]);
    d.ok(&["login", "4", "clerk-04"]);
    let mut numbers = Vec::new();
    for _ in 0..42 {
        numbers.push(
            d.ok(&["issue", "A"])["number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(numbers.last().unwrap(), "A042");
    d.ok(&["call", "1"]);
    d.ok(&["call", "4"]);
    d.ok(&["start", "4"]);
    d.ok(&["pause", "1"]);
    let before = d.status();

    d.kill(); // no shutdown path at all
    d.start();

    let after = d.status();
    assert_eq!(
        after["windows"], before["windows"],
        "windows keep their clerk, state and ticket"
    );
    assert_eq!(after["waiting"], before["waiting"]);
    assert_eq!(after["windows"][0]["number"], "A001");
    assert_eq!(after["windows"][0]["state"], "paused");
    assert_eq!(after["windows"][3]["clerk"], "clerk-04");
    assert_eq!(d.ok(&["issue", "A"])["number"], "A043");
    // The window's ticket is still the one it had: finishing it works after the restart.
    d.ok(&["finish", "4", "--case", "ZW-1"]);
    assert_eq!(d.ok(&["call", "4"])["number"], "A003");
}
