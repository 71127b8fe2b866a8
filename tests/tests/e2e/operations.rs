//! Operations end to end: systemd notify, watchdog, logs without personal data, doctor.
