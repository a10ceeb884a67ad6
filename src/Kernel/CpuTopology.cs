using System.Globalization;
using System.Runtime.InteropServices;

namespace VethXdp.Kernel;

/// <summary>The machine's CPUs as the kernel counts them for per-CPU maps, and pinning the calling thread.</summary>
public static unsafe class CpuTopology
{
    private const int CpuSetBytes = 128;   // sizeof(cpu_set_t): 1024 CPUs

    private static readonly Lazy<int> s_possible = new(ReadPossibleCpus);

    /// <summary>Number of possible CPUs (num_possible_cpus(): the highest id in /sys/devices/system/cpu/possible, plus one).</summary>
    public static int PossibleCpus => s_possible.Value;

    /// <summary>Parses a kernel CPU list ("0-3", "0,2-5"): the highest id plus one.</summary>
    /// <param name="list">The list's text.</param>
    public static int CountFromCpuList(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        int max = -1;
        foreach (string part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-', StringComparison.Ordinal);
            string last = dash >= 0 ? part[(dash + 1)..] : part;
            max = Math.Max(max, int.Parse(last, NumberStyles.None, CultureInfo.InvariantCulture));
        }

        return max + 1;
    }

    /// <summary>Pins the calling thread to <paramref name="cpu"/> until the returned scope is disposed, which
    /// restores the previous affinity (so per-CPU maps see the runs on that CPU).</summary>
    /// <param name="cpu">The CPU id.</param>
    /// <exception cref="InvalidOperationException">sched_setaffinity failed (EINVAL for a CPU this thread may not use).</exception>
    public static AffinityScope PinCurrentThread(int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, CpuSetBytes * 8);
        var previous = new byte[CpuSetBytes];
        fixed (byte* p = previous)
        {
            if (LibC.SchedGetAffinity(0, CpuSetBytes, p) != 0)
            {
                throw new InvalidOperationException($"sched_getaffinity: {ErrnoNames.Name(Marshal.GetLastPInvokeError())}");
            }
        }

        byte* mask = stackalloc byte[CpuSetBytes];
        new Span<byte>(mask, CpuSetBytes).Clear();
        mask[cpu / 8] = (byte)(1 << (cpu % 8));
        if (LibC.SchedSetAffinity(0, CpuSetBytes, mask) != 0)
        {
            throw new InvalidOperationException($"sched_setaffinity(cpu {cpu}): {ErrnoNames.Name(Marshal.GetLastPInvokeError())}");
        }

        return new AffinityScope(previous);
    }

    /// <summary>The CPU the calling thread runs on now (sched_getcpu), or -1.</summary>
    public static int CurrentCpu
    {
        get
        {
            try
            {
                return LibC.SchedGetCpu();
            }
            catch (EntryPointNotFoundException)
            {
                return -1;
            }
        }
    }

    private static int ReadPossibleCpus()
    {
        const string path = "/sys/devices/system/cpu/possible";
        try
        {
            return File.Exists(path) ? CountFromCpuList(File.ReadAllText(path)) : Environment.ProcessorCount;
        }
        catch (IOException)
        {
            return Environment.ProcessorCount;
        }
        catch (FormatException)
        {
            return Environment.ProcessorCount;
        }
    }

    /// <summary>Restores the thread's CPU affinity when disposed (on the same thread that pinned it).</summary>
    public readonly struct AffinityScope : IDisposable
    {
        private readonly byte[]? _previous;

        internal AffinityScope(byte[] previous) => _previous = previous;

        /// <summary>Restores the previous affinity.</summary>
        public void Dispose()
        {
            if (_previous is null)
            {
                return;
            }

            fixed (byte* p = _previous)
            {
                _ = LibC.SchedSetAffinity(0, CpuSetBytes, p);
            }
        }
    }
}
