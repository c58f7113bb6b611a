#!/usr/bin/env python3
"""Writes the first corpus of one fuzz target: valid inputs of the shape its harness reads,
so that libFuzzer starts from inputs that reach deep, not from noise.

usage: fuzz/seeds.py TARGET DIRECTORY   (scripts/fuzz calls it when a corpus is empty)
"""
import os
import struct
import sys


def header(kind, length, flags=0, channel=0, correlation=0, message=0):
    """A frame header as docs/protocol.md lays it out."""
    return struct.pack("<IBBHIIQII", 0x54464557, 1, kind, flags, length, channel, correlation, message, 0)


def frame(kind, payload, **fields):
    """A frame padded to a multiple of 8, as TCP sends it."""
    data = header(kind, len(payload), **fields) + payload
    return data + bytes(-len(data) % 8)


HELLO = struct.pack("<II", 1, 0) + struct.pack("<QQ", 1, 2) + bytes(range(32)) + struct.pack("<II", 1 << 20, 0)


def frame_seeds():
    return {
        "hello-frame": header(1, 64) + HELLO,
        "hello-reply-frame": header(2, 96) + HELLO + bytes(32),
        "data-frame": header(4, 8) + bytes(8),
        "fragment": header(5, 4, flags=3, correlation=7, message=16) + bytes(4),
        "rendezvous-ready": header(10, 24) + struct.pack("<QIIQ", 0x7F0000001000, 7, 1 << 20, 1),
        "rendezvous-done": header(11, 8) + struct.pack("<Q", 1),
        "handshake-control": bytes([0, 1]) + HELLO,
        "handshake-control-secret": bytes([3, 2]) + HELLO + bytes(32),
    }


def chunks(stream, sizes):
    """The stream cut into reads of the given sizes (the last size repeats): length byte, bytes."""
    out, start, index = b"", 0, 0
    while start < len(stream):
        size = min(sizes[min(index, len(sizes) - 1)], 255, len(stream) - start)
        out += bytes([size]) + stream[start:start + size]
        start, index = start + size, index + 1
    return out


def stream_seeds():
    handshake = frame(1, HELLO) + frame(3, b"")
    traffic = frame(4, b"ping") + frame(8, b"") + frame(5, bytes(range(40)), correlation=9) + frame(9, b"bye")
    large = frame(4, bytes(range(256)) * 3)
    return {
        # control: capacity index (bits 0-1), limits (bit 2), handshake frames (bits 3-4)
        "handshake-then-data": bytes([0b10000]) + chunks(handshake + traffic, [255]),
        "one-byte-reads": bytes([0]) + chunks(traffic, [1]),
        "odd-reads": bytes([1]) + chunks(traffic + traffic, [7, 33, 5, 64]),
        "large-frame-grows": bytes([0]) + chunks(large + frame(4, b"after"), [200, 255]),
        "large-then-drain": bytes([1]) + chunks(large, [255]) + bytes([0]) + chunks(frame(4, b"x"), [255]),
        "truncated": bytes([0]) + chunks(frame(4, bytes(100))[:70], [30]),
        "too-long-for-small-limits": bytes([0b100]) + chunks(header(4, 5000) + bytes(64), [96]),
    }


def ring_record(position, kind, payload):
    """One ring record: tag, frame, padded to 64 bytes."""
    data = struct.pack("<Q", position) + header(kind, len(payload)) + payload
    return data + bytes(-len(data) % 64)


def ring_seeds():
    fresh = 0x10  # control bit 4: zeroed ring, a correct producer writes it
    publish = lambda quarter_words, fill: bytes([3, quarter_words, fill])
    look = bytes([0])
    ring = ring_record(512, 4, b"hello") + ring_record(576, 5, bytes(range(40)))
    ring += bytes(512 - len(ring))
    return {
        "fair-traffic": bytes([fresh]) + (publish(3, 0xAB) + look) * 6 + publish(20, 0x11) * 2 + look * 3,
        "fair-wrap": bytes([fresh]) + (publish(5, 7) + publish(1, 9) + look * 2) * 12,
        "peer-ring": bytes([0]) + ring + look * 4,
        "padding-at-head": bytes([fresh]) + publish(2, 1) + look + bytes([4]) + look,
        "header-at-head": bytes([fresh]) + bytes([5]) + header(4, 16) + look,
        "tag-ahead": bytes([fresh]) + bytes([6, 2, 0]) + look,
        "raw-word": bytes([fresh]) + publish(2, 3) + bytes([7, 0, 0]) + struct.pack("<Q", 512) + look * 2,
    }


def envelope_request(node=b"", type_=b"Player", key=b"bob", method=b"$s4Game6PlayerC4join", subs=(), args=()):
    out = struct.pack("<BBHHHII", 2, 3, len(args), len(subs), 0, 1, 1)
    for text in (node, type_, key, method) + tuple(subs):
        out += struct.pack("<H", len(text)) + text
    for arg in args:
        out += struct.pack("<I", len(arg)) + arg
    return out


def envelope_seeds():
    int64 = lambda v: bytes([0x14]) + struct.pack("<q", v)
    string = lambda s: bytes([0x30]) + struct.pack("<I", len(s)) + s
    keyed = lambda entries: bytes([0x41]) + struct.pack("<I", len(entries)) + b"".join(
        struct.pack("<H", len(k)) + k + v for k, v in entries)
    unkeyed = lambda values: bytes([0x40]) + struct.pack("<I", len(values)) + b"".join(values)
    point = keyed([(b"x", int64(3)), (b"y", int64(-4)), (b"label", string(b"p"))])
    # The harness's first byte picks what to decode the rest as (see fuzz/EnvelopeFuzz.swift).
    return {
        "call-no-arguments": bytes([0]) + envelope_request(),
        "call-int-string": bytes([0]) + envelope_request(args=(int64(42), string(b"hello"))),
        "call-struct": bytes([1]) + envelope_request(node=b"n1", type_=b"", key=b"7", args=(point,)),
        "call-substitution": bytes([2]) + envelope_request(subs=(b"Si",), args=(unkeyed([int64(1), int64(2)]),)),
        "call-nested": bytes([3]) + envelope_request(args=(unkeyed([point, point]), keyed([(b"k", unkeyed([]))]))),
        "error-reply": bytes([4]) + struct.pack("<BBH", 2, 0, 0) + struct.pack("<I", 4) + b"oops",
        "error-reply-codable": bytes([4]) + struct.pack("<BBH", 1, 0, 0) + struct.pack("<I", 2) + b"no"
        + struct.pack("<H", 3) + b"xyz" + keyed([(b"code", int64(5))]),
        "result-struct": bytes([5]) + point,
    }


def main():
    target, directory = sys.argv[1], sys.argv[2]
    seeds = {"frame": frame_seeds, "stream": stream_seeds, "ring": ring_seeds, "envelope": envelope_seeds}[target]()
    os.makedirs(directory, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
