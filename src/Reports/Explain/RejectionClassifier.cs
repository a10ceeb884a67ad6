using System.Globalization;
using System.Text.RegularExpressions;
using VethXdp.Verifier;
using VethXdp.Vm.Isa;

namespace VethXdp.Reports.Explain;

/// <summary>Sorts a verifier rejection into a <see cref="RejectionClass"/> by its message (Linux's words), and
/// reads the numbers a hint names out of it.</summary>
public static partial class RejectionClassifier
{
    /// <summary>The class of <paramref name="error"/>; <paramref name="slots"/> decide whether "BPF program is too
    /// large" is a loop (the program jumps backwards) or plain complexity.</summary>
    public static RejectionClass Classify(VerifierError? error, ReadOnlySpan<Instruction> slots)
    {
        if (error is null)
        {
            return RejectionClass.None;
        }

        string m = error.Message;
        if (m.Contains("infinite loop detected", StringComparison.Ordinal))
        {
            return RejectionClass.UnboundedLoop;
        }

        if (m.Contains("BPF program is too large", StringComparison.Ordinal))
        {
            return FindBackEdges(slots).Count > 0 ? RejectionClass.UnboundedLoop : RejectionClass.ComplexityLimit;
        }

        if (m.Contains("jumps is too complex", StringComparison.Ordinal))
        {
            return RejectionClass.ComplexityLimit;
        }

        if (m.Contains("on pkt_end prohibited", StringComparison.Ordinal) || m.Contains("invalid mem access 'pkt_end'", StringComparison.Ordinal))
        {
            return RejectionClass.PktEndArithmetic;
        }

        if (OrNull().IsMatch(m))
        {
            return RejectionClass.NullCheck;
        }

        if (m.Contains("invalid access to packet", StringComparison.Ordinal) || m.Contains("offset is outside of the packet", StringComparison.Ordinal))
        {
            return RejectionClass.PacketBounds;
        }

        if (Unbounded().IsMatch(m))
        {
            return RejectionClass.UnboundedOffset;
        }

        if (m.Contains("!read_ok", StringComparison.Ordinal) || m.Contains("invalid size of register fill", StringComparison.Ordinal)
            || m.Contains("invalid read from stack", StringComparison.Ordinal))
        {
            return RejectionClass.UninitializedRead;
        }

        if (m.Contains("invalid bpf_context access", StringComparison.Ordinal) || m.Contains("dereference of modified ctx ptr", StringComparison.Ordinal))
        {
            return RejectionClass.ContextAccess;
        }

        return RejectionClass.Other;
    }

    /// <summary>The backward jumps of a program: (the jump, its target), in slot order.</summary>
    public static IReadOnlyList<(int Jump, int Target)> FindBackEdges(ReadOnlySpan<Instruction> slots)
    {
        var edges = new List<(int, int)>();
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.IsLdImm64)
            {
                pc++;
                continue;
            }

            var flow = OpcodeTable.Get(insn.Opcode).Flow;
            if (flow is not (FlowKind.CondJump or FlowKind.Jump))
            {
                continue;
            }

            int off = insn.Class == OpClass.Jmp32 && insn.JmpOp == JmpOp.Ja ? insn.Imm : insn.Offset;
            int target = pc + 1 + off;
            if (target <= pc)
            {
                edges.Add((pc, target));
            }
        }

        return edges;
    }

    /// <summary>Reads <c>name=value</c> (a decimal, possibly negative) out of a message.</summary>
    internal static long? Field(string message, string name)
    {
        var m = Regex.Match(message, @"(?<![\w])" + Regex.Escape(name) + @"=(-?\d+)", RegexOptions.CultureInvariant);
        return m.Success && long.TryParse(m.Groups[1].ValueSpan, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : null;
    }

    /// <summary>The first register a message names (<c>R3 ...</c>), or null.</summary>
    internal static int? FirstRegister(string message)
    {
        var m = RegisterName().Match(message);
        return m.Success ? int.Parse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture) : null;
    }

    [GeneratedRegex(@"_or_null\b|null-check it first", RegexOptions.CultureInvariant)]
    private static partial Regex OrNull();

    [GeneratedRegex(@"unbounded min value|unbounded memory access|min value is negative|max value is outside|min value is outside|pointer be out of bounds|math between \w+ pointer and -?\d+ is not allowed|variable(-offset)? \w* ?(access|read|write|stack)|invalid unbounded variable-offset|pointer offset -?\d+ is not allowed", RegexOptions.CultureInvariant)]
    private static partial Regex Unbounded();

    [GeneratedRegex(@"\bR(\d+)\b", RegexOptions.CultureInvariant)]
    private static partial Regex RegisterName();
}
