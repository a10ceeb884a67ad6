namespace VethXdp.Vm.Maps;

/// <summary>The owner of an LRU: removes an element the LRU chose to evict (the kernel's del_from_htab).</summary>
internal interface ILruOwner
{
    /// <summary>Unlinks <paramref name="node"/> from the hash table; false when it is not linked.</summary>
    bool DeleteFromHtab(int node);
}

/// <summary>The LRU of BPF_MAP_TYPE_LRU_HASH and LRU_PERCPU_HASH, as kernel/bpf/bpf_lru_list.c (6.16+) runs it.</summary>
/// <remarks>
/// <para>Nodes are the hash map's element slots; lists are the kernel's doubly linked <c>list_head</c>s kept as index
/// arrays (heads after the nodes). The common LRU (the default) has one global list set (active, inactive, free)
/// and, per CPU, a local free list and a local pending list; a CPU takes free nodes from its local list, refilling
/// it with up to target_free = clamp(nr_elems / nr_cpus / 2, 1, 128) nodes from the global free list, or by
/// shrinking the inactive list (evicting from its tail nodes whose reference bit is clear, moving referenced ones to
/// the active list) and, failing that, by force-evicting the inactive (else active) list's tail; then it steals
/// from other CPUs' local lists. New elements wait on the CPU's pending list and join the inactive (or, when
/// referenced, the active) list at the next refill. Lookups from programs set the reference bit; updates replacing
/// an element set it on the new one. With BPF_F_NO_COMMON_LRU each CPU has its own list set holding
/// max_entries / nr_cpus nodes, shrunk 4 at a time.</para>
/// <para>The consequence, as in the kernel: eviction is approximately least-recently-used and can start before the
/// map is full (a refill may evict target_free elements at once), and every update takes a node first, so
/// replacing an existing key in a full map can evict another key.</para>
/// </remarks>
internal sealed class BpfLru
{
    // enum bpf_lru_list_type
    internal const byte Active = 0, Inactive = 1, Free = 2, LocalFree = 3, LocalPending = 4;

    private const int LocalFreeTarget = 128;   // LOCAL_FREE_TARGET, also LOCAL_NR_SCANS
    private const int PercpuFreeTarget = 4;    // PERCPU_FREE_TARGET, also PERCPU_NR_SCANS

    private readonly int _n;
    private readonly int[] _prev;
    private readonly int[] _next;
    private readonly byte[] _type;
    private readonly bool[] _ref;
    private readonly int[] _cpu;
    private readonly bool _percpu;
    private readonly int _cpus;
    private readonly int _nrScans;
    private readonly int _targetFree;
    private readonly int[] _countActive;
    private readonly int[] _countInactive;
    private readonly int[] _nextInactiveRotation;
    private readonly int[] _nextSteal;
    private readonly ILruOwner _owner;

    /// <summary>An LRU over <paramref name="nodes"/> nodes, all free (bpf_lru_init + bpf_lru_populate).</summary>
    public BpfLru(int nodes, int cpus, bool percpu, ILruOwner owner)
    {
        _n = nodes;
        _cpus = cpus;
        _percpu = percpu;
        _owner = owner;
        int lists = percpu ? cpus : 1;
        int heads = percpu ? 3 * cpus : 3 + (2 * cpus);
        _prev = new int[nodes + heads];
        _next = new int[nodes + heads];
        for (int h = nodes; h < nodes + heads; h++)
        {
            _prev[h] = _next[h] = h;
        }

        _type = new byte[nodes];
        _ref = new bool[nodes];
        _cpu = new int[nodes];
        _countActive = new int[lists];
        _countInactive = new int[lists];
        _nextInactiveRotation = new int[lists];
        for (int l = 0; l < lists; l++)
        {
            _nextInactiveRotation[l] = Head(l, Inactive);
        }

        _nextSteal = new int[cpus];
        for (int c = 0; c < cpus; c++)
        {
            _nextSteal[c] = c;
        }

        _nrScans = percpu ? PercpuFreeTarget : LocalFreeTarget;
        if (percpu)
        {
            // bpf_percpu_lru_populate: consecutive runs of nodes / cpus nodes per CPU
            int perCpu = nodes / cpus;
            int i = 0;
            for (int c = 0; c < cpus && i < nodes; c++)
            {
                do
                {
                    _cpu[i] = c;
                    _type[i] = Free;
                    AddHead(i, Head(c, Free));
                    i++;
                }
                while (i < nodes && i % perCpu != 0);
            }

            _targetFree = PercpuFreeTarget;
        }
        else
        {
            // bpf_common_lru_populate
            for (int i = 0; i < nodes; i++)
            {
                _type[i] = Free;
                AddHead(i, Head(0, Free));
            }

            _targetFree = Math.Clamp(nodes / cpus / 2, 1, LocalFreeTarget);
        }
    }

    /// <summary>The number of nodes a common LRU moves to a CPU's local free list at once (lru->target_free).</summary>
    public int TargetFree => _targetFree;

    /// <summary>bpf_lru_node_set_ref.</summary>
    public void SetRef(int node) => _ref[node] = true;

    /// <summary>The node's reference bit.</summary>
    public bool IsRef(int node) => _ref[node];

    /// <summary>The list a node is on (<see cref="Active"/>, ...).</summary>
    public byte TypeOf(int node) => _type[node];

    /// <summary>bpf_lru_pop_free: a free node for CPU <paramref name="cpu"/>, evicting elements when needed; -1 when none.</summary>
    public int PopFree(int cpu) => _percpu ? PercpuPopFree(cpu) : CommonPopFree(cpu);

    /// <summary>bpf_lru_push_free: <paramref name="node"/> (no longer in the hash table) becomes free.</summary>
    public void PushFree(int node)
    {
        if (_percpu)
        {
            NodeMove(_cpu[node], node, Free);
            return;
        }

        if (_type[node] is Free or LocalFree)
        {
            return;
        }

        if (_type[node] == LocalPending)
        {
            _type[node] = LocalFree;
            _ref[node] = false;
            Move(node, LocalFreeHead(_cpu[node]));
            return;
        }

        NodeMove(0, node, Free);
    }

    // ---- list_head primitives over indices ----

    private int Head(int list, byte type) => _n + (3 * list) + type;

    private int LocalFreeHead(int cpu) => _n + 3 + (2 * cpu);

    private int LocalPendingHead(int cpu) => _n + 4 + (2 * cpu);

    private bool Empty(int head) => _next[head] == head;

    private void Del(int x)
    {
        _next[_prev[x]] = _next[x];
        _prev[_next[x]] = _prev[x];
    }

    private void AddHead(int x, int head)
    {
        int first = _next[head];
        _next[x] = first;
        _prev[x] = head;
        _prev[first] = x;
        _next[head] = x;
    }

    private void Move(int x, int head)
    {
        Del(x);
        AddHead(x, head);
    }

    private static bool IsLocal(byte type) => type >= LocalFree;

    private void CountInc(int l, byte type)
    {
        if (type == Active)
        {
            _countActive[l]++;
        }
        else if (type == Inactive)
        {
            _countInactive[l]++;
        }
    }

    private void CountDec(int l, byte type)
    {
        if (type == Active)
        {
            _countActive[l]--;
        }
        else if (type == Inactive)
        {
            _countInactive[l]--;
        }
    }

    // ---- kernel: bpf_lru_list.c ----

    private void MoveToFree(int l, int node, int freeHead, byte freeType)
    {
        // __bpf_lru_node_move_to_free
        if (IsLocal(_type[node]))
        {
            return;
        }

        if (node == _nextInactiveRotation[l])
        {
            _nextInactiveRotation[l] = _prev[node];
        }

        CountDec(l, _type[node]);
        _type[node] = freeType;
        Move(node, freeHead);
    }

    private void MoveIn(int l, int node, byte type)
    {
        // __bpf_lru_node_move_in: from a local list into the LRU list
        CountInc(l, type);
        _type[node] = type;
        _ref[node] = false;
        Move(node, Head(l, type));
    }

    private void NodeMove(int l, int node, byte type)
    {
        // __bpf_lru_node_move: between or within the active and inactive lists (or to free)
        if (_type[node] != type)
        {
            CountDec(l, _type[node]);
            CountInc(l, type);
            _type[node] = type;
        }

        _ref[node] = false;
        if (node == _nextInactiveRotation[l])
        {
            _nextInactiveRotation[l] = _prev[node];
        }

        Move(node, Head(l, type));
    }

    private void RotateActive(int l)
    {
        // __bpf_lru_list_rotate_active: from the tail, referenced nodes back to the head, others to inactive
        int active = Head(l, Active);
        int first = _next[active];
        int i = 0;
        int node = _prev[active];
        int tmp = _prev[node];
        while (node != active)
        {
            NodeMove(l, node, _ref[node] ? Active : Inactive);
            if (++i == _nrScans || node == first)
            {
                break;
            }

            node = tmp;
            tmp = _prev[tmp];
        }
    }

    private void RotateInactive(int l)
    {
        // __bpf_lru_list_rotate_inactive: from next_inactive_rotation towards the head, referenced nodes to active
        int inactive = Head(l, Inactive);
        if (Empty(inactive))
        {
            return;
        }

        int last = _next[_nextInactiveRotation[l]];
        if (last == inactive)
        {
            last = _next[last];
        }

        int cur = _nextInactiveRotation[l];
        int next = inactive;
        int i = 0;
        while (i < _nrScans)
        {
            if (cur == inactive)
            {
                cur = _prev[cur];
                continue;
            }

            next = _prev[cur];
            if (_ref[cur])
            {
                NodeMove(l, cur, Active);
            }

            if (cur == last)
            {
                break;
            }

            cur = next;
            i++;
        }

        _nextInactiveRotation[l] = next;
    }

    private int ShrinkInactive(int l, int target, int freeHead, byte freeType)
    {
        // __bpf_lru_list_shrink_inactive: from the tail, evict unreferenced nodes
        int inactive = Head(l, Inactive);
        int shrunk = 0;
        int i = 0;
        int node = _prev[inactive];
        int tmp = _prev[node];
        while (node != inactive)
        {
            if (_ref[node])
            {
                NodeMove(l, node, Active);
            }
            else if (_owner.DeleteFromHtab(node))
            {
                MoveToFree(l, node, freeHead, freeType);
                if (++shrunk == target)
                {
                    break;
                }
            }

            if (++i == _nrScans)
            {
                break;
            }

            node = tmp;
            tmp = _prev[tmp];
        }

        return shrunk;
    }

    private int Shrink(int l, int target, int freeHead, byte freeType)
    {
        // __bpf_lru_list_shrink: else force-evict the inactive (or active) list's tail, ignoring reference bits
        int shrunk = ShrinkInactive(l, target, freeHead, freeType);
        if (shrunk > 0)
        {
            return shrunk;
        }

        int force = Empty(Head(l, Inactive)) ? Head(l, Active) : Head(l, Inactive);
        for (int node = _prev[force]; node != force; node = _prev[node])
        {
            if (_owner.DeleteFromHtab(node))
            {
                MoveToFree(l, node, freeHead, freeType);
                return 1;
            }
        }

        return 0;
    }

    private void Rotate(int l)
    {
        if (_countInactive[l] < _countActive[l])
        {
            RotateActive(l);
        }

        RotateInactive(l);
    }

    private void LocalListFlush(int cpu)
    {
        // __local_list_flush: pending nodes (oldest first) into the global active/inactive lists
        int pending = LocalPendingHead(cpu);
        int node = _prev[pending];
        int tmp = _prev[node];
        while (node != pending)
        {
            MoveIn(0, node, _ref[node] ? Active : Inactive);
            node = tmp;
            tmp = _prev[tmp];
        }
    }

    private void PopFreeToLocal(int cpu)
    {
        // bpf_lru_list_pop_free_to_local
        LocalListFlush(cpu);
        Rotate(0);
        int free = Head(0, Free);
        int local = LocalFreeHead(cpu);
        int moved = 0;
        int node = _next[free];
        int tmp = _next[node];
        while (node != free)
        {
            MoveToFree(0, node, local, LocalFree);
            if (++moved == _targetFree)
            {
                break;
            }

            node = tmp;
            tmp = _next[tmp];
        }

        if (moved < _targetFree)
        {
            Shrink(0, _targetFree - moved, local, LocalFree);
        }
    }

    private int LocalPopFree(int cpu)
    {
        int head = LocalFreeHead(cpu);
        if (Empty(head))
        {
            return -1;
        }

        int node = _next[head];
        Del(node);
        return node;
    }

    private int LocalPopPending(int cpu)
    {
        // __local_list_pop_pending: the oldest pending node, unreferenced first, then any
        int head = LocalPendingHead(cpu);
        for (int pass = 0; pass < 2; pass++)
        {
            bool force = pass == 1;
            for (int node = _prev[head]; node != head; node = _prev[node])
            {
                if ((!_ref[node] || force) && _owner.DeleteFromHtab(node))
                {
                    Del(node);
                    return node;
                }
            }
        }

        return -1;
    }

    private void AddPending(int cpu, int node)
    {
        _cpu[node] = cpu;
        _type[node] = LocalPending;
        _ref[node] = false;
        AddHead(node, LocalPendingHead(cpu));
    }

    private int CommonPopFree(int cpu)
    {
        // bpf_common_lru_pop_free
        int node = LocalPopFree(cpu);
        if (node < 0)
        {
            PopFreeToLocal(cpu);
            node = LocalPopFree(cpu);
        }

        if (node >= 0)
        {
            AddPending(cpu, node);
            return node;
        }

        // Steal from the local free/pending lists of this and the other CPUs, round robin from next_steal.
        int first = _nextSteal[cpu];
        int steal = first;
        do
        {
            node = LocalPopFree(steal);
            if (node < 0)
            {
                node = LocalPopPending(steal);
            }

            steal = (steal + 1) % _cpus;
        }
        while (node < 0 && steal != first);

        _nextSteal[cpu] = steal;
        if (node >= 0)
        {
            AddPending(cpu, node);
        }

        return node;
    }

    private int PercpuPopFree(int cpu)
    {
        // bpf_percpu_lru_pop_free
        Rotate(cpu);
        int free = Head(cpu, Free);
        if (Empty(free))
        {
            Shrink(cpu, PercpuFreeTarget, free, Free);
        }

        if (Empty(free))
        {
            return -1;
        }

        int node = _next[free];
        _ref[node] = false;
        NodeMove(cpu, node, Inactive);
        return node;
    }
}
