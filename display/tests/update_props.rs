//! Property: applying the update from any frame to any other of the same board gives the other
//! frame, directly and through the wire bytes; and the encoder never sends more than a full frame.

use hallq_display::*;
use proptest::prelude::*;

fn frame_pair<C: FrameColor>() -> impl Strategy<Value = (Frame<C>, Frame<C>)> {
    (1u16..100, 1u16..40).prop_flat_map(|(w, h)| {
        let len = usize::from(w).div_ceil(8) * usize::from(C::PLANES) * usize::from(h);
        let rows_changed = proptest::collection::vec(any::<bool>(), usize::from(h));
        (
            Just((w, h)),
            proptest::collection::vec(any::<u8>(), len),
            proptest::collection::vec(any::<u8>(), len),
            rows_changed,
        )
            .prop_map(move |((w, h), a, b, changed)| {
                let prev = Frame::<C>::from_bytes(w, h, a).unwrap();
                // Keep some rows of `next` equal to `prev` so diffs have both runs and gaps.
                let rb = prev.row_bytes();
                let mut b = b;
                for (y, &c) in changed.iter().enumerate() {
                    if !c {
                        b[y * rb..(y + 1) * rb].copy_from_slice(prev.row(y as u16));
                    }
                }
                (prev, Frame::<C>::from_bytes(w, h, b).unwrap())
            })
    })
}

fn check<C: FrameColor>(prev: &Frame<C>, next: &Frame<C>) -> Result<(), TestCaseError> {
    for base in [Some(prev), None] {
        let update = encode_update(base, next);
        let full = Update::full_wire_len(next.width(), next.height(), C::PLANES);
        prop_assert!(update.wire_len() <= full);
        let mut board = base
            .cloned()
            .unwrap_or_else(|| Frame::new(next.width(), next.height()));
        board.apply(&update).unwrap();
        prop_assert_eq!(&board, next);
        let mut via_wire = base
            .cloned()
            .unwrap_or_else(|| Frame::new(next.width(), next.height()));
        via_wire
            .apply(&Update::decode(&update.to_bytes()).unwrap())
            .unwrap();
        prop_assert_eq!(&via_wire, next);
    }
    Ok(())
}

proptest! {
    #[test]
    fn mono_updates_round_trip((prev, next) in frame_pair::<embedded_graphics::pixelcolor::BinaryColor>()) {
        check(&prev, &next)?;
    }

    #[test]
    fn red_green_updates_round_trip((prev, next) in frame_pair::<Duo>()) {
        check(&prev, &next)?;
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Update::decode(&bytes);
    }
}
