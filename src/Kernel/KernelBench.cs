using System.Buffers.Binary;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Kernel;

/// <summary>The kernel's side of <c>vethxdp bench --kernel</c>: the same program and frames through the running
/// kernel's BPF_PROG_TEST_RUN with <c>repeat</c>, and the kernel's own reported duration per run.</summary>
/// <remarks>
/// kernel: <c>bpf_prog_test_run_xdp()</c> and <c>bpf_test_run()</c> in net/bpf/test_run.c: the frame is copied in
/// once, the program runs <c>repeat</c> times on the same xdp_buff (nothing reset between runs), and <c>duration</c>
/// is the loop's time (ktime_get_ns, not counting the pauses for rescheduling) divided by <c>repeat</c>, in whole
/// nanoseconds: it includes the test run's per-run overhead. One syscall per frame, on the CPU of
/// <see cref="KernelBenchOptions.Cpu"/>.
/// </remarks>
public static class KernelBench
{
    /// <summary>Loads <paramref name="obj"/> into the kernel and runs the program on each frame with repeat.</summary>
    /// <param name="obj">The object, as our ELF loader read it.</param>
    /// <param name="frames">The frames, in order.</param>
    /// <param name="options">The program, repeat, maps and run controls; null for the defaults.</param>
    /// <returns>The durations, or why the kernel could not be asked (bpf() refused, the program refused).</returns>
    /// <exception cref="ArgumentException">No such program, or several and none chosen; or initial maps JSON that is
    /// malformed or names a map the object does not have.</exception>
    public static KernelBenchResult Run(BpfObject obj, IEnumerable<ReadOnlyMemory<byte>> frames, KernelBenchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return Run(obj.Maps, obj.Programs, obj.Btf, frames, options);
    }

    /// <summary>As <see cref="Run(BpfObject, IEnumerable{ReadOnlyMemory{byte}}, KernelBenchOptions?)"/>, for maps and
    /// programs that do not come from an object file (programs refer to maps by index).</summary>
    /// <param name="maps">The maps.</param>
    /// <param name="programs">The programs.</param>
    /// <param name="btf">Their BTF, or null.</param>
    /// <param name="frames">The frames, in order.</param>
    /// <param name="options">The program, repeat, maps and run controls; null for the defaults.</param>
    /// <exception cref="ArgumentException">No such program, or several and none chosen; or bad initial maps JSON.</exception>
    public static KernelBenchResult Run(IReadOnlyList<MapSpec> maps, IReadOnlyList<ProgramSpec> programs, BtfSpec? btf,
        IEnumerable<ReadOnlyMemory<byte>> frames, KernelBenchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(programs);
        ArgumentNullException.ThrowIfNull(frames);
        options ??= new KernelBenchOptions();
        string program = CrossCheck.ChooseProgram(programs, options.Program);
        IReadOnlyList<MapsJsonMap>? initial = null;
        if (options.InitialMapsJson is { } json)
        {
            try
            {
                initial = MapsJson.Parse(CrossCheckMaps.WithTypes(json, maps), "initial maps");
            }
            catch (MapsJsonException e)
            {
                throw new ArgumentException($"the initial maps: {e.Message}", nameof(options), e);
            }
        }

        if (!KernelProbe.IsBpfPermitted(out string reason))
        {
            return new KernelBenchResult(program, options.Repeat, $"bpf() is not permitted here: {reason}", []);
        }

        KernelObject kernel;
        using var pin = CpuTopology.PinCurrentThread(options.Cpu);
        try
        {
            var spec = programs.First(p => p.Name == program);
            kernel = KernelObject.Load(maps, programs, btf, new KernelLoadOptions
            {
                MapSizes = options.MapSizes,
                Cpu = options.Cpu,
                Programs = spec.AutoLoad ? null : [.. programs.Where(p => p.AutoLoad).Select(p => p.Name), program],
            });
        }
        catch (KernelBpfException e)
        {
            return new KernelBenchResult(program, options.Repeat, $"the kernel refused the object: {e.Message}", []);
        }
        catch (NotSupportedException e)
        {
            return new KernelBenchResult(program, options.Repeat, $"the kernel bridge cannot load it: {e.Message}", []);
        }

        using (kernel)
        {
            if (initial is not null)
            {
                try
                {
                    CrossCheckMaps.ApplyToKernel(initial, kernel);
                }
                catch (MapsJsonException e)
                {
                    return new KernelBenchResult(program, options.Repeat, $"the kernel refused the initial maps: {e.Message}", []);
                }
            }

            var fd = kernel.ProgramFd(program);
            var packets = new List<KernelBenchPacket>();
            int index = 0;
            foreach (var frame in frames)
            {
                packets.Add(RunFrame(fd, index++, frame, options));
            }

            return new KernelBenchResult(program, options.Repeat, null, packets);
        }
    }

    /// <summary>One BPF_PROG_TEST_RUN of <paramref name="program"/> on <paramref name="frame"/> with
    /// <paramref name="repeat"/>, on the calling thread's CPU (pin it first for per-CPU maps).</summary>
    /// <param name="kernel">The loaded object.</param>
    /// <param name="program">The program's function name.</param>
    /// <param name="frame">The frame.</param>
    /// <param name="repeat">Runs (0 and 1 both run once, as in the kernel).</param>
    /// <param name="ingressIfindex">xdp_md.ingress_ifindex (1: loopback).</param>
    /// <param name="rxQueue">xdp_md.rx_queue_index.</param>
    /// <returns>The kernel's duration per run, r0 and the frame after the last run; or the errno when it refused.</returns>
    public static KernelBenchPacket TestRun(KernelObject kernel, string program, ReadOnlyMemory<byte> frame, uint repeat, uint ingressIfindex = 1, uint rxQueue = 0)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return RunFrame(kernel.ProgramFd(program), 0, frame, new KernelBenchOptions { Repeat = repeat, Ifindex = ingressIfindex, RxQueue = rxQueue });
    }

    private static KernelBenchPacket RunFrame(BpfFd fd, int index, ReadOnlyMemory<byte> frame, KernelBenchOptions options)
    {
        // ctx_in: an xdp_md over the whole frame (no metadata), the ingress device and queue.
        var ctx = new byte[XdpMd.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(XdpMd.DataEnd), (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(XdpMd.IngressIfindex), options.Ifindex);
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(XdpMd.RxQueueIndex), options.RxQueue);
        try
        {
            var r = BpfSyscall.ProgTestRun(fd, new TestRunRequest
            {
                Data = frame,
                DataOutCapacity = frame.Length + 8192,
                Context = ctx,
                ContextOutCapacity = XdpMd.Size,
                Repeat = options.Repeat,
            });
            int meta = r.ContextOut.Length >= 4 ? (int)BinaryPrimitives.ReadUInt32LittleEndian(r.ContextOut) : 0;
            return new KernelBenchPacket(index, r.Duration, r.Retval, r.DataOut, Math.Min(meta, r.DataOut.Length), null);
        }
        catch (KernelBpfException e)
        {
            return new KernelBenchPacket(index, 0, 0, [], 0, e.Message);
        }
    }
}

/// <summary>What <see cref="KernelBench"/> runs: the program, repeat, map sizes and contents, run controls.</summary>
public sealed record KernelBenchOptions
{
    /// <summary>The program's function name; null: the object's only XDP program BPF_PROG_TEST_RUN can run.</summary>
    public string? Program { get; init; }

    /// <summary>BPF_PROG_TEST_RUN's repeat: 1,000,000 (0 and 1 both run once).</summary>
    public uint Repeat { get; init; } = 1_000_000;

    /// <summary>max_entries for maps the object leaves at 0.</summary>
    public IReadOnlyDictionary<string, uint> MapSizes { get; init; } = new Dictionary<string, uint>();

    /// <summary>Initial map contents in <c>--maps-in</c>'s format, or null.</summary>
    public string? InitialMapsJson { get; init; }

    /// <summary>xdp_md.ingress_ifindex: 1 (loopback).</summary>
    public uint Ifindex { get; init; } = 1;

    /// <summary>xdp_md.rx_queue_index: 0.</summary>
    public uint RxQueue { get; init; }

    /// <summary>The CPU the runs are pinned to (per-CPU map slots): 0.</summary>
    public int Cpu { get; init; }
}

/// <summary>One frame through the kernel.</summary>
/// <param name="Index">The frame's index.</param>
/// <param name="Duration">The kernel's duration per run, in nanoseconds (0 on error).</param>
/// <param name="Retval">retval: r0 of the last run, low 32 bits.</param>
/// <param name="DataOut">data_out after the last run: metadata, then the frame.</param>
/// <param name="MetaLength">Bytes of metadata at the start of <paramref name="DataOut"/>.</param>
/// <param name="Error">Why the kernel refused the run, or null.</param>
public sealed record KernelBenchPacket(int Index, uint Duration, uint Retval, byte[] DataOut, int MetaLength, string? Error)
{
    /// <summary>The frame from data to data_end after the last run.</summary>
    public ReadOnlySpan<byte> Data => DataOut.AsSpan(MetaLength);
}

/// <summary>The kernel's measurement of a set of frames.</summary>
/// <param name="Program">The program that ran.</param>
/// <param name="Repeat">Runs per frame.</param>
/// <param name="Error">Why the kernel could not be asked at all (bpf() refused, the object refused), or null.</param>
/// <param name="Packets">Each frame's run, in order (empty with <paramref name="Error"/>).</param>
public sealed record KernelBenchResult(string Program, uint Repeat, string? Error, IReadOnlyList<KernelBenchPacket> Packets)
{
    /// <summary>The mean of the frames' durations (those the kernel ran), or null when it ran none.</summary>
    public double? NsPerRun
    {
        get
        {
            double sum = 0;
            int n = 0;
            foreach (var p in Packets)
            {
                if (p.Error is null)
                {
                    sum += p.Duration;
                    n++;
                }
            }

            return n == 0 ? null : sum / n;
        }
    }

    /// <summary>The first frame the kernel refused, or null.</summary>
    public KernelBenchPacket? FirstError => Packets.FirstOrDefault(p => p.Error is not null);
}
