# Kernel-recorded branch refinements for the crafted cases of
# tools/testing/selftests/bpf/prog_tests/reg_bounds.c (init type, condition type, x range, y range):
# each operand is narrowed to its range in its init type, then every comparison of the condition type runs.
import json, sys
from bpfload import insn, load
from gen import unknown_into, analyse, clean, JMP_OPS
U64,S64,U32,S32 = 'u64','s64','u32','s32'
S32_MIN=-(1<<31); S32_MAX=(1<<31)-1; U32_MAX=(1<<32)-1; U64_MAX=(1<<64)-1; S64_MIN=-(1<<63); S64_MAX=(1<<63)-1
def u32(v): return v & 0xffffffff
def u64(v): return v & U64_MAX
C = [
 (U64,U64,(0,0xffffffff),(0,0)),(U64,U64,(0,0x80000000),(0,0)),(U64,U64,(0x100000000,0x100000100),(0,0)),
 (U64,U64,(0x100000000,0x180000000),(0,0)),(U64,U64,(0x100000000,0x1ffffff00),(0,0)),(U64,U64,(0x100000000,0x1ffffff01),(0,0)),
 (U64,U64,(0x100000000,0x1fffffffe),(0,0)),(U64,U64,(0x100000001,0x1000000ff),(0,0)),
 (U64,U64,(0,1),(1,0x80000000)),(U64,S64,(0,1),(1,0x80000000)),(U64,U32,(0,1),(1,0x80000000)),(U64,S32,(0,1),(1,0x80000000)),
 (U64,S64,(0,0xffffffff00000000),(0,0)),(U64,S64,(0x7fffffffffffffff,0xffffffff00000000),(0,0)),
 (U64,S64,(0x7fffffff00000001,0xffffffff00000000),(0,0)),(U64,S64,(0,0xffffffff),(1,1)),(U64,S64,(0,0xffffffff),(0x7fffffff,0x7fffffff)),
 (U64,U32,(0,0x100000000),(0,0)),(U64,U32,(0xfffffffe,0x100000000),(0x80000000,0x80000000)),
 (U64,S32,(0,0xffffffff00000000),(0,0)),(U64,S32,(0,0x0ffffffff),(0,0)),(U64,S32,(0,0x100000000),(0,0)),(U64,S32,(0,0x100000001),(0,0)),
 (U64,S32,(0,0x180000000),(0,0)),(U64,S32,(0,0x17fffffff),(0,0)),(U64,S32,(0,0x180000001),(0,0)),
 (S64,S64,(0xffffffffffffffff,0),(0xffffffff00000000,0xffffffff00000000)),
 (U64,U64,(0xffffffff,0x100000000),(0,0)),(U64,U64,(0xffffffff,0x100000001),(0,0)),
 (S64,U64,(0xffffffff00000001,0),(0xffffffff00000000,0xffffffff00000000)),
 (U32,U32,(1,U32_MAX),(0,0)),(U32,S32,(0,U32_MAX),(U32_MAX,U32_MAX)),
 (S32,U64,(u32(S32_MIN),u32(S32_MIN)),(u32(-255),0)),(S32,S64,(u32(S32_MIN),u32(-255)),(u32(-2),0)),
 (S32,S64,(0,1),(u32(S32_MIN),u32(S32_MIN))),(S32,U32,(u32(S32_MIN),u32(S32_MIN)),(u32(S32_MIN),u32(S32_MIN))),
 (U64,U64,(0,U64_MAX),(U64_MAX,U64_MAX)),(U64,U64,(0,U64_MAX),(0,0)),(S64,U64,(u64(S64_MIN),0),(u64(S64_MIN),u64(S64_MIN))),
 (S64,U64,(u64(S64_MIN),0),(0,0)),(S64,U64,(u64(S64_MIN),S64_MAX),(S64_MAX,S64_MAX)),(U32,U32,(0,U32_MAX),(0,0)),
 (U32,U32,(0,U32_MAX),(U32_MAX,U32_MAX)),(S32,U32,(u32(S32_MIN),0),(0,0)),(S32,U32,(u32(S32_MIN),0),(u32(S32_MIN),u32(S32_MIN))),
 (S32,U32,(u32(S32_MIN),S32_MAX),(S32_MAX,S32_MAX)),
 (S64,U32,(0,0x1f),(0xffffffff80000000,0x7fffffff)),(S64,U32,(0,0x1f),(0xffffffffffff8000,0x7fff)),(S64,U32,(0,0x1f),(0xffffffffffffff80,0x7f)),
]
def s32imm(v):
    v &= 0xffffffff
    return v - (1<<32) if v >= 1<<31 else v
def lddw(r, v):
    v = u64(v); lo = s32imm(v); hi = s32imm(v >> 32)
    return [insn(0x18, r, 0, 0, lo), insn(0, 0, 0, 0, hi)]
def narrow(r, t, lo, hi, fix, prog):
    if lo == hi and t in (U64, S64):
        prog += lddw(r, lo); return
    if t in (U64, S64):
        lt, gt = (0xad, 0x2d) if t == U64 else (0xcd, 0x6d)
        prog += lddw(9, lo); fix.append(len(prog)); prog.append((lt, r, 9, 0, 0))
        prog += lddw(9, hi); fix.append(len(prog)); prog.append((gt, r, 9, 0, 0))
    else:
        lt, gt = (0xa6, 0x26) if t == U32 else (0xc6, 0x66)
        fix.append(len(prog)); prog.append((lt, r, 0, 0, s32imm(lo)))
        fix.append(len(prog)); prog.append((gt, r, 0, 0, s32imm(hi)))
OPS = ['jlt','jle','jgt','jge','jeq','jne','jslt','jsle','jsgt','jsge']
out = open(sys.argv[1], 'w'); n = 0
for init_t, cond_t, x, y in C:
    for (a, b) in ((x, y), (y, x)):
        for name in OPS:
            if name.startswith('js') != (cond_t in (S64, S32)): continue
            prog = []; fix = []
            unknown_into(6, prog); unknown_into(7, prog)
            narrow(6, init_t, a[0], a[1], fix, prog); narrow(7, init_t, b[0], b[1], fix, prog)
            cls = 0x05 if cond_t in (U64, S64) else 0x06
            op_idx = len(prog); code = JMP_OPS[name] | cls | 0x08
            prog.append(insn(code, 6, 7, 2, 0))
            prog += [insn(0xb7,0,0,0,0), insn(0x95)]; L = len(prog)
            prog += [insn(0xb7,0,0,0,1), insn(0x95)]; ex = len(prog)
            prog += [insn(0xb7,0,0,0,2), insn(0x95)]
            for i in fix:
                c, r, s, _, imm = prog[i]; prog[i] = insn(c, r, s, ex - i - 1, imm)
            fd, err, log = load(prog)
            if fd < 0: print('load failed', init_t, cond_t, a, b, name, err); continue
            res = analyse(log, op_idx, L)
            if res is None: print('op not reached', init_t, a, b); continue
            inputs, after, nxt, taken = res
            rec = {'mode': 'jmp', 'name': name, 'insn': [code, 6, 7, 2, 0], 'case': f'{init_t} {cond_t} {a} {b}',
                   'dst': clean(inputs.get(6)), 'src': clean(inputs.get(7))}
            if nxt == L: rec['outcome'] = 'always'
            elif taken is None: rec['outcome'] = 'never'
            else:
                rec['outcome'] = 'unknown'
                rec['true_dst'] = clean(taken.get(6)); rec['true_src'] = clean(taken.get(7))
                rec['false_dst'] = clean(after.get(6)); rec['false_src'] = clean(after.get(7))
            out.write(json.dumps(rec) + '\n'); n += 1
print('cases', n)
