using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class QueueStackTests
{
    [Fact]
    public void Queue_KernelCases()
    {
        // recorded on 6.18 (max_entries 2): push full -7, push NOEXIST -22, push EXIST when full overwrites the oldest,
        // pops 2 3 then -2, peek of empty -2 (and zeroes the value), delete -22, get_next_key -22
        using var q = Create<QueueStackMap>(MapType.Queue, 0, 4, 2);
        Assert.Equal(0, q.Push(V32(1), 0));
        Assert.Equal(0, q.Push(V32(2), 0));
        Assert.Equal(-Errno.E2BIG, q.Push(V32(3), 0));
        Assert.Equal(-Errno.EINVAL, q.Push(V32(3), MapUpdateFlags.NoExist));
        Assert.Equal(-Errno.EINVAL, q.Push(V32(3), 4));
        Assert.Equal(0, q.Push(V32(3), MapUpdateFlags.Exist));
        Assert.Equal([2u, 3u], q.Entries().Select(e => U32(e.Value)));
        var v = new byte[4];
        Assert.Equal(0, q.Peek(v));
        Assert.Equal(2u, U32(v));
        Assert.Equal(0, q.UserLookupAndDelete([], v));
        Assert.Equal(2u, U32(v));
        Assert.Equal(0, q.Pop(v));
        Assert.Equal(3u, U32(v));
        v = V32(77);
        Assert.Equal(-Errno.ENOENT, q.Pop(v));
        Assert.Equal(0u, U32(v));
        Assert.Equal(-Errno.ENOENT, q.UserLookup([], v));
        Assert.Equal(0UL, q.Lookup([], 0));
        Assert.Equal(-Errno.EINVAL, q.UserDelete([]));
        Assert.Equal(-Errno.EINVAL, q.GetNextKey([], v));
        Assert.Equal(-Errno.EINVAL, q.Update([], v, 0, 0));
        Assert.Equal(0, q.UserUpdate([], V32(5), 0));
        Assert.Equal(1, q.Count);
    }

    [Fact]
    public void Stack_ExistWhenFull_OverwritesBottom()
    {
        // recorded on 6.18: push 1, 2, then 3 with BPF_EXIST into a full stack of 2: pops 3 2
        using var s = Create<QueueStackMap>(MapType.Stack, 0, 4, 2);
        s.Push(V32(1), 0);
        s.Push(V32(2), 0);
        Assert.Equal(0, s.Push(V32(3), MapUpdateFlags.Exist));
        var v = new byte[4];
        Assert.Equal(0, s.Pop(v));
        Assert.Equal(3u, U32(v));
        Assert.Equal(0, s.Pop(v));
        Assert.Equal(2u, U32(v));
        Assert.Equal(-Errno.ENOENT, s.Pop(v));
    }

    [Property(MaxTest = 300)]
    public Property RandomOps_QueueMatchesQueueModel() => Model(MapType.Queue);

    [Property(MaxTest = 300)]
    public Property RandomOps_StackMatchesStackModel() => Model(MapType.Stack);

    private static Property Model(MapType type) =>
        Prop.ForAll(
            Gen.Choose(0, 5).ArrayOf().ToArbitrary(),
            ops =>
            {
                const int max = 4;
                using var m = Create<QueueStackMap>(type, 0, 4, max);
                var list = new List<uint>(); // oldest first
                uint next = 1;
                var v = new byte[4];
                foreach (int op in ops)
                {
                    if (op <= 2)
                    {
                        ulong flags = op == 2 ? MapUpdateFlags.Exist : MapUpdateFlags.Any;
                        long expected = list.Count == max && flags == 0 ? -Errno.E2BIG : 0;
                        if (m.Push(V32(next), flags) != expected)
                        {
                            return false.Label($"push {next}");
                        }

                        if (expected == 0)
                        {
                            if (list.Count == max)
                            {
                                list.RemoveAt(0);
                            }

                            list.Add(next);
                        }

                        next++;
                    }
                    else
                    {
                        bool pop = op != 5;
                        long rc = pop ? m.Pop(v) : m.Peek(v);
                        if (list.Count == 0)
                        {
                            if (rc != -Errno.ENOENT)
                            {
                                return false.Label("empty");
                            }

                            continue;
                        }

                        int i = type == MapType.Queue ? 0 : list.Count - 1;
                        if (rc != 0 || U32(v) != list[i])
                        {
                            return false.Label($"got {U32(v)}, expected {list[i]}");
                        }

                        if (pop)
                        {
                            list.RemoveAt(i);
                        }
                    }
                }

                var order = type == MapType.Queue ? list : Enumerable.Reverse(list).ToList();
                return m.Entries().Select(e => U32(e.Value)).SequenceEqual(order).Label("entries");
            });
}
