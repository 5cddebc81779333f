#!/usr/bin/env python3
"""Zero the CUDA fatbin entries of a shared library that are not for the given SM architectures.

usage: fatbin-keep-arch.py IN.so OUT.so 90[,89,...]

The file keeps its size and layout (ELF headers, every fatbin and entry header untouched); only the
payloads of the other architectures' cubins become zeros, so the file compresses to about what the kept
architectures weigh. The CUDA driver picks the entry matching the GPU from the headers, so a GPU of a kept
architecture loads the same kernels as from the original file. A GPU of another architecture would find
zeros: use the output only on the machine it was made for (bench/gpu/README.md).
"""
import struct
import sys
from collections import Counter

FATBIN_MAGIC = 0xBA55ED50


def section(data: bytes, name: bytes) -> tuple[int, int]:
    """File offset and size of an ELF64 section, by name."""
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    str_off = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 0x18)[0]
    for i in range(shnum):
        h = shoff + i * shentsize
        name_off = struct.unpack_from("<I", data, h)[0]
        end = data.index(b"\0", str_off + name_off)
        if data[str_off + name_off : end] == name:
            off, size = struct.unpack_from("<QQ", data, h + 0x18)
            return off, size
    raise SystemExit(f"no {name.decode()} section")


def main() -> None:
    src, dst, archs = sys.argv[1], sys.argv[2], {int(a) for a in sys.argv[3].split(",")}
    data = bytearray(open(src, "rb").read())
    off, size = section(data, b".nv_fatbin")
    kept, zeroed, bins = Counter(), Counter(), 0
    p, end = off, off + size
    while p < end:
        magic, _version, header_size, fat_size = struct.unpack_from("<IHHQ", data, p)
        if magic != FATBIN_MAGIC:
            p += 8  # fatbins are 8-byte aligned; skip padding
            continue
        bins += 1
        e, e_end = p + header_size, p + header_size + fat_size
        while e < e_end:
            kind, _v, entry_header, payload = struct.unpack_from("<HHIQ", data, e)
            sm = struct.unpack_from("<I", data, e + 28)[0]
            label = f"{'ptx' if kind == 1 else 'sass'}_sm{sm}"
            if sm in archs:
                kept[label] += payload
            else:
                data[e + entry_header : e + entry_header + payload] = bytes(payload)
                zeroed[label] += payload
            e += entry_header + payload
        p = e_end
    open(dst, "wb").write(data)
    mb = lambda c: {k: round(v / 1e6, 1) for k, v in sorted(c.items())}  # noqa: E731
    print(f"{bins} fatbins; kept MB {mb(kept)}; zeroed MB {mb(zeroed)}")


if __name__ == "__main__":
    main()
