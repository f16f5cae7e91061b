"""Answers of the shape GME gives, to break one field at a time, and a gzip bomb: `from hostile_answers import ...`."""

from __future__ import annotations

import functools
import json
import struct
import zlib


def answer(**fields) -> bytes:
    return json.dumps({"Response": {"RequestId": "req-1", **fields}}).encode()


def task_answer(**fields) -> bytes:
    return answer(**{"TaskId": 5, "RecordMode": 2, **fields})


def record_answer(**record) -> bytes:
    entry = {"UserId": "0", "FileName": "f.mp3", "RecordBeginTime": 1700000000, "RecordStatus": 2, **record}
    return answer(RoomId="r", RecordMode=2, RecordInfo=[entry])


@functools.cache
def gzip_bomb(mib: int) -> bytes:
    """A gzip body that inflates to `mib` MiB of zeros, built without ever holding them: after a
    full flush every MiB of zeros deflates to the same bytes, so they are repeated."""
    zeros = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    trailer = struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)
    return header + first + again * (mib - 1) + deflate.flush() + trailer
