//! tcpdump-style text.
