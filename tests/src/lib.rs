//! Helpers for the end-to-end tests: test hosts in network namespaces (198.18.0.0/15),
//! running the real peers (tcpdump, tshark) and our binaries, and cleaning up on failure.
