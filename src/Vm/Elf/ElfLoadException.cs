using System.Globalization;

namespace VethXdp.Vm.Elf;

/// <summary>A malformed or unsupported ELF object, named by file, section and byte offset
/// (<c>prog.o: section "xdp": offset 0x10: ...</c>) or instruction
/// (<c>prog.o: section "xdp": insn 14: relocation against unknown symbol "tx_port"</c>).</summary>
/// <remarks>Thrown by <see cref="ElfObjectReader"/> for every problem with the file's contents; errors of the
/// underlying ELF library are wrapped in it, never passed through.</remarks>
public sealed class ElfLoadException : Exception
{
    /// <summary>Creates the exception; <paramref name="section"/> and <paramref name="offset"/> (-1) may be absent.</summary>
    /// <param name="file">The object's file name.</param>
    /// <param name="section">The section the problem is in, or null.</param>
    /// <param name="offset">The byte offset (in the section when one is named, else in the file), or -1.</param>
    /// <param name="message">What is wrong.</param>
    public ElfLoadException(string file, string? section, long offset, string message)
        : this(file, section, offset, message, null)
    {
    }

    /// <summary>Creates the exception with the error that caused it.</summary>
    /// <param name="file">The object's file name.</param>
    /// <param name="section">The section the problem is in, or null.</param>
    /// <param name="offset">The byte offset, or -1.</param>
    /// <param name="message">What is wrong.</param>
    /// <param name="inner">The underlying error.</param>
    public ElfLoadException(string file, string? section, long offset, string message, Exception? inner)
        : this(file, section, offset, -1, message, inner)
    {
    }

    private ElfLoadException(string file, string? section, long offset, int instruction, string message, Exception? inner)
        : base(Compose(file, section, offset, instruction, message), inner)
    {
        FileName = file;
        Section = section;
        Offset = offset;
        Instruction = instruction;
        Reason = message;
    }

    /// <summary>An error at an instruction of a code section: <c>file: section "s": insn N: message</c>.</summary>
    /// <param name="file">The object's file name.</param>
    /// <param name="section">The code section.</param>
    /// <param name="instruction">The slot index in that section.</param>
    /// <param name="message">What is wrong.</param>
    /// <returns>The exception; <see cref="Offset"/> is the slot's byte offset.</returns>
    public static ElfLoadException AtInstruction(string file, string section, int instruction, string message) =>
        new(file, section, (long)instruction * 8, instruction, message, null);

    /// <summary>Creates the exception with a message only.</summary>
    public ElfLoadException()
        : this("<unknown>", null, -1, "invalid ELF object")
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What is wrong.</param>
    public ElfLoadException(string message)
        : this("<unknown>", null, -1, message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying error.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public ElfLoadException(string message, Exception innerException)
        : this("<unknown>", null, -1, message, innerException)
    {
    }

    /// <summary>The object's file name.</summary>
    public string FileName { get; }

    /// <summary>The section the problem is in, or null.</summary>
    public string? Section { get; }

    /// <summary>The byte offset (in <see cref="Section"/> when set, else in the file), or -1.</summary>
    public long Offset { get; }

    /// <summary>The slot index in <see cref="Section"/> the problem is at, or -1.</summary>
    public int Instruction { get; }

    /// <summary>What is wrong, without the file/section/offset prefix.</summary>
    public string Reason { get; }

    private static string Compose(string file, string? section, long offset, int instruction, string message)
    {
        var prefix = file + ": ";
        if (section is not null)
        {
            prefix += "section \"" + section + "\": ";
        }

        if (instruction >= 0)
        {
            prefix += "insn " + instruction.ToString(CultureInfo.InvariantCulture) + ": ";
        }
        else if (offset >= 0)
        {
            prefix += "offset 0x" + offset.ToString("x", CultureInfo.InvariantCulture) + ": ";
        }

        return prefix + message;
    }
}
