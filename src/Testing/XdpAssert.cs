using System.Buffers.Binary;
using System.Globalization;
using VethXdp.Testing.Model;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing;

/// <summary>Checks for the common statements about XDP programs. Frames BPF_PROG_TEST_RUN refuses (shorter than 14
/// bytes) never count against a check; a fault (an access outside the program's memory, a bad helper argument) counts
/// against every check but <see cref="VerdictDeterminedBy"/> and the ones that read <see cref="XdpCase.Error"/>
/// themselves.</summary>
public static class XdpAssert
{
    /// <summary>The program never returns XDP_ABORTED (nor a value that is not a verdict, which the kernel treats as
    /// XDP_ABORTED) and never faults.</summary>
    public static XdpCheck NeverAborted() => new Simple("never XDP_ABORTED", static c =>
        c.Refused ? null
        : c.Faulted ? "the program faulted: " + c.Error
        : c.Action == XdpAction.Aborted ? "the program returned XDP_ABORTED"
        : c.Action == XdpAction.Unknown ? string.Create(CultureInfo.InvariantCulture, $"the program returned {c.Retval}, which is not a verdict (the kernel aborts it)")
        : null);

    /// <summary>The program never faults: run checked, it never reads or writes outside the memory it owns (the packet
    /// region ends at data_end), never passes a helper a bad argument, never runs out of instructions.</summary>
    public static XdpCheck NeverFaults() => new Simple("never faults", static c =>
        c.Faulted ? "the program faulted: " + c.Error : null);

    /// <summary>The verdict is always <paramref name="action"/>.</summary>
    public static XdpCheck VerdictIs(XdpAction action) => Verdict(_ => action, $"always {XdpActions.KernelName(action)}");

    /// <summary>The verdict is the one <paramref name="expected"/> gives (an oracle over the frame's model or bytes).</summary>
    public static XdpCheck Verdict(Func<XdpCase, XdpAction> expected, string description = "the expected verdict")
    {
        ArgumentNullException.ThrowIfNull(expected);
        return new Simple(description, c =>
        {
            if (c.Refused)
            {
                return null;
            }

            var want = expected(c);
            return c.Faulted || c.Action != want ? $"expected {XdpActions.KernelName(want)}, the program gave {c.Summary}" : null;
        });
    }

    /// <summary>The verdict is a function of a header field: two frames with the same value of <paramref name="field"/>
    /// get the same verdict. The first verdict seen for each value is remembered for the rest of the property.</summary>
    /// <param name="name">The field's name, for messages ("TCP destination port").</param>
    /// <param name="field">The field's value in a frame (use a sentinel, e.g. -1, when the frame has no such field).</param>
    public static XdpCheck VerdictDeterminedBy<TKey>(string name, Func<XdpCase, TKey> field)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(field);
        return new DeterminedBy<TKey>(name, field);
    }

    /// <summary>The output frame is the input frame, byte for byte, except in <paramref name="fields"/> (which the
    /// program may change); the length does not change. Frames the program faults on fail.</summary>
    public static XdpCheck OutputEqualsInputExcept(params FrameField[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return new SameExcept(fields);
    }

    /// <summary>The output frame is the input frame with <paramref name="expected"/> applied (e.g.
    /// <see cref="FrameTransforms.SwapEthernetAddresses"/>).</summary>
    public static XdpCheck OutputIs(FrameTransform expected, string description)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(description);
        return new Transformed(expected, description);
    }

    /// <summary>The program redirects to the ifindex <paramref name="expected"/> gives, or does not redirect when it gives
    /// null.</summary>
    public static XdpCheck RedirectsTo(Func<XdpCase, uint?> expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return new Simple("the expected redirect target", c =>
        {
            if (c.Refused)
            {
                return null;
            }

            uint? want = expected(c);
            uint? got = c.Action == XdpAction.Redirect ? c.Redirect?.Ifindex : null;
            return want == got && !c.Faulted ? null
                : $"expected {(want is null ? "no redirect" : string.Create(CultureInfo.InvariantCulture, $"a redirect to ifindex {want}"))}, the program gave {c.Summary}";
        });
    }

    /// <summary>The 64-bit counter at <paramref name="valueOffset"/> of <paramref name="map"/>'s value at key
    /// <paramref name="key"/> (a u32) grows by one per frame (summed over CPUs for per-CPU maps).</summary>
    public static XdpCheck MapCounterGrowsByOne(string map, uint key = 0, int valueOffset = 0)
    {
        var k = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(k, key);
        return MapCounterGrowsBy(map, k, static _ => 1, valueOffset);
    }

    /// <summary>The 64-bit counter at <paramref name="valueOffset"/> of <paramref name="map"/>'s value at
    /// <paramref name="key"/> grows by <paramref name="delta"/> for each frame (a missing entry counts as 0; per-CPU
    /// values are summed over CPUs).</summary>
    public static XdpCheck MapCounterGrowsBy(string map, ReadOnlyMemory<byte> key, Func<XdpCase, ulong> delta, int valueOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentOutOfRangeException.ThrowIfNegative(valueOffset);
        return new Counter(map, key, delta, valueOffset);
    }

    private sealed class Simple(string description, Func<XdpCase, string?> check) : XdpCheck
    {
        public override string Description => description;

        public override string? Check(in XdpCase c) => check(c);
    }

    private sealed class DeterminedBy<TKey>(string name, Func<XdpCase, TKey> field) : XdpCheck
        where TKey : notnull
    {
        private readonly Dictionary<TKey, (XdpAction Action, string Frame)> _seen = [];

        public override string Description => $"the verdict is a function of the {name}";

        public override string? Check(in XdpCase c)
        {
            if (c.Refused || c.Faulted)
            {
                return null;
            }

            var key = field(c);
            if (!_seen.TryGetValue(key, out var first))
            {
                _seen[key] = (c.Action, Convert.ToHexString(c.Input.Span));
                return null;
            }

            return first.Action == c.Action ? null
                : $"{name} {key}: this frame got {c.Summary}, an earlier one with the same {name} got {XdpActions.KernelName(first.Action)} (that frame: {first.Frame})";
        }
    }

    private sealed class SameExcept(FrameField[] fields) : XdpCheck
    {
        public override string Description => fields.Length == 0 ? "output equals input" : "output equals input except " + Allowed;

        private string Allowed => fields.Length == 0 ? "none" : string.Join(", ", fields.Select(f => f.Name));

        public override string? Check(in XdpCase c)
        {
            if (c.Refused)
            {
                return null;
            }

            if (c.Faulted)
            {
                return "the program faulted: " + c.Error;
            }

            var input = c.Input.Span;
            var output = c.Output;
            if (input.Length != output.Length)
            {
                return string.Create(CultureInfo.InvariantCulture, $"the output has {output.Length} bytes, the input {input.Length}");
            }

            Span<(int Offset, int Length)> skip = stackalloc (int, int)[Math.Min(fields.Length, 32)];
            for (int i = 0; i < skip.Length; i++)
            {
                skip[i] = fields[i].TryLocate(c.Frame, out int o, out int l) ? (o, l) : (0, 0);
            }

            for (int i = 0; i < input.Length; i++)
            {
                if (input[i] != output[i] && !Covered(skip, i))
                {
                    return string.Create(CultureInfo.InvariantCulture, $"byte {i} changed from 0x{input[i]:x2} to 0x{output[i]:x2}, outside the fields the program may change ({Allowed})");
                }
            }

            return null;
        }

        private static bool Covered(ReadOnlySpan<(int Offset, int Length)> ranges, int i)
        {
            foreach (var (o, l) in ranges)
            {
                if (i >= o && i < o + l)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private sealed class Transformed(FrameTransform transform, string description) : XdpCheck
    {
        private byte[] _expected = new byte[2048];

        public override string Description => description;

        public override string? Check(in XdpCase c)
        {
            if (c.Refused)
            {
                return null;
            }

            if (c.Faulted)
            {
                return "the program faulted: " + c.Error;
            }

            var input = c.Input.Span;
            if (_expected.Length < input.Length)
            {
                _expected = new byte[input.Length * 2];
            }

            var expected = _expected.AsSpan(0, input.Length);
            input.CopyTo(expected);
            transform(expected);
            var output = c.Output;
            if (output.Length != expected.Length)
            {
                return string.Create(CultureInfo.InvariantCulture, $"the output has {output.Length} bytes, expected {expected.Length}");
            }

            int diff = expected.CommonPrefixLength(output);
            return diff == expected.Length ? null
                : string.Create(CultureInfo.InvariantCulture, $"byte {diff} is 0x{output[diff]:x2}, expected 0x{expected[diff]:x2}");
        }
    }

    private sealed class Counter(string mapName, ReadOnlyMemory<byte> key, Func<XdpCase, ulong> delta, int valueOffset) : XdpCheck
    {
        private byte[] _value = [];
        private ulong _before;

        public override string Description => $"{mapName}[{Convert.ToHexString(key.Span).ToLowerInvariant()}] grows per frame";

        public override void Before(Frame frame, ReadOnlySpan<byte> input, MapSet maps) => _before = Read(maps);

        public override string? Check(in XdpCase c)
        {
            if (c.Refused)
            {
                return null;
            }

            if (c.Faulted)
            {
                return "the program faulted: " + c.Error;
            }

            ulong after = Read(c.Maps);
            ulong want = _before + delta(c);
            return after == want ? null
                : string.Create(CultureInfo.InvariantCulture, $"{mapName} went from {_before} to {after}, expected {want}");
        }

        private ulong Read(MapSet maps)
        {
            var map = maps[mapName];
            if (_value.Length != map.UserValueSize)
            {
                _value = new byte[map.UserValueSize];
            }

            if (map.UserLookup(key.Span, _value) != 0)
            {
                return 0;
            }

            if (!MapTypeNames.IsPerCpu(map.Type))
            {
                return BinaryPrimitives.ReadUInt64LittleEndian(_value.AsSpan(valueOffset));
            }

            int stride = (int)((map.Spec.ValueSize + 7) & ~7u);
            ulong sum = 0;
            for (int cpu = 0; cpu < map.PossibleCpus; cpu++)
            {
                sum += BinaryPrimitives.ReadUInt64LittleEndian(_value.AsSpan((cpu * stride) + valueOffset));
            }

            return sum;
        }
    }
}
