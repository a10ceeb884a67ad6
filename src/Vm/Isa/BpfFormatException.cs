namespace VethXdp.Vm.Isa;

/// <summary>Bad bytecode at the public loading boundary: names the instruction index.</summary>
public sealed class BpfFormatException : Exception
{
    /// <summary>Creates the exception for instruction <paramref name="pc"/>.</summary>
    public BpfFormatException(int pc, string reason)
        : base(pc >= 0 ? $"insn {pc}: {reason}" : reason)
    {
        Pc = pc;
        Reason = reason;
    }

    /// <summary>Creates the exception without an instruction index.</summary>
    public BpfFormatException()
        : this(-1, "invalid bytecode")
    {
    }

    /// <summary>Creates the exception without an instruction index.</summary>
    public BpfFormatException(string message)
        : this(-1, message)
    {
    }

    /// <summary>Creates the exception without an instruction index.</summary>
    public BpfFormatException(string message, Exception inner)
        : base(message, inner)
    {
        Pc = -1;
        Reason = message;
    }

    /// <summary>The slot index, or -1 when the error is not about one instruction.</summary>
    public int Pc { get; }

    /// <summary>The reason without the index.</summary>
    public string Reason { get; }
}
