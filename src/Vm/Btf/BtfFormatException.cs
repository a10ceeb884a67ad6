namespace VethXdp.Vm.Btf;

/// <summary>Malformed BTF or BTF.ext data: what is wrong and the byte offset in the section where it is.</summary>
/// <remarks>The ELF loader turns it into an <c>ElfLoadException</c> naming the file and the section.</remarks>
public sealed class BtfFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="offset">The byte offset in the .BTF or .BTF.ext section, or -1.</param>
    /// <param name="message">What is wrong.</param>
    public BtfFormatException(long offset, string message)
        : base(message)
    {
        Offset = offset;
    }

    /// <summary>Creates the exception.</summary>
    public BtfFormatException()
        : this(-1, "malformed BTF")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public BtfFormatException(string message)
        : this(-1, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public BtfFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Offset = -1;
    }

    /// <summary>The byte offset in the section, or -1.</summary>
    public long Offset { get; }
}
