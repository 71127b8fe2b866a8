//! Voice driver tests: the voice task with the sim output (paused time) and, with the `alsa`
//! feature, through ALSA itself with its `file` plugin, so the real output path runs without a
//! sound card. One test binary (`cargo test -p hallq-drivers --features alsa --test voice`).

#[cfg(feature = "alsa")]
mod alsa;
mod sim;
mod stuck;
mod support;
