//! Synthetic but realistic traffic for the benchmarks: TCP connections (handshake, request,
//! MSS-sized responses, ACKs, FIN), DNS over UDP, ICMP echo and some IPv6, owned by a few
//! processes in a few containers. Deterministic (a fixed-seed xorshift), valid checksums, so
//! tcpdump and tshark print the same packets they would print from a real capture.

pub mod synth;
