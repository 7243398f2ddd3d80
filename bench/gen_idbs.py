#!/usr/bin/env python3
"""Writes a pcapng file of one section with N interface description blocks (each named ethK)
and one small UDP packet on every 1000th interface and on the last one (issue 10: IDBs
cost O(1) each). Usage: gen_idbs.py OUT N"""
import struct
import sys


def block(ty, body):
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", ty, total) + body + struct.pack("<I", total)


def opt(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def udp_frame(sport):
    payload = b"\xab" * 12
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 1, 0x4000, 64, 17, 0,
                               bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])))
    s = sum(struct.unpack("!10H", ip))
    while s > 0xffff:
        s = (s & 0xffff) + (s >> 16)
    ip[10:12] = struct.pack("!H", ~s & 0xffff)
    return (bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0]) + bytes(ip)
            + struct.pack("!HHHH", sport, 53, 8 + len(payload), 0) + payload)


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    parts = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opt(0, b""))]
    for i in range(n):
        parts.append(block(1, struct.pack("<HHI", 1, 0, 262144) + opt(2, b"eth%d" % i) + opt(0, b"")))
    ts = 1_700_000_000_000_000
    targets = list(range(0, n, 1000)) + [n - 1]
    for k, i in enumerate(targets):
        data = udp_frame(4000 + k % 60000)
        t = ts + k
        parts.append(block(6, struct.pack("<IIIII", i, t >> 32, t & 0xffffffff, len(data), len(data)) + data))
    with open(out, "wb") as f:
        f.write(b"".join(parts))


main()
