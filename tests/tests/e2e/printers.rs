//! Ticket printers end to end: the real binary printing through the emupos simulator.
