//! End-to-end test support for hallq: start the real `hallq` binary on a hall of the test's
//! making, drive it with the real CLI, and read what it logged.
//!
//! The tests themselves live in `tests/e2e/` (one test binary). This crate holds no hallq logic.

pub mod util;
