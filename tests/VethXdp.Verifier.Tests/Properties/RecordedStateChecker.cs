using System.Globalization;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Verifier.Tests.Properties;

/// <summary>Where things are in one concrete run, as the interpreter's tracer sees them before an instruction: the
/// context, the packet's three pointers, each frame's <c>fp</c>, and the maps.</summary>
internal sealed class ConcreteMachine
{
    public ulong Ctx { get; set; }

    public ulong Data { get; set; }

    public ulong DataEnd { get; set; }

    public ulong DataMeta { get; set; }

    /// <summary>r10 of each call depth, as last seen.</summary>
    public ulong[] Fp { get; } = new ulong[BpfInterpreter.MaxCallFrames];

    public MapSet? Maps { get; set; }

    /// <summary>The run depth of the state's frame 0 (not 0 for a global function verified on its own), which
    /// <c>fp</c> pointers' frame numbers are relative to.</summary>
    public int FrameBase { get; set; }
}

/// <summary>The concrete side of the recorded-state property: is a concrete register value inside a recorded abstract
/// register, and does a whole recorded state hold a run's registers.</summary>
internal static class RecordedStateChecker
{
    /// <summary>The register kinds <see cref="Mismatch"/> checks beyond being initialised.</summary>
    public static bool IsChecked(RegType t) => t is RegType.Scalar or RegType.PtrToCtx or RegType.PtrToPacket
        or RegType.PtrToPacketMeta or RegType.PtrToPacketEnd or RegType.PtrToStack or RegType.ConstPtrToMap
        or RegType.PtrToMapValue;

    /// <summary>Null when the concrete value <paramref name="v"/> is one <paramref name="a"/> allows in machine
    /// <paramref name="m"/>; otherwise why not.</summary>
    public static string? Mismatch(in RecordedRegister a, ulong v, ConcreteMachine m)
    {
        switch (a.Type)
        {
            case RegType.NotInit:
                return null; // the verifier claims nothing
            case RegType.Scalar:
                return a.BoundsContain(v) ? null : $"= {Hex(v)} ({(long)v}) outside {Describe(a)}";
        }

        if (a.MaybeNull && v == 0)
        {
            return null; // an _or_null pointer that is null
        }

        ulong start;
        switch (a.Type)
        {
            case RegType.PtrToCtx:
                start = m.Ctx;
                break;
            case RegType.PtrToPacket:
                start = m.Data;
                break;
            case RegType.PtrToPacketMeta:
                start = m.DataMeta;
                break;
            case RegType.PtrToPacketEnd:
                start = m.DataEnd;
                break;
            case RegType.PtrToStack:
                int frame = a.Frameno + m.FrameBase;
                if ((uint)frame >= (uint)m.Fp.Length || m.Fp[frame] == 0)
                {
                    return $"= {Hex(v)} points into frame {a.Frameno}'s stack, a frame the run has not entered";
                }

                start = m.Fp[frame];
                break;
            case RegType.ConstPtrToMap:
                if (m.Maps is not { } maps)
                {
                    return $"map_ptr to map {a.MapIndex}, but the run has no maps";
                }

                if ((uint)a.MapIndex >= (uint)maps.Count)
                {
                    // an inner map's template (from a map-in-map lookup): any of the object's maps may be it
                    return IsMapHandle(maps, v) ? null : $"= {Hex(v)}: map_ptr to an inner map, but no map has this handle";
                }

                return v == maps[a.MapIndex].Handle && a.Off == 0 && a.BoundsContain(0)
                    ? null
                    : $"= {Hex(v)}, not map {a.MapIndex}'s handle {Hex(maps[a.MapIndex].Handle)} ({Describe(a)})";
            case RegType.PtrToMapValue:
                return MapValueMismatch(a, v, m);
            default:
                return null; // kinds this test does not model: only their initialisation is checked
        }

        // p - start - off must lie in the variable part's bounds
        ulong variable = v - start - (ulong)(long)a.Off;
        if (!a.BoundsContain(variable))
        {
            return $"= {Hex(v)}: {Name(a.Type)} start {Hex(start)} + off {a.Off} + var {(long)variable} outside {Describe(a)}";
        }

        if (a.Type is RegType.PtrToPacket or RegType.PtrToPacketMeta && a.Range != 0)
        {
            // kernel: find_good_pkt_pointers() proves [p - off, p - off + range) inside the packet (for pkt_meta:
            // before data); mark_pkt_end() proves p >= data_end (AT_PKT_END) or p > data_end (BEYOND_PKT_END).
            ulong end = a.Type == RegType.PtrToPacket ? m.DataEnd : m.Data;
            ulong from = v - (ulong)(long)a.Off;
            bool ok = a.Range switch
            {
                RecordedRegister.AtPktEnd => a.Type == RegType.PtrToPacket && v >= m.DataEnd,
                RecordedRegister.BeyondPktEnd => a.Type == RegType.PtrToPacket && v > m.DataEnd,
                > 0 => from >= start && from + (ulong)a.Range <= end,
                _ => false,
            };
            if (!ok)
            {
                return $"= {Hex(v)}: range r={a.Range} from {Hex(from)} but the packet area ends at {Hex(end)} " +
                    $"({(long)(end - from)} bytes) ({Describe(a)})";
            }
        }

        return null;
    }

    // Map values: some element of the map must start at s with p - s - off inside the bounds (arrays and hashes keep
    // values round_up(value_size, 8) bytes apart).
    private static string? MapValueMismatch(in RecordedRegister a, ulong v, ConcreteMachine m)
    {
        if (m.Maps is not { } maps)
        {
            return $"map_value of map {a.MapIndex}, but the run has no maps";
        }

        if ((uint)a.MapIndex >= (uint)maps.Count)
        {
            // a value of an inner map's template (a map-in-map lookup): any of the object's maps may be the inner map
            foreach (var map in maps)
            {
                if (map.Type is not (MapType.ArrayOfMaps or MapType.HashOfMaps) && InSomeValue(a, v, map))
                {
                    return null;
                }
            }

            return $"= {Hex(v)} is not off {a.Off} + var into any value of any map ({Describe(a)})";
        }

        var outer = maps[a.MapIndex];
        if (outer.Type is MapType.ArrayOfMaps or MapType.HashOfMaps)
        {
            // a map-in-map lookup before its NULL check: the "value" is the inner map itself
            return a.Off == 0 && IsMapHandle(maps, v) ? null : $"= {Hex(v)}: a lookup in map-in-map {a.MapIndex}, but no map has this handle";
        }

        return InSomeValue(a, v, outer) ? null : $"= {Hex(v)} is not off {a.Off} + var into any value of map {a.MapIndex} ({Describe(a)})";
    }

    private static bool InSomeValue(in RecordedRegister a, ulong v, BpfMap map)
    {
        ulong stride = Math.Max(8, ((ulong)map.Spec.ValueSize + 7) & ~7UL);
        foreach (var region in map.ValueRegions)
        {
            for (ulong s = region.Start; s < region.End && s < region.Start + (4096 * stride); s += stride)
            {
                if (a.BoundsContain(v - s - (ulong)(long)a.Off))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsMapHandle(MapSet maps, ulong v)
    {
        foreach (var map in maps)
        {
            if (map.Handle == v)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Null when every initialised register of <paramref name="s"/> holds the concrete value in
    /// <paramref name="regs"/> and, when <paramref name="stackFp"/> is not 0, every recorded stack slot holds the
    /// bytes below that frame pointer; otherwise the first that does not.</summary>
    public static string? FirstMismatch(RecordedState s, ReadOnlySpan<ulong> regs, ConcreteMachine m, ulong stackFp)
    {
        for (int r = 0; r < 11; r++)
        {
            if (Mismatch(s[r], regs[r], m) is { } why)
            {
                return $"R{r} {why}";
            }
        }

        if (stackFp != 0)
        {
            foreach (var slot in s.Stack)
            {
                if (StackMismatch(slot, stackFp, m) is { } why)
                {
                    return why;
                }
            }
        }

        return null;
    }

    /// <summary>Null when the 8 bytes at <c>fp + slot.Offset</c> are ones <paramref name="slot"/> allows: STACK_ZERO
    /// bytes are 0, and a spilled register (its bytes read little-endian) lies inside the spilled state.</summary>
    public static unsafe string? StackMismatch(in RecordedStackSlot slot, ulong fp, ConcreteMachine m)
    {
        byte* p = (byte*)(fp + (ulong)(long)slot.Offset);
        for (int k = 0; k < 8; k++)
        {
            if (slot.ByteType(k) == SlotType.Zero && p[k] != 0)
            {
                return $"fp{slot.Offset + k} = {Hex(p[k])}, but the slot is {slot.Types}";
            }
        }

        int n = slot.SpillBytes;
        if (n == 0 || !slot.Spilled.IsInit)
        {
            return null;
        }

        ulong v = n switch
        {
            8 => System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(p),
            4 => System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(p),
            2 => System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ushort>(p),
            1 => *p,
            _ => 0,
        };
        if (n is not (1 or 2 or 4 or 8))
        {
            return $"fp{slot.Offset}={slot.Types}: a spill of {n} bytes";
        }

        var r = slot.Spilled;
        if (n < 8 && r.IsScalar && r.UMax >> (8 * n) != 0)
        {
            // kernel: check_stack_write_fixed_off() keeps a scalar's whole state on a narrowing spill (it only drops
            // the id); the slot's bytes are the low n bytes of some value in that state, and the fill truncates
            // (coerce_reg_to_size). So only what survives truncation is compared: the tnum's low bytes, and for a
            // 4-byte spill the 32-bit ranges.
            ulong low = (1UL << (8 * n)) - 1;
            bool ok = ((v ^ r.VarOff.Value) & ~r.VarOff.Mask & low) == 0 &&
                (n != 4 || ((int)(uint)v >= r.S32Min && (int)(uint)v <= r.S32Max && (uint)v >= r.U32Min && (uint)v <= r.U32Max));
            return ok ? null : $"fp{slot.Offset}={slot.Types} holds {Hex(v)}, not the low {n} bytes of a value of {Describe(r)}";
        }

        return Mismatch(r, v, m) is { } why ? $"fp{slot.Offset}={slot.Types} spilled {why}" : null;
    }

    /// <summary>The register as the kernel's log would show its numbers.</summary>
    public static string Describe(in RecordedRegister a) => string.Create(CultureInfo.InvariantCulture,
        $"{Name(a.Type)}(off={a.Off},r={a.Range},smin={a.SMin},smax={a.SMax},umin={a.UMin},umax={a.UMax}," +
        $"smin32={a.S32Min},smax32={a.S32Max},umin32={a.U32Min},umax32={a.U32Max},var_off=({Hex(a.VarOff.Value)}; {Hex(a.VarOff.Mask)}))");

    private static string Name(RegType t) => t switch
    {
        RegType.Scalar => "scalar",
        RegType.PtrToCtx => "ctx",
        RegType.PtrToPacket => "pkt",
        RegType.PtrToPacketMeta => "pkt_meta",
        RegType.PtrToPacketEnd => "pkt_end",
        RegType.PtrToStack => "fp",
        RegType.ConstPtrToMap => "map_ptr",
        RegType.PtrToMapValue => "map_value",
        _ => t.ToString(),
    };

    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Verifies <paramref name="spec"/> with every path explored and states recorded (unless
    /// <paramref name="options"/> say otherwise), and when it is accepted runs it on each packet under a
    /// <see cref="RecordedStateTracer"/>. Null when rejected.</summary>
    public static RecordedStateTracer? VerifyAndRun(ProgramSpec spec, IReadOnlyList<MapSpec> maps,
        IEnumerable<byte[]> packets, VerifierOptions? options = null)
    {
        options ??= new VerifierOptions { RecordStates = true, DisablePruning = true, LogLevel = VerifierLogLevel.None };
        var result = BpfVerifier.Verify(spec, maps, options);
        if (!result.Accepted)
        {
            return null;
        }

        using var obj = LoadedObject.Create(maps, [spec]);
        return RunTraced(result, obj, spec.Name, packets);
    }

    /// <summary>Runs program <paramref name="name"/> of <paramref name="obj"/>, whose verification recorded
    /// <paramref name="result"/>, on each packet under a <see cref="RecordedStateTracer"/>.</summary>
    public static RecordedStateTracer RunTraced(VerificationResult result, LoadedObject obj, string name, IEnumerable<byte[]> packets)
    {
        using var runner = new XdpRunner(obj, name);
        var vm = ((InterpreterEngine)runner.Engine).Interpreter;
        var tracer = new RecordedStateTracer(result, obj.Maps) { Program = runner.Executable };
        vm.Tracer = tracer;
        try
        {
            foreach (var p in packets)
            {
                tracer.BeginRun();
                var res = runner.Run(p);
                if (res.Error is { } e)
                {
                    tracer.Failures.Add($"accepted but faulted on a {p.Length}-byte packet: {e}");
                }
            }
        }
        finally
        {
            vm.Tracer = null;
        }

        return tracer;
    }
}

/// <summary>Checks, at every instruction the interpreter executes, that some state the verifier recorded there for the
/// same call depth holds the registers the instruction starts with.</summary>
internal sealed class RecordedStateTracer(VerificationResult result, MapSet maps) : IExecutionTracer
{
    private readonly Dictionary<long, (ulong Data, ulong DataEnd, ulong DataMeta)> _beforeCalls = [];

    public ConcreteMachine Machine { get; } = new() { Maps = maps };

    /// <summary>The program whose instructions are checked (others, reached by tail calls, are not), or null for all.</summary>
    public ExecutableProgram? Program { get; init; }

    /// <summary>The first few failures, readable.</summary>
    public List<string> Failures { get; } = [];

    /// <summary>Instructions checked.</summary>
    public int Steps { get; private set; }

    /// <summary>Registers checked beyond initialisation, by kind (in the state that held the registers).</summary>
    public Dictionary<RegType, int> Checked { get; } = [];

    /// <summary>Recorded stack slots compared with the run's stack (in the state that held the run).</summary>
    public int StackSlotsChecked { get; private set; }

    /// <summary>Of those, slots holding a spilled register.</summary>
    public int SpillsChecked { get; private set; }

    /// <summary>Frame depths seen.</summary>
    public HashSet<int> Depths { get; } = [];

    // The first slot of the function each depth runs (0 for the program; a local call's target).
    private readonly int[] _entry = new int[BpfInterpreter.MaxCallFrames + 1];

    // The depth a state's frame 0 is at in the run: 0 for the program's own states; for a global function verified
    // on its own, the innermost depth that entered it.
    private int BaseDepth(int entryInsn, int depth)
    {
        if (entryInsn == 0)
        {
            return 0;
        }

        for (int d = depth; d > 0; d--)
        {
            if (_entry[d] == entryInsn)
            {
                return d;
            }
        }

        return -1;
    }

    public void BeginRun()
    {
        Array.Clear(Machine.Fp);
        _beforeCalls.Clear();
    }

    public void OnHelperEnter(in TraceStep step)
    {
        if (step.Context is { } c)
        {
            _beforeCalls[step.Step] = (c.Data, c.DataEnd, c.DataMeta);
        }
    }

    public void OnStep(in TraceStep step)
    {
        if (Program is not null && !ReferenceEquals(step.Program, Program))
        {
            return; // a tail call's target: its states are another verification's
        }

        Steps++;
        var m = Machine;
        if (step.Context is { } c)
        {
            // the context after the step is the one before it, except for a helper (bpf_xdp_adjust_head/meta/tail)
            m.Ctx = c.Address;
            (m.Data, m.DataEnd, m.DataMeta) = step.Call is TraceCallKind.Helper or TraceCallKind.Kfunc &&
                _beforeCalls.Remove(step.Step, out var before) ? before : (c.Data, c.DataEnd, c.DataMeta);
        }

        m.Fp[step.Depth] = step.Before[10];
        Depths.Add(step.Depth);

        // The stack is read as it is after the step, which is as it was before unless the step stored (a store, an
        // atomic, a helper writing through a pointer): then only its registers are compared.
        var insn = step.Instruction;
        bool writes = insn.Class is OpClass.St or OpClass.Stx || step.Call is TraceCallKind.Helper or TraceCallKind.Kfunc;
        ulong stackFp = writes ? 0 : step.Before[10];
        string? first = null;
        bool any = false;
        _entry[step.Depth + 1] = step.Call == TraceCallKind.Local ? (int)step.CallId : -1;
        foreach (var s in result.StatesAt(step.Pc))
        {
            int frameBase = BaseDepth(s.EntryInsn, step.Depth);
            if (frameBase < 0 || s.Frame != step.Depth - frameBase)
            {
                continue;
            }

            m.FrameBase = frameBase;

            any = true;
            var why = RecordedStateChecker.FirstMismatch(s, step.Before, m, stackFp);
            if (why is null)
            {
                foreach (var r in s.Registers)
                {
                    if (RecordedStateChecker.IsChecked(r.Type))
                    {
                        Checked[r.Type] = Checked.GetValueOrDefault(r.Type) + 1;
                    }
                }

                if (stackFp != 0)
                {
                    foreach (var slot in s.Stack)
                    {
                        StackSlotsChecked++;
                        SpillsChecked += slot.SpillBytes > 0 && slot.Spilled.IsInit ? 1 : 0;
                    }
                }

                return;
            }

            first ??= why;
        }

        if (Failures.Count < 5)
        {
            Failures.Add(any
                ? $"insn {step.Pc} (frame {step.Depth}): no recorded state holds the run's registers; in the first: {first}"
                : $"insn {step.Pc} (frame {step.Depth}): executed, but no state was recorded there for that frame");
        }
    }
}
