using VethXdp.Vm.Pcap;

namespace VethXdp.Devices;

/// <summary>Writes the frames devices receive and transmit into one pcapng file per device (<c>--capture DIR</c>).</summary>
/// <remarks>Capturing allocates and takes a lock per frame: it is for looking, not for measuring.</remarks>
public sealed class SimCapture : IDisposable
{
    private readonly string _directory;
    private readonly Dictionary<string, (PcapNgWriter Writer, int In)> _writers = [];
    private readonly Lock _lock = new();

    /// <summary>Captures into <paramref name="directory"/> (created when missing).</summary>
    public SimCapture(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
    }

    /// <summary>Files written so far.</summary>
    public IReadOnlyCollection<string> Files
    {
        get
        {
            lock (_lock)
            {
                return [.. _writers.Keys.Select(k => Path.Combine(_directory, k + ".pcapng"))];
            }
        }
    }

    /// <summary>Records one frame seen by <paramref name="dev"/>.</summary>
    public void Write(NetDevice dev, ReadOnlySpan<byte> frame, ulong clockNs, bool outbound)
    {
        ArgumentNullException.ThrowIfNull(dev);
        lock (_lock)
        {
            if (!_writers.TryGetValue(dev.Name, out var w))
            {
                var writer = PcapNgWriter.Create(Path.Combine(_directory, dev.Name + ".pcapng"));
                w = (writer, writer.GetInterface(dev.Ifindex, LinkTypes.Ethernet, dev.Name));
                _writers[dev.Name] = w;
            }

            w.Writer.WritePacket(w.In, (long)clockNs, frame, default, outbound ? EpbFlags.Outbound : EpbFlags.Inbound);
        }
    }

    /// <summary>Closes the files.</summary>
    public void Dispose()
    {
        foreach (var w in _writers.Values)
        {
            w.Writer.Dispose();
        }

        _writers.Clear();
    }
}
