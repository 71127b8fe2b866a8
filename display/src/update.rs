//! Frame updates: what is sent to a board to turn its previous frame into the next one.
//!
//! Owns: the diff ([`encode_update`]), the wire format ([`Update::to_bytes`] / [`Update::decode`],
//! described in `docs/display.md`), and applying an update to a frame ([`Frame::apply`]).
//! Does not own: how the bytes reach a board (Modbus registers, MQTT payloads, sim files are the
//! drivers' job) or when frames are rendered.
//!
//! Wire format, all integers big-endian:
//! ```text
//! full:  0x01 planes width:u16 height:u16  data[height * row_bytes]
//! rows:  0x02 planes width:u16 height:u16  runs:u16  { first_row:u16 rows:u16 data[rows * row_bytes] }*
//! ```
//! with `row_bytes = ceil(width / 8) * planes`, each row's planes one after the other (red, green).

use crate::frame::{Frame, FrameColor};
use crate::DisplayError;

/// Kind byte of a whole-frame update.
pub const KIND_FULL: u8 = 0x01;
/// Kind byte of a changed-rows update.
pub const KIND_ROWS: u8 = 0x02;
/// Bytes before the payload of every update: kind, planes, width, height.
pub const HEADER_LEN: usize = 6;
/// Bytes of the run count in a rows update.
pub const RUN_COUNT_LEN: usize = 2;
/// Bytes of one run's header: first row and row count.
pub const RUN_HEADER_LEN: usize = 4;

/// One update for a board: either the whole frame or runs of changed rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// Board width in pixels.
    pub width: u16,
    /// Board height in pixels.
    pub height: u16,
    /// Colour planes (1 mono, 2 red/green).
    pub planes: u8,
    /// What changes.
    pub body: UpdateBody,
}

/// The payload of an [`Update`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateBody {
    /// Every row, packed.
    Full(Vec<u8>),
    /// Only these runs of consecutive rows (possibly none: nothing changed).
    Rows(Vec<RowRun>),
}

/// Consecutive rows starting at `first_row`; `data` holds whole packed rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowRun {
    /// Index of the first row of the run.
    pub first_row: u16,
    /// Packed rows, `row_bytes` each.
    pub data: Vec<u8>,
}

impl Update {
    /// Bytes of one packed row: `ceil(width / 8) * planes`.
    pub fn row_bytes(&self) -> usize {
        usize::from(self.width).div_ceil(8) * usize::from(self.planes)
    }

    /// Size of a whole-frame update for a board of this size, in wire bytes.
    pub fn full_wire_len(width: u16, height: u16, planes: u8) -> usize {
        HEADER_LEN + usize::from(height) * usize::from(width).div_ceil(8) * usize::from(planes)
    }

    /// Size of this update on the wire.
    pub fn wire_len(&self) -> usize {
        match &self.body {
            UpdateBody::Full(data) => HEADER_LEN + data.len(),
            UpdateBody::Rows(runs) => {
                HEADER_LEN
                    + RUN_COUNT_LEN
                    + runs
                        .iter()
                        .map(|r| RUN_HEADER_LEN + r.data.len())
                        .sum::<usize>()
            }
        }
    }

    /// Whether this update sends the whole frame.
    pub fn is_full(&self) -> bool {
        matches!(self.body, UpdateBody::Full(_))
    }

    /// Whether this update changes nothing.
    pub fn is_noop(&self) -> bool {
        matches!(&self.body, UpdateBody::Rows(runs) if runs.is_empty())
    }

    /// Number of rows this update carries.
    pub fn rows_sent(&self) -> usize {
        match &self.body {
            UpdateBody::Full(_) => usize::from(self.height),
            UpdateBody::Rows(runs) => runs
                .iter()
                .map(|r| r.data.len() / self.row_bytes().max(1))
                .sum(),
        }
    }

    /// The update in the wire format (module docs, `docs/display.md`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_len());
        let kind = if self.is_full() { KIND_FULL } else { KIND_ROWS };
        out.extend_from_slice(&[kind, self.planes]);
        out.extend_from_slice(&self.width.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        match &self.body {
            UpdateBody::Full(data) => out.extend_from_slice(data),
            UpdateBody::Rows(runs) => {
                out.extend_from_slice(&(runs.len() as u16).to_be_bytes());
                let rb = self.row_bytes().max(1);
                for run in runs {
                    out.extend_from_slice(&run.first_row.to_be_bytes());
                    out.extend_from_slice(&((run.data.len() / rb) as u16).to_be_bytes());
                    out.extend_from_slice(&run.data);
                }
            }
        }
        out
    }

    /// Reads one update from the wire format; the bytes must be exactly one update.
    pub fn decode(bytes: &[u8]) -> Result<Update, DisplayError> {
        let mut r = Reader { bytes, at: 0 };
        let kind = r.u8("missing kind byte")?;
        let planes = r.u8("missing planes byte")?;
        if planes != 1 && planes != 2 {
            return Err(DisplayError::Malformed {
                at: 1,
                reason: "planes must be 1 or 2",
            });
        }
        let width = r.u16("missing width")?;
        let height = r.u16("missing height")?;
        let rb = usize::from(width).div_ceil(8) * usize::from(planes);
        let body = match kind {
            KIND_FULL => UpdateBody::Full(
                r.take(usize::from(height) * rb, "frame data too short")?
                    .to_vec(),
            ),
            KIND_ROWS => {
                let count = r.u16("missing run count")?;
                let mut runs = Vec::with_capacity(usize::from(count).min(usize::from(height)));
                let mut next_free = 0usize;
                for _ in 0..count {
                    let at = r.at;
                    let first_row = r.u16("missing run first row")?;
                    let rows = r.u16("missing run row count")?;
                    if rows == 0 {
                        return Err(DisplayError::Malformed {
                            at,
                            reason: "empty run",
                        });
                    }
                    if usize::from(first_row) < next_free {
                        return Err(DisplayError::Malformed {
                            at,
                            reason: "runs overlap or are out of order",
                        });
                    }
                    if usize::from(first_row) + usize::from(rows) > usize::from(height) {
                        return Err(DisplayError::Malformed {
                            at,
                            reason: "run goes past the last row",
                        });
                    }
                    next_free = usize::from(first_row) + usize::from(rows);
                    let data = r
                        .take(usize::from(rows) * rb, "run data too short")?
                        .to_vec();
                    runs.push(RowRun { first_row, data });
                }
                UpdateBody::Rows(runs)
            }
            _ => {
                return Err(DisplayError::Malformed {
                    at: 0,
                    reason: "unknown kind byte",
                })
            }
        };
        if r.at != bytes.len() {
            return Err(DisplayError::Malformed {
                at: r.at,
                reason: "trailing bytes after the update",
            });
        }
        Ok(Update {
            width,
            height,
            planes,
            body,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, reason: &'static str) -> Result<&'a [u8], DisplayError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(DisplayError::Malformed {
            at: self.at,
            reason,
        })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self, reason: &'static str) -> Result<u8, DisplayError> {
        Ok(self.take(1, reason)?[0])
    }
    fn u16(&mut self, reason: &'static str) -> Result<u16, DisplayError> {
        let b = self.take(2, reason)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

/// The update that turns `prev` (what the board shows; `None` when unknown, e.g. after it
/// reconnected) into `next`: the changed rows, or the whole frame when that is no more bytes.
/// Runs of changed rows separated by a few unchanged rows are merged when resending those rows
/// costs no more than a new run header.
pub fn encode_update<C: FrameColor>(prev: Option<&Frame<C>>, next: &Frame<C>) -> Update {
    let full = || Update {
        width: next.width(),
        height: next.height(),
        planes: C::PLANES,
        body: UpdateBody::Full(next.bytes().to_vec()),
    };
    let Some(prev) = prev.filter(|p| p.width() == next.width() && p.height() == next.height())
    else {
        return full();
    };
    let rb = next.row_bytes();
    let mut spans: Vec<(u16, u16)> = Vec::new(); // (first, last) inclusive
    for y in 0..next.height() {
        if prev.row(y) == next.row(y) {
            continue;
        }
        match spans.last_mut() {
            Some((_, last)) if usize::from(y - *last - 1) * rb <= RUN_HEADER_LEN => *last = y,
            _ => spans.push((y, y)),
        }
    }
    let rows_len = HEADER_LEN
        + RUN_COUNT_LEN
        + spans
            .iter()
            .map(|&(a, b)| RUN_HEADER_LEN + usize::from(b - a + 1) * rb)
            .sum::<usize>();
    if rows_len >= Update::full_wire_len(next.width(), next.height(), C::PLANES) {
        return full();
    }
    let runs = spans
        .into_iter()
        .map(|(a, b)| RowRun {
            first_row: a,
            data: next.bytes()[usize::from(a) * rb..(usize::from(b) + 1) * rb].to_vec(),
        })
        .collect();
    Update {
        width: next.width(),
        height: next.height(),
        planes: C::PLANES,
        body: UpdateBody::Rows(runs),
    }
}

impl<C: FrameColor> Frame<C> {
    /// Applies an update made by [`encode_update`] (or decoded from the wire) to this frame.
    /// Fails, leaving the frame untouched, when the update is for another board size or colour
    /// mode or its rows do not fit.
    pub fn apply(&mut self, update: &Update) -> Result<(), DisplayError> {
        if update.width != self.width()
            || update.height != self.height()
            || update.planes != C::PLANES
        {
            return Err(DisplayError::SizeMismatch {
                update_width: update.width,
                update_height: update.height,
                update_planes: update.planes,
                frame_width: self.width(),
                frame_height: self.height(),
                frame_planes: C::PLANES,
            });
        }
        let rb = self.row_bytes();
        match &update.body {
            UpdateBody::Full(data) => {
                if data.len() != self.byte_len() {
                    return Err(DisplayError::BadLength {
                        width: self.width(),
                        height: self.height(),
                        expected: self.byte_len(),
                        got: data.len(),
                    });
                }
                self.replace_bytes(data);
            }
            UpdateBody::Rows(runs) => {
                let fits = |r: &RowRun| {
                    r.data.len().checked_rem(rb) == Some(0)
                        && usize::from(r.first_row) + r.data.len() / rb
                            <= usize::from(self.height())
                };
                if let Some(bad) = runs.iter().find(|r| !fits(r)) {
                    return Err(DisplayError::Malformed {
                        at: usize::from(bad.first_row),
                        reason: "row run does not fit the frame",
                    });
                }
                for run in runs {
                    let (first, count) = (usize::from(run.first_row), run.data.len() / rb);
                    self.rows_mut(first, count).copy_from_slice(&run.data);
                    self.clear_padding(first, count);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Duo, DuoFrame, MonoFrame};
    use embedded_graphics::pixelcolor::BinaryColor;

    #[test]
    fn unknown_previous_frame_sends_the_whole_frame() {
        let mut next = MonoFrame::new(16, 2);
        next.set_pixel(0, 1, BinaryColor::On);
        let u = encode_update(None, &next);
        assert_eq!(
            u.to_bytes(),
            vec![0x01, 0x01, 0x00, 0x10, 0x00, 0x02, 0x00, 0x00, 0x80, 0x00]
        );
        assert_eq!(u.wire_len(), 10);
    }

    #[test]
    fn one_changed_row_sends_one_run() {
        let prev = MonoFrame::new(64, 16);
        let mut next = prev.clone();
        next.set_pixel(9, 5, BinaryColor::On);
        let u = encode_update(Some(&prev), &next);
        let mut expected = vec![
            0x02, 0x01, 0x00, 0x40, 0x00, 0x10, 0x00, 0x01, 0x00, 0x05, 0x00, 0x01,
        ];
        expected.extend_from_slice(&[0x00, 0x40, 0, 0, 0, 0, 0, 0]);
        assert_eq!(u.to_bytes(), expected);
        assert_eq!(Update::decode(&expected).unwrap(), u);
    }

    #[test]
    fn nearby_runs_merge_and_far_runs_do_not() {
        let prev = MonoFrame::new(16, 40);
        let mut next = prev.clone();
        for y in [1, 3, 30] {
            next.set_pixel(0, y, BinaryColor::On);
        }
        let u = encode_update(Some(&prev), &next);
        let UpdateBody::Rows(runs) = &u.body else {
            panic!("expected rows")
        };
        let shape: Vec<_> = runs
            .iter()
            .map(|r| (r.first_row, r.data.len() / 2))
            .collect();
        assert_eq!(shape, vec![(1, 3), (30, 1)]);
    }

    #[test]
    fn whole_frame_wins_when_every_row_changed() {
        let prev = DuoFrame::new(64, 16);
        let mut next = prev.clone();
        for y in 0..16 {
            next.set_pixel(y, y, Duo::Amber);
        }
        assert!(encode_update(Some(&prev), &next).is_full());
        let same = encode_update(Some(&next), &next);
        assert!(same.is_noop());
        assert_eq!(same.wire_len(), HEADER_LEN + RUN_COUNT_LEN);
    }

    #[test]
    fn decode_refuses_garbage() {
        for bad in [
            &[][..],
            &[0x03, 1, 0, 8, 0, 1, 0][..],
            &[0x01, 3, 0, 8, 0, 1, 0][..],
            &[0x01, 1, 0, 8, 0, 2, 0][..],
            &[0x01, 1, 0, 8, 0, 1, 0, 0][..],
            &[0x02, 1, 0, 8, 0, 1, 0, 1, 0, 1, 0, 1, 0][..],
            &[0x02, 1, 0, 8, 0, 2, 0, 2, 0, 1, 0, 1, 0, 0, 0, 1, 0][..],
            &[0x02, 1, 0, 8, 0, 1, 0, 1, 0, 0, 0, 0][..],
        ] {
            assert!(Update::decode(bad).is_err(), "{bad:?} decoded");
        }
    }

    #[test]
    fn apply_refuses_another_board() {
        let u = encode_update(None, &MonoFrame::new(64, 16));
        assert!(MonoFrame::new(128, 32).apply(&u).is_err());
        assert!(DuoFrame::new(64, 16).apply(&u).is_err());
    }
}
