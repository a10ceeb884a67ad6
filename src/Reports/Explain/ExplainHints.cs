using System.Globalization;
using System.Text.RegularExpressions;
using VethXdp.Verifier;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Reports.Explain;

/// <summary>Writes the plain-language hint for a rejection: what happened where (instruction, source line, register,
/// offset), why Linux refuses it, and how to fix it — for a reader who has never seen BPF.</summary>
public static partial class ExplainHints
{
    private const int EthHeader = 14;
    private const int EthIpv4Header = 34;

    /// <summary>The hint for a rejected program.</summary>
    /// <param name="spec">The program.</param>
    /// <param name="result">The verifier's answer at log level 1 (its log is the path to the failure).</param>
    /// <param name="mapName">The name of map index i, or null.</param>
    /// <returns>The hint, or null when the program was accepted.</returns>
    public static ExplainHint? Build(ProgramSpec spec, VerificationResult result, Func<int, string?>? mapName = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(result);
        if (result.Error is not { } error)
        {
            return null;
        }

        var lines = VerifierLogParser.Parse(result.Log);
        var facts = new HintFacts(spec, error, InstructionText.FormatAll(spec, mapName), new SourceLines(spec),
            VerifierLogParser.StateBeforeLastInstruction(lines), VerifierLogParser.Path(lines), result.Stats.InsnProcessed);
        var cls = RejectionClassifier.Classify(error, facts.Slots);
        return cls switch
        {
            RejectionClass.PacketBounds => PacketBounds(facts),
            RejectionClass.NullCheck => NullCheck(facts),
            RejectionClass.UninitializedRead => UninitializedRead(facts),
            RejectionClass.UnboundedOffset => UnboundedOffset(facts),
            RejectionClass.PktEndArithmetic => PktEnd(facts),
            RejectionClass.ContextAccess => ContextAccess(facts),
            RejectionClass.UnboundedLoop => UnboundedLoop(facts),
            RejectionClass.ComplexityLimit => Complexity(facts),
            _ => Other(facts),
        };
    }

    private static ExplainHint PacketBounds(HintFacts f)
    {
        string m = f.Error.Message;
        var full = PacketMessage().Match(m);
        long off = RejectionClassifier.Field(m, "off") ?? 0;
        long size = RejectionClassifier.Field(m, "size") ?? 0;
        int reg = full.Success ? Int(full.Groups["reg"].Value) : RejectionClassifier.FirstRegister(m) ?? f.MemoryRegister();
        long id = full.Success ? Int(full.Groups["id"].Value) : 0;
        long pOff = full.Success ? Int(full.Groups["poff"].Value) : 0;
        long range = full.Success ? Int(full.Groups["r"].Value) : 0;
        long end = off + size;
        string verb = f.AccessVerb();
        string why = "A frame can be shorter than the program expects (a truncated or hostile packet may be only a few bytes "
            + "long), and an XDP program touches the frame's memory directly. So Linux accepts a packet access only when an "
            + "earlier `if` that compares a pointer with data_end (the address just past the last byte of the packet) proves, "
            + "on every path that reaches the access, that every byte accessed is inside the packet.";
        string what;
        string fix;
        string code;
        if (off < 0 && id == 0)
        {
            what = $"The program {verb} {Bytes(size)} at offset {off} through R{reg}: before the first byte of the packet, "
                + "where no packet data is (data is where the packet starts).";
            fix = "Only access bytes at or after data (offset 0 and up); to reach data in front of the packet, grow the "
                + "headroom with bpf_xdp_adjust_head() first and re-read ctx->data.";
            code = "if (bpf_xdp_adjust_head(ctx, -4)) return XDP_DROP;   /* then reload data and data_end */";
        }
        else if (id == 0)
        {
            what = $"The program {verb} {Bytes(size)} at offset {off} of the packet through R{reg}, so the packet must be at "
                + $"least {end} bytes long. "
                + (range == 0
                    ? "On the path the verifier followed there is no comparison with data_end before this access at all."
                    : $"On the path the verifier followed, the comparisons with data_end only prove that the first {range} bytes exist: "
                      + $"{(end - range == 1 ? "the last byte" : $"the last {end - range} bytes")} accessed may lie beyond the end of the packet.");
            (fix, code) = end <= EthHeader
                ? ("Check the length before reading the Ethernet header:", "if (data + sizeof(struct ethhdr) > data_end) return XDP_DROP;")
                : end <= EthIpv4Header
                    ? ("Check the length before reading the IPv4 header (the Ethernet header's 14 bytes and the IPv4 header's 20):",
                       "if (data + sizeof(struct ethhdr) + sizeof(struct iphdr) > data_end) return XDP_DROP;")
                    : ($"Check that the packet holds the first {end} bytes before this access:",
                       $"if (data + {end} > data_end) return XDP_DROP;");
            fix = $"{fix} put it before {f.LineWords}.";
        }
        else
        {
            long past = off - pOff + size;
            long proven = range - pOff;
            what = $"R{reg} points into the packet at an offset that depends on the packet's contents ({pOff} bytes plus a value computed while the program runs), and the "
                + $"program {verb} {Bytes(size)} at offset {off - pOff} from R{reg}: the packet must reach {past} byte{(past == 1 ? string.Empty : "s")} past R{reg}. "
                + (proven <= 0
                    ? $"The comparisons with data_end on this path prove nothing past R{reg} itself"
                      + (proven == 0 && range > 0 ? $" (the `if` compared R{reg} with data_end, which shows that R{reg} is not past the end, not that the {(size == 1 ? "byte at R" + reg.ToString(CultureInfo.InvariantCulture) + " exists" : "bytes from R" + reg.ToString(CultureInfo.InvariantCulture) + " on exist")})." : ".")
                    : $"The comparisons with data_end on this path only prove {proven} byte{(proven == 1 ? string.Empty : "s")} past R{reg}.");
            fix = $"Compare the end of what you access with data_end, after the pointer is computed and before {f.LineWords}; "
                + $"with p the pointer held in R{reg}:";
            code = $"if ((void *)p + {past} > data_end) return XDP_DROP;";
        }

        return f.Hint(RejectionClass.PacketBounds, "Packet access without a bounds check", what, why, fix, code, reg, off);
    }

    private static ExplainHint NullCheck(HintFacts f)
    {
        string m = f.Error.Message;
        int reg = RejectionClassifier.FirstRegister(m) ?? 0;
        var typeMatch = OrNullType().Match(m);
        string type = typeMatch.Success ? typeMatch.Value : "map_value_or_null";
        string verb = m.Contains("pointer arithmetic", StringComparison.Ordinal) ? "adds to it"
            : m.Contains("expected=", StringComparison.Ordinal) ? "passes it to a helper function"
            : f.AccessVerb() + " memory through it";
        string state = f.Register(reg) ?? string.Empty;
        string? map = MapField().Match(state) is { Success: true } mm ? mm.Groups[1].Value : null;
        (int call, string callText) = f.LastCallOnPath();
        string what;
        string fix;
        string code;
        if (type == "map_value_or_null")
        {
            what = $"R{reg} holds the pointer that bpf_map_lookup_elem() returned"
                + (call >= 0 ? $" (the call at instruction {call}{f.LineSuffix(call)})" : string.Empty)
                + (map is not null ? $" when looking up a key in the map '{map}'" : string.Empty)
                + ". A lookup returns NULL when the key is not in the map, so until the program tests the pointer the verifier "
                + $"must assume it is NULL. At instruction {f.Insn} the program {verb} on a path where it was never tested.";
            fix = "Test the pointer right after the lookup and leave the function (or skip the use) when it is NULL; "
                + "here `value` stands for the variable that holds bpf_map_lookup_elem()'s result:";
            code = "if (!value) return XDP_PASS;";
        }
        else
        {
            what = $"R{reg} holds a pointer that may be NULL ({type}): the result of "
                + (call >= 0 ? $"`{callText}` at instruction {call}{f.LineSuffix(call)}" : "a helper call that can fail")
                + $". At instruction {f.Insn} the program {verb} before testing it.";
            fix = "Test the pointer before using it and handle the NULL case:";
            code = "if (!ptr) return XDP_PASS;";
        }

        string why = "A pointer that may be NULL points at nothing; using it inside the kernel could crash the machine. "
            + "Linux therefore refuses every use of a maybe-NULL pointer until an `if` has ruled NULL out on that path.";
        return f.Hint(RejectionClass.NullCheck, "A map value used without a NULL check", what, why, fix, code, reg, null);
    }

    private static ExplainHint UninitializedRead(HintFacts f)
    {
        string m = f.Error.Message;
        var insn = f.InsnOrDefault;
        string title = "A read of something never written";
        if (ReadOk().Match(m) is { Success: true } ro)
        {
            int reg = Int(ro.Groups[1].Value);
            (int call, _) = f.LastCallOnPath();
            string what;
            string fix;
            string code;
            if (reg == 0 && insn.Opcode == Op.Exit)
            {
                what = $"The program reaches the `exit` at instruction {f.Insn} (the function returns) without having put a "
                    + "return value in R0 on the path shown below: R0 was never written on it.";
                fix = "Make every path return a value (in assembly: set r0 before every exit):";
                code = "return XDP_PASS;";
            }
            else if (reg is >= 1 and <= 5 && call >= 0 && call < f.Insn)
            {
                what = $"At instruction {f.Insn} the program reads R{reg}, but the helper call at instruction {call} came in "
                    + $"between: every call wipes R1-R5 (they carry the call's arguments), so R{reg} holds nothing the verifier can use.";
                fix = "Keep a value you need after a call in R6-R9 (which calls preserve), or set the register again after the call; in C this usually means using a variable before giving it a value:";
                code = "__u32 key = 0;   /* give every variable a value before its first use */";
            }
            else
            {
                what = $"At instruction {f.Insn} the program reads R{reg}, but on the path the verifier followed (shown below) "
                    + $"nothing has written R{reg} yet: it would hold whatever was left there, which may be kernel data.";
                fix = "Give the variable a value on every path before using it, e.g. where you declare it:";
                code = "__u32 key = 0;";
            }

            string why = "Registers are the program's working variables (R0-R10). A register nobody wrote could hold anything, "
                + "including secrets of the kernel, so Linux refuses a program that reads one on any path.";
            return f.Hint(RejectionClass.UninitializedRead, title, what, why, fix, code, reg, null);
        }

        if (m.Contains("invalid size of register fill", StringComparison.Ordinal))
        {
            int reg = insn.SrcReg;
            long off = insn.Offset;
            string slot = "fp" + off.ToString(CultureInfo.InvariantCulture);
            string saved = f.StackSlot(off) is { } s ? $" (the verifier knew it held {s})" : string.Empty;
            string what = $"At instruction {f.Insn} the program reads {Bytes(insn.AccessBytes)} from the stack slot {slot} "
                + $"(R{reg}{(off < 0 ? string.Empty : "+")}{off}), where a pointer had been saved as a whole 8-byte value{saved}. "
                + "Reading only part of a saved pointer is not the same as reading the pointer back.";
            string why = "The verifier follows pointers through the stack only when they are saved and read back whole; part of a "
                + "pointer would be a piece of a kernel address used as a number, so Linux refuses it.";
            string fix = "Read a saved pointer back whole, with the same 8-byte load that saved it; don't copy pointers through smaller integer types or with a partial memcpy:";
            return f.Hint(RejectionClass.UninitializedRead, "A saved pointer read back in part", what, why, fix,
                "void *p = saved;   /* not: __u32 x = (__u32)(long)saved; */", reg, off);
        }

        {
            int reg = RejectionClassifier.FirstRegister(m) ?? insn.SrcReg;
            long? off = RejectionClassifier.Field(m, "off");
            string what = $"At instruction {f.Insn} the program reads stack memory through R{reg}"
                + (off is { } o ? $" at offset {o}" : string.Empty)
                + ": outside the 512 bytes below the frame pointer (R10) that belong to this function, or from a slot the verifier cannot read as plain data.";
            string why = "The stack is a small area (512 bytes) of kernel memory; reading outside the part that belongs to the program could reveal kernel data, so Linux refuses it.";
            string fix = "Keep reads of local variables and arrays within their bounds (between R10-512 and R10), and check array indexes before using them:";
            return f.Hint(RejectionClass.UninitializedRead, "An invalid read from the stack", what, why, fix,
                "if (i >= ARRAY_SIZE(buf)) return XDP_DROP;", reg, off);
        }
    }

    private static ExplainHint UnboundedOffset(HintFacts f)
    {
        string m = f.Error.Message;
        var insn = f.InsnOrDefault;
        bool isAlu = insn.Class is OpClass.Alu64 or OpClass.Alu;
        int ptrReg = isAlu ? insn.DstReg : RejectionClassifier.FirstRegister(m) ?? insn.SrcReg;
        string kind = PointerKind().Match(m) is { Success: true } pk ? pk.Groups[1].Value : f.Register(ptrReg) is { } s ? TypeOf(s) : "pointer";
        string obj = Object(kind);
        string what;
        int? reg = ptrReg;
        long? offset = null;
        if (isAlu && insn.SrcIsReg)
        {
            int src = insn.SrcReg;
            string known = f.Register(src) is { } st ? (st == "scalar()" ? $" (R{src}=scalar(): any 64-bit value)" : $" (the verifier knew only R{src}={st})") : string.Empty;
            what = $"At instruction {f.Insn} the program adds R{src} to R{ptrReg}, a pointer into {obj}. The amount, R{src}, "
                + $"comes from data the verifier cannot predict{known}: it could be negative or huge, so the result could point anywhere in kernel memory.";
            reg = src;
        }
        else if (m.Contains("min value is negative", StringComparison.Ordinal))
        {
            what = $"At instruction {f.Insn} the program accesses {obj} through R{ptrReg} at an offset that the verifier "
                + "cannot rule out being negative (the index is a signed number with no lower bound).";
        }
        else if (m.Contains("max value is outside", StringComparison.Ordinal) || m.Contains("min value is outside", StringComparison.Ordinal))
        {
            what = $"At instruction {f.Insn} the program accesses {obj} through R{ptrReg} at an offset that may reach past the "
                + "end of it: the index was not checked against the size.";
        }
        else
        {
            offset = ValueOf().Match(m) is { Success: true } v ? long.Parse(v.Groups[1].ValueSpan, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : null;
            what = $"At instruction {f.Insn} the program moves R{ptrReg}, a pointer into {obj}, by "
                + (offset is { } o ? $"{o} bytes" : "an amount with no known limit")
                + ", further than Linux allows a pointer to move (at most about 512 MiB either way, and only by a bounded amount).";
        }

        string why = "A pointer must stay inside the object it points into (the packet, a map value, the stack). The verifier "
            + "tracks the smallest and largest value every number can have; if a number that could be negative or enormous is "
            + "added to a pointer, no later check can make the access safe, so Linux refuses the addition itself.";
        string fix = "Bound the offset before adding it: use an unsigned type (__u8, __u16, __u32) and compare it with a limit "
            + "(or mask it, `off &= 0x3f;`), then compare the resulting pointer with data_end before reading the packet:";
        return f.Hint(RejectionClass.UnboundedOffset, "An unbounded offset added to a pointer", what, why, fix,
            "if (off > 64) return XDP_DROP;", reg, offset);
    }

    private static ExplainHint PktEnd(HintFacts f)
    {
        string m = f.Error.Message;
        int reg = RejectionClassifier.FirstRegister(m) ?? f.InsnOrDefault.DstReg;
        bool deref = m.Contains("invalid mem access", StringComparison.Ordinal);
        var insn = f.InsnOrDefault;
        string op = insn.AluOp == AluOp.Sub ? "subtracts from it" : insn.AluOp == AluOp.Add ? "adds to it" : "does arithmetic on it";
        string what = $"R{reg} holds data_end (read from ctx->data_end): the address just past the last byte of the packet. "
            + (deref
                ? $"At instruction {f.Insn} the program {f.AccessVerb()} memory at that address, where the packet has already ended."
                : $"At instruction {f.Insn} the program {op}.");
        string why = "Linux lets a program do one thing with data_end: compare it with a pointer into the packet. Every bounds "
            + "check the verifier understands has the form `data + N > data_end`; a moved end pointer (data_end - 4) is not "
            + "something it can reason about, so it is refused.";
        string fix = "Move the arithmetic to the other side of the comparison, onto the pointer into the packet:";
        return f.Hint(RejectionClass.PktEndArithmetic, "Arithmetic on the packet end pointer (data_end)", what, why, fix,
            "if (data + off + 4 > data_end) return XDP_DROP;   /* not: if (data + off > data_end - 4) */", reg, null);
    }

    private static ExplainHint ContextAccess(HintFacts f)
    {
        string m = f.Error.Message;
        var insn = f.InsnOrDefault;
        bool xdp = f.Spec.Type == ProgramType.Xdp;
        string ctxName = xdp ? "the context (struct xdp_md, which R1 points to when the program starts)" : "the context (the structure R1 points to when the program starts)";
        string what;
        int reg;
        long? off;
        if (ModifiedCtx().Match(m) is { Success: true } mc)
        {
            reg = Int(mc.Groups[1].Value);
            off = long.Parse(mc.Groups[2].ValueSpan, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            what = $"R{reg} is the context pointer moved by {off} bytes, and at instruction {f.Insn} the program reads through it. "
                + "Linux rewrites every context read into a read of the kernel's own structure, which it can only do for a read straight from the context pointer at a constant offset.";
        }
        else
        {
            off = RejectionClassifier.Field(m, "off");
            long size = RejectionClassifier.Field(m, "size") ?? insn.AccessBytes;
            bool write = insn.Class is OpClass.St or OpClass.Stx;
            reg = write ? insn.DstReg : insn.SrcReg;
            string field = xdp && off is { } o ? XdpField(o) : string.Empty;
            what = write
                ? $"At instruction {f.Insn} the program writes {Bytes(size)} at offset {off} of {ctxName}{field}. "
                  + (xdp ? "An XDP program may read its context but never write to it." : "This program type may not write that part of it.")
                : xdp && off is { } o2 && (o2 < 0 || o2 >= 24)
                    ? $"At instruction {f.Insn} the program reads {Bytes(size)} at offset {o2} of {ctxName}, which is only 24 bytes long "
                      + "(six __u32 fields: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex)."
                    : $"At instruction {f.Insn} the program reads {Bytes(size)} at offset {off} of {ctxName}{field}, which this kind of "
                      + "program may not read that way (the pointers data, data_end and data_meta must be read whole, as __u32; "
                      + "egress_ifindex only in programs attached to a devmap).";
        }

        string why = "The context is not ordinary memory: Linux rewrites each access to it into an access to the kernel's "
            + "internal structures and allows only the accesses it knows how to rewrite safely.";
        string fix = "Read the context only through its fields, whole and at a constant offset, and never write to it:";
        return f.Hint(RejectionClass.ContextAccess, "An invalid access to the program's context", what, why, fix,
            "void *data_end = (void *)(long)ctx->data_end;", reg, off);
    }

    private static ExplainHint UnboundedLoop(HintFacts f)
    {
        string m = f.Error.Message;
        string what;
        int? at = null;
        if (InfiniteLoop().Match(m) is { Success: true } il)
        {
            at = il.Groups[1].Success ? Int(il.Groups[1].Value) : f.Insn >= 0 ? f.Insn : null;
            what = (at is { } a ? $"The verifier came back to instruction {a}{f.LineSuffix(a)}" : "The verifier came back to an instruction")
                + " in exactly the same state as the time before: nothing the loop tests had changed, so the loop can never end.";
        }
        else
        {
            var edges = RejectionClassifier.FindBackEdges(f.Slots);
            var counts = new Dictionary<int, int>();
            foreach (int p in f.Path)
            {
                counts[p] = counts.GetValueOrDefault(p) + 1;
            }

            var edge = edges.OrderByDescending(e => counts.GetValueOrDefault(e.Jump)).First();
            at = edge.Target;
            what = $"The program has a loop: instruction {edge.Jump}{f.LineSuffix(edge.Jump)} jumps back to instruction "
                + $"{edge.Target}{f.LineSuffix(edge.Target)}. The verifier checks a loop by following it round after round; it could "
                + $"not see the loop end (its exit depends on a value it cannot predict) and gave up after processing "
                + $"{f.Processed.ToString("N0", CultureInfo.InvariantCulture)} instructions (its limit is 1,000,000).";
        }

        string why = "An XDP program runs inside the kernel for every packet, so Linux must know that it finishes quickly. "
            + "Loops are allowed only when the verifier can see that they end.";
        string fix = "Give the loop a fixed upper bound the verifier can see, rather than looping until a value read from the "
            + "packet or a map; for long loops use the bpf_loop() helper:";
        return f.Hint(RejectionClass.UnboundedLoop, "A loop the verifier cannot bound", what, why, fix,
            "for (int i = 0; i < 64 && i < n; i++) { ... }", null, at);
    }

    private static ExplainHint Complexity(HintFacts f)
    {
        string m = f.Error.Message;
        string what = JumpSequence().Match(m) is { Success: true } js
            ? $"The verifier keeps a list of branches it still has to explore; here {js.Groups[1].Value} branches whose outcome it "
              + "could not predict were waiting at once, more than its limit of 8,192."
            : "The verifier checks every path through the program separately, and each `if` whose outcome it cannot predict "
              + $"doubles the paths after it. It had processed {f.Processed.ToString("N0", CultureInfo.InvariantCulture)} "
              + "instructions (its limit is 1,000,000) before it could finish.";
        string why = "Verification must finish in bounded time, so Linux gives up on programs with too many paths to check, "
            + "even when every one of them may be safe.";
        string fix = "Cut the number of paths: move independent parts into separate functions marked __noinline (each is "
            + "verified once), chain programs with bpf_tail_call(), replace long chains of `if`s with a map lookup, or compute "
            + "values without branching so that paths join again:";
        return f.Hint(RejectionClass.ComplexityLimit, "Over the verifier's complexity limit", what, why, fix,
            "static __noinline int parse_ipv4(struct xdp_md *ctx) { ... }", null, null);
    }

    private static ExplainHint Other(HintFacts f)
    {
        string first = f.Error.Message.Split('\n')[0];
        string what = (f.Insn >= 0 ? $"At instruction {f.Insn} the" : "The") + $" verifier stopped with the message \"{first}\".";
        string why = "Linux's verifier proves, before a program may run in the kernel, that it cannot crash or hang the kernel "
            + "or touch memory it does not own; it refused this program with that message (error " + f.Error.ErrnoName + ").";
        string fix = "Look at the instruction and source line named above and at what the verifier knew about the registers there "
            + "(in the listing below); the message is Linux's own (kernel/bpf/verifier.c).";
        return f.Hint(RejectionClass.Other, "Rejected by the verifier", what, why, fix, null, RejectionClassifier.FirstRegister(f.Error.Message),
            RejectionClassifier.Field(f.Error.Message, "off"));
    }

    private static string XdpField(long off) => off switch
    {
        0 => " (data)",
        4 => " (data_end)",
        8 => " (data_meta)",
        12 => " (ingress_ifindex)",
        16 => " (rx_queue_index)",
        20 => " (egress_ifindex)",
        _ => string.Empty,
    };

    private static string Object(string kind) => kind switch
    {
        "pkt" => "the packet",
        "pkt_meta" => "the packet's metadata",
        "map_value" => "a map value",
        "fp" => "the stack",
        "ctx" => "the context",
        _ => "memory (" + kind + ")",
    };

    private static string TypeOf(string state)
    {
        int paren = state.IndexOf('(', StringComparison.Ordinal);
        return paren > 0 ? state[..paren] : state;
    }

    private static string Bytes(long n) => n == 1 ? "1 byte" : n.ToString(CultureInfo.InvariantCulture) + " bytes";

    private static int Int(string s) => int.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"invalid access to packet, off=(?<off>-?\d+) size=(?<size>\d+), R(?<reg>\d+)\(id=(?<id>\d+),off=(?<poff>-?\d+),r=(?<r>\d+)\)", RegexOptions.CultureInvariant)]
    private static partial Regex PacketMessage();

    [GeneratedRegex(@"\w+_or_null", RegexOptions.CultureInvariant)]
    private static partial Regex OrNullType();

    [GeneratedRegex(@"\bmap=([^,)]+)", RegexOptions.CultureInvariant)]
    private static partial Regex MapField();

    [GeneratedRegex(@"\bR(\d+) !read_ok", RegexOptions.CultureInvariant)]
    private static partial Regex ReadOk();

    [GeneratedRegex(@"(?:math between|value -?\d+ makes) (\w+) pointer", RegexOptions.CultureInvariant)]
    private static partial Regex PointerKind();

    [GeneratedRegex(@"(?:value|and) (-?\d+) (?:makes|is not allowed)", RegexOptions.CultureInvariant)]
    private static partial Regex ValueOf();

    [GeneratedRegex(@"dereference of modified ctx ptr R(\d+) off=(-?\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex ModifiedCtx();

    [GeneratedRegex(@"infinite loop detected(?: at insn (\d+))?", RegexOptions.CultureInvariant)]
    private static partial Regex InfiniteLoop();

    [GeneratedRegex(@"The sequence of (\d+) jumps is too complex", RegexOptions.CultureInvariant)]
    private static partial Regex JumpSequence();
}
