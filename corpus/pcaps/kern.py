#!/usr/bin/env python3
"""Loads a BPF object into the running kernel through libbpf.so.1 (ctypes), fills its maps, runs
BPF_PROG_TEST_RUN on every frame of a pcap (pinned to CPU 0) and prints one JSON line per frame, then the final
maps. A developer's tool for recording the corpus's verdicts (record_kernel.py runs it); needs root and libbpf1.

  kern.py OBJ PROG PCAP [--env ENV.json] [--ifindex N] [--rxq N] [--show-data]

ENV.json: {"maps": {NAME: {"entries": [{"key": hex, "value": hex | int | name, "program": name}]}},
           "mapSizes": {NAME: N}, "devBound": "ifname", "sockets": [{"listen"|"bind"|"connect": ...}],
           "userRingbuf": {NAME: [{"sample": hex} | {"discard": N}]}}
A user ring buffer's records are written, in order, through libbpf's user_ring_buffer (reserve, then submit or
discard) before the first frame.
Global data maps are named like their sections (".data"). A legacy-maps object (SEC("maps"), which libbpf 1.x
refuses) is loaded by a small loader of our own: maps from the definitions, fds patched into ld_imm64.
"""
import ctypes as C
import json
import os
import struct
import sys

lib = C.CDLL("libbpf.so.1", use_errno=True)
vp = C.c_void_p
for name, res, args in [
    ("bpf_object__open_file", vp, [C.c_char_p, vp]),
    ("bpf_object__load", C.c_int, [vp]),
    ("bpf_object__close", None, [vp]),
    ("bpf_object__next_program", vp, [vp, vp]),
    ("bpf_object__next_map", vp, [vp, vp]),
    ("bpf_object__find_program_by_name", vp, [vp, C.c_char_p]),
    ("bpf_program__name", C.c_char_p, [vp]),
    ("bpf_program__section_name", C.c_char_p, [vp]),
    ("bpf_program__fd", C.c_int, [vp]),
    ("bpf_program__set_ifindex", None, [vp, C.c_uint]),
    ("bpf_program__set_flags", C.c_int, [vp, C.c_uint]),
    ("bpf_program__flags", C.c_uint, [vp]),
    ("bpf_program__type", C.c_int, [vp]),
    ("bpf_program__expected_attach_type", C.c_int, [vp]),
    ("bpf_map__name", C.c_char_p, [vp]),
    ("bpf_map__type", C.c_int, [vp]),
    ("bpf_map__key_size", C.c_uint, [vp]),
    ("bpf_map__value_size", C.c_uint, [vp]),
    ("bpf_map__max_entries", C.c_uint, [vp]),
    ("bpf_map__set_max_entries", C.c_int, [vp, C.c_uint]),
    ("bpf_map__fd", C.c_int, [vp]),
    ("bpf_map_update_elem", C.c_int, [C.c_int, vp, vp, C.c_ulonglong]),
    ("bpf_map_lookup_elem", C.c_int, [C.c_int, vp, vp]),
    ("bpf_map_lookup_and_delete_elem", C.c_int, [C.c_int, vp, vp]),
    ("bpf_map_get_next_key", C.c_int, [C.c_int, vp, vp]),
    ("bpf_map_create", C.c_int, [C.c_int, C.c_char_p, C.c_uint, C.c_uint, C.c_uint, vp]),
    ("bpf_prog_load", C.c_int, [C.c_int, C.c_char_p, C.c_char_p, vp, C.c_size_t, vp]),
    ("bpf_prog_test_run_opts", C.c_int, [C.c_int, vp]),
    ("libbpf_num_possible_cpus", C.c_int, []),
    ("user_ring_buffer__new", vp, [C.c_int, vp]),
    ("user_ring_buffer__reserve", vp, [vp, C.c_uint32]),
    ("user_ring_buffer__submit", None, [vp, vp]),
    ("user_ring_buffer__discard", None, [vp, vp]),
]:
    f = getattr(lib, name)
    f.restype, f.argtypes = res, args

NCPU = lib.libbpf_num_possible_cpus()
libc = C.CDLL(None)
libc.if_nametoindex.restype, libc.if_nametoindex.argtypes = C.c_uint, [C.c_char_p]


class TestRunOpts(C.Structure):
    _fields_ = [("sz", C.c_size_t), ("data_in", vp), ("data_out", vp), ("data_size_in", C.c_uint32),
                ("data_size_out", C.c_uint32), ("ctx_in", vp), ("ctx_out", vp), ("ctx_size_in", C.c_uint32),
                ("ctx_size_out", C.c_uint32), ("retval", C.c_uint32), ("repeat", C.c_int),
                ("duration", C.c_uint32), ("flags", C.c_uint32), ("cpu", C.c_uint32), ("batch_size", C.c_uint32)]


MAP_TYPES = {0: "unspec", 1: "hash", 2: "array", 3: "prog_array", 4: "perf_event_array", 5: "percpu_hash",
             6: "percpu_array", 7: "stack_trace", 8: "cgroup_array", 9: "lru_hash", 10: "lru_percpu_hash",
             11: "lpm_trie", 12: "array_of_maps", 13: "hash_of_maps", 14: "devmap", 15: "sockmap", 16: "cpumap",
             17: "xskmap", 18: "sockhash", 22: "queue", 23: "stack", 25: "devmap_hash", 27: "ringbuf"}
PERCPU = {5, 6, 10}
ACTIONS = ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"]


def read_pcap(path):
    with open(path, "rb") as f:
        b = f.read()
    magic, = struct.unpack_from("<I", b, 0)
    assert magic == 0xa1b2c3d4, path
    off, out = 24, []
    while off < len(b):
        _, _, incl, orig = struct.unpack_from("<IIII", b, off)
        out.append(b[off + 16: off + 16 + incl])
        off += 16 + incl
    return out


class Obj:
    """A loaded object: programs {name: fd}, maps {name: (fd, type, ksz, vsz, max)}."""

    def __init__(self, path, env, only_prog=None):
        self.progs, self.maps, self.obj = {}, {}, None
        with open(path, "rb") as f:
            raw = f.read()
        if b"\x00maps\x00" in raw and legacy_maps_section(raw):
            self._load_legacy(raw)
            return
        obj = lib.bpf_object__open_file(path.encode(), None)
        if not obj:
            raise SystemExit(f"open {path}: errno {C.get_errno()}")
        self.obj = obj
        sizes = env.get("mapSizes", {})
        m = None
        while True:
            m = lib.bpf_object__next_map(obj, m)
            if not m:
                break
            n = lib.bpf_map__name(m).decode()
            if n in sizes:
                lib.bpf_map__set_max_entries(m, sizes[n])
        p = None
        while True:
            p = lib.bpf_object__next_program(obj, p)
            if not p:
                break
            if env.get("devBound"):
                lib.bpf_program__set_ifindex(p, libc.if_nametoindex(env["devBound"].encode()))
                lib.bpf_program__set_flags(p, lib.bpf_program__flags(p) | (1 << 6))  # BPF_F_XDP_DEV_BOUND_ONLY
        err = lib.bpf_object__load(obj)
        if err:
            raise SystemExit(f"load {path}: {err}")
        p = None
        while True:
            p = lib.bpf_object__next_program(obj, p)
            if not p:
                break
            self.progs[lib.bpf_program__name(p).decode()] = lib.bpf_program__fd(p)
        m = None
        while True:
            m = lib.bpf_object__next_map(obj, m)
            if not m:
                break
            self.maps[lib.bpf_map__name(m).decode()] = (lib.bpf_map__fd(m), lib.bpf_map__type(m),
                                                        lib.bpf_map__key_size(m), lib.bpf_map__value_size(m),
                                                        lib.bpf_map__max_entries(m))

    def _load_legacy(self, raw):
        elf = Elf(raw)
        msec = elf.section("maps")
        defs = {}
        for sym in elf.symbols():
            if sym["shndx"] == msec["index"] and sym["name"]:
                t, ks, vs, me, fl = struct.unpack_from("<IIIII", raw, msec["offset"] + sym["value"])
                fd = lib.bpf_map_create(t, sym["name"].encode(), ks, vs, me, None)
                if fd < 0:
                    raise SystemExit(f"map {sym['name']}: {fd}")
                defs[sym["name"]] = fd
                self.maps[sym["name"]] = (fd, t, ks, vs, me)
        lic = elf.section("license")
        license_ = raw[lic["offset"]:lic["offset"] + lic["size"]].split(b"\0")[0]
        for sec in elf.sections:
            if not (sec["flags"] & 4) or sec["size"] == 0:      # SHF_EXECINSTR
                continue
            code = bytearray(raw[sec["offset"]:sec["offset"] + sec["size"]])
            for rel in elf.relocations_for(sec["index"]):
                sym = elf.symbols()[rel["sym"]]
                off = rel["offset"]
                code[off + 1] = (code[off + 1] & 0x0f) | (1 << 4)           # src_reg = BPF_PSEUDO_MAP_FD
                struct.pack_into("<i", code, off + 4, defs[sym["name"]])
            for sym in elf.symbols():
                if sym["shndx"] == sec["index"] and sym["type"] == 2:     # STT_FUNC
                    insns = bytes(code[sym["value"]:sym["value"] + sym["size"]])
                    buf = C.create_string_buffer(insns)
                    logbuf = C.create_string_buffer(1 << 20)

                    class ProgLoadOpts(C.Structure):
                        _fields_ = [("sz", C.c_size_t), ("attempts", C.c_int), ("expected_attach_type", C.c_int),
                                    ("prog_btf_fd", C.c_uint32), ("prog_flags", C.c_uint32),
                                    ("prog_ifindex", C.c_uint32), ("kern_version", C.c_uint32),
                                    ("attach_btf_id", C.c_uint32), ("attach_prog_fd", C.c_uint32),
                                    ("attach_btf_obj_fd", C.c_uint32), ("fd_array", vp),
                                    ("func_info", vp), ("func_info_cnt", C.c_uint32), ("func_info_rec_size", C.c_uint32),
                                    ("line_info", vp), ("line_info_cnt", C.c_uint32), ("line_info_rec_size", C.c_uint32),
                                    ("log_level", C.c_uint32), ("log_size", C.c_uint32), ("log_buf", vp),
                                    ("log_true_size", C.c_uint32)]
                    o = ProgLoadOpts(sz=C.sizeof(ProgLoadOpts), log_level=1, log_size=1 << 20,
                                     log_buf=C.cast(logbuf, vp))
                    fd = lib.bpf_prog_load(6, sym["name"][:15].encode(), license_, C.cast(buf, vp), len(insns) // 8,
                                           C.byref(o))
                    if fd < 0:
                        sys.stderr.write(logbuf.value.decode(errors="replace"))
                        raise SystemExit(f"legacy load {sym['name']}: {fd}")
                    self.progs[sym["name"]] = fd

    def resolve(self, name):
        """A section name (".data") names libbpf's internal map ("xdp_cpum.data")."""
        if name in self.maps:
            return name
        for n in self.maps:
            if "." in n and n[n.index("."):] == name:
                return n
        raise KeyError(name)

    def fill(self, env):
        for name, spec in env.get("maps", {}).items():
            fd, t, ks, vs, _ = self.maps[self.resolve(name)]
            for e in spec.get("entries", []):
                key = bytes.fromhex(e["key"]) if "key" in e else None
                v = e["value"]
                if t == 3:                                       # prog_array: a program name
                    val = struct.pack("<i", self.progs[v])
                elif t in (14, 25):                              # devmap: ifindex [+ program]
                    val = struct.pack("<I", v) + (struct.pack("<i", self.progs[e["program"]]) if "program" in e
                                                  else b"\0\0\0\0" if vs == 8 else b"")
                elif t == 16:                                    # cpumap: qsize [+ program]
                    val = struct.pack("<I", v) + (struct.pack("<i", self.progs[e["program"]]) if "program" in e
                                                  else b"\0\0\0\0" if vs == 8 else b"")
                elif t in (12, 13):                              # map of maps: an inner map's name
                    val = struct.pack("<i", self.maps[self.resolve(v)][0])
                elif t in PERCPU:
                    vals = e["values"] if "values" in e else [v] * NCPU
                    stride = (vs + 7) // 8 * 8
                    val = b"".join(bytes.fromhex(x).ljust(stride, b"\0") for x in vals)
                else:
                    val = bytes.fromhex(v)
                kb = C.create_string_buffer(key, len(key)) if key is not None else None
                vb = C.create_string_buffer(val, len(val))
                r = lib.bpf_map_update_elem(fd, C.cast(kb, vp) if kb else None, C.cast(vb, vp), 0)
                if r:
                    raise SystemExit(f"update {name} {e}: {r}")

    def produce(self, env):
        """User ring buffer records, written as user space's producer writes them."""
        self.user_rings = []
        for name, records in env.get("userRingbuf", {}).items():
            rb = lib.user_ring_buffer__new(self.maps[self.resolve(name)][0], None)
            if not rb:
                raise SystemExit(f"user_ring_buffer__new {name}: errno {C.get_errno()}")
            self.user_rings.append(rb)
            for r in records:
                data = bytes.fromhex(r["sample"]) if "sample" in r else b""
                size = len(data) if "sample" in r else r["discard"]
                p = lib.user_ring_buffer__reserve(rb, size)
                if not p:
                    raise SystemExit(f"user_ring_buffer__reserve {name} {r}: errno {C.get_errno()}")
                C.memmove(p, data, len(data))
                if "sample" in r:
                    lib.user_ring_buffer__submit(rb, p)
                else:
                    lib.user_ring_buffer__discard(rb, p)

    def dump(self):
        out = {}
        for name, (fd, t, ks, vs, me) in sorted(self.maps.items()):
            tn = MAP_TYPES.get(t, str(t))
            if t in (4, 27, 17, 12, 13, 3, 29, 31, 32) or name.endswith(".rodata"):
                continue
            entries = []
            if t in (22, 23):
                vb = C.create_string_buffer(vs)
                while lib.bpf_map_lookup_and_delete_elem(fd, None, C.cast(vb, vp)) == 0:
                    entries.append({"value": vb.raw.hex()})
            else:
                stride = (vs + 7) // 8 * 8
                vlen = stride * NCPU if t in PERCPU else vs
                if t in (14, 25, 16):
                    vlen = vs
                kb, nk, vb = C.create_string_buffer(ks), C.create_string_buffer(ks), C.create_string_buffer(vlen)
                prev = None
                while lib.bpf_map_get_next_key(fd, C.cast(kb, vp) if prev is not None else None,
                                               C.cast(nk, vp)) == 0:
                    prev = nk.raw
                    C.memmove(kb, nk, ks)
                    if lib.bpf_map_lookup_elem(fd, C.cast(nk, vp), C.cast(vb, vp)) != 0:
                        continue
                    if t in PERCPU:
                        vals = [vb.raw[i * stride:i * stride + vs].hex() for i in range(NCPU)]
                        if t == 6 and all(set(x) <= {"0"} for x in vals):
                            continue
                        entries.append({"key": prev.hex(), "values": vals})
                    else:
                        if t == 2 and set(vb.raw.hex()) <= {"0"}:
                            continue
                        entries.append({"key": prev.hex(), "value": vb.raw.hex()})
            out[name[name.index("."):] if "." in name else name] = {"type": tn, "entries": entries}
        return out


def open_sockets(specs):
    """Sockets the environment asks for, kept open while the program runs."""
    import socket
    out = []

    def addr(text):
        host, port = text.rsplit(":", 1)
        host = host.strip("[]")
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        return fam, (host, int(port))
    for spec in specs:
        if "listen" in spec:
            fam, a = addr(spec["listen"])
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(a)
            s.listen(16)
            out.append(s)
        elif "bind" in spec:
            fam, a = addr(spec["bind"])
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.bind(a)
            out.append(s)
        elif "connect" in spec:
            src, dst = spec["connect"].split("->")
            fam, sa = addr(src)
            _, da = addr(dst)
            c = socket.socket(fam, socket.SOCK_STREAM)
            c.bind(sa)
            c.connect(da)
            out.append(c)
    return out


def legacy_maps_section(raw):
    try:
        return Elf(raw).section("maps") is not None
    except Exception:
        return False


class Elf:
    def __init__(self, raw):
        self.raw = raw
        shoff, = struct.unpack_from("<Q", raw, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", raw, 0x3a)
        self.sections = []
        for i in range(shnum):
            nm, typ, flags, addr, off, size, link, info, align, entsz = struct.unpack_from(
                "<IIQQQQIIQQ", raw, shoff + i * shentsize)
            self.sections.append(dict(index=i, nameoff=nm, type=typ, flags=flags, offset=off, size=size,
                                      link=link, info=info, entsize=entsz))
        strtab = self.sections[shstrndx]
        for s in self.sections:
            s["name"] = self._str(strtab["offset"] + s["nameoff"])
        self._syms = None

    def _str(self, off):
        end = self.raw.index(b"\0", off)
        return self.raw[off:end].decode()

    def section(self, name):
        for s in self.sections:
            if s["name"] == name:
                return s
        return None

    def symbols(self):
        if self._syms is None:
            st = next(s for s in self.sections if s["type"] == 2)
            strs = self.sections[st["link"]]
            self._syms = []
            for i in range(st["size"] // 24):
                nm, info, other, shndx, value, size = struct.unpack_from("<IBBHQQ", self.raw, st["offset"] + i * 24)
                self._syms.append(dict(name=self._str(strs["offset"] + nm), type=info & 0xf, shndx=shndx,
                                       value=value, size=size))
        return self._syms

    def relocations_for(self, index):
        out = []
        for s in self.sections:
            if s["type"] == 9 and s["info"] == index:
                for i in range(s["size"] // 16):
                    off, info = struct.unpack_from("<QQ", self.raw, s["offset"] + i * 16)
                    out.append(dict(offset=off, sym=info >> 32, type=info & 0xffffffff))
        return out


def run(obj, prog, frames, ifindex=None, rxq=None):
    fd = obj.progs[prog]
    results = []
    for frame in frames:
        din = C.create_string_buffer(bytes(frame), max(len(frame), 1))
        dout = C.create_string_buffer(65536 + 4096)
        o = TestRunOpts(sz=C.sizeof(TestRunOpts), data_in=C.cast(din, vp), data_out=C.cast(dout, vp),
                        data_size_in=len(frame), data_size_out=len(dout), repeat=1)
        if ifindex is not None or rxq is not None:
            ctx = struct.pack("<IIIIII", 0, len(frame), 0, ifindex or 0, rxq or 0, 0)
            cb = C.create_string_buffer(ctx, len(ctx))
            o.ctx_in, o.ctx_size_in = C.cast(cb, vp), len(ctx)
        r = lib.bpf_prog_test_run_opts(fd, C.byref(o))
        if r:
            results.append({"error": r})
        else:
            results.append({"retval": o.retval, "action": ACTIONS[o.retval] if o.retval < 5 else "unknown",
                            "data": dout.raw[:o.data_size_out].hex()})
    return results


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("obj"), ap.add_argument("prog"), ap.add_argument("pcap")
    ap.add_argument("--env"), ap.add_argument("--ifindex", type=int), ap.add_argument("--rxq", type=int)
    ap.add_argument("--show-data", action="store_true")
    a = ap.parse_args()
    os.sched_setaffinity(0, {0})
    env = json.load(open(a.env)) if a.env else {}
    socks = open_sockets(env.get("sockets", []))
    o = Obj(a.obj, env)
    o.fill(env)
    o.produce(env)
    res = run(o, a.prog, read_pcap(a.pcap), a.ifindex, a.rxq)
    for i, r in enumerate(res):
        if not a.show_data:
            r.pop("data", None)
        print(json.dumps({"packet": i, **r}))
    print(json.dumps({"maps": o.dump()}))


if __name__ == "__main__":
    main()
