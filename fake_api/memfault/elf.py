"""Just enough ELF reading to find a GNU build id, as Memfault's symbol processing does.

Memfault identifies a symbol file by the ``NT_GNU_BUILD_ID`` note in it (memfault-cli asks
``HEAD .../symbols-by-gnu-build-id/{id}`` before uploading one). This reads the ELF header, the
section headers and every ``SHT_NOTE`` section, with ``struct`` only; anything malformed simply
has no build id. It also tells an ELF core file (``ET_CORE``) from other ELF files.
"""

from __future__ import annotations

import struct
from typing import Optional

ELF_MAGIC = b"\x7fELF"
ET_CORE = 4
SHT_NOTE = 7
NT_GNU_BUILD_ID = 3


def _header(data: bytes) -> Optional[tuple[str, bool, int, int, int, int]]:
    """``(endian, is64, e_type, shoff, shentsize, shnum)`` or None for a non-ELF."""
    if len(data) < 52 or data[:4] != ELF_MAGIC or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    endian = "<" if data[5] == 1 else ">"
    is64 = data[4] == 2
    e_type = struct.unpack_from(endian + "H", data, 16)[0]
    if is64:
        if len(data) < 64:
            return None
        shoff = struct.unpack_from(endian + "Q", data, 40)[0]
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 58)
    else:
        shoff = struct.unpack_from(endian + "I", data, 32)[0]
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 46)
    return endian, is64, e_type, shoff, shentsize, shnum


def elf_type(data: bytes) -> Optional[int]:
    """``e_type`` of an ELF file (``ET_CORE`` is 4), or None when ``data`` is not ELF."""
    header = _header(data)
    return None if header is None else header[2]


def gnu_build_id(data: bytes) -> Optional[str]:
    """The hex GNU build id of an ELF file, or None (not ELF, no note, or malformed)."""
    header = _header(data)
    if header is None:
        return None
    endian, is64, _, shoff, shentsize, shnum = header
    try:
        for index in range(shnum):
            at = shoff + index * shentsize
            if is64:
                sh_type, = struct.unpack_from(endian + "I", data, at + 4)
                offset, size = struct.unpack_from(endian + "QQ", data, at + 24)
            else:
                sh_type, = struct.unpack_from(endian + "I", data, at + 4)
                offset, size = struct.unpack_from(endian + "II", data, at + 16)
            if sh_type == SHT_NOTE:
                found = _build_id_note(data[offset:offset + size], endian)
                if found:
                    return found
    except struct.error:
        return None
    return None


def _build_id_note(notes: bytes, endian: str) -> Optional[str]:
    """Walk ``namesz, descsz, type, name, desc`` records (4-byte aligned) for GNU's build id."""
    at = 0
    while at + 12 <= len(notes):
        namesz, descsz, note_type = struct.unpack_from(endian + "III", notes, at)
        at += 12
        name = notes[at:at + namesz].rstrip(b"\x00")
        at += (namesz + 3) & ~3
        desc = notes[at:at + descsz]
        at += (descsz + 3) & ~3
        if name == b"GNU" and note_type == NT_GNU_BUILD_ID and desc:
            return desc.hex()
    return None
