import random, json, re, sys
from bpfload import insn, load  # Data/bpfload.py: BPF_PROG_LOAD through ctypes

ALU_OPS = {'add':0x00,'sub':0x10,'mul':0x20,'div':0x30,'or':0x40,'and':0x50,'lsh':0x60,'rsh':0x70,'neg':0x80,'mod':0x90,'xor':0xa0,'mov':0xb0,'arsh':0xc0,'end':0xd0}
JMP_OPS = {'jeq':0x10,'jgt':0x20,'jge':0x30,'jset':0x40,'jne':0x50,'jsgt':0x60,'jsge':0x70,'jlt':0xa0,'jle':0xb0,'jslt':0xc0,'jsle':0xd0}
INTERESTING = [0,1,2,7,8,0xf,0x10,0x7f,0x80,0xff,0x100,0xfff,0x1000,0x7fff,0x8000,0xffff,0x10000,0x7fffffff,-0x80000000,-1,-2,-8,-0x80,-0x100,-0x8000,0x12345678,0x40000000,-0x40000000]
def rimm(rng):
    r = rng.random()
    if r < 0.5: return rng.choice(INTERESTING)
    if r < 0.75: return rng.randint(-300, 300)
    return rng.randint(-2**31, 2**31-1)
def rmask(rng):
    r = rng.random()
    if r < 0.4: return rng.choice([0xff,0xffff,0xff00,0xf0,0x7fffffff,-0x100,0x0fff0ff0,-1,0x80000000-1, 0x3, 0x10, 0x7, -8])
    return rng.randint(-2**31, 2**31-1)

def shape(rng, r, prog, exit_label_fix):
    n = rng.choice([0,1,1,2,2,3,4])
    for _ in range(n):
        k = rng.random()
        if k < 0.12:
            prog.append(insn(0x57 if rng.random()<0.7 else 0x54, r, 0, 0, rmask(rng)))
        elif k < 0.18:
            prog.append(insn(0x47 if rng.random()<0.7 else 0x44, r, 0, 0, rmask(rng)))
        elif k < 0.30:
            prog.append(insn(rng.choice([0x07,0x04,0x17,0x14]), r, 0, 0, rimm(rng)))
        elif k < 0.38:
            op = rng.choice([0x67,0x77,0xc7,0x64,0x74,0xc4])
            w = 64 if op & 7 == 7 else 32
            prog.append(insn(op, r, 0, 0, rng.randrange(w)))
        elif k < 0.43:
            prog.append(insn(0xbc, r, r))
        elif k < 0.48:
            if rng.random()<0.6: prog.append(insn(0xbf, r, r, rng.choice([8,16,32])))
            else: prog.append(insn(0xbc, r, r, rng.choice([8,16])))
        elif k < 0.80:
            op = rng.choice(list(JMP_OPS.values()))
            cls = 0x05 if rng.random() < 0.65 else 0x06
            exit_label_fix.append(len(prog))
            if r == 6 and rng.random() < 0.3:
                prog.append((op|cls|0x08, 6, 7, 0, 0))
            else:
                prog.append((op|cls, r, 0, 0, rimm(rng)))  # placeholder: off fixed later
        elif k < 0.85:
            prog.append(insn(rng.choice([0xb7,0xb4]), r, 0, 0, rimm(rng)))
        elif k < 0.88:
            prog.append(insn(rng.choice([0x27,0x24]), r, 0, 0, rng.choice([0,1,2,3,5,-1,-3,0x10,0x1000,rimm(rng)])))
        elif k < 0.92:
            v = rng.choice([rng.getrandbits(64), (1<<63), (1<<63)-1, (1<<32), 0xffffffff00000000, 0x00000000ffffffff, rng.getrandbits(40)])
            lo = v & 0xffffffff; hi = v >> 32
            if lo >= 1<<31: lo -= 1<<32
            if hi >= 1<<31: hi -= 1<<32
            prog.append(insn(0x18, r, 0, 0, lo)); prog.append(insn(0, 0, 0, 0, hi))
        elif k < 0.96 and r == 6:
            op = rng.choice([0x0f,0x1f,0x5f,0x4f,0xaf,0x2f,0x0c,0x1c,0x5c,0x4c])
            prog.append(insn(op, 6, 7))
        else:
            prog.append(insn(rng.choice([0xa7,0xa4]), r, 0, 0, rmask(rng)))

def unknown_into(r, prog):
    # r = (prandom << 32) | prandom, using r8 as temp; r1-r5 are clobbered by calls
    prog += [insn(0x85,0,0,0,7), insn(0xbf,8,0), insn(0x85,0,0,0,7), insn(0x67,0,0,0,32), insn(0x4f,0,8), insn(0xbf,r,0)]

def build(rng, mode):
    prog = []; fix = []
    unknown_into(6, prog); unknown_into(7, prog)
    shape(rng, 7, prog, fix); shape(rng, 6, prog, fix)
    if mode == 'alu':
        name = rng.choice(list(ALU_OPS))
        cls = 0x07 if rng.random() < 0.55 else 0x04
        src_is_reg = rng.random() < 0.5
        off = 0; imm = 0; src = 7
        code = ALU_OPS[name] | cls
        if name == 'neg': src_is_reg = False; src = 0
        elif name == 'end':
            imm = rng.choice([16,32,64]); src = 0
            if cls == 0x07: src_is_reg = False      # bswap
            else: src_is_reg = rng.random() < 0.5    # to_le / to_be
        elif name == 'mov':
            if src_is_reg:
                off = rng.choice([0,0,8,16,32] if cls==0x07 else [0,0,8,16])
            else: imm = rimm(rng); src = 0
        elif name in ('lsh','rsh','arsh'):
            if not src_is_reg: imm = rng.randrange(64 if cls==0x07 else 32); src = 0
        elif name in ('div','mod'):
            off = rng.choice([0,1])
            if not src_is_reg:
                imm = rimm(rng) or 3; src = 0
        else:
            if not src_is_reg: imm = rimm(rng); src = 0
        if src_is_reg: code |= 0x08
        op_idx = len(prog)
        prog.append(insn(code, 6, src, off, imm))
        opi = (code, 6, src, off, imm)
        prog += [insn(0xb7,0,0,0,0), insn(0x95)]
        L = None
    else:
        name = rng.choice(list(JMP_OPS))
        cls = 0x05 if rng.random() < 0.6 else 0x06
        src_is_reg = rng.random() < 0.6
        code = JMP_OPS[name] | cls | (0x08 if src_is_reg else 0)
        imm = 0 if src_is_reg else rimm(rng)
        src = 7 if src_is_reg else 0
        op_idx = len(prog)
        prog.append(insn(code, 6, src, 2, imm))
        opi = (code, 6, src, 2, imm)
        prog += [insn(0xb7,0,0,0,0), insn(0x95)]
        L = len(prog)
        prog += [insn(0xb7,0,0,0,1), insn(0x95)]
    exit_idx = len(prog)
    prog += [insn(0xb7,0,0,0,2), insn(0x95)]
    for i in fix:
        code, r, s, _, imm = prog[i]
        prog[i] = insn(code, r, s, exit_idx - i - 1, imm)
    return prog, op_idx, opi, L, name

LINE = re.compile(r'^(\d+): \((\w\w)\) .*?;(.*)$')
REG = re.compile(r'R(\d+)_?w?=(\S+)')
def regs_of(text):
    # split "R0=... R6=scalar(...) fp-8=..." on spaces at top level
    out = {}; depth = 0; cur = ''
    for ch in text.strip() + ' ':
        if ch == '(' : depth += 1
        if ch == ')' : depth -= 1
        if ch == ' ' and depth == 0:
            if cur.startswith('R') and '=' in cur:
                k, v = cur.split('=', 1)
                out[int(k[1:].rstrip('_w'))] = v
            cur = ''
        else: cur += ch
    return out

def analyse(log, op_idx, L, exit_idx_check=None):
    cur = {}
    lines = log.split('\n')
    i = 0; inputs = None; after = None; nxt = None; taken = None
    for ln in lines:
        m = re.match(r'^(\d+): (.*)$', ln)
        if not m:
            if ln.startswith('from '): break
            continue
        idx = int(m.group(1)); rest = m.group(2)
        if inputs is not None:
            if rest.startswith('('):
                nxt = idx
                break
            if idx == op_idx:
                after.update(regs_of(rest))
            continue
        if rest.startswith('('):
            if idx == op_idx:
                inputs = dict(cur)
                if ';' in rest: after = regs_of(rest.split(';',1)[1])
                else: after = {}
                continue
            if ';' in rest:
                cur.update(regs_of(rest.split(';',1)[1]))
        else:
            cur.update(regs_of(rest))
    if inputs is None: return None
    for ln in lines:
        m = re.match(r'^from (\d+) to (\d+): (.*)$', ln)
        if m and int(m.group(1)) == op_idx and L is not None and int(m.group(2)) == L:
            taken = regs_of(m.group(3))
    return inputs, after, nxt, taken

def clean(v):
    if v is None: return None
    v = v.lstrip('P')
    v = re.sub(r'id=\d+([+-]\d+)?,?', '', v)
    v = v.replace('(,', '(').replace(',)', ')')
    return v

def main(n, seed, out):
    rng = random.Random(seed)
    got = 0; tries = 0
    with open(out, 'w') as f:
        while got < n and tries < n * 20:
            tries += 1
            mode = 'alu' if rng.random() < 0.5 else 'jmp'
            prog, op_idx, opi, L, name = build(rng, mode)
            fd, err, log = load(prog)
            if fd < 0:
                continue
            r = analyse(log, op_idx, L)
            if r is None: continue
            inputs, after, nxt, taken = r
            if 6 not in inputs or not inputs[6].lstrip('P')[:1] in '-0123456789s': continue
            rec = {'mode': mode, 'name': name, 'insn': list(opi),
                   'dst': clean(inputs.get(6)), 'src': clean(inputs.get(7)) if opi[2] == 7 else None}
            if mode == 'alu':
                rec['out_dst'] = clean(after.get(6))
            else:
                if nxt == L: rec['outcome'] = 'always'
                elif taken is None: rec['outcome'] = 'never'
                else:
                    rec['outcome'] = 'unknown'
                    rec['true_dst'] = clean(taken.get(6)); rec['true_src'] = clean(taken.get(7)) if opi[2]==7 else None
                    rec['false_dst'] = clean(after.get(6)); rec['false_src'] = clean(after.get(7)) if opi[2]==7 else None
            f.write(json.dumps(rec) + '\n'); got += 1
    print('cases', got, 'tries', tries)

if __name__ == '__main__':
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
