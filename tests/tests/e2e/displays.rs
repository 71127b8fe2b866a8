//! LED displays end to end: the real binary driving Modbus boards on a pty and sim folders.
