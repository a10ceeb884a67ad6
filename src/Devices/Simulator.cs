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
    public SimResult Run(string scenario, int threads = 1, Action<long, long>? progress = null)
    {
        var source = _world.Source ?? throw new InvalidOperationException("the world has no traffic source");
        var groups = Groups();
        threads = Math.Clamp(threads, 1, groups.Count);
        var workers = new List<int>[threads];
        for (int t = 0; t < threads; t++)
        {
            workers[t] = [];
        }

        for (int g = 0; g < groups.Count; g++)
        {
            workers[g % threads].AddRange(groups[g]);
        }

        var cpus = workers.Select(w => w.Select(_world.Cpu).ToArray()).ToArray();
        long rounds = 0;
        var sw = Stopwatch.StartNew();
        if (threads == 1)
        {
            var mine = cpus[0];
            while (true)
            {
                bool busy = RunRound(mine, source, rounds);
                rounds++;
                if ((rounds & 0x3fff) == 0)
                {
                    progress?.Invoke(Generated(), source.Packets);
                }

                if (!busy)
                {
                    break;
                }
            }
        }
        else
        {
            int busyCount = 0;
            bool stop = false;
            using var barrier = new Barrier(threads, _ =>
            {
                stop = Volatile.Read(ref busyCount) == 0;
                Volatile.Write(ref busyCount, 0);
                rounds++;
            });
            var tasks = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                var mine = cpus[t];
                int index = t;
                tasks[t] = new Thread(() =>
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
                tasks[t].Start();
            }

            foreach (var t in tasks)
            {
                t.Join();
            }
        }

        sw.Stop();
        progress?.Invoke(Generated(), source.Packets);
        return SimResult.Collect(_world, scenario, sw.Elapsed, rounds);
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
            busy |= cpu.HasScheduledWork || source.HasRemaining(cpu);
        }

        return busy;
    }
}
