using System.Globalization;

namespace VethXdp.Vm.Pcap;

/// <summary>A capture file that is not pcap or pcapng, or that is truncated or corrupt, named by file, record and
/// byte offset: <c>in.pcap: record 7 at offset 0x3f2: truncated: header says 98 bytes, 40 remain</c>.</summary>
/// <remarks><see cref="PcapReader"/> throws it only after every record before the bad one was delivered, so a caller
/// can report those first.</remarks>
public sealed class PcapFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="file">The file's name.</param>
    /// <param name="recordIndex">The index (from 0) of the record that is bad, or -1 when the problem is not in a record.</param>
    /// <param name="offset">The byte offset in the file of the record or block that is bad, or -1.</param>
    /// <param name="reason">What is wrong.</param>
    public PcapFormatException(string file, long recordIndex, long offset, string reason)
        : base(Compose(file, recordIndex, offset, reason))
    {
        FileName = file;
        RecordIndex = recordIndex;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public PcapFormatException()
        : this("<unknown>", -1, -1, "invalid capture file")
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What is wrong.</param>
    public PcapFormatException(string message)
        : this("<unknown>", -1, -1, message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying error.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public PcapFormatException(string message, Exception innerException)
        : base("<unknown>: " + message, innerException)
    {
        FileName = "<unknown>";
        RecordIndex = -1;
        Offset = -1;
        Reason = message;
    }

    /// <summary>The file's name.</summary>
    public string FileName { get; }

    /// <summary>The index (from 0) of the bad record: the number of records delivered before it; -1 when the problem
    /// is in the file header. For a bad pcapng block that holds no packet, the index the next packet would have had.</summary>
    public long RecordIndex { get; }

    /// <summary>The byte offset in the file of the bad record or block, or -1.</summary>
    public long Offset { get; }

    /// <summary>What is wrong, without the file/record/offset prefix.</summary>
    public string Reason { get; }

    private static string Compose(string file, long recordIndex, long offset, string reason)
    {
        var prefix = file + ": ";
        if (recordIndex >= 0)
        {
            prefix += "record " + recordIndex.ToString(CultureInfo.InvariantCulture) + " ";
        }

        if (offset >= 0)
        {
            prefix += (recordIndex >= 0 ? "at " : "") + "offset 0x" + offset.ToString("x", CultureInfo.InvariantCulture) + ": ";
        }
        else if (recordIndex >= 0)
        {
            prefix = prefix.TrimEnd() + ": ";
        }

        return prefix + reason;
    }
}
