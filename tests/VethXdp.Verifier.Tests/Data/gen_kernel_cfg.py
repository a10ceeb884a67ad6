# Random small programs with random jumps and BPF-to-BPF calls, loaded into the running kernel (root, socket filter,
# log level 1): records the control-flow message Linux prints (or none when the program gets past the CFG passes).
import random, json, sys
from bpfload import insn, load
CFG_MSGS = ('jump out of range', 'last insn is not an exit or jmp', 'unreachable insn', 'back-edge',
            'call to invalid destination', 'too many subprograms', 'jump into the middle of ldimm64')
def gen(rng):
    n = rng.randint(2, 14); p = []
    while len(p) < n:
        k = rng.random()
        if k < 0.25: p.append([0xb7, 0, 0, 0, rng.randint(0, 3)])
        elif k < 0.45: p.append([rng.choice([0x15, 0x55, 0x25, 0xa5, 0x16]), 0, 0, rng.randint(-4, 6), rng.randint(0, 2)])
        elif k < 0.55: p.append([0x05, 0, 0, rng.randint(-3, 5), 0])
        elif k < 0.72: p.append([0x95, 0, 0, 0, 0])
        elif k < 0.84: p.append([0x85, 0, 1, 0, rng.randint(-5, 8)])
        elif k < 0.92: p.append([0x18, 1, 0, 0, 7]); p.append([0, 0, 0, 0, 0])
        else: p.append([0x06, 0, 0, 0, rng.randint(-3, 5)])
    if rng.random() < 0.7 and p[-1][0] != 0x95: p.append([0x95, 0, 0, 0, 0])
    return p
rng = random.Random(int(sys.argv[2])); out = open(sys.argv[3], 'w'); seen = set(); kinds = {}
for _ in range(int(sys.argv[1])):
    p = gen(rng); key = json.dumps(p)
    if key in seen: continue
    seen.add(key)
    fd, err, log = load([insn(*i) for i in p], log_level=1)
    msg = None
    for line in log.split('\n'):
        if line.startswith(CFG_MSGS): msg = line; break
    rec = {'slots': p, 'cfg_error': msg}
    kinds[(msg or 'ok').split(' ')[0]] = kinds.get((msg or 'ok').split(' ')[0], 0) + 1
    out.write(json.dumps(rec) + '\n')
print(kinds)
