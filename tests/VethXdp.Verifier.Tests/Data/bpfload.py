import ctypes, struct, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_bpf = 321
BPF_PROG_LOAD = 5
def insn(op, dst=0, src=0, off=0, imm=0):
    return struct.pack('<BBhi', op, (src << 4) | dst, off, imm)
def load(insns, prog_type=1, log_level=2, license=b"GPL", size=1<<24):
    code = b''.join(insns)
    buf = ctypes.create_string_buffer(code)
    lic = ctypes.create_string_buffer(license)
    log = ctypes.create_string_buffer(size)
    attr = bytearray(160)
    struct.pack_into('<IIQQIIQI', attr, 0, prog_type, len(code)//8, ctypes.addressof(buf), ctypes.addressof(lic), log_level, size, ctypes.addressof(log), 0)
    a = (ctypes.c_char * len(attr)).from_buffer(attr)
    fd = libc.syscall(SYS_bpf, BPF_PROG_LOAD, a, len(attr))
    err = ctypes.get_errno()
    if fd >= 0: os.close(fd)
    return fd, err, log.value.decode(errors='replace')
if __name__ == '__main__':
    # r0 = 1; exit
    fd, err, log = load([insn(0xb7,0,0,0,1), insn(0x95)])
    print(fd, err); print(log)
