"""Tiny ELF files made with ``struct``: a GNU build-id note, an optional ``.debug_info``.

Enough for memfault-cli (pyelftools) to find the build id and the debug info, and for the fake to
read the build id back, without a compiler.
"""

from __future__ import annotations

import struct
from typing import Optional

ET_EXEC, ET_CORE = 2, 4
SHT_PROGBITS, SHT_STRTAB, SHT_NOTE = 1, 3, 7


def make_elf(build_id: Optional[bytes] = None, *, debug_info: bool = True,
             e_type: int = ET_EXEC, text: bytes = b"\x90" * 16) -> bytes:
    """A little-endian ELF64 with ``.text``, maybe ``.note.gnu.build-id`` and ``.debug_info``."""
    sections: list[tuple[bytes, int, bytes]] = [(b".text", SHT_PROGBITS, text)]
    if build_id is not None:
        note = struct.pack("<III", 4, len(build_id), 3) + b"GNU\x00" + build_id
        note += b"\x00" * (-len(note) % 4)
        sections.append((b".note.gnu.build-id", SHT_NOTE, note))
    if debug_info:
        sections.append((b".debug_info", SHT_PROGBITS, b"\x00" * 16))
    names = b"\x00"
    offsets = []
    for name, _, _ in sections + [(b".shstrtab", SHT_STRTAB, b"")]:
        offsets.append(len(names))
        names += name + b"\x00"
    sections.append((b".shstrtab", SHT_STRTAB, names))

    body = b""
    placed = []
    for _, _, data in sections:
        placed.append((64 + len(body), len(data)))
        body += data + b"\x00" * (-len(data) % 8)
    shoff = 64 + len(body)
    headers = b"\x00" * 64  # the null section
    for (_, kind, _), name_at, (offset, size) in zip(sections, offsets, placed, strict=True):
        headers += struct.pack("<IIQQQQIIQQ", name_at, kind, 0, 0, offset, size, 0, 0, 1, 0)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\x00" * 8
    header = ident + struct.pack("<HHIQQQIHHHHHH", e_type, 0x3E, 1, 0, 0, shoff, 0, 64, 0, 0,
                                 64, len(sections) + 1, len(sections))
    return header + body + headers
