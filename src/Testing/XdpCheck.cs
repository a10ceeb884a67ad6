using VethXdp.Testing.Model;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing;

/// <summary>A statement about what a program does with one frame. <see cref="XdpAssert"/> makes the common ones;
/// <see cref="That"/> wraps a predicate. A check may look at the maps before the run (<see cref="Before"/>), and its
/// <see cref="Check"/> says why it does not hold, or null.</summary>
/// <remarks>Checks run on one thread, frame after frame, and may keep state between frames (a counter's previous value,
/// the verdict first seen for a key); they should not allocate when they hold.</remarks>
public abstract class XdpCheck
{
    /// <summary>What the check states, e.g. "never XDP_ABORTED".</summary>
    public abstract string Description { get; }

    /// <summary>Called with the frame just before it runs (maps as they are before the program).</summary>
    public virtual void Before(Frame frame, ReadOnlySpan<byte> input, MapSet maps)
    {
    }

    /// <summary>Null when the check holds for <paramref name="c"/>; otherwise why not.</summary>
    public abstract string? Check(in XdpCase c);

    /// <summary>Both checks.</summary>
    public XdpCheck And(XdpCheck other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new Both(this, other);
    }

    /// <summary>A check from a predicate.</summary>
    public static XdpCheck That(string description, Func<XdpCase, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(predicate);
        return new Predicate(description, predicate);
    }

    /// <summary>The description.</summary>
    public override string ToString() => Description;

    private sealed class Predicate(string description, Func<XdpCase, bool> predicate) : XdpCheck
    {
        public override string Description => description;

        public override string? Check(in XdpCase c) => predicate(c) ? null : $"\"{description}\" is false (the program gave {c.Summary})";
    }

    private sealed class Both(XdpCheck first, XdpCheck second) : XdpCheck
    {
        public override string Description => $"{first.Description} and {second.Description}";

        public override void Before(Frame frame, ReadOnlySpan<byte> input, MapSet maps)
        {
            first.Before(frame, input, maps);
            second.Before(frame, input, maps);
        }

        public override string? Check(in XdpCase c) => first.Check(c) ?? second.Check(c);
    }
}
