//! The sim transport end to end through the printer task: tickets as `.bin` + `.txt`, and a
//! `status` file that simulates faults.

use std::time::Duration;

use hallq_drivers::transport::{self, SimConfig, TransportConfig};
use hallq_drivers::{encode_ticket, spawn_printer, HealthState, PrintError, Profile, Refusal};

use crate::task::{config, ticket, wait_health};

#[tokio::test]
async fn tickets_land_in_the_folder_and_the_status_file_refuses() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0041-Z999.bin"), b"").unwrap(); // from an earlier run
    let transport = TransportConfig::Sim(SimConfig::new(dir.path()));
    let connect = move || {
        let transport = transport.clone();
        async move { transport::open(&transport).await }
    };
    let mut cfg = config();
    cfg.status_max_age = Duration::ZERO;
    let (printer, _join) = spawn_printer(cfg, connect);
    wait_health(&mut printer.health(), HealthState::Online, None).await;

    assert_eq!(printer.status().await.unwrap().refusal(), None);
    printer.print(ticket("A012")).await.unwrap();
    let bin = std::fs::read(dir.path().join("0042-A012.bin")).unwrap();
    assert_eq!(bin, encode_ticket(&ticket("A012"), &Profile::MM80));
    let txt = std::fs::read_to_string(dir.path().join("0042-A012.txt")).unwrap();
    assert_eq!(
        txt,
        "乌审旗政务服务中心\n综合受理\nA012\n前面还有 2 人\n预计等候约 16 分钟\n\
         取号时间 2026-11-26 09:41\n[QR] https://q.example/t/A012\n请留意叫号\n"
    );

    std::fs::write(dir.path().join("status"), "paper_out\n").unwrap();
    assert_eq!(
        printer.status().await.unwrap().refusal(),
        Some(Refusal::PaperOut)
    );
    let err = printer.print(ticket("A013")).await.unwrap_err();
    assert!(
        matches!(err, PrintError::Refused(Refusal::PaperOut)),
        "{err:?}"
    );

    std::fs::write(dir.path().join("status"), "paper_near_end").unwrap();
    printer.print(ticket("A014")).await.unwrap();
    assert!(dir.path().join("0043-A014.bin").exists());
    assert!(!dir.path().join("0043-A013.bin").exists());
}
