using System.Diagnostics;
using VethXdp.Devices.Napi;
using VethXdp.Devices.Veth;

namespace VethXdp.Devices;

/// <summary>Runs a <see cref="SimWorld"/>: simulated CPUs in lock-step rounds (in each round every CPU receives its
/// queues' next frames and runs one net_rx_action; a barrier separates rounds), on one thread or spread over worker
/// threads. CPUs that share a ring (a veth with fewer queues than CPUs) run on the same worker, in CPU order, so the
/// counters are the same whatever the number of threads.</summary>
public sealed class Simulator
{
    /// <summary>The virtual time one round takes (the clock bpf_ktime_get_ns reads moves by this each round).</summary>
    public const ulong RoundNs = 10_000;

    private readonly SimWorld _world;

    /// <summary>A simulator of <paramref name="world"/> (sealed, with a source).</summary>
    public Simulator(SimWorld world)
    {
        ArgumentNullException.ThrowIfNull(world);
        _world = world;
    }

    /// <summary>The CPU groups that must run on one worker (CPUs linked by a shared ring), in CPU order.</summary>
    public IReadOnlyList<int[]> Groups()
    {
        int n = _world.CpuCount;
        var parent = new int[n];
        for (int i = 0; i < n; i++)
        {
            parent[i] = i;
        }

        int Find(int x)
        {
            while (parent[x] != x)
            {
                x = parent[x] = parent[parent[x]];
            }

            return x;
        }

        foreach (var d in _world.Devices)
        {
            if (d is VethDevice v)
            {
                // CPU c produces into queue c % n of the device (veth_select_rxq), which its owner CPU polls.
                for (int c = 0; c < n; c++)
                {
                    int owner = v.Rq[c % v.Rq.Length].OwnerCpu;
                    parent[Find(c)] = Find(owner);
                }
            }
        }

        var groups = new SortedDictionary<int, List<int>>();
        for (int c = 0; c < n; c++)
        {
            int first = -1;
            foreach (var kv in groups)
            {
                if (Find(kv.Value[0]) == Find(c))
                {
                    first = kv.Key;
                    break;
                }
            }

            if (first < 0)
            {
                groups[c] = [c];
            }
            else
            {
                groups[first].Add(c);
            }
        }

        return [.. groups.Values.Select(g => g.ToArray())];
    }

    /// <summary>Runs until every frame has ended (or sits in a ring no NAPI will poll). <paramref name="progress"/>
    /// gets (frames generated so far, frames in the run) now and then, from one worker.</summary>
    /// <remarks>
    /// <para>With several workers, each takes whole CPU groups (<see cref="Groups"/>), balanced by the frames their
    /// NIC queues will receive. Groups share no ring, no NAPI and no frame partition, so when no map is shared
    /// writable either (<see cref="SimWorld.SharesWritableMaps"/>), a group's rounds depend on nothing outside it:
    /// each worker then runs its rounds without waiting for the others, and every CPU still sees the same round
    /// numbers (and clock) as in a single-threaded run. Otherwise the workers meet at a barrier after every round.
    /// Either way the counters equal the single-threaded run's.</para>
    /// </remarks>
    public SimResult Run(string scenario, int threads = 1, Action<long, long>? progress = null)
    {
        var source = _world.Source ?? throw new InvalidOperationException("the world has no traffic source");
        var cpus = Assign(Groups(), threads, source);
        threads = cpus.Length;
        var sw = Stopwatch.StartNew();
        long rounds;
        if (threads == 1)
        {
            rounds = RunFree(cpus[0], source, progress);
        }
        else if (!_world.SharesWritableMaps)
        {
            var done = new long[threads];
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                var mine = cpus[t];
                int index = t;
                workers[t] = new Thread(() => done[index] = RunFree(mine, source, index == 0 ? progress : null))
                {
                    IsBackground = true,
                    Name = "vethxdp-sim-" + t,
                };
                workers[t].Start();
            }

            foreach (var w in workers)
            {
                w.Join();
            }

            rounds = done.Max();
        }
        else
        {
            rounds = RunLockStep(cpus, source, progress);
        }

        sw.Stop();
        progress?.Invoke(Generated(), source.Packets);
        return SimResult.Collect(_world, scenario, sw.Elapsed, rounds);
    }

    // Spreads the groups over at most `threads` workers: largest load first, each to the least loaded worker (the load
    // of a group is the frames its CPUs' NIC queues receive, plus one so that empty groups spread too).
    private NapiContext[][] Assign(IReadOnlyList<int[]> groups, int threads, Traffic.PacketSource source)
    {
        // xsk: apps touch every ring; a bridge's learnt table is shared by every CPU (as the kernel's fdb)
        threads = _world.Xsk is { HasApps: true } || HasBridge() ? 1 : Math.Clamp(threads, 1, groups.Count);
        var load = new long[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            load[g] = 1;
            foreach (int c in groups[g])
            {
                load[g] += source.FramesFor(_world.Cpu(c));
            }
        }

        var order = Enumerable.Range(0, groups.Count).OrderByDescending(g => load[g]).ThenBy(g => g).ToArray();
        var workers = new List<int>[threads];
        var total = new long[threads];
        for (int t = 0; t < threads; t++)
        {
            workers[t] = [];
        }

        foreach (int g in order)
        {
            int best = 0;
            for (int t = 1; t < threads; t++)
            {
                if (total[t] < total[best])
                {
                    best = t;
                }
            }

            workers[best].AddRange(groups[g]);
            total[best] += load[g];
        }

        return [.. workers.Where(w => w.Count > 0).Select(w => w.Order().Select(_world.Cpu).ToArray())];
    }

    private bool HasBridge()
    {
        foreach (var d in _world.Devices)
        {
            if (d is Bridge.BridgeDevice)
            {
                return true;
            }
        }

        return false;
    }

    // Rounds of these CPUs until none of them has work left; returns the rounds run.
    private long RunFree(NapiContext[] mine, Traffic.PacketSource source, Action<long, long>? progress)
    {
        long round = 0;
        while (true)
        {
            bool busy = RunRound(mine, source, round);
            round++;
            if ((round & 0x3fff) == 0)
            {
                progress?.Invoke(Generated(), source.Packets);
            }

            if (!busy)
            {
                return round;
            }
        }
    }

    private long RunLockStep(NapiContext[][] cpus, Traffic.PacketSource source, Action<long, long>? progress)
    {
        int threads = cpus.Length;
        int busyCount = 0;
        bool stop = false;
        long rounds = 0;
        using var barrier = new Barrier(threads, _ =>
        {
            stop = Volatile.Read(ref busyCount) == 0;
            Volatile.Write(ref busyCount, 0);
            rounds++;
        });
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            var mine = cpus[t];
            int index = t;
            workers[t] = new Thread(() =>
            {
                long round = 0;
                while (true)
                {
                    if (RunRound(mine, source, round))
                    {
                        Interlocked.Increment(ref busyCount);
                    }

                    round++;
                    if (index == 0 && (round & 0x3fff) == 0)
                    {
                        progress?.Invoke(Generated(), source.Packets);
                    }

                    barrier.SignalAndWait();
                    if (Volatile.Read(ref stop))
                    {
                        break;
                    }
                }
            })
            { IsBackground = true, Name = "vethxdp-sim-" + t };
            workers[t].Start();
        }

        foreach (var t in workers)
        {
            t.Join();
        }

        return rounds;
    }

    private long Generated()
    {
        long n = 0;
        for (int c = 0; c < _world.CpuCount; c++)
        {
            n += _world.Cpu(c).Generated;
        }

        return n;
    }

    private static bool RunRound(NapiContext[] mine, Traffic.PacketSource source, long round)
    {
        bool busy = false;
        foreach (var cpu in mine)
        {
            cpu.ClockNs = (ulong)round * RoundNs;
            source.Deliver(cpu);
            cpu.NetRxAction();
            busy |= cpu.World.Xsk is { } xsk && xsk.RunApps(cpu); // xsk: user space runs after net_rx_action
            busy |= cpu.HasScheduledWork || source.HasRemaining(cpu);
        }

        return busy;
    }
}
