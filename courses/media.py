"""A video file's real duration, read from the file itself (MP4 / QuickTime).

An MP4 file is a sequence of boxes (ISO/IEC 14496-12): each starts with a 32-bit big-endian
size and a 4-letter type; size 1 means a 64-bit size follows, size 0 means "to the end of the
file". The movie header ``moov/mvhd`` holds the time scale (units per second) and the
duration in those units. Only the headers are read, wherever ``moov`` sits in the file.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

# Enough for any real file's top level and moov children; bounds work on crafted input.
_MAX_BOXES = 10_000


class NotAnMP4(ValueError):
    """The file is not an MP4 whose duration can be read."""


def _boxes(stream: BinaryIO, start: int, end: int):
    """(type, payload start, box end) for each box in ``stream[start:end]``."""
    position = start
    for _ in range(_MAX_BOXES):
        if position >= end:
            return
        stream.seek(position)
        header = stream.read(8)
        if len(header) < 8:
            raise NotAnMP4("truncated box header")
        size, kind = struct.unpack(">I4s", header)
        payload = position + 8
        if size == 1:
            large = stream.read(8)
            if len(large) < 8:
                raise NotAnMP4("truncated box size")
            size = struct.unpack(">Q", large)[0]
            payload += 8
        elif size == 0:
            size = end - position
        box_end = position + size
        if box_end < payload or box_end > end:
            raise NotAnMP4("box size out of bounds")
        yield kind, payload, box_end
        position = box_end
    raise NotAnMP4("too many boxes")


def _movie_header(stream: BinaryIO, start: int, end: int) -> float:
    stream.seek(start)
    head = stream.read(4)
    if len(head) < 4 or head[0] not in (0, 1):
        raise NotAnMP4("unknown movie header version")
    if head[0] == 1:
        fields, layout, unknown = stream.read(28), ">QQIQ", 2**64 - 1
    else:
        fields, layout, unknown = stream.read(16), ">IIII", 2**32 - 1
    if len(fields) < struct.calcsize(layout) or start + 4 + len(fields) > end:
        raise NotAnMP4("truncated movie header")
    _created, _modified, timescale, duration = struct.unpack(layout, fields)
    # Fragmented and live files state 0 or all ones here: their length is not known up front.
    if timescale == 0 or duration in (0, unknown):
        raise NotAnMP4("the file does not state its duration")
    return duration / timescale


def mp4_duration(stream: BinaryIO) -> float:
    """Seconds of the movie in an MP4 (or QuickTime) file open in binary mode.

    Raises ``NotAnMP4`` (a ``ValueError``) if the file has no readable movie header."""
    end = stream.seek(0, os.SEEK_END)
    for kind, payload, box_end in _boxes(stream, 0, end):
        if kind == b"moov":
            for child, child_payload, child_end in _boxes(stream, payload, box_end):
                if child == b"mvhd":
                    return _movie_header(stream, child_payload, child_end)
            raise NotAnMP4("no movie header in moov")
    raise NotAnMP4("no moov box")
