//! Exact-byte tests of the ticket encoder, section by section, for both paper widths.

use super::*;
use crate::escpos::render::{chinese_runs, render_text};
use crate::escpos::text::text_columns;
use proptest::prelude::*;

fn small_ticket() -> TicketPrint {
    TicketPrint {
        hall_name: "政务中心".into(),
        service_name: "综合受理".into(),
        number: "A012".into(),
        class: TicketClass::Green,
        slot: None,
        ahead: 3,
        wait_minutes: Some(24),
        issued_at: "2026-11-26 09:41".into(),
        qr: Some("https://q.example/t/A012".into()),
        footer: vec!["请留意叫号".into()],
        green_badge: None,
        windows: None,
    }
}

/// The expected bytes, written out by hand (GB18030 codes from the GB18030 tables).
fn expected_sections(number_size: u8, qr_module: u8) -> Vec<(&'static str, Vec<u8>)> {
    let cat = |parts: &[&[u8]]| parts.concat();
    vec![
        ("init", vec![0x1B, 0x40, 0x1B, 0x61, 0x01]),
        (
            "hall name, bold",
            cat(&[
                &[0x1B, 0x45, 0x01],
                &[
                    0x1C, 0x26, 0xD5, 0xFE, 0xCE, 0xF1, 0xD6, 0xD0, 0xD0, 0xC4, 0x1C, 0x2E, 0x0A,
                ],
                &[0x1B, 0x45, 0x00],
            ]),
        ),
        (
            "service name, double height",
            cat(&[
                &[0x1D, 0x21, 0x01],
                &[
                    0x1C, 0x26, 0xD7, 0xDB, 0xBA, 0xCF, 0xCA, 0xDC, 0xC0, 0xED, 0x1C, 0x2E, 0x0A,
                ],
                &[0x1D, 0x21, 0x00],
            ]),
        ),
        (
            "number, large and bold",
            cat(&[
                &[0x1D, 0x21, number_size, 0x1B, 0x45, 0x01],
                b"A012\n",
                &[0x1B, 0x45, 0x00, 0x1D, 0x21, 0x00],
            ]),
        ),
        (
            "green badge, double size, reversed",
            cat(&[
                &[0x1D, 0x21, 0x11, 0x1D, 0x42, 0x01],
                &[
                    0x20, 0x1C, 0x26, 0xC2, 0xCC, 0xC9, 0xAB, 0xCD, 0xA8, 0xB5, 0xC0, 0x1C, 0x2E,
                ],
                &[0x20, 0x0A],
                &[0x1D, 0x42, 0x00, 0x1D, 0x21, 0x00],
            ]),
        ),
        (
            "people ahead",
            cat(&[
                &[
                    0x1C, 0x26, 0xC7, 0xB0, 0xC3, 0xE6, 0xBB, 0xB9, 0xD3, 0xD0, 0x1C, 0x2E,
                ],
                b" 3 ",
                &[0x1C, 0x26, 0xC8, 0xCB, 0x1C, 0x2E, 0x0A],
            ]),
        ),
        (
            "estimated wait",
            cat(&[
                &[
                    0x1C, 0x26, 0xD4, 0xA4, 0xBC, 0xC6, 0xB5, 0xC8, 0xBA, 0xF2, 0xD4, 0xBC,
                ],
                &[0x1C, 0x2E],
                b" 24 ",
                &[0x1C, 0x26, 0xB7, 0xD6, 0xD6, 0xD3, 0x1C, 0x2E, 0x0A],
            ]),
        ),
        (
            "issue time",
            cat(&[
                &[
                    0x1C, 0x26, 0xC8, 0xA1, 0xBA, 0xC5, 0xCA, 0xB1, 0xBC, 0xE4, 0x1C, 0x2E,
                ],
                b" 2026-11-26 09:41\n",
            ]),
        ),
        (
            "QR code",
            cat(&[
                &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00],
                &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, qr_module],
                &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31],
                &[0x1D, 0x28, 0x6B, 0x1B, 0x00, 0x31, 0x50, 0x30],
                b"https://q.example/t/A012",
                &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30],
                &[0x0A],
            ]),
        ),
        (
            "footer",
            vec![
                0x1C, 0x26, 0xC7, 0xEB, 0xC1, 0xF4, 0xD2, 0xE2, 0xBD, 0xD0, 0xBA, 0xC5, 0x1C, 0x2E,
                0x0A,
            ],
        ),
        ("feed and cut", vec![0x1D, 0x56, 0x42, 0x00]),
    ]
}

fn assert_sections(actual: &[u8], sections: &[(&str, Vec<u8>)]) {
    let mut at = 0;
    for (name, bytes) in sections {
        let end = (at + bytes.len()).min(actual.len());
        assert_eq!(
            hex(&actual[at..end]),
            hex(bytes),
            "section {name:?} at byte {at} differs"
        );
        at = end;
    }
    assert_eq!(at, actual.len(), "trailing bytes: {}", hex(&actual[at..]));
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn exact_bytes_58mm() {
    let bytes = encode_ticket(&small_ticket(), &Profile::MM58);
    assert_sections(&bytes, &expected_sections(0x33, 5));
}

#[test]
fn exact_bytes_80mm() {
    let bytes = encode_ticket(&small_ticket(), &Profile::MM80);
    assert_sections(&bytes, &expected_sections(0x44, 6));
}

#[test]
fn chinese_runs_decode_to_the_expected_lines() {
    let bytes = encode_ticket(&small_ticket(), &Profile::MM58);
    assert_eq!(
        chinese_runs(&bytes),
        [
            "政务中心",
            "综合受理",
            "绿色通道",
            "前面还有",
            "人",
            "预计等候约",
            "分钟",
            "取号时间",
            "请留意叫号"
        ]
    );
    let rendered = render_text(&bytes);
    assert_eq!(
        rendered.lines,
        [
            "政务中心",
            "综合受理",
            "A012",
            " 绿色通道 ",
            "前面还有 3 人",
            "预计等候约 24 分钟",
            "取号时间 2026-11-26 09:41",
            "[QR] https://q.example/t/A012",
            "请留意叫号",
        ]
    );
    assert_eq!(rendered.cuts, 1);
    assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
}

#[test]
fn badges_and_optional_lines() {
    let mut ticket = small_ticket();
    ticket.class = TicketClass::Reservation;
    ticket.wait_minutes = None;
    ticket.qr = None;
    let lines = render_text(&encode_ticket(&ticket, &Profile::MM80)).lines;
    assert!(lines.contains(&" 预约 ".to_string()), "{lines:?}");
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("预计") || l.starts_with("[QR]")));

    ticket.class = TicketClass::Normal;
    let lines = render_text(&encode_ticket(&ticket, &Profile::MM80)).lines;
    assert_eq!(lines[3], "前面还有 3 人");
}

#[test]
fn the_hall_s_green_channel_name_and_the_windows_that_call_the_ticket() {
    let mut ticket = small_ticket();
    ticket.green_badge = Some("爱心窗口".into());
    ticket.windows = Some("请到 1-12号窗口".into());
    let bytes = encode_ticket(&ticket, &Profile::MM58);
    let cat = |parts: &[&[u8]]| parts.concat();
    // The badge: 爱心窗口 in GB18030, double size and reversed like every badge.
    let badge = cat(&[
        &[0x1D, 0x21, 0x11, 0x1D, 0x42, 0x01],
        &[
            0x20, 0x1C, 0x26, 0xB0, 0xAE, 0xD0, 0xC4, 0xB4, 0xB0, 0xBF, 0xDA, 0x1C, 0x2E,
        ],
        &[0x20, 0x0A],
        &[0x1D, 0x42, 0x00, 0x1D, 0x21, 0x00],
    ]);
    // 请到 1-12号窗口, after the wait line and before the issue time.
    let windows = cat(&[
        &[0x1C, 0x26, 0xC7, 0xEB, 0xB5, 0xBD, 0x1C, 0x2E],
        b" 1-12",
        &[
            0x1C, 0x26, 0xBA, 0xC5, 0xB4, 0xB0, 0xBF, 0xDA, 0x1C, 0x2E, 0x0A,
        ],
    ]);
    let mut sections = expected_sections(0x33, 5);
    sections[4] = ("爱心窗口 badge", badge);
    sections.insert(7, ("windows", windows));
    assert_sections(&bytes, &sections);

    // A normal ticket keeps no badge; a name too wide for a double-size line wraps.
    ticket.class = TicketClass::Normal;
    assert!(!render_text(&encode_ticket(&ticket, &Profile::MM58))
        .lines
        .iter()
        .any(|l| l.contains("爱心")));
    ticket.class = TicketClass::Green;
    ticket.green_badge = Some("乌审旗政务服务中心爱心服务窗口".into());
    let rendered = render_text(&encode_ticket(&ticket, &Profile::MM58));
    assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
    assert!(rendered.lines.contains(
        &"乌审旗政务服务中心爱心服务窗口"
            .chars()
            .take(8)
            .collect::<String>()
    ));
}

#[test]
fn a_reservation_badge_names_its_slot_byte_for_byte() {
    let mut ticket = small_ticket();
    ticket.class = TicketClass::Reservation;
    ticket.slot = Some("09:30".into());
    let bytes = encode_ticket(&ticket, &Profile::MM58);
    // GS ! 0x11, GS B 1, " " FS & 预约 FS . " 09:30 " LF, GS B 0, GS ! 0
    let badge: &[u8] = &[
        0x1D, 0x21, 0x11, 0x1D, 0x42, 0x01, 0x20, 0x1C, 0x26, 0xD4, 0xA4, 0xD4, 0xBC, 0x1C, 0x2E,
        b' ', b'0', b'9', b':', b'3', b'0', b' ', 0x0A, 0x1D, 0x42, 0x00, 0x1D, 0x21, 0x00,
    ];
    assert!(
        bytes.windows(badge.len()).any(|w| w == badge),
        "the badge bytes are in the ticket"
    );
    let lines = render_text(&bytes).lines;
    assert!(lines.contains(&" 预约 09:30 ".to_string()), "{lines:?}");
    // Only a reservation shows a slot.
    ticket.class = TicketClass::Green;
    let lines = render_text(&encode_ticket(&ticket, &Profile::MM58)).lines;
    assert!(!lines.iter().any(|l| l.contains("09:30")), "{lines:?}");
}

#[test]
fn long_text_wraps_to_the_paper() {
    let mut ticket = small_ticket();
    ticket.hall_name = "鄂尔多斯市乌审旗人民政府政务服务中心（乌审旗便民服务大厅）".into();
    ticket.footer =
        vec!["Please keep this ticket until your number is called at the window.".into()];
    for profile in [Profile::MM58, Profile::MM80] {
        let rendered = render_text(&encode_ticket(&ticket, &profile));
        for line in &rendered.lines {
            if !line.starts_with("[QR]") {
                assert!(
                    text_columns(line) <= profile.columns,
                    "{line:?} too wide on {}",
                    profile.paper
                );
            }
        }
        assert!(rendered.lines[0].starts_with("鄂尔多斯"));
    }
    let lines = render_text(&encode_ticket(&ticket, &Profile::MM58)).lines;
    assert_eq!(lines[0], "鄂尔多斯市乌审旗人民政府政务服务");
    assert_eq!(lines[1], "中心（乌审旗便民服务大厅）");
}

#[test]
fn oversized_or_control_qr_payloads_are_not_printed_raw() {
    let mut ticket = small_ticket();
    ticket.qr = Some("x".repeat(QR_MAX_PAYLOAD + 1));
    assert!(render_text(&encode_ticket(&ticket, &Profile::MM58))
        .qr
        .is_empty());
    ticket.qr = Some("https://q.example/\x10\x04a".into());
    assert_eq!(
        render_text(&encode_ticket(&ticket, &Profile::MM58)).qr,
        ["https://q.example/a"]
    );
}

#[test]
fn paper_names() {
    assert_eq!("58mm".parse(), Ok(PaperWidth::Mm58));
    assert_eq!(Profile::for_paper("80mm".parse().unwrap()), Profile::MM80);
    assert!("76mm".parse::<PaperWidth>().is_err());
}

fn any_ticket() -> impl Strategy<Value = TicketPrint> {
    let text = || {
        prop_oneof![
            "[a-zA-Z0-9 ]{0,40}",
            "[政务服务中心综合受理请 A-Z0-9]{0,40}",
            any::<String>()
        ]
    };
    (
        text(),
        text(),
        "[A-Z]{1,2}[0-9]{3,4}",
        any::<u32>(),
        any::<Option<u32>>(),
        any::<Option<String>>(),
        text(),
    )
        .prop_map(
            |(hall_name, service_name, number, ahead, wait_minutes, qr, footer)| TicketPrint {
                hall_name,
                service_name,
                number,
                class: TicketClass::Green,
                slot: None,
                ahead,
                wait_minutes,
                issued_at: "2026-11-26 09:41".into(),
                qr,
                footer: vec![footer],
                green_badge: Some("爱心窗口".into()),
                windows: Some("请到 1-12、14号窗口".into()),
            },
        )
}

proptest! {
    /// A real-time command (DLE EOT, DLE ENQ, DLE DC4) inside a ticket would make the printer
    /// answer in the middle of a print; the encoder never produces one.
    #[test]
    fn no_real_time_command_inside_a_ticket(ticket in any_ticket()) {
        for profile in [Profile::MM58, Profile::MM80] {
            let bytes = encode_ticket(&ticket, &profile);
            prop_assert!(!bytes.windows(2).any(|w| w[0] == 0x10 && matches!(w[1], 0x04 | 0x05 | 0x14)));
            let rendered = render_text(&bytes);
            prop_assert!(rendered.errors.is_empty());
            for line in rendered.lines.iter().filter(|l| !l.starts_with("[QR]")) {
                prop_assert!(text_columns(line) <= profile.columns);
            }
        }
    }
}
