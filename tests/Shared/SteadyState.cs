namespace VethXdp.Tests.Shared;

/// <summary>What a hot path allocates once it has settled: bytes allocated on this thread by a window of runs.</summary>
internal static class SteadyState
{
    /// <summary>Runs <paramref name="run"/> <paramref name="warm"/> times, then measures up to <paramref name="attempts"/>
    /// windows of <paramref name="count"/> runs and returns the fewest bytes one window allocated (0 as soon as a window
    /// allocates nothing).</summary>
    /// <remarks>An allocation per run shows in every window. What shows in one window only is the runtime's own
    /// one-off work on this thread while it tiers the code up (call counting, on-stack replacement), which a loaded
    /// machine can delay past any fixed warm-up: seen as 2,832 bytes once in CI.</remarks>
    public static long AllocatedBytes(Action run, int warm = 500, int count = 2000, int attempts = 3)
    {
        for (int i = 0; i < warm; i++)
        {
            run();
        }

        long least = long.MaxValue;
        for (int a = 0; a < attempts && least != 0; a++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < count; i++)
            {
                run();
            }

            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
