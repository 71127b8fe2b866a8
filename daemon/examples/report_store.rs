//! Make a store of one busy month for the report benchmark (BENCHMARKS.md):
//! `cargo run -p hallq --example report_store -- DIR [TICKETS]` writes `DIR/hall.toml` and
//! `DIR/data/hallq.db` with TICKETS tickets (default 100 000) over November 2026, each with its
//! calls and the events the daemon would have logged, and handoffs, then prints the command
//! that times `hallq report month` on it.
//!
//! The rows are written with SQL directly, in the shapes the daemon writes; what they mean is
//! made up (random waits, services and outcomes from a fixed seed).

use std::path::PathBuf;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use rusqlite::params;

const HALL: &str = r#"[hall]
id = "bench-hall"
name = "基准测试政务服务中心"
timezone = "Asia/Shanghai"
data_dir = "data"
runtime_dir = "run"

[[services]]
code = "A"
name = "综合受理"
minutes = 8

[[services]]
code = "B"
name = "社保医保"
minutes = 6

[[services]]
code = "C"
name = "不动产登记"
minutes = 12
"#;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: report_store DIR [TICKETS]")?);
    let total: u64 = args.next().map_or(Ok(100_000), |n| n.parse())?;
    std::fs::create_dir_all(&dir)?;
    let mut hall = HALL.to_string();
    for w in 1..=12 {
        let [first, second, third] = [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"]][w % 3];
        hall.push_str(&format!(
            "\n[[windows]]\nnumber = {w}\nname = \"{w}号窗口\"\nserves = [[\"{first}\"], [\"{second}\", \"{third}\"]]\n"
        ));
    }
    std::fs::write(dir.join("hall.toml"), hall)?;
    let db = dir.join("data/hallq.db");
    drop(hallq::store::Store::open(&db)?);
    let mut conn = rusqlite::Connection::open(&db)?;
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT OR IGNORE INTO hall (id, hall_id, business_day) VALUES (1, 'bench-hall', '2026-11-30')",
        [],
    )?;
    let mut rng = Rng(0x0bad_5eed);
    let days = 30u64;
    let per_day = total.div_ceil(days);
    let mut ticket = tx.prepare(
        "INSERT INTO tickets (id, business_day, service, seq, number, current_service, class, state,
            queue_key, issued_at, waiting_since, called_at, started_at, finished_at, window, clerk,
            call_reason, case_no, evaluation, evaluated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    )?;
    let mut call = tx.prepare(
        "INSERT INTO calls (ticket_id, window, at, reason, recall, clerk) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut event = tx.prepare(
        "INSERT INTO events (id, kind, at, business_day, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut handoff = tx.prepare(
        "INSERT INTO handoffs (id, case_no, title, method, carrier, tracking, address, recipient,
            phone, clerk, window, at, business_day)
         VALUES (?1, ?2, '营业执照', ?3, ?4, ?5, ?6, '张三', '13812345678', 'S01', 12, ?7, ?8)",
    )?;
    let mut written = 0u64;
    let mut events = 0u64;
    for d in 0..days {
        let day = date(2026, 11, 1).checked_add(jiff::Span::new().days(d as i64))?;
        let open = day.at(8, 30, 0, 0).in_tz("Asia/Shanghai")?.timestamp();
        let mut seq = [0u32; 3];
        for i in 0..per_day.min(total - written) {
            let s = rng.below(3) as usize;
            seq[s] += 1;
            let service = ["A", "B", "C"][s];
            let number = format!("{service}{:04}", seq[s]);
            let id = format!("{}-{number}", day.strftime("%Y%m%d"));
            let issued = open + SignedDuration::from_secs((i * 32_400 / per_day) as i64);
            let class = match rng.below(100) {
                0..=7 => "green",
                8..=10 => "reservation",
                _ => "normal",
            };
            let wait = SignedDuration::from_secs(rng.below(3600) as i64);
            let called = issued + wait;
            let started = called + SignedDuration::from_secs(30 + rng.below(90) as i64);
            let finished = started + SignedDuration::from_secs(120 + rng.below(600) as i64);
            let (state, at_window) = match rng.below(100) {
                0..=4 => ("no_show", true),
                5 => ("voided", false),
                6..=8 => ("expired", false),
                _ => ("done", true),
            };
            let window = 1 + rng.below(12) as i64;
            let clerk = format!("S{:02}", (window + d as i64) % 20 + 1);
            let reason = [
                "fifo",
                "fifo",
                "fifo",
                "green",
                "max-wait",
                "streak-guard",
                "explicit",
            ][rng.below(7) as usize];
            let ts = |t: Timestamp| t.to_string();
            let done = state == "done";
            let evaluation = (done && rng.below(10) < 7).then(|| 1 + rng.below(5) as i64);
            ticket.execute(params![
                id,
                day.to_string(),
                service,
                seq[s],
                number,
                service,
                class,
                state,
                (written as i64) << 32,
                ts(issued),
                at_window.then(|| ts(called)),
                done.then(|| ts(started)),
                (state != "expired").then(|| ts(finished)),
                at_window.then_some(window),
                at_window.then(|| clerk.clone()),
                at_window.then_some(reason),
                done.then(|| format!("ZW{id}")),
                evaluation,
                evaluation.map(|_| ts(finished + SignedDuration::from_secs(20))),
            ])?;
            let body = serde_json::json!({
                "ticket": id, "number": number, "service": service, "seq": seq[s], "class": class,
                "ahead": wait.as_secs() / 300, "estimated_wait_minutes": wait.as_secs() / 60 + rng.below(10) as i64,
            });
            let mut log = vec![("ticket_issued", issued, body)];
            if at_window {
                call.execute(params![id, window, ts(called), reason, false, clerk])?;
                let b = serde_json::json!({"ticket": id, "window": window, "clerk": clerk, "reason": reason});
                log.push(("ticket_called", called, b.clone()));
                log.push(("service_started", started, b.clone()));
                log.push(("service_finished", finished, b));
            }
            if rng.below(100) < 3 {
                let to = ["A", "B", "C"][(s + 1) % 3];
                let b = serde_json::json!({"ticket": id, "window": window, "clerk": clerk, "service": to, "to": to});
                log.push(("ticket_transferred", started, b));
            }
            if rng.below(100) < 3 {
                let b = serde_json::json!({"ticket": id, "window": window, "clerk": clerk, "service": service});
                log.push(("ticket_held", started, b));
            }
            for (kind, at, body) in log {
                events += 1;
                event.execute(params![
                    format!("e{events}"),
                    kind,
                    ts(at),
                    day.to_string(),
                    body.to_string()
                ])?;
            }
            written += 1;
        }
        for h in 0..40 {
            let at = open + SignedDuration::from_mins(10 * h);
            let mail = h % 3 == 0;
            handoff.execute(params![
                format!("H{}-{h:04}", day.strftime("%Y%m%d")),
                format!("CJ{}{h:04}", day.strftime("%Y%m%d")),
                if mail { "mail" } else { "pickup" },
                mail.then_some("sf"),
                mail.then(|| format!("SF{:012}", d * 100 + h as u64)),
                mail.then_some("内蒙古鄂尔多斯市乌审旗"),
                at.to_string(),
                day.to_string(),
            ])?;
        }
    }
    drop((ticket, call, event, handoff));
    tx.commit()?;
    println!("{written} tickets, {events} events in {}", db.display());
    println!(
        "time target/release/hallq --config {} report month 2026-11 --format html --output /dev/null",
        dir.join("hall.toml").display()
    );
    Ok(())
}
