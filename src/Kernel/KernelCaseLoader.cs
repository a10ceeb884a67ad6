using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Kernel;

/// <summary>Loads a raw instruction list with its maps into the running kernel and reports the verifier's
/// decision as a result (not an exception): the way verifier test cases are confirmed against Linux.</summary>
/// <remarks>
/// The maps are created in order and passed as fd_array, so the program's 64-bit map loads use src
/// BPF_PSEUDO_MAP_IDX (or _IDX_VALUE) with the map's position. The program is loaded once, at the requested log
/// level (a refusal at level 0 is not retried: the caller asked for no log).
/// </remarks>
public static class KernelCaseLoader
{
    /// <summary>Creates <paramref name="maps"/> and loads <paramref name="slots"/> as a <paramref name="type"/> program.</summary>
    /// <param name="type">prog_type.</param>
    /// <param name="slots">The instruction slots.</param>
    /// <param name="maps">The maps, in fd_array order.</param>
    /// <param name="options">Log level, attach type, flags, license; null for the defaults.</param>
    /// <exception cref="KernelBpfException">A map could not be created (a refused program is a result).</exception>
    public static KernelCaseResult Load(
        ProgramType type, IReadOnlyList<Instruction> slots, IReadOnlyList<MapCreateRequest> maps, KernelCaseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(slots);
        ArgumentNullException.ThrowIfNull(maps);
        options ??= new KernelCaseOptions();
        var fds = new List<BpfFd>(maps.Count);
        try
        {
            foreach (var m in maps)
            {
                fds.Add(BpfSyscall.MapCreate(m));
            }

            var request = new ProgLoadRequest
            {
                Type = type,
                Instructions = slots,
                License = options.License,
                LogLevel = Math.Max(options.LogLevel, 1),
                LogSize = options.LogSize,
                Name = options.Name,
                ExpectedAttachType = options.ExpectedAttachType,
                Flags = options.ProgFlags,
                FdArray = fds.Count > 0 ? fds : null,
            };
            try
            {
                var r = BpfSyscall.ProgLoad(request);
                return new KernelCaseResult(true, 0, r.Log, r.Fd, fds);
            }
            catch (KernelBpfException e) when (e.Command == BpfCommand.ProgLoad)
            {
                return new KernelCaseResult(false, e.Errno, e.VerifierLog ?? string.Empty, null, fds);
            }
        }
        catch
        {
            foreach (var fd in fds)
            {
                fd.Dispose();
            }

            throw;
        }
    }
}

/// <summary>How <see cref="KernelCaseLoader"/> loads a program.</summary>
public sealed record KernelCaseOptions
{
    /// <summary>log_level (1 or more: the loader always asks for a log).</summary>
    public uint LogLevel { get; init; } = 1;

    /// <summary>log_size in bytes (grown to the kernel's log_true_size when it did not fit).</summary>
    public int LogSize { get; init; } = 1 << 20;

    /// <summary>expected_attach_type.</summary>
    public uint ExpectedAttachType { get; init; }

    /// <summary>prog_flags (BPF_F_XDP_HAS_FRAGS, BPF_F_STRICT_ALIGNMENT, ...).</summary>
    public uint ProgFlags { get; init; }

    /// <summary>license.</summary>
    public string License { get; init; } = "GPL";

    /// <summary>prog_name.</summary>
    public string Name { get; init; } = "verifier_case";
}

/// <summary>The kernel's decision on one program: accepted (with its fd) or refused (with the errno), and the log.</summary>
public sealed class KernelCaseResult : IDisposable
{
    private readonly List<BpfFd> _maps;

    internal KernelCaseResult(bool accepted, int errno, string log, BpfFd? program, List<BpfFd> maps)
    {
        Accepted = accepted;
        Errno = errno;
        Log = log;
        Program = program;
        _maps = maps;
    }

    /// <summary>True when BPF_PROG_LOAD succeeded.</summary>
    public bool Accepted { get; }

    /// <summary>The positive errno of a refusal, 0 when accepted.</summary>
    public int Errno { get; }

    /// <summary>The errno's name ("EACCES"), or null when accepted.</summary>
    public string? ErrnoName => Accepted ? null : ErrnoNames.Name(Errno);

    /// <summary>The verifier log at the requested level.</summary>
    public string Log { get; }

    /// <summary>The loaded program, or null when refused.</summary>
    public BpfFd? Program { get; }

    /// <summary>The maps, in fd_array order.</summary>
    public IReadOnlyList<BpfFd> Maps => _maps;

    /// <summary>Runs the accepted program once with BPF_PROG_TEST_RUN over <paramref name="packet"/>.</summary>
    /// <param name="packet">The frame (at least 14 bytes for packet programs).</param>
    /// <exception cref="InvalidOperationException">The program was refused.</exception>
    /// <exception cref="KernelBpfException">The kernel refused the run.</exception>
    public TestRunResult TestRun(ReadOnlyMemory<byte> packet) =>
        BpfSyscall.ProgTestRun(
            Program ?? throw new InvalidOperationException("the program was refused; there is nothing to run"),
            new TestRunRequest { Data = packet, DataOutCapacity = Math.Max(packet.Length + 512, 4096) });

    /// <inheritdoc/>
    public void Dispose()
    {
        Program?.Dispose();
        foreach (var fd in _maps)
        {
            fd.Dispose();
        }

        _maps.Clear();
    }
}
