//! What the kernel says about a process: the CPU time it has used (for tests that prove a
//! daemon idles while something it needs is gone).

use std::time::Duration;

/// User plus system CPU time the process has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at field 3.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .unwrap();
    let per_second: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    Duration::from_millis(ticks * 1000 / per_second)
}
