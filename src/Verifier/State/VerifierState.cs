namespace VethXdp.Verifier.State;

/// <summary>An acquired reference (<c>struct bpf_reference_state</c>): a ringbuf record, a socket, a lock.</summary>
/// <param name="Id">The reference id.</param>
/// <param name="InsnIdx">The instruction that acquired it.</param>
/// <param name="Kind">What it is.</param>
public readonly record struct RefState(int Id, int InsnIdx, RefKind Kind);

/// <summary>One processed instruction in a path's history: its index, the frame it ran in, the stack slot a load or
/// store at a constant stack offset touched (-1 for none), and for a conditional jump the registers linked (same
/// scalar id) to its operands at that moment.</summary>
/// <param name="Insn">The instruction index.</param>
/// <param name="Frame">The frame it ran in.</param>
/// <param name="StackFrame">The frame of the stack slot accessed, or -1.</param>
/// <param name="StackSpi">The stack slot accessed, or -1.</param>
/// <param name="LinkedRegs">For conditional jumps: registers of the frame sharing a scalar id with an operand.</param>
/// <param name="LinkedStack">For conditional jumps: the frame's stack slots holding a spilled scalar with that id.</param>
public readonly record struct HistoryEntry(int Insn, int Frame, int StackFrame, int StackSpi, ushort LinkedRegs, ulong LinkedStack = 0);

/// <summary>Kinds of references (<c>enum ref_state_type</c>).</summary>
public enum RefKind
{
    /// <summary>REF_TYPE_PTR: a pointer that must be released.</summary>
    Ptr,

    /// <summary>REF_TYPE_LOCK: a held bpf_spin_lock.</summary>
    Lock,
}

/// <summary>A whole verifier state (<c>struct bpf_verifier_state</c>): the call frames, the references held, and
/// the position.</summary>
public sealed class VerifierState
{
    /// <summary>MAX_CALL_FRAMES.</summary>
    public const int MaxCallFrames = 8;

    /// <summary>The frames; <see cref="CurFrame"/> is the innermost.</summary>
    public FuncState?[] Frames { get; } = new FuncState?[MaxCallFrames];

    /// <summary>The innermost frame's index (<c>curframe</c>).</summary>
    public int CurFrame { get; set; }

    /// <summary>The references held, in acquisition order (<c>refs</c>).</summary>
    public List<RefState> Refs { get; } = [];

    /// <summary>The held spin lock's id, or 0 (<c>active_locks</c> / <c>active_lock_id</c>).</summary>
    public int ActiveLockId { get; set; }

    /// <summary>The map whose value holds the lock (<c>active_lock_ptr</c>), -1 for none.</summary>
    public int ActiveLockMap { get; set; } = -1;

    /// <summary>This state's id once saved as an explored state (0 before).</summary>
    public int SavedId { get; set; }

    /// <summary>The nearest explored state (checkpoint) this path descends from (<c>parent</c>), or null.</summary>
    public VerifierState? Parent { get; set; }

    /// <summary>For a checkpoint: the paths and checkpoints below it still being explored (<c>branches</c>); a
    /// checkpoint with none left is complete, and only complete checkpoints may prune.</summary>
    public int Pending { get; set; }

    /// <summary>The instructions processed since <see cref="Parent"/> on this path, in order (the kernel's
    /// <c>jmp_history</c>, kept for every instruction): precision backtracking walks it backwards.</summary>
    public List<HistoryEntry> History { get; } = [];

    /// <summary>How many callback iterations this path has started (<c>callback_unroll_depth</c>): two states
    /// differing in it are different iterations, not an infinite loop.</summary>
    public int CallbackUnrollDepth { get; set; }

    /// <summary>A checkpoint dropped from its instruction's list while paths below it were still pending
    /// (<c>in_free_list</c>): it is freed, and stops counting towards peak_states, once they end.</summary>
    public bool InFreeList { get; set; }

    /// <summary>The state's dead stack slots were forgotten (the kernel's <c>cleaned</c>: clean_verifier_state() ran
    /// on this complete explored state; it is not cleaned again).</summary>
    public bool Cleaned { get; set; }

    /// <summary>The instruction a checkpoint was taken at.</summary>
    public int InsnIdx { get; set; }

    /// <summary>The instruction this path's history starts at: the checkpoint <see cref="Parent"/> was taken at, or
    /// 0 for the first state (<c>first_insn_idx</c>).</summary>
    public int FirstInsnIdx { get; set; }

    /// <summary>The instruction processed just before the current one, or -1 (<c>last_insn_idx</c>); for a
    /// checkpoint, the last instruction of its own history.</summary>
    public int LastInsnIdx { get; set; } = -1;

    /// <summary>How many entries the kernel's <c>jmp_history</c> holds for this path since <see cref="Parent"/>
    /// (<c>jmp_history_cnt</c>): jump targets, spills and fills, jumps with linked scalars. A path with more than 40
    /// forces a checkpoint.</summary>
    public int JmpHistoryCnt { get; set; }

    /// <summary>The innermost frame.</summary>
    public FuncState Cur => Frames[CurFrame]!;

    /// <summary>A deep copy (<c>copy_verifier_state</c>).</summary>
    public VerifierState Clone()
    {
        var s = new VerifierState { CurFrame = CurFrame, ActiveLockId = ActiveLockId, ActiveLockMap = ActiveLockMap };
        for (int i = 0; i <= CurFrame; i++)
        {
            var f = new FuncState();
            f.CopyFrom(Frames[i]!);
            s.Frames[i] = f;
        }

        s.Refs.AddRange(Refs);
        s.Parent = Parent;
        s.History.AddRange(History);
        s.InsnIdx = InsnIdx;
        s.FirstInsnIdx = FirstInsnIdx;
        s.LastInsnIdx = LastInsnIdx;
        s.JmpHistoryCnt = JmpHistoryCnt;
        s.CallbackUnrollDepth = CallbackUnrollDepth;
        return s;
    }
}
