using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Interpreter;

/// <summary>A program as an engine runs it: its slots in pinned memory, so that a function has an address
/// (what a <c>BPF_PSEUDO_FUNC</c> 64-bit load yields, and what bpf_loop calls back), and the tag the loader gave it.</summary>
/// <remarks>The code memory is never registered as a region: a program cannot read or write it, only pass its
/// addresses to helpers. Tail calls switch between <see cref="ExecutableProgram"/>s (a program array holds them).</remarks>
public sealed unsafe class ExecutableProgram
{
    // Every live program, so that a function address finds its program wherever the call comes from (a timer
    // callback set by one program may fire while another runs, or between runs).
    private static readonly List<WeakReference<ExecutableProgram>> s_live = [];
    private static readonly Lock s_liveLock = new();

    private readonly Instruction[] _code;
    private DecodedInstruction[]? _decoded;
    private nint _decodedCode;
    private DecodedInstruction[]? _fused;
    private nint _fusedCode;

    /// <summary>Wraps <paramref name="program"/>.</summary>
    /// <param name="program">The program, with map references already resolved to addresses.</param>
    /// <param name="name">The name shown in messages and map dumps; the program's name when null.</param>
    /// <param name="tag">Anything the loader wants to keep with it (e.g. its ProgramSpec).</param>
    public ExecutableProgram(BpfProgram program, string? name = null, object? tag = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        Program = program;
        Name = name ?? program.Name;
        Tag = tag;
        _code = GC.AllocateArray<Instruction>(Math.Max(program.Length, 1), pinned: true);
        program.Slots.CopyTo(_code);
        CodeBase = (ulong)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_code));
        lock (s_liveLock)
        {
            if (s_live.Count >= 64 && (s_live.Count & 63) == 0)
            {
                s_live.RemoveAll(w => !w.TryGetTarget(out _));
            }

            s_live.Add(new WeakReference<ExecutableProgram>(this));
        }
    }

    /// <summary>The live program whose code holds the function address <paramref name="address"/>, and the slot.</summary>
    public static bool TryFindFunction(ulong address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ExecutableProgram? program, out int pc)
    {
        lock (s_liveLock)
        {
            foreach (var weak in s_live)
            {
                if (weak.TryGetTarget(out var p) && p.TryGetSlot(address, out pc))
                {
                    program = p;
                    return true;
                }
            }
        }

        program = null;
        pc = -1;
        return false;
    }

    /// <summary>The program.</summary>
    public BpfProgram Program { get; }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>What the loader attached (not used by the engines).</summary>
    public object? Tag { get; }

    /// <summary>The slots.</summary>
    public ReadOnlySpan<Instruction> Slots => _code.AsSpan(0, Program.Length);

    /// <summary>The slots as the interpreter runs them (built on first use; one per program, shared by every
    /// interpreter that runs it).</summary>
    internal DecodedInstruction[] Decoded
    {
        get
        {
            _ = Code;
            return _decoded!;
        }
    }

    /// <summary>The first entry of <see cref="Decoded"/> (pinned: the array lives as long as this program).</summary>
    internal DecodedInstruction* Code
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var code = (DecodedInstruction*)_decodedCode;
            return code != null ? code : Decode();
        }
    }

    /// <summary>The first entry of the fused stream (<see cref="InstructionDecoder.Fuse"/>): <see cref="Code"/> with
    /// pairs of slots done by one entry, for the loop that counts per straight run and does not trace.</summary>
    internal DecodedInstruction* FusedCode
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var code = (DecodedInstruction*)_fusedCode;
            return code != null ? code : DecodeFused();
        }
    }

    /// <summary>Address of slot 0: function addresses are <c>CodeBase + 8 * pc</c>.</summary>
    public ulong CodeBase { get; }

    /// <summary>The address of the function that starts at slot <paramref name="pc"/>.</summary>
    public ulong FunctionAddress(int pc) => CodeBase + ((ulong)pc * Instruction.Size);

    /// <summary>The slot a function address points at, when it is one of this program's slots.</summary>
    public bool TryGetSlot(ulong address, out int pc)
    {
        ulong offset = address - CodeBase;
        if (offset % Instruction.Size == 0 && offset / Instruction.Size < (ulong)Program.Length)
        {
            pc = (int)(offset / Instruction.Size);
            return true;
        }

        pc = -1;
        return false;
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    // Two threads may both decode; each gets an equal array and one of them stays.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private DecodedInstruction* Decode()
    {
        var decoded = Interlocked.CompareExchange(ref _decoded, InstructionDecoder.Decode(Slots), null) ?? _decoded;
        var code = (DecodedInstruction*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(decoded));
        Volatile.Write(ref _decodedCode, (nint)code);
        return code;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private DecodedInstruction* DecodeFused()
    {
        _ = Code;
        var fused = Interlocked.CompareExchange(ref _fused, InstructionDecoder.Fuse(_decoded!), null) ?? _fused;
        var code = (DecodedInstruction*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(fused));
        Volatile.Write(ref _fusedCode, (nint)code);
        return code;
    }
}
