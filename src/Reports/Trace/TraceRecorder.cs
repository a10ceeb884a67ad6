using System.Globalization;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Reports.Trace;

/// <summary>Records every instruction an interpreter executes as a <see cref="TraceRecord"/>: its text and source line,
/// the registers it changed, the memory it touched (named by region: <c>pkt+12</c>, <c>fp-8</c>, <c>ctx+4</c>,
/// <c>map_value(flows)+4</c>, <c>.rodata+2</c>), and the calls, returns and tail calls it made.</summary>
/// <remarks>Set it as <see cref="BpfInterpreter.Tracer"/> (or use <see cref="XdpTrace.Run"/>). Records come out in the
/// order instructions started, so a callback's instructions follow the helper call that ran them. At most
/// <see cref="MaxSteps"/> instructions are kept per run; the rest are counted in <see cref="Dropped"/>.</remarks>
public sealed class TraceRecorder : IExecutionTracer
{
    /// <summary>The default <see cref="MaxSteps"/>.</summary>
    public const int DefaultMaxSteps = 100_000;

    private const ulong SmallScalar = 0x10000;

    private readonly MapSet? _maps;
    private readonly List<(int Segment, TraceRecord Record)> _records = [];
    private readonly Dictionary<ExecutableProgram, ProgramView> _programs = new(ReferenceEqualityComparer.Instance);
    private readonly ulong[] _fp = new ulong[BpfInterpreter.MaxCallFrames];
    private readonly List<(ulong Base, ulong Size, string Name, bool Ring)> _values = [];
    private readonly Stack<long> _openCalls = new();
    private bool _sorted = true;
    private List<TraceRecord>? _view;
    private ExecutableProgram? _current;
    private int _segment;
    private long _maxStep;

    /// <summary>A recorder that names map values through <paramref name="maps"/> (the object's maps), when given.</summary>
    /// <param name="maps">The maps of the object the program runs with, or null.</param>
    /// <param name="maxSteps">How many instructions to keep.</param>
    public TraceRecorder(MapSet? maps = null, int maxSteps = DefaultMaxSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSteps);
        _maps = maps;
        MaxSteps = maxSteps;
    }

    /// <summary>How many instructions are kept.</summary>
    public int MaxSteps { get; }

    /// <summary>Instructions executed beyond <see cref="MaxSteps"/> and not recorded.</summary>
    public long Dropped { get; private set; }

    /// <summary>The highest step number seen in the latest run: the instructions it executed (a fault's included).</summary>
    public long LastStep => _maxStep;

    /// <summary>How the run ended, when the caller has set it (<see cref="XdpTrace.Run"/> does).</summary>
    public TraceVerdict? Verdict { get; set; }

    /// <summary>The recorded instructions, in the order they started (timer callbacks that fired before the packet
    /// come first).</summary>
    public IReadOnlyList<TraceRecord> Records
    {
        get
        {
            if (!_sorted)
            {
                _records.Sort((a, b) => a.Segment != b.Segment ? a.Segment.CompareTo(b.Segment) : a.Record.Step.CompareTo(b.Record.Step));
                _sorted = true;
                _view = null;
            }

            return _view ??= _records.ConvertAll(r => r.Record);
        }
    }

    /// <summary>The text and source line ("file.c:22") of slot <paramref name="insn"/> of the program the last recorded
    /// instruction left running (after a tail call, its target): where a fault that followed it happened.</summary>
    public (string? Text, string? Line) Describe(int insn)
    {
        if (_current is null)
        {
            return (null, null);
        }

        var view = View(_current);
        var line = view.Lines?.LineAt(insn);
        return (view.Text(insn), line is null ? null : SourceLines.Location(line));
    }

    /// <summary>Forgets everything recorded (the program caches stay).</summary>
    public void Clear()
    {
        _records.Clear();
        _view = null;
        _values.Clear();
        _openCalls.Clear();
        Array.Clear(_fp);
        _sorted = true;
        _segment = 0;
        _maxStep = 0;
        Dropped = 0;
        Verdict = null;
        _current = null;
    }

    /// <inheritdoc/>
    public void OnHelperEnter(in TraceStep step)
    {
        NoteSegment(step.Step);
        _openCalls.Push(step.Step);
        _fp[step.Depth] = step.Before[10];
        _current = step.Program;
    }

    /// <inheritdoc/>
    public void OnStep(in TraceStep step)
    {
        if (_openCalls.Count > 0 && _openCalls.Peek() == step.Step)
        {
            _openCalls.Pop();
        }
        else
        {
            NoteSegment(step.Step);
        }

        _fp[step.Depth] = step.Before[10];
        _current = step.TailCallTarget ?? step.Program;
        var call = Call(step);
        if (step.Step > MaxSteps)
        {
            Dropped++;
            return;
        }

        var view = View(step.Program);
        var line = view.Lines?.LineAt(step.Pc);
        var record = new TraceRecord
        {
            Step = step.Step,
            Program = step.Program.Name,
            Insn = step.Pc,
            Frame = step.Depth,
            Function = view.Lines?.FunctionAt(step.Pc)?.Name,
            Text = view.Text(step.Pc),
            Line = line is null ? null : SourceLines.Location(line),
            Source = line?.Text.Trim(),
            Registers = Registers(step),
            Memory = Memory(step),
            Call = call,
            Taken = IsConditional(step.Instruction) ? step.BranchTaken : null,
            Next = step.NextPc,
        };
        if (_records.Count > 0 && (_records[^1].Segment > _segment || (_records[^1].Segment == _segment && _records[^1].Record.Step > step.Step)))
        {
            _sorted = false;
        }

        _records.Add((_segment, record with { Run = _segment }));
        _view = null;
    }

    // A step number no larger than one already seen (and not a helper call finishing) starts a new run of the
    // interpreter: a timer callback fired before the packet, then the packet's own run.
    private void NoteSegment(long step)
    {
        if (step <= _maxStep)
        {
            _segment++;
            _openCalls.Clear();
        }

        _maxStep = step;
    }

    private static bool IsConditional(Instruction insn) =>
        insn.Class is OpClass.Jmp or OpClass.Jmp32 && insn.JmpOp is not (JmpOp.Ja or JmpOp.Call or JmpOp.Exit);

    private List<TraceRegisterChange> Registers(in TraceStep step)
    {
        var changes = new List<TraceRegisterChange>();
        for (int r = 0; r < step.After.Length; r++)
        {
            ulong old = step.Before[r];
            ulong now = step.After[r];
            if (old != now)
            {
                string? ptr = step.Instruction.Opcode == Op.LdDw && step.Instruction.SrcReg == (int)PseudoSrc.Func
                    ? FunctionPointer(now)
                    : Pointer(now, step.Regions, step.Context, step.Depth);
                changes.Add(new TraceRegisterChange(r, old, now, ptr));
            }
        }

        return changes;
    }

    private List<TraceMemoryAccess> Memory(in TraceStep step)
    {
        var list = new List<TraceMemoryAccess>(step.Accesses.Length);
        foreach (var a in step.Accesses)
        {
            var (region, offset, frame) = Locate(a.Address, a.Region, step.Context);
            list.Add(new TraceMemoryAccess(
                a.Kind == MemoryAccessKind.Load ? "load" : "store", region, offset, a.Size, a.Value, a.Address, frame, frame is not { } f || f == step.Depth));
        }

        return list;
    }

    private TraceCall? Call(in TraceStep step)
    {
        switch (step.Call)
        {
            case TraceCallKind.Helper:
            case TraceCallKind.Kfunc:
            {
                bool helper = step.Call == TraceCallKind.Helper;
                int arity = helper ? HelperArity.Of(step.CallId) : 5;
                var args = new ulong[arity];
                var text = new string[arity];
                for (int i = 0; i < arity; i++)
                {
                    args[i] = step.Before[i + 1];
                    text[i] = Pointer(args[i], step.Regions, step.Context, step.Depth)
                        ?? (args[i] >= SmallScalar ? FunctionPointer(args[i]) : null)
                        ?? Hex(args[i]);
                }

                ulong result = step.After[0];
                if (helper)
                {
                    NoteValuePointer(step.CallId, args, result);
                }

                string? name = step.CallName ?? (helper && step.CallId is >= 0 and <= int.MaxValue ? HelperNames.Name((int)step.CallId) : null);
                return step.TailCallTarget is { } target
                    ? new TraceCall("tail_call", step.CallId, name, args, text, null, 0, target.Name)
                    : new TraceCall(helper ? "helper" : "kfunc", step.CallId, name, args, text, result, null, null);
            }

            case TraceCallKind.Local:
            {
                int target = (int)step.CallId;
                string? name = View(step.Program).Lines?.FunctionAt(target) is { } f && f.StartSlot == target ? f.Name : null;
                return new TraceCall("call", 0, name, [], [], null, target, null);
            }

            case TraceCallKind.Return:
                return new TraceCall("return", 0, null, [], [], step.After[0], step.NextPc, null);
            case TraceCallKind.Exit:
                return new TraceCall("exit", 0, null, [], [], step.After[0], null, null);
            default:
                return null;
        }
    }

    // Remember where map lookups and ring buffer reservations point, so later accesses name the value they are in.
    private void NoteValuePointer(long id, ulong[] args, ulong result)
    {
        if (result == 0 || _maps is null || args.Length == 0)
        {
            return;
        }

        switch (id)
        {
            case 1:     // bpf_map_lookup_elem
            case 195:   // bpf_map_lookup_percpu_elem
                if (_maps.ResolveMap(args[0]) is { } map)
                {
                    Remember(result, map.Spec.ValueSize, map.Name, ring: false);
                }

                break;
            case 131:   // bpf_ringbuf_reserve
                if (_maps.ResolveMap(args[0]) is { } ring && args.Length > 1)
                {
                    Remember(result, args[1], ring.Name, ring: true);
                }

                break;
            default:
                break;
        }
    }

    private void Remember(ulong address, ulong size, string name, bool ring)
    {
        _values.RemoveAll(v => v.Base == address);
        _values.Add((address, Math.Max(size, 1), name, ring));
        if (_values.Count > 256)
        {
            _values.RemoveAt(0);
        }
    }

    // What a register value points at, or null for a scalar.
    private string? Pointer(ulong value, RegionTable? regions, XdpContext? ctx, int depth)
    {
        if (value < SmallScalar)
        {
            return null;
        }

        if (ctx is not null && value == ctx.DataEnd)
        {
            return "pkt_end";
        }

        for (int k = 0; k < _fp.Length; k++)
        {
            if (_fp[k] == value)
            {
                return k == depth ? "fp" : "frame" + k.ToString(CultureInfo.InvariantCulture) + ":fp";
            }
        }

        if (_maps?.ResolveMap(value) is { } map)
        {
            return "map[" + map.Name + "]";
        }

        if (regions is not null)
        {
            int i = regions.Find(value, 1, write: false);
            if (i >= 0)
            {
                var (region, offset, frame) = Locate(value, regions[i], ctx);
                return new TraceMemoryAccess("load", region, offset, 1, 0, value, frame, frame is not { } f || f == depth).Location;
            }
        }

        return null;
    }

    private static string? FunctionPointer(ulong value)
    {
        if (!ExecutableProgram.TryFindFunction(value, out var program, out int pc))
        {
            return null;
        }

        string? name = program.Tag is ProgramSpec spec ? spec.Functions.FirstOrDefault(f => f.StartSlot == pc)?.Name : null;
        return "func " + (name ?? program.Name + "+" + pc.ToString(CultureInfo.InvariantCulture));
    }

    // The region-relative name of an address.
    private (string Region, long Offset, int? Frame) Locate(ulong address, MemoryRegion region, XdpContext? ctx)
    {
        switch (region.Kind)
        {
            case RegionKind.Packet when ctx is not null:
                return address >= ctx.Data ? ("pkt", (long)(address - ctx.Data), null) : ("meta", (long)(address - ctx.DataMeta), null);
            case RegionKind.Packet:
                return ("pkt", (long)(address - region.Start), null);
            case RegionKind.Stack:
                for (int k = 0; k < _fp.Length; k++)
                {
                    if (_fp[k] == region.End)
                    {
                        return ("fp", -(long)(region.End - address), k);
                    }
                }

                return (region.Name, (long)(address - region.Start), null);
            case RegionKind.Context:
                return ("ctx", (long)(address - region.Start), null);
            case RegionKind.Input:
                return ("mem", (long)(address - region.Start), null);
            case RegionKind.MapValue:
            case RegionKind.GlobalData:
                return LocateMapValue(address, region);
            default:
                return (region.Name, (long)(address - region.Start), null);
        }
    }

    private (string Region, long Offset, int? Frame) LocateMapValue(ulong address, MemoryRegion region)
    {
        for (int i = _values.Count - 1; i >= 0; i--)
        {
            var v = _values[i];
            if (address - v.Base < v.Size)
            {
                return ((v.Ring ? "ringbuf(" : "map_value(") + v.Name + ")", (long)(address - v.Base), null);
            }
        }

        if (_maps is not null)
        {
            foreach (var map in _maps)
            {
                foreach (var r in map.ValueRegions)
                {
                    if (r.Start != region.Start)
                    {
                        continue;
                    }

                    long offset = (long)(address - r.Start);
                    if (map.Spec.IsGlobalData || region.Kind == RegionKind.GlobalData)
                    {
                        return (map.Name, offset, null);
                    }

                    // Arrays and hashes keep values round_up(value_size, 8) bytes apart.
                    long stride = ((long)map.Spec.ValueSize + 7) & ~7L;
                    return ("map_value(" + map.Name + ")", stride > 0 ? offset % stride : offset, null);
                }
            }
        }

        return (region.Name, (long)(address - region.Start), null);
    }

    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private ProgramView View(ExecutableProgram program)
    {
        if (!_programs.TryGetValue(program, out var view))
        {
            view = new ProgramView(program, _maps);
            _programs[program] = view;
        }

        return view;
    }

    // A program's text and source lines: from its ProgramSpec when the loader attached one (map references by name),
    // else from the slots the engine runs.
    private sealed class ProgramView
    {
        private readonly Instruction[] _slots;
        private readonly string?[] _text;
        private readonly Func<int, string?>? _mapName;
        private readonly Dictionary<int, string> _functions = [];

        public ProgramView(ExecutableProgram program, MapSet? maps)
        {
            if (program.Tag is ProgramSpec spec && spec.Slots.Count == program.Program.Length)
            {
                _slots = [.. spec.Slots];
                Lines = new SourceLines(spec);
                foreach (var f in spec.Functions)
                {
                    _functions.TryAdd(f.StartSlot, f.Name);
                }
            }
            else
            {
                _slots = program.Slots.ToArray();
            }

            if (maps is not null)
            {
                _mapName = i => (uint)i < (uint)maps.Count ? maps[i].Name : null;
            }

            _text = new string?[_slots.Length];
        }

        public SourceLines? Lines { get; }

        public string Text(int pc)
        {
            if ((uint)pc >= (uint)_slots.Length)
            {
                return "?";
            }

            return _text[pc] ??= InstructionText.Format(_slots, pc, _mapName, s => _functions.GetValueOrDefault(s));
        }
    }
}
