using System.Runtime.CompilerServices;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Interpreter;

/// <summary>What the verifier proved about a verified program's stack: for each function (by its first slot) the
/// kernel's <c>stack_depth</c>, the number of bytes below its frame pointer that any access of that function's frame
/// (its own loads and stores, a callee's through a passed pointer, a helper's) can reach.</summary>
/// <remarks>
/// <para>The unchecked JIT uses it to clear only those bytes when a frame opens: every other byte of the frame is one
/// no access of that activation can reach, so the stack reads exactly as the interpreter's fully zeroed frame does
/// (an uninitialised stack read, which the kernel allows root, gives 0 on every engine).</para>
/// <para>Only the verifier records facts (the setter is internal; Vm's internals are visible to VethXdp.Verifier
/// alone), and a token without facts clears whole frames. A side table until <see cref="VerifiedProgram"/> carries the
/// depths itself.</para>
/// </remarks>
public static class VerifiedStack
{
    private static readonly ConditionalWeakTable<VerifiedProgram, int[]> s_depths = new();

    /// <summary>The stack depth the verifier proved for the function that starts at slot <paramref name="start"/>.</summary>
    /// <returns>False when the verifier recorded nothing for that slot: clear the whole frame.</returns>
    public static bool TryGetDepth(VerifiedProgram program, int start, out int depth)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (s_depths.TryGetValue(program, out var byStart) && (uint)start < (uint)byStart.Length && byStart[start] >= 0)
        {
            depth = byStart[start];
            return true;
        }

        depth = BpfInterpreter.StackSize;
        return false;
    }

    /// <summary>Records the depth of each function: <paramref name="starts"/>[i] is the first slot of the function
    /// whose depth is <paramref name="depths"/>[i].</summary>
    internal static void Record(VerifiedProgram program, ReadOnlySpan<int> starts, ReadOnlySpan<int> depths)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (starts.Length != depths.Length)
        {
            throw new ArgumentException("one depth per function start", nameof(depths));
        }

        var byStart = new int[program.Program.Slots.Length];
        Array.Fill(byStart, -1);
        for (int i = 0; i < starts.Length; i++)
        {
            if ((uint)starts[i] < (uint)byStart.Length)
            {
                byStart[starts[i]] = Math.Clamp(depths[i], 0, BpfInterpreter.StackSize);
            }
        }

        s_depths.AddOrUpdate(program, byStart);
    }
}
