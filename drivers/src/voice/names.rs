//! The clip naming scheme of `docs/voice.md`: the file stem of every word an announcement
//! says (a clip is the file `<stem>.wav`), and how a window number is read in those words.

/// 叮咚: the attention chime before an announcement.
pub const CHIME: &str = "chime";
/// 请
pub const QING: &str = "qing";
/// 号
pub const HAO: &str = "hao";
/// 到
pub const DAO: &str = "dao";
/// 窗口
pub const CHUANGKOU: &str = "chuangkou";
/// 办理
pub const BANLI: &str = "banli";
/// 十, for window numbers 10 to 99.
pub const SHI: &str = "shi";

/// The fixed words, chime first.
pub const FIXED: [&str; 7] = [CHIME, QING, HAO, DAO, CHUANGKOU, BANLI, SHI];

/// A digit as read in a ticket number: `0` (零) … `9` (九).
pub fn digit(d: u32) -> String {
    d.to_string()
}

/// A letter of a ticket number: `a` … `z`.
pub fn letter(c: char) -> String {
    c.to_ascii_lowercase().to_string()
}

/// A window's own clip, said instead of the window phrase: `window-3`.
pub fn window(number: u32) -> String {
    format!("window-{number}")
}

/// A service's clip for `{service}`: `service-a` for code `A`.
pub fn service(code: &str) -> String {
    format!("service-{}", code.to_ascii_lowercase())
}

/// The file name of a stem.
pub fn file(stem: &str) -> String {
    format!("{stem}.wav")
}

/// The stems that read window number `n` as a number (without a per-window clip).
pub fn window_words(n: u32) -> Vec<String> {
    match n {
        1..=9 => vec![digit(n)],
        10 => vec![SHI.into()],
        11..=19 => vec![SHI.into(), digit(n % 10)],
        20..=99 if n.is_multiple_of(10) => vec![digit(n / 10), SHI.into()],
        20..=99 => vec![digit(n / 10), SHI.into(), digit(n % 10)],
        _ => spelled(n),
    }
}

/// `n` digit by digit.
pub fn spelled(n: u32) -> Vec<String> {
    n.to_string()
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(digit)
        .collect()
}
