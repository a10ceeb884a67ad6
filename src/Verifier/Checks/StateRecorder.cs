using System.Collections.Immutable;
using System.Collections.ObjectModel;
using VethXdp.Verifier.State;

namespace VethXdp.Verifier.Checks;

/// <summary>Keeps, per instruction, the distinct abstract states paths reached it in
/// (<see cref="VerifierOptions.RecordStates"/>). Exists only when asked for: the main loop's cost without it is one
/// null test per instruction.</summary>
/// <remarks>Each distinct state costs about a kilobyte plus its stack; identical states (the common case after a
/// branch on a value that nothing later reads) are kept once.</remarks>
internal sealed class StateRecorder
{
    private static readonly ReadOnlyCollection<RecordedState> s_none = new([]);

    private readonly int[] _subprogStarts;
    private HashSet<RecordedState>?[]? _seen;
    private List<RecordedState>?[]? _byInsn;
    private ReadOnlyCollection<RecordedState>[]? _frozen;

    public StateRecorder(int insnCount, int[] subprogStarts)
    {
        _subprogStarts = subprogStarts;
        _seen = new HashSet<RecordedState>?[insnCount];
        _byInsn = new List<RecordedState>?[insnCount];
    }

    /// <summary>Distinct states recorded over all instructions.</summary>
    public int Count { get; private set; }

    /// <summary>Records the state <paramref name="vs"/> has on reaching <paramref name="insn"/>.</summary>
    public void Record(int insn, VerifierState vs)
    {
        var f = vs.Cur;
        var regs = ImmutableArray.CreateBuilder<RecordedRegister>(11);
        for (int i = 0; i < 11; i++)
        {
            regs.Add(RecordedRegister.From(in f.Regs[i]));
        }

        var stack = ImmutableArray.CreateBuilder<RecordedStackSlot>();
        for (int spi = 0; spi < f.AllocatedStack / 8; spi++)
        {
            if (!f.Stack[spi].IsInvalid)
            {
                stack.Add(RecordedStackSlot.From(spi, in f.Stack[spi]));
            }
        }

        int entry = EntryInsn(vs.Frames[0]!.Subprogno);
        var state = new RecordedState(insn, vs.CurFrame, f.CallSite, f.Subprogno, entry, regs.MoveToImmutable(), stack.ToImmutable());
        var seen = _seen![insn] ??= [];
        if (seen.Add(state))
        {
            (_byInsn![insn] ??= []).Add(state);
            Count++;
        }
    }

    private int EntryInsn(int subprog) => (uint)subprog < (uint)_subprogStarts.Length ? _subprogStarts[subprog] : 0;

    /// <summary>Ends recording: the per-instruction lists become read-only collections and the lookup sets go.</summary>
    public void Freeze()
    {
        if (_frozen is not null)
        {
            return;
        }

        var byInsn = _byInsn!;
        _frozen = new ReadOnlyCollection<RecordedState>[byInsn.Length];
        for (int i = 0; i < byInsn.Length; i++)
        {
            _frozen[i] = byInsn[i] is { } list ? new ReadOnlyCollection<RecordedState>([.. list]) : s_none;
        }

        _byInsn = null;
        _seen = null;
    }

    /// <summary>The states recorded at <paramref name="insn"/>, in the order paths reached it; empty for an instruction
    /// out of range or never reached. Valid after <see cref="Freeze"/>.</summary>
    public IReadOnlyList<RecordedState> StatesAt(int insn) =>
        _frozen is { } f && (uint)insn < (uint)f.Length ? f[insn] : s_none;
}
