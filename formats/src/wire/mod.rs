//! Packet views over bytes.
