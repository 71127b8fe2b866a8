//! Every decoder of the Modbus profile over arbitrary bytes and registers: none panics, each
//! says garbage with a typed error, and what it accepts is what the encoders make.

use hallq_drivers::modbus::keys::{already_applied, next_event_seq, seq_after, AppliedMark};
use hallq_drivers::modbus::pad::{decode_line, encode_line, InputIdentity};
use hallq_drivers::modbus::rtu::{self, Answer, FrameLen, Request, Scan};
use hallq_drivers::modbus::{DeviceKind, EventBlock, Identity, Key, KeyEvent};
use proptest::prelude::*;

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (any::<u16>(), 1..=125u16).prop_map(|(addr, count)| Request::ReadHolding { addr, count }),
        (any::<u16>(), 1..=125u16).prop_map(|(addr, count)| Request::ReadInput { addr, count }),
        (any::<u16>(), any::<u16>()).prop_map(|(addr, value)| Request::WriteSingle { addr, value }),
        (any::<u16>(), prop::collection::vec(any::<u16>(), 1..=123))
            .prop_map(|(addr, words)| Request::WriteMultiple { addr, words }),
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        (
            prop::sample::select(vec![rtu::READ_HOLDING, rtu::READ_INPUT]),
            prop::collection::vec(any::<u16>(), 0..=125)
        )
            .prop_map(|(function, words)| Answer::Registers { function, words }),
        (any::<u16>(), any::<u16>()).prop_map(|(addr, value)| Answer::WroteSingle { addr, value }),
        (any::<u16>(), any::<u16>())
            .prop_map(|(addr, count)| Answer::WroteMultiple { addr, count }),
    ]
}

fn function_of(answer: &Answer) -> u8 {
    match answer {
        Answer::Registers { function, .. } => *function,
        Answer::WroteSingle { .. } => rtu::WRITE_SINGLE,
        Answer::WroteMultiple { .. } => rtu::WRITE_MULTIPLE,
    }
}

proptest! {
    #[test]
    fn rtu_decoders_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300), silent: bool) {
        let _ = rtu::decode_request(&bytes);
        let _ = rtu::decode_answer(&bytes);
        for len_of in [rtu::request_len as fn(&[u8]) -> FrameLen, rtu::answer_len] {
            match rtu::scan(&bytes, len_of, silent) {
                Scan::Frame(n) => prop_assert!(n >= 4 && n <= bytes.len()),
                Scan::Garbage { skip, .. } => prop_assert!(skip >= 1 && skip <= bytes.len()),
                Scan::NeedMore => prop_assert!(!silent || bytes.is_empty()),
            }
        }
    }

    #[test]
    fn requests_round_trip_and_one_flipped_bit_is_a_bad_frame(unit in 1..=247u8, req in request(), bit in 0usize..2048) {
        let frame = rtu::encode_request(unit, &req);
        prop_assert_eq!(frame.len(), req.wire_len());
        prop_assert_eq!(rtu::request_len(&frame), FrameLen::Exactly(frame.len()));
        prop_assert_eq!(rtu::decode_request(&frame), Ok((unit, req.clone())));
        let mut bad = frame.clone();
        let bit = bit % (8 * bad.len());
        bad[bit / 8] ^= 1 << (bit % 8);
        // A flipped bit either breaks the CRC or changes the length the frame claims.
        if rtu::request_len(&bad) == FrameLen::Exactly(bad.len()) {
            prop_assert!(rtu::decode_request(&bad).is_err());
        }
    }

    #[test]
    fn answers_round_trip_and_check_against_their_request(unit in 1..=247u8, a in answer(), code in 1..=11u8) {
        let function = function_of(&a);
        let frame = rtu::encode_reply(unit, function, &Ok(a.clone()));
        prop_assert_eq!(rtu::answer_len(&frame), FrameLen::Exactly(frame.len()));
        prop_assert_eq!(rtu::decode_answer(&frame), Ok((unit, function, Ok(a))));
        let refusal = rtu::encode_reply(unit, function, &Err(tokio_modbus::ExceptionCode::new(code)));
        let (u, f, reply) = rtu::decode_answer(&refusal).unwrap();
        prop_assert_eq!((u, f), (unit, function));
        prop_assert_eq!(reply.map_err(u8::from), Err(code));
    }

    #[test]
    fn event_blocks_from_arbitrary_registers(regs in prop::collection::vec(any::<u16>(), 0..40)) {
        match EventBlock::decode(&regs) {
            Ok(block) => {
                prop_assert!(block.epoch != 0);
                prop_assert!(block.events.len() <= 8);
                prop_assert!(block.events.iter().all(|e| e.seq != 0));
                prop_assert!(block.events.windows(2).all(|w| seq_after(w[1].seq, w[0].seq)));
                prop_assert_eq!(EventBlock::encode(block.epoch, &block.events), regs[..26].to_vec());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn event_blocks_round_trip(epoch in 1..=u16::MAX, first in 1..=u16::MAX, n in 0..=8usize, keys in prop::collection::vec((any::<u16>(), any::<u16>()), 8)) {
        let mut seq = first;
        let events: Vec<KeyEvent> = keys[..n].iter().map(|&(key, value)| {
            let e = KeyEvent { seq, key, value };
            seq = next_event_seq(seq);
            e
        }).collect();
        let block = EventBlock::decode(&EventBlock::encode(epoch, &events)).unwrap();
        prop_assert_eq!(block.epoch, epoch);
        prop_assert_eq!(block.events, events);
    }

    #[test]
    fn seq_after_is_an_order_on_each_half_of_the_cycle(a in 1..=u16::MAX, b in 1..=u16::MAX, epoch: u16) {
        // Exactly one of two different seqs is after the other (the cycle has odd length).
        if a != b {
            prop_assert!(seq_after(a, b) != seq_after(b, a));
        } else {
            prop_assert!(!seq_after(a, b));
        }
        prop_assert!(seq_after(next_event_seq(a), a));
        let mark = Some(AppliedMark { epoch, seq: a });
        prop_assert_eq!(already_applied(mark, epoch, b), !seq_after(b, a));
        prop_assert!(!already_applied(mark, epoch.wrapping_add(1), b));
    }

    #[test]
    fn identities_and_keys_from_arbitrary_registers(regs in prop::collection::vec(any::<u16>(), 0..20), kind in 1..=5u16, key: u16, value: u16) {
        if let Ok(id) = Identity::parse(&regs) {
            prop_assert_eq!(id.to_registers().to_vec(), regs[..8].to_vec());
        }
        if let Ok(id) = InputIdentity::parse(&regs) {
            // 0x000C–0x000F are reserved: read, not kept.
            let back = id.to_registers();
            prop_assert_eq!(back[..12].to_vec(), regs[..12].to_vec());
            prop_assert_eq!(back[12..].to_vec(), vec![0u16; 4]);
        }
        let kind = DeviceKind::from_code(kind).unwrap();
        let _ = Key::decode(kind, &KeyEvent { seq: 1, key, value });
    }

    #[test]
    fn pad_text_lines_are_always_their_width(text in ".{0,24}", columns in 0..=16u16) {
        prop_assert_eq!(encode_line(&text, columns).len(), usize::from(columns));
    }

    #[test]
    fn pad_text_shows_a_prefix_of_whole_characters(text in "[A-Z0-9 等候人暂停中无号窗口]{0,20}", columns in 0..=16u16) {
        let shown = decode_line(&encode_line(&text, columns));
        prop_assert!(text.starts_with(&shown), "{text:?} shows {shown:?}");
        let width: usize = shown.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
        prop_assert!(width <= usize::from(columns));
    }

    #[test]
    fn pad_text_decodes_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..32)) {
        let _ = decode_line(&bytes);
    }
}

proptest! {
    /// The scanner's line decoder over arbitrary bytes in arbitrary chunks: never panics, never
    /// holds more than its maximum, every code it gives is printable ASCII within the limit, and
    /// a good line after any garbage still comes through.
    #[test]
    fn scanner_lines_survive_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        cut in 1usize..40,
        max in 2usize..80,
    ) {
        use hallq_drivers::scanner::LineDecoder;
        let mut d = LineDecoder::new(max);
        for chunk in bytes.chunks(cut) {
            for code in d.push(chunk).into_iter().flatten() {
                prop_assert!(!code.is_empty() && code.len() <= max);
                prop_assert!(code.bytes().all(|b| (0x20..0x7f).contains(&b)));
            }
        }
        let after = d.push(b"\nR1\n");
        prop_assert_eq!(after.last(), Some(&Ok("R1".to_string())));
    }
}
