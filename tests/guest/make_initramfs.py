#!/usr/bin/env python3
"""The test guest's initramfs: a newc cpio holding /init, /dev/console and
the kernel modules wanted, with each module's dependencies (read from its
.modinfo section, since this machine has no depmod) listed before it in
/modules/order.

usage: make_initramfs.py OUT INIT MODULES_DIR WANT...
  MODULES_DIR  lib/modules/VERSION of an unpacked kernel package
  WANT         a module name ("veth") or a folder under kernel/ ("net/netfilter/")
"""
import os
import struct
import sys


def modinfo(path):
    """The key=value strings of an ELF64 module's .modinfo section."""
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def section(i):
        name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size
    _, stroff, _ = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] == b".modinfo":
            fields = {}
            for item in data[off:off + size].split(b"\0"):
                key, _, value = item.decode(errors="replace").partition("=")
                if key and key not in fields:
                    fields[key] = value
            return fields
    return {}


def main():
    out, init, moddir, *want = sys.argv[1:]
    by_name = {}
    for root, _, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            if f.endswith(".ko"):
                by_name[f[:-3].replace("-", "_")] = os.path.join(root, f)
    chosen = []
    for w in want:
        if w.endswith("/"):
            base = os.path.join(moddir, "kernel", w)
            chosen += sorted(n for n, p in by_name.items() if p.startswith(base))
        elif w.replace("-", "_") in by_name:
            chosen.append(w.replace("-", "_"))
    order, seen = [], set()
    def visit(name):
        if name in seen or name not in by_name:
            return  # built into the kernel
        seen.add(name)
        for dep in filter(None, modinfo(by_name[name]).get("depends", "").split(",")):
            visit(dep.replace("-", "_"))
        order.append(name)
    for name in chosen:
        visit(name)

    entries = [("dev", 0o040755, b"", 0), ("dev/console", 0o020600, b"", os.makedev(5, 1)),
               ("proc", 0o040755, b"", 0), ("sys", 0o040755, b"", 0), ("modules", 0o040755, b"", 0)]
    with open(init, "rb") as f:
        entries.append(("init", 0o100755, f.read(), 0))
    for name in order:
        with open(by_name[name], "rb") as f:
            entries.append(("modules/" + name + ".ko", 0o100644, f.read(), 0))
    entries.append(("modules/order", 0o100644, "".join(n + ".ko\n" for n in order).encode(), 0))
    entries.append(("TRAILER!!!", 0, b"", 0))

    blob = bytearray()
    for ino, (name, mode, body, rdev) in enumerate(entries, 1):
        raw = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(body), 0, 0, os.major(rdev), os.minor(rdev), len(raw), 0)
        blob += b"070701" + b"".join(b"%08X" % v for v in fields) + raw
        blob += b"\0" * (-len(blob) % 4) + body
        blob += b"\0" * (-len(blob) % 4)
    blob += b"\0" * (-len(blob) % 512)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, out)
    print(f"{len(order)} modules")


if __name__ == "__main__":
    main()
