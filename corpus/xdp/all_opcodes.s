# Every instruction form of the BPF ISA up to cpu v4, in llvm's assembler syntax, one per line.
# Assembled (not compiled) with: clang-19 -target bpf -mcpu=v4 -c all_opcodes.s -o all_opcodes.o
# The golden all_opcodes.objdump shows how llvm-objdump-19 prints each of them back. It disassembles
# without the ALU32 feature, so 32-bit loads/stores print with r registers, the 32-bit fetch atomics
# print as "lock ... +=" and the other 32-bit atomics as <unknown>: that is llvm's behaviour, kept.
	.text
	.globl all_opcodes
	.type all_opcodes,@function
all_opcodes:
# ALU64, immediate source
	r1 += 1
	r1 -= -2
	r1 *= 3
	r1 /= 4
	r1 s/= -5
	r1 |= 0x10
	r1 &= 0xff
	r1 <<= 7
	r1 >>= 8
	r1 %= 9
	r1 s%= -10
	r1 ^= 0x7fffffff
	r1 = -2147483648
	r1 s>>= 63
# ALU64, register source
	r2 += r3
	r2 -= r3
	r2 *= r3
	r2 /= r3
	r2 s/= r3
	r2 |= r3
	r2 &= r3
	r2 <<= r3
	r2 >>= r3
	r2 %= r3
	r2 s%= r3
	r2 ^= r3
	r2 = r3
	r2 s>>= r3
	r2 = -r2
	r4 = (s8)r5
	r4 = (s16)r5
	r4 = (s32)r5
	r4 = addr_space_cast(r5, 1, 0)
	r4 = addr_space_cast(r5, 0, 1)
# ALU32, immediate source
	w1 += 1
	w1 -= -2
	w1 *= 3
	w1 /= 4
	w1 s/= -5
	w1 |= 0x10
	w1 &= 0xff
	w1 <<= 7
	w1 >>= 8
	w1 %= 9
	w1 s%= -10
	w1 ^= 0x7fffffff
	w1 = -1
	w1 s>>= 31
# ALU32, register source
	w2 += w3
	w2 -= w3
	w2 *= w3
	w2 /= w3
	w2 s/= w3
	w2 |= w3
	w2 &= w3
	w2 <<= w3
	w2 >>= w3
	w2 %= w3
	w2 s%= w3
	w2 ^= w3
	w2 = w3
	w2 s>>= w3
	w2 = -w2
	w4 = (s8)w5
	w4 = (s16)w5
# Byte swaps: le/be (ALU class), bswap (ALU64 class, v4)
	r6 = le16 r6
	r6 = le32 r6
	r6 = le64 r6
	r6 = be16 r6
	r6 = be32 r6
	r6 = be64 r6
	r6 = bswap16 r6
	r6 = bswap32 r6
	r6 = bswap64 r6
# 64-bit immediate loads (two slots), and with a pseudo source
	r1 = 0x1122334455667788 ll
	r2 = -1 ll
	r3 = 0 ll
	ld_pseudo r1, 1, 3
	ld_pseudo r1, 2, 5
# Legacy packet loads
	r0 = *(u8 *)skb[12]
	r0 = *(u16 *)skb[-2]
	r0 = *(u32 *)skb[0x7fffffff]
	r0 = *(u8 *)skb[r7]
	r0 = *(u16 *)skb[r8]
	r0 = *(u32 *)skb[r9]
# Loads, zero- and sign-extending
	r1 = *(u8 *)(r2 + 0)
	r1 = *(u16 *)(r2 + 2)
	r1 = *(u32 *)(r2 + 4)
	r1 = *(u64 *)(r2 + 8)
	r1 = *(s8 *)(r2 - 1)
	r1 = *(s16 *)(r2 - 2)
	r1 = *(s32 *)(r2 - 0x8000)
	w1 = *(u8 *)(r2 + 0x7fff)
	w1 = *(u16 *)(r2 + 0)
	w1 = *(u32 *)(r2 + 0)
# Stores of an immediate
	*(u8 *)(r10 - 1) = 1
	*(u16 *)(r10 - 2) = -2
	*(u32 *)(r10 - 4) = 0x7fffffff
	*(u64 *)(r10 - 8) = -2147483648
# Stores of a register
	*(u8 *)(r10 - 1) = r1
	*(u16 *)(r10 - 2) = r1
	*(u32 *)(r10 - 4) = r1
	*(u64 *)(r10 - 8) = r1
	*(u8 *)(r10 - 1) = w1
	*(u16 *)(r10 - 2) = w1
	*(u32 *)(r10 - 4) = w1
# 64-bit atomics
	lock *(u64 *)(r1 + 0) += r2
	lock *(u64 *)(r1 + 8) |= r2
	lock *(u64 *)(r1 + 16) &= r2
	lock *(u64 *)(r1 - 8) ^= r2
	r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)
	r2 = atomic_fetch_or((u64 *)(r1 + 0), r2)
	r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)
	r2 = atomic_fetch_xor((u64 *)(r1 + 0), r2)
	r2 = xchg_64(r1 + 0, r2)
	r0 = cmpxchg_64(r1 + 0, r0, r2)
# 32-bit atomics
	lock *(u32 *)(r1 + 0) += w2
	lock *(u32 *)(r1 + 0) |= w2
	lock *(u32 *)(r1 + 0) &= w2
	lock *(u32 *)(r1 + 0) ^= w2
	w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)
	w2 = atomic_fetch_or((u32 *)(r1 + 0), w2)
	w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)
	w2 = atomic_fetch_xor((u32 *)(r1 + 0), w2)
	w2 = xchg32_32(r1 + 0, w2)
	w0 = cmpxchg32_32(r1 + 0, w0, w2)
# 64-bit conditional jumps, immediate and register
	if r1 == 1 goto +1
	if r1 > 2 goto +1
	if r1 >= 3 goto +1
	if r1 & 4 goto +1
	if r1 != -5 goto +1
	if r1 s> 6 goto +1
	if r1 s>= 7 goto +1
	if r1 < 8 goto +1
	if r1 <= 9 goto +1
	if r1 s< 10 goto +1
	if r1 s<= -11 goto -1
	if r1 == r2 goto +1
	if r1 > r2 goto +1
	if r1 >= r2 goto +1
	if r1 & r2 goto +1
	if r1 != r2 goto +1
	if r1 s> r2 goto +1
	if r1 s>= r2 goto +1
	if r1 < r2 goto +1
	if r1 <= r2 goto +1
	if r1 s< r2 goto +1
	if r1 s<= r2 goto -1
# 32-bit conditional jumps, immediate and register
	if w1 == 1 goto +1
	if w1 > 2 goto +1
	if w1 >= 3 goto +1
	if w1 & 4 goto +1
	if w1 != -5 goto +1
	if w1 s> 6 goto +1
	if w1 s>= 7 goto +1
	if w1 < 8 goto +1
	if w1 <= 9 goto +1
	if w1 s< 10 goto +1
	if w1 s<= -11 goto -1
	if w1 == w2 goto +1
	if w1 > w2 goto +1
	if w1 >= w2 goto +1
	if w1 & w2 goto +1
	if w1 != w2 goto +1
	if w1 s> w2 goto +1
	if w1 s>= w2 goto +1
	if w1 < w2 goto +1
	if w1 <= w2 goto +1
	if w1 s< w2 goto +1
	if w1 s<= w2 goto -1
# Unconditional jumps, calls, exit
	goto +0
	goto -1
	gotol +2
	gotol -3
	may_goto +0
	call 1
	call 0x33
	call subprog
	callx r2
	exit
subprog:
	r0 = 0
	exit
