using VethXdp.Vm.Runtime;

namespace VethXdp.Testing.Model;

/// <summary>Helpers over <see cref="MacAddress"/> (the runtime's Ethernet address type).</summary>
public static class Macs
{
    /// <summary>00:00:00:00:00:00.</summary>
    public static MacAddress Zero => default;

    /// <summary>ff:ff:ff:ff:ff:ff.</summary>
    public static MacAddress Broadcast => new(0xffff_ffff_ffff);

    /// <summary>Reads 6 bytes in wire order.</summary>
    public static MacAddress Read(ReadOnlySpan<byte> source)
    {
        ulong v = 0;
        for (int i = 0; i < 6; i++)
        {
            v = (v << 8) | source[i];
        }

        return new MacAddress(v);
    }
}
