using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Properties;

/// <summary>Random XDP programs shaped to stress 6.18's stack liveness (clean_live_states()): branches on
/// bpf_get_prandom_u32 results and packet bytes whose arms write different things into the same stack slots (spilled
/// ctx, packet and map value pointers, small and large constants, unknown scalars, 1/2/4-byte partial writes, so slots
/// are SPILL, MISC or ZERO), joins, slots overwritten on some paths only, fills on some paths used as map value or
/// packet offsets or dereferenced as pointers, branches on slot values, variable-offset stack reads and writes (two
/// slots each), and BPF-to-BPF calls (two deep at most) that get a pointer into their caller's frame and read or write
/// through it (directly or through a spill of the pointer) on some of their paths. No bpf_loop: a callback needs BTF
/// func_info, which an assembled program has not. Written as kernel-syntax assembly
/// (<see cref="Assembler"/>), so a failing case prints as a readable, re-assemblable program.</summary>
/// <remarks>Register roles in the main program: r6 = ctx, r7 = data (64 bytes checked readable by the prologue),
/// r8 = data_end, r9 = a map value (16 bytes, key 0, NULL-checked); r0-r5 are scratch. In a subprogram: r6 = the
/// pointer its caller passed (into a caller's frame), r7 = the map value. The main frame's slots fp-8..fp-40 are the
/// generator's; the lookup key sits at fp-68.</remarks>
internal static class StackProgramGen
{
    /// <summary>The array map the programs look up (map index 0): one 16-byte value.</summary>
    public static readonly MapSpec Map = new() { Name = "m", Type = MapType.Array, KeySize = 4, ValueSize = 16, MaxEntries = 1 };

    /// <summary>A piece of a function body.</summary>
    public abstract record Node;

    /// <summary>Straight-line assembly (may jump to <c>out</c> in the main program).</summary>
    public sealed record Code(string[] Lines) : Node;

    /// <summary><c>Cond; Jump Lelse; Then; goto Ljoin; Lelse: Else; Ljoin:</c></summary>
    public sealed record IfElse(string[] Cond, string Jump, Node[] Then, Node[] Else) : Node;

    /// <summary>A call of subprogram <paramref name="Target"/> (argument set-up, the call, and what is done with r0).</summary>
    public sealed record CallSub(int Target, string[] Before, string[] After) : Node;

    /// <summary>A subprogram <c>f{index}</c>: its body and the lines that set r0 before its exit.</summary>
    public sealed record Sub(Node[] Body, string[] Ret);

    /// <summary>A whole program: the main body and the subprograms (only those called are emitted).</summary>
    public sealed record StackProgram(Node[] Main, Sub[] Subs)
    {
        /// <summary>The program as kernel-syntax assembly.</summary>
        public override string ToString() => Render(this);
    }

    private static readonly int[] s_offs = [8, 16, 24, 32, 40];

    private static string Line(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);

    private static Gen<int> Off => Gen.Elements(s_offs);

    private static Gen<string> Size => Gen.Elements("u8", "u16", "u32");

    private static int Bytes(string size) => size switch { "u8" => 1, "u16" => 2, "u32" => 4, _ => 8 };

    // a partial write or read inside the slot at -off: the address -(off - d), d a multiple of the size below 8
    private static Gen<(string Size, int At)> Part(int off) =>
        from size in Size
        from k in Gen.Choose(0, (8 / Bytes(size)) - 1)
        select (size, off - (k * Bytes(size)));

    // ---- main program items -------------------------------------------------------------------------------------
    //
    // Each of the five slots has a role for the whole program, a pointer slot (ptr[i]: holds ctx, packet or map value
    // pointers, dereferenced at offsets 0, 4 or 8, safe for all three) or an offset slot (holds 0..15, used as a map
    // value or packet offset). Writes and reads keep to the role most of the time; a "bad" write (into an offset slot:
    // a large constant, an unbounded scalar, a partial write; into a pointer slot: a scalar) or a "bad" read (a use
    // against the role) makes the paths through it unsafe, unless the slot is overwritten before the read. Bad values
    // in offset slots are frequent (Bad), type mistakes rare (BadRead), so that most rejections are out-of-range
    // offsets: the kind a liveness mistake would let through.

    private static Gen<bool> Bad => Gen.Frequency((1, Gen.Constant(true)), (5, Gen.Constant(false)));

    private static Gen<bool> BadRead => Gen.Frequency((1, Gen.Constant(true)), (30, Gen.Constant(false)));

    // A pointer slot keeps the kind of pointer it was given first (ctx r6, packet r7 or map value r9) most of the
    // time: one instruction dereferencing two kinds of pointer on two paths is refused ("same insn cannot be used
    // with different pointers"), and that should not drown the rejections of interest. A bad write into a pointer slot
    // is a scalar (which a later dereference refuses); into an offset slot, a value out of range (a large constant,
    // an unbounded scalar, a partial write leaving MISC bytes). Offset slots never get pointers: see
    // StackLivenessProperties.PointerUsedAsScalar for why pruning may change that verdict in Linux itself.
    private static Gen<Node> Write(bool[] ptr, string[] kind) =>
        from slot in Gen.Choose(0, s_offs.Length - 1)
        from bad in ptr[slot] ? BadRead : Bad
        from w in ptr[slot]
            ? bad ? OffWrite(s_offs[slot], false) : PtrWrite(s_offs[slot], kind[slot])
            : OffWrite(s_offs[slot], bad)
        select w;

    private static Gen<string> PtrKind => Gen.Elements("r6", "r7", "r9", "r9");

    private static Gen<Node> PtrWrite(int off, string kind) =>
        from other in PtrKind
        from keep in Gen.Frequency((5, Gen.Constant(true)), (1, Gen.Constant(false)))
        select (Node)new Code([Line("*(u64 *)(r10 -{0}) = {1}", off, keep ? kind : other)]);

    private static Gen<Node> OffWrite(int off, bool bad) =>
        from kind in Gen.Frequency((3, Gen.Constant(0)), (3, Gen.Constant(1)), (2, Gen.Constant(2)), (2, Gen.Constant(3)))
        from c in bad ? Gen.Elements(16, 63, 100, 1000, -1, 0x10000) : Gen.Elements(0, 1, 7, 15)
        from part in Part(off)
        from stx in Gen.Elements(true, false)
        select (Node)new Code(kind switch
        {
            0 => [Line("r3 = {0}", c), Line("*(u64 *)(r10 -{0}) = r3", off)],
            1 => [Line("*(u64 *)(r10 -{0}) = {1}", off, c)],
            2 => ["call bpf_get_prandom_u32", .. bad ? Array.Empty<string>() : ["r0 &= 15"], Line("*(u64 *)(r10 -{0}) = r0", off)],
            _ => bad
                ? stx
                    ? [Line("r3 = {0}", c), Line("*({0} *)(r10 -{1}) = r3", part.Size, part.At)]
                    : [Line("*({0} *)(r10 -{1}) = {2}", part.Size, part.At, c & 1)]
                : [Line("r3 = {0}", c), Line("*(u64 *)(r10 -{0}) = r3", off)],
        });

    // r1 = a fill of the slot; then dereferenced (pointer slots), used as a map value or packet offset (offset slots,
    // masked or not), or only read
    private static Gen<Node> Read(bool[] ptr) =>
        from slot in Gen.Choose(0, s_offs.Length - 1)
        from bad in BadRead
        let off = s_offs[slot]
        from whole in Gen.Frequency((5, Gen.Constant(true)), (1, Gen.Constant(false)))
        from part in Part(off)
        from use in Gen.Frequency((4, Gen.Constant(0)), (2, Gen.Constant(1)), (1, Gen.Constant(2)))
        from mask in Gen.Frequency((1, Gen.Constant(true)), (2, Gen.Constant(false)))
        from k in Gen.Elements(0, 4, 8)
        let partial = !whole && (bad || !ptr[slot])
        let fill = partial ? Line("r1 = *({0} *)(r10 -{1})", part.Size, part.At) : Line("r1 = *(u64 *)(r10 -{0})", off)
        let masked = mask || (partial && !bad)
        select (Node)new Code(use == 2
            ? [fill, "r0 = 0"]
            : ptr[slot] != bad
                ? [fill, Line("r0 = *(u32 *)(r1 +{0})", k)]
                : use == 0
                    ? [fill, .. masked ? new[] { "r1 &= 15" } : [], "r2 = r9", "r2 += r1", "r0 = *(u8 *)(r2 +0)"]
                    : [fill, .. masked ? new[] { "r1 &= 63" } : [], "r2 = r7", "r2 += r1", "r3 = r2", "r3 += 1", "if r3 > r8 goto out", "r0 = *(u8 *)(r2 +0)"]);

    // A read or a write at a variable offset: r1 = fp-off + (0 or 8), so the access is at fp-off or fp-(off-8), two
    // offset slots. A variable-offset read reads both slots (it is a read of either for the liveness), and gives 0
    // when both are zero and an unknown scalar otherwise; a variable-offset write is a must-write of neither, and
    // leaves both slots ZERO (a 0 written) or MISC.
    private static Gen<Node> VarOff(bool[] ptr) =>
        from i in Gen.Choose(1, s_offs.Length - 1)
        from write in Gen.Elements(false, true)
        from mask in Gen.Elements(false, true)
        from zero in Gen.Frequency((3, Gen.Constant(true)), (1, Gen.Constant(false)))
        let ok = !ptr[i] && !ptr[i - 1]
        let address = new[] { "call bpf_get_prandom_u32", "r0 &= 8", "r1 = r10", Line("r1 += -{0}", s_offs[i]), "r1 += r0" }
        select (Node)new Code(!ok
            ? []
            : write
                ? [.. address, zero ? "*(u64 *)(r1 +0) = 0" : "*(u64 *)(r1 +0) = 7"]
                : [.. address, "r1 = *(u64 *)(r1 +0)", .. mask ? new[] { "r1 &= 15" } : [], "r2 = r9", "r2 += r1", "r0 = *(u8 *)(r2 +0)"]);

    // a branch on a bpf_get_prandom_u32 result, a packet byte, or the value of an offset slot (a read that makes the
    // slot's scalar precise in the states above it)
    private static Gen<(string[] Cond, string Jump)> Cond(bool[] ptr) =>
        from kind in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Constant(1)), (1, Gen.Constant(2)))
        from k in Gen.Choose(0, 63)
        from t in Gen.Elements(0, 1, 127, 1000)
        from pick in Gen.Choose(0, s_offs.Length - 1)
        let offSlots = Enumerable.Range(0, s_offs.Length).Where(i => !ptr[i]).ToArray()
        select kind switch
        {
            1 => (new[] { Line("r0 = *(u8 *)(r7 +{0})", k) }, Line("if r0 > {0} goto", t == 1000 ? 127 : t)),
            2 when offSlots.Length > 0 => (new[] { Line("r0 = *(u64 *)(r10 -{0})", s_offs[offSlots[pick % offSlots.Length]]) }, Line("if r0 > {0} goto", t == 1000 ? 7 : t)),
            _ => (new[] { "call bpf_get_prandom_u32" }, Line("if r0 > {0} goto", t == 0 ? 0x7fffffff : t)),
        };

    // r1 = a pointer to a slot of the sub's role; r2 = the map value; call; [use r0 as a map value offset]
    private static Gen<Node> Call(bool[] ptr, bool[] subPtr) =>
        from target in Gen.Choose(0, subPtr.Length - 1)
        from pick in Gen.Choose(0, 99)
        from bad in BadRead
        let slots = Enumerable.Range(0, s_offs.Length).Where(i => ptr[i] == subPtr[target] != bad).ToArray()
        let off = slots.Length > 0 ? s_offs[slots[pick % slots.Length]] : s_offs[pick % s_offs.Length]
        from useR0 in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        select (Node)new CallSub(
            target,
            ["r1 = r10", Line("r1 += -{0}", off), "r2 = r9"],
            useR0 ? ["r2 = r9", "r2 += r0", "r0 = *(u8 *)(r2 +0)"] : []);

    private static Gen<Node[]> MainItems(int count, int depth, bool[] ptr, string[] kind, bool[] subPtr) =>
        Gen.ArrayOf(MainItem(depth, ptr, kind, subPtr), count);

    private static Gen<Node> MainItem(int depth, bool[] ptr, string[] kind, bool[] subPtr)
    {
        var simple = subPtr.Length > 0
            ? Gen.Frequency((5, Write(ptr, kind)), (3, Read(ptr)), (1, VarOff(ptr)), (2, Call(ptr, subPtr)))
            : Gen.Frequency((5, Write(ptr, kind)), (3, Read(ptr)), (1, VarOff(ptr)));
        if (depth == 0)
        {
            return simple;
        }

        var branch =
            from c in Cond(ptr)
            from nThen in Gen.Choose(0, 3)
            from nElse in Gen.Choose(0, 3)
            from then in MainItems(nThen, depth - 1, ptr, kind, subPtr)
            from els in MainItems(nElse, depth - 1, ptr, kind, subPtr)
            select (Node)new IfElse(c.Cond, c.Jump, then, els);
        return Gen.Frequency((3, simple), (2, branch));
    }

    // ---- subprogram items (r6 = pointer into a caller's frame, r7 = map value) ------------------------------------
    //
    // A subprogram has a role too (subPtr[self]): its callers pass it a slot of that role, and it writes and reads
    // through the pointer accordingly (with the same rare "bad" mistakes).

    private static Gen<Node> SubWrite(bool ptr) =>
        from bad in ptr ? BadRead : Bad
        from c in bad ? Gen.Elements(16, 100, -1) : Gen.Elements(0, 1, 7, 15)
        from kind in Gen.Choose(0, 2)
        select (Node)new Code((ptr && !bad, kind) switch
        {
            (true, _) => ["*(u64 *)(r6 +0) = r7"],
            (false, 0) => [Line("*(u64 *)(r6 +0) = {0}", c)],
            (false, 1) => [Line("r3 = {0}", c), "*(u64 *)(r6 +0) = r3"],
            _ => bad && !ptr ? [Line("*(u32 *)(r6 +0) = {0}", c & 1)] : [Line("*(u64 *)(r6 +0) = {0}", c)],
        });

    private static Gen<Node> SubRead(bool ptr) =>
        from bad in BadRead
        from mask in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        from d in Gen.Frequency((15, Gen.Constant(0)), (1, Gen.Constant(8)))
        from viaSpill in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        let fill = viaSpill
            ? Line("*(u64 *)(r10 -16) = r6\nr4 = *(u64 *)(r10 -16)\nr3 = *(u64 *)(r4 +{0})", d)
            : Line("r3 = *(u64 *)(r6 +{0})", d)
        select (Node)new Code(ptr != bad
            ? [fill, "r0 = *(u32 *)(r3 +0)"]
            : [fill, .. mask ? new[] { "r3 &= 15" } : [], "r2 = r7", "r2 += r3", "r0 = *(u8 *)(r2 +0)"]);

    // a nested call: pass the caller's pointer on (same role), or a pointer into this frame, written first for the
    // callee's role and read back after
    private static Gen<Node> SubCall(int self, bool[] subPtr) =>
        from target in Gen.Choose(self + 1, subPtr.Length - 1)
        from c in Gen.Elements(0, 1, 7, 15)
        from readBack in Gen.Elements(false, true)
        let through = subPtr[target] == subPtr[self]
        let init = subPtr[target] ? "*(u64 *)(r10 -8) = r7" : Line("*(u64 *)(r10 -8) = {0}", c)
        let use = subPtr[target]
            ? new[] { "r3 = *(u64 *)(r10 -8)", "r0 = *(u32 *)(r3 +4)" }
            : ["r3 = *(u64 *)(r10 -8)", "r2 = r7", "r2 += r3", "r0 = *(u8 *)(r2 +0)"]
        select (Node)new CallSub(
            target,
            through ? ["r1 = r6", "r2 = r7"] : [init, "r1 = r10", "r1 += -8", "r2 = r7"],
            !through && readBack ? use : []);

    private static Gen<Node[]> SubItems(int count, int depth, int self, bool[] subPtr) => Gen.ArrayOf(SubItem(depth, self, subPtr), count);

    private static Gen<Node> SubItem(int depth, int self, bool[] subPtr)
    {
        bool ptr = subPtr[self];
        var simple = self + 1 < subPtr.Length
            ? Gen.Frequency((4, SubWrite(ptr)), (3, SubRead(ptr)), (2, SubCall(self, subPtr)))
            : Gen.Frequency((4, SubWrite(ptr)), (3, SubRead(ptr)));
        if (depth == 0)
        {
            return simple;
        }

        var branch =
            from t in Gen.Elements(0x7fffffff, 1000)
            from nThen in Gen.Choose(0, 2)
            from nElse in Gen.Choose(0, 2)
            from then in SubItems(nThen, depth - 1, self, subPtr)
            from els in SubItems(nElse, depth - 1, self, subPtr)
            select (Node)new IfElse(["call bpf_get_prandom_u32"], Line("if r0 > {0} goto", t), then, els);
        return Gen.Frequency((2, simple), (2, branch));
    }

    // an offset subprogram may return what it reads (its callers may use r0 as a map value offset)
    private static Gen<Sub> SubGen(int self, bool[] subPtr) =>
        from n in Gen.Choose(1, 4)
        from body in SubItems(n, 1, self, subPtr)
        from ret in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Constant(1)))
        select new Sub(body, ret == 0 || subPtr[self] ? ["r0 = 0"] : ["r0 = *(u64 *)(r6 +0)", "r0 &= 15"]);

    /// <summary>A whole program: slot roles, 0 to 3 subprograms, a write to every slot (role-true), then 2 to 9 main
    /// items with branches nested two deep at most.</summary>
    public static Gen<StackProgram> Program =>
        from ptr in Gen.ArrayOf(Gen.Elements(false, true), s_offs.Length)
        from kind in Gen.ArrayOf(PtrKind, s_offs.Length)
        from subs in Gen.Frequency((2, Gen.Constant(0)), (2, Gen.Constant(1)), (2, Gen.Constant(2)), (1, Gen.Constant(3)))
        from subPtr in Gen.ArrayOf(Gen.Elements(false, true), subs)
        from subprogs in Gen.CollectToArray(Enumerable.Range(0, subs).Select(i => SubGen(i, subPtr)))
        from init in Gen.CollectToArray(Enumerable.Range(0, s_offs.Length).Select(i => ptr[i] ? PtrWrite(s_offs[i], kind[i]) : OffWrite(s_offs[i], false)))
        from n in Gen.Choose(3, 14)
        from main in MainItems(n, 2, ptr, kind, subPtr)
        select new StackProgram([.. init, .. main], [.. subprogs]) into p
        where Paths(p) <= MaxPaths
        select p;

    /// <summary>The most paths (<see cref="Paths"/>) a generated program may have: without pruning every path is
    /// explored to its end, and the unpruned verification must stay fast.</summary>
    public const int MaxPaths = 4096;

    /// <summary>The number of paths through the program (calls expanded, early exits ignored): what the verifier
    /// explores without pruning.</summary>
    public static long Paths(StackProgram p) => Paths(p.Main, p);

    private static long Paths(Node[] nodes, StackProgram p)
    {
        long n = 1;
        foreach (var node in nodes)
        {
            n *= node switch
            {
                IfElse b => Paths(b.Then, p) + Paths(b.Else, p),
                CallSub c => Paths(p.Subs[c.Target].Body, p),
                _ => 1,
            };
            n = Math.Min(n, 1L << 40);
        }

        return n;
    }

    /// <summary>Smaller programs: an item dropped, a branch replaced by one of its arms or emptied on one side, a call
    /// dropped from a subprogram.</summary>
    public static IEnumerable<StackProgram> Shrink(StackProgram p)
    {
        foreach (var main in ShrinkNodes(p.Main))
        {
            yield return p with { Main = main };
        }

        for (int i = 0; i < p.Subs.Length; i++)
        {
            foreach (var body in ShrinkNodes(p.Subs[i].Body))
            {
                var subs = (Sub[])p.Subs.Clone();
                subs[i] = subs[i] with { Body = body };
                yield return p with { Subs = subs };
            }
        }
    }

    private static IEnumerable<Node[]> ShrinkNodes(Node[] nodes)
    {
        for (int i = 0; i < nodes.Length; i++)
        {
            yield return [.. nodes[..i], .. nodes[(i + 1)..]];
        }

        for (int i = 0; i < nodes.Length; i++)
        {
            if (nodes[i] is IfElse b)
            {
                yield return [.. nodes[..i], .. b.Then, .. nodes[(i + 1)..]];
                yield return [.. nodes[..i], .. b.Else, .. nodes[(i + 1)..]];
                foreach (var t in ShrinkNodes(b.Then))
                {
                    yield return [.. nodes[..i], b with { Then = t }, .. nodes[(i + 1)..]];
                }

                foreach (var e in ShrinkNodes(b.Else))
                {
                    yield return [.. nodes[..i], b with { Else = e }, .. nodes[(i + 1)..]];
                }
            }
        }
    }

    /// <summary>Every generated program's start: r6 = ctx, r7/r8 = data/data_end with 64 bytes checked (else
    /// <c>out</c>), r9 = the map value of key 0 (else <c>out</c>).</summary>
    public const string Prologue = """
        r6 = r1
        r7 = *(u32 *)(r6 +0)
        r8 = *(u32 *)(r6 +4)
        r2 = r7
        r2 += 64
        if r2 > r8 goto out
        *(u32 *)(r10 -68) = 0
        r2 = r10
        r2 += -68
        r1 = map[idx:0]
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r9 = r0

        """;

    /// <summary>The program's assembly: prologue (packet check, map lookup), the main items, <c>r0 = 2; exit</c>, the
    /// <c>out</c> block (<c>r0 = 1; exit</c>), then every subprogram reachable by calls.</summary>
    public static string Render(StackProgram p)
    {
        var sb = new StringBuilder();
        sb.Append(Prologue);
        int label = 0;
        var called = new SortedSet<int>();
        Emit(sb, p.Main, ref label, called);
        sb.Append("r0 = 2\nexit\nout:\nr0 = 1\nexit\n");
        var done = new HashSet<int>();
        while (called.Count > done.Count)
        {
            int f = called.First(i => !done.Contains(i));
            done.Add(f);
            var sub = p.Subs[f];
            sb.Append(CultureInfo.InvariantCulture, $"f{f}:\nr6 = r1\nr7 = r2\n");
            Emit(sb, sub.Body, ref label, called);
            foreach (var l in sub.Ret)
            {
                sb.Append(l).Append('\n');
            }

            sb.Append("exit\n");
        }

        return sb.ToString();
    }

    private static void Emit(StringBuilder sb, Node[] nodes, ref int label, SortedSet<int> called)
    {
        foreach (var n in nodes)
        {
            switch (n)
            {
                case Code c:
                    foreach (var l in c.Lines)
                    {
                        sb.Append(l).Append('\n');
                    }

                    break;
                case CallSub cs:
                    called.Add(cs.Target);
                    foreach (var l in cs.Before)
                    {
                        sb.Append(l).Append('\n');
                    }

                    sb.Append(CultureInfo.InvariantCulture, $"call f{cs.Target}\n");
                    foreach (var l in cs.After)
                    {
                        sb.Append(l).Append('\n');
                    }

                    break;
                case IfElse b:
                    int id = label++;
                    foreach (var l in b.Cond)
                    {
                        sb.Append(l).Append('\n');
                    }

                    sb.Append(CultureInfo.InvariantCulture, $"{b.Jump} e{id}\n");
                    Emit(sb, b.Then, ref label, called);
                    sb.Append(CultureInfo.InvariantCulture, $"goto j{id}\ne{id}:\n");
                    Emit(sb, b.Else, ref label, called);
                    sb.Append(CultureInfo.InvariantCulture, $"j{id}:\n");
                    break;
            }
        }
    }

    /// <summary>The program assembled, as an XDP program named "gen".</summary>
    public static ProgramSpec Spec(StackProgram p) => Spec(Render(p));

    /// <summary>Assembly text as an XDP program named "gen".</summary>
    public static ProgramSpec Spec(string asm) => new()
    {
        Name = "gen",
        SectionName = "xdp",
        Type = ProgramType.Xdp,
        Slots = Assembler.Assemble(asm),
        License = "GPL",
    };

    /// <summary>Random frames, mostly long enough for the prologue's 64-byte check.</summary>
    public static Gen<byte[]> Packet =>
        from len in Gen.Frequency((4, Gen.Choose(64, 200)), (1, Gen.Choose(14, 80)))
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), len)
        select bytes;

    /// <summary>Random 16-byte map values.</summary>
    public static Gen<byte[]> MapValue => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 16);
}
