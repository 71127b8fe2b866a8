//! The simulated device against the profile's rules, one request at a time: every rule of
//! `docs/devices/modbus-profile.md` a host could break is refused as the document says.

use hallq_display::{AnyFrame, BoardSpec};
use tokio_modbus::ExceptionCode;

use super::*;
use crate::modbus::keys::EventBlock;
use crate::modbus::pad::TextSize;
use crate::modbus::profile::{holding, CommitResult};

fn board() -> SimDevice {
    SimDevice::board(
        DeviceKind::WindowDisplay,
        BoardSpec::from_config("64x16", 1).unwrap(),
    )
}

fn write(d: &mut SimDevice, addr: u16, words: Vec<u16>) -> Reply {
    d.answer(&Request::WriteMultiple { addr, words }).unwrap()
}

fn read_input(d: &mut SimDevice, addr: u16, count: u16) -> Reply {
    d.answer(&Request::ReadInput { addr, count }).unwrap()
}

fn read_holding(d: &mut SimDevice, addr: u16, count: u16) -> Reply {
    d.answer(&Request::ReadHolding { addr, count }).unwrap()
}

fn words(reply: Reply) -> Vec<u16> {
    match reply {
        Ok(Answer::Registers { words, .. }) => words,
        other => panic!("not registers: {other:?}"),
    }
}

fn screen(d: &SimDevice) -> &SimScreen {
    d.screen.as_ref().unwrap()
}

/// A frame with one pixel lit at (x, 0).
fn lit(spec: BoardSpec, x: u32) -> AnyFrame {
    let mut f = AnyFrame::new(spec);
    let AnyFrame::Mono(m) = &mut f else {
        panic!("mono")
    };
    m.set_pixel(x, 0, true.into());
    f
}

const REFUSED: Reply = Err(ExceptionCode::IllegalDataValue);
const NO_ADDRESS: Reply = Err(ExceptionCode::IllegalDataAddress);

#[test]
fn commit_applies_the_open_update_once() {
    let mut b = board();
    let spec = b.frame().unwrap().spec();
    let next = lit(spec, 9);
    let update = next.encode_update(None).to_bytes();
    for w in profile::update_writes(1, 0, &update) {
        write(&mut b, w.addr, w.words).unwrap();
    }
    assert_eq!(b.frame(), Some(&next));
    assert_eq!((screen(&b).applied_seq, screen(&b).commits), (1, 1));
    // The same commit again (point 6): answered normally, LAST_RESULT 0, nothing applied.
    write(&mut b, holding::COMMIT, vec![1, 0]).unwrap();
    assert_eq!(screen(&b).commits, 1);
    assert_eq!(screen(&b).last_result, CommitResult::Applied);
    // A commit nobody opened is refused.
    assert_eq!(write(&mut b, holding::COMMIT, vec![5, 1]), REFUSED);
    assert_eq!(screen(&b).last_result, CommitResult::SeqMismatch);
}

#[test]
fn power_up_reads_applied_0_and_last_result_0() {
    // Point 6.
    let mut b = board();
    assert_eq!(words(read_input(&mut b, 0x0010, 2)), [0, 0]);
    write(&mut b, holding::HEADER, vec![0, 0, 20]).unwrap_err();
    assert_eq!(words(read_input(&mut b, 0x0011, 1)), [1]);
    b.power_cycle(1, FifoOnPowerCycle::Lose);
    assert_eq!(words(read_input(&mut b, 0x0010, 2)), [0, 0]);
}

#[test]
fn changed_rows_with_base_0_are_refused_even_at_power_up() {
    // Point 3: APPLIED_SEQ 0 and base 0 "match", yet rows need a known picture.
    let mut b = board();
    let spec = b.frame().unwrap().spec();
    let blank = AnyFrame::new(spec);
    let rows = lit(spec, 0).encode_update(Some(&blank));
    assert!(!rows.is_full());
    let writes = profile::update_writes(1, 0, &rows.to_bytes());
    for w in &writes[..writes.len() - 1] {
        write(&mut b, w.addr, w.words.clone()).unwrap();
    }
    assert_eq!(write(&mut b, holding::COMMIT, vec![1, 0]), REFUSED);
    assert_eq!(screen(&b).last_result, CommitResult::BaseMismatch);
    assert_eq!(screen(&b).applied_seq, 0);
    assert_eq!(b.frame(), Some(&blank));
    // The open update is discarded: committing again finds none.
    assert_eq!(write(&mut b, holding::COMMIT, vec![1, 0]), REFUSED);
    assert_eq!(screen(&b).last_result, CommitResult::SeqMismatch);
    // Rows against a base the device does not show: refused too.
    let full = lit(spec, 1).encode_update(None).to_bytes();
    for w in profile::update_writes(4, 0, &full) {
        write(&mut b, w.addr, w.words).unwrap();
    }
    let rows = lit(spec, 2).encode_update(Some(&lit(spec, 1))).to_bytes();
    for w in profile::update_writes(5, 3, &rows) {
        let _ = write(&mut b, w.addr, w.words);
    }
    assert_eq!(screen(&b).last_result, CommitResult::BaseMismatch);
    assert_eq!(b.frame(), Some(&lit(spec, 1)));
}

#[test]
fn a_header_with_sequence_0_is_refused_and_discards_the_open_update() {
    // Point 4.
    let mut b = board();
    let spec = b.frame().unwrap().spec();
    let full = lit(spec, 3).encode_update(None).to_bytes();
    let writes = profile::update_writes(2, 0, &full);
    for w in &writes[..writes.len() - 1] {
        write(&mut b, w.addr, w.words.clone()).unwrap();
    }
    assert_eq!(
        write(&mut b, holding::HEADER, vec![0, 0, full.len() as u16]),
        REFUSED
    );
    assert_eq!(screen(&b).last_result, CommitResult::BadHeader);
    // Nothing is open: the commit of seq 2 is refused, the screen stays dark.
    assert_eq!(write(&mut b, holding::COMMIT, vec![2, 0]), REFUSED);
    assert_eq!(screen(&b).last_result, CommitResult::SeqMismatch);
    assert!(b.frame().unwrap() == &AnyFrame::new(spec));
    // Header reads back 0 when nothing is open (point 5).
    assert_eq!(words(read_holding(&mut b, holding::HEADER, 3)), [0, 0, 0]);
    // Length 0 and length above CAPACITY: the same.
    let cap = b.identity.base.capacity;
    assert_eq!(write(&mut b, holding::HEADER, vec![3, 0, 0]), REFUSED);
    assert_eq!(
        write(&mut b, holding::HEADER, vec![3, 0, cap as u16 + 1]),
        REFUSED
    );
    assert_eq!(screen(&b).last_result, CommitResult::BadHeader);
}

#[test]
fn a_commit_after_a_lost_chunk_is_refused_as_incomplete() {
    // Point 7: the leftover bytes of an earlier update must never be decoded.
    let spec = BoardSpec::from_config("192x32", 2).unwrap();
    let mut b = SimDevice::board(DeviceKind::WindowDisplay, spec);
    let first = AnyFrame::new(spec).encode_update(None).to_bytes();
    let writes = profile::update_writes(1, 0, &first);
    assert!(writes.len() > 3, "needs chunks: {}", writes.len());
    for w in &writes {
        write(&mut b, w.addr, w.words.clone()).unwrap();
    }
    // The same full frame again with seq 2, but its second chunk lost: the window still holds
    // the first update's bytes there, which would decode.
    let writes = profile::update_writes(2, 1, &first);
    for (i, w) in writes.iter().enumerate() {
        if i == 1 {
            continue;
        }
        let reply = write(&mut b, w.addr, w.words.clone());
        if i + 1 < writes.len() {
            reply.unwrap();
        } else {
            assert_eq!(reply, REFUSED);
        }
    }
    assert_eq!(screen(&b).last_result, CommitResult::Incomplete);
    assert_eq!(screen(&b).applied_seq, 1);
    // Chunks out of order: the mark of registers written without a gap stops at the gap.
    let mut writes = profile::update_writes(3, 1, &first);
    let commit = writes.pop().unwrap();
    writes.swap(1, 2);
    writes.insert(1, writes[0].clone());
    for w in &writes {
        write(&mut b, w.addr, w.words.clone()).unwrap();
    }
    // Chunk 2 before chunk 1 leaves the mark at the end of chunk 0; chunk 1 then extends it
    // only to its own end, so the update is incomplete (the host always writes in order).
    assert_eq!(write(&mut b, commit.addr, commit.words.clone()), REFUSED);
    assert_eq!(screen(&b).last_result, CommitResult::Incomplete);
    // In order, with one chunk repeated: applied.
    let mut writes = profile::update_writes(4, 1, &first);
    writes.insert(2, writes[1].clone());
    for w in writes {
        write(&mut b, w.addr, w.words).unwrap();
    }
    assert_eq!(screen(&b).applied_seq, 4);
}

#[test]
fn reserved_and_unmapped_registers() {
    // Point 2.
    let mut b = board();
    assert_eq!(words(read_input(&mut b, 0x0008, 8)), [0; 8]);
    assert_eq!(words(read_input(&mut b, 0x0000, 0x20)).len(), 32);
    assert_eq!(read_input(&mut b, 0x001F, 2), NO_ADDRESS);
    assert_eq!(read_input(&mut b, 0x0020, 1), NO_ADDRESS);
    assert_eq!(
        read_input(&mut b, 0x0100, 26),
        NO_ADDRESS,
        "a display has no keys"
    );
    assert_eq!(read_holding(&mut b, 0x0000, 2), NO_ADDRESS);
    assert_eq!(write(&mut b, 0x0FF2, vec![0]), NO_ADDRESS);
    assert_eq!(words(read_holding(&mut b, 0x0FF2, 11)), [0; 11]);
    assert_eq!(read_input(&mut b, 0, 0), REFUSED);
    assert_eq!(read_input(&mut b, 0, 126), REFUSED);
}

#[test]
fn holding_registers_read_back() {
    // Point 5.
    let mut b = board();
    let spec = b.frame().unwrap().spec();
    let full = lit(spec, 5).encode_update(None).to_bytes();
    let writes = profile::update_writes(7, 0, &full);
    write(&mut b, writes[0].addr, writes[0].words.clone()).unwrap();
    let len = full.len() as u16;
    assert_eq!(words(read_holding(&mut b, holding::HEADER, 3)), [7, 0, len]);
    assert_eq!(words(read_holding(&mut b, holding::COMMIT, 2)), [0, 0]);
    assert_eq!(
        words(read_holding(&mut b, holding::WINDOW, 2)),
        writes[0].words[3..5]
    );
    write(&mut b, holding::COMMIT, vec![7, 0]).unwrap();
    assert_eq!(words(read_holding(&mut b, holding::COMMIT, 2)), [7, 0]);
    assert_eq!(words(read_holding(&mut b, holding::HEADER, 3)), [0, 0, 0]);
    // The window keeps what was written.
    assert_eq!(
        words(read_holding(&mut b, holding::WINDOW, 2)),
        writes[0].words[3..5]
    );
}

#[test]
fn bad_addresses_and_lengths_are_exceptions() {
    let mut b = board();
    let cap = b.identity.base.capacity;
    assert_eq!(write(&mut b, 0x0FFE, vec![0, 1]), NO_ADDRESS);
    assert_eq!(write(&mut b, holding::COMMIT, vec![1]), NO_ADDRESS);
    assert_eq!(write(&mut b, holding::COMMIT, vec![1, 0, 0]), NO_ADDRESS);
    let past = holding::WINDOW + (cap as u16).div_ceil(2);
    assert_eq!(write(&mut b, past, vec![1]), NO_ADDRESS);
    assert_eq!(
        b.answer(&Request::Other {
            function: 0x01,
            data: vec![0, 0, 0, 1]
        }),
        Some(Err(ExceptionCode::IllegalFunction))
    );
    assert_eq!(
        words(read_input(&mut b, 0, 8)),
        [1, 1, 64, 16, 1, SIM_FIRMWARE, 0, 6 + 16 * 8]
    );
    b.silent = true;
    assert_eq!(b.answer(&Request::ReadInput { addr: 0, count: 8 }), None);
}

fn pad() -> SimDevice {
    SimDevice::input(
        DeviceKind::CallPad,
        InputSpec {
            screen: None,
            text: TextSize {
                lines: 2,
                columns: 16,
            },
            leds: 5,
            fifo_depth: 16,
        },
        0x1234,
    )
}

fn block(d: &mut SimDevice) -> EventBlock {
    EventBlock::decode(&words(read_input(d, 0x0100, 26))).unwrap()
}

#[test]
fn the_fifo_shows_the_oldest_8_and_drops_what_is_acked() {
    let mut p = pad();
    assert_eq!(block(&mut p).events, []);
    for i in 0..10 {
        assert_eq!(p.press(1, i).unwrap().1.seq, i + 1);
    }
    let b = block(&mut p);
    assert_eq!(b.epoch, 0x1234);
    assert_eq!(b.events.len(), 8);
    assert_eq!(b.events[7].seq, 8);
    // An ack of another epoch is ignored; a single-register ack is refused.
    write(&mut p, 0x0000, vec![0x1235, 8]).unwrap();
    assert_eq!(block(&mut p).events.len(), 8);
    assert_eq!(
        p.answer(&Request::WriteSingle { addr: 0, value: 1 }),
        Some(NO_ADDRESS)
    );
    write(&mut p, 0x0000, vec![0x1234, 8]).unwrap();
    let b = block(&mut p);
    assert_eq!(b.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [9, 10]);
    assert_eq!(words(read_holding(&mut p, 0x0000, 2)), [0x1234, 8]);
    // Acking again, or an older seq, drops nothing more.
    write(&mut p, 0x0000, vec![0x1234, 3]).unwrap();
    assert_eq!(block(&mut p).events.len(), 2);
    // A full FIFO refuses presses without taking a seq.
    for _ in 0..14 {
        p.press(2, 0).unwrap();
    }
    assert_eq!(p.press(2, 0), None);
    assert_eq!(p.keys.as_ref().unwrap().refused, 1);
    write(&mut p, 0x0000, vec![0x1234, 24]).unwrap();
    assert_eq!(p.press(3, 0).unwrap().1.seq, 25);
}

#[test]
fn a_power_cycle_draws_a_new_epoch_and_keeps_or_loses_the_fifo() {
    let mut p = pad();
    p.press(1, 0).unwrap();
    p.press(2, 0).unwrap();
    let lost = p.power_cycle(0x0777, FifoOnPowerCycle::Keep);
    assert!(lost.is_empty());
    p.press(4, 0).unwrap();
    // The kept events come first, under their old epoch; then the new epoch from seq 1.
    let b = block(&mut p);
    assert_eq!((b.epoch, b.events.len()), (0x1234, 2));
    write(&mut p, 0x0000, vec![0x1234, 2]).unwrap();
    let b = block(&mut p);
    assert_eq!((b.epoch, b.events[0].seq, b.events[0].key), (0x0777, 1, 4));
    let lost = p.power_cycle(0x0888, FifoOnPowerCycle::Lose);
    assert_eq!(lost.len(), 1);
    assert_eq!(block(&mut p).events, []);
    assert_eq!(block(&mut p).epoch, 0x0888);
}

#[test]
fn pad_text_and_leds() {
    let mut p = pad();
    let text = crate::modbus::pad::text_write(
        &["A012 叫号".to_string(), "等候 3人".to_string()],
        TextSize {
            lines: 2,
            columns: 16,
        },
    )
    .unwrap();
    write(&mut p, text.addr, text.words.clone()).unwrap();
    assert_eq!(p.text(), ["A012 叫号", "等候 3人"]);
    // Not whole lines, or past the pad's lines: refused.
    assert_eq!(write(&mut p, 0x0100, text.words[..5].to_vec()), NO_ADDRESS);
    assert_eq!(write(&mut p, 0x0108, text.words[..8].to_vec()), NO_ADDRESS);
    assert_eq!(
        write(&mut p, 0x0100, [text.words.clone(), text.words].concat()),
        NO_ADDRESS
    );
    p.answer(&Request::WriteSingle {
        addr: 0x0120,
        value: 0b101,
    })
    .unwrap()
    .unwrap();
    assert_eq!(p.leds, 0b101);
    assert_eq!(words(read_holding(&mut p, 0x0120, 1)), [0b101]);
    // Identity: kind 3, no pixels, 2x16 text, 5 LEDs, FIFO 16.
    assert_eq!(
        words(read_input(&mut p, 0, 16)),
        [1, 3, 0, 0, 0, SIM_FIRMWARE, 0, 0, 2, 16, 5, 16, 0, 0, 0, 0]
    );
    // No screen: the display registers are not there.
    assert_eq!(write(&mut p, holding::HEADER, vec![1, 0, 4]), NO_ADDRESS);
}
