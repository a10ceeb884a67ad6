using System.Globalization;
using System.Text;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Conformance;

/// <summary>One bpf_conformance <c>.data</c> test: a program (<c>-- asm</c> or <c>-- raw</c>), its input memory
/// (<c>-- mem</c>) and the expected r0 (<c>-- result</c>) or error text (<c>-- error</c>).</summary>
/// <remarks>
/// Parsing follows the upstream runner, as ../shared/conformance/README.md documents it: a trailing <c>\r</c> is
/// dropped; everything from the first <c>#</c> is a comment and goes first; a line that then contains <c>--</c> is a
/// section marker, recognised by substring in the order <c>asm</c>, <c>result</c>, <c>mem</c>, <c>raw</c>,
/// <c>no register offset</c>, <c> c</c>, <c>error</c> (any other is an error here, where upstream skips the file);
/// blank lines and lines before the first marker are ignored; <c>-- no register offset</c> and <c>-- c</c> are
/// ignored sections; for <c>-- result</c> and <c>-- error</c> the last non-empty line wins.
/// Files are read as Latin-1 (13 upstream files carry a 0x7F byte in a comment).
/// </remarks>
public sealed class ConformanceFile
{
    private readonly Instruction[] _slots;
    private readonly Instruction[] _asmSlots;
    private readonly Instruction[]? _rawSlots;

    private ConformanceFile(
        string name, string? asmSource, Instruction[] asmSlots, Instruction[]? rawSlots, byte[]? memory, ulong? result, string? error)
    {
        Name = name;
        AsmSource = asmSource;
        _asmSlots = asmSlots;
        _rawSlots = rawSlots;
        _slots = rawSlots is { Length: > 0 } ? rawSlots : asmSlots;
        Memory = memory ?? [];
        HasMemory = memory is not null;
        ExpectedResult = result;
        ExpectedError = error;
    }

    private enum Section
    {
        None,
        Asm,
        Result,
        Mem,
        Raw,
        Ignored,
        Error,
    }

    /// <summary>The test's name (the file name without <c>.data</c> when loaded from a file).</summary>
    public string Name { get; }

    /// <summary>The <c>-- asm</c> section with comments and blank lines removed, or null when absent.</summary>
    public string? AsmSource { get; }

    /// <summary>The program to run: the <c>-- raw</c> slots when present and non-empty, else the assembled asm.</summary>
    public IReadOnlyList<Instruction> Slots => _slots;

    /// <summary>The assembled <c>-- asm</c> section (empty when absent).</summary>
    public IReadOnlyList<Instruction> AsmSlots => _asmSlots;

    /// <summary>The <c>-- raw</c> slots, or null when the section is absent.</summary>
    public IReadOnlyList<Instruction>? RawSlots => _rawSlots;

    /// <summary>The input memory from <c>-- mem</c>; empty when there is none.</summary>
    public byte[] Memory { get; }

    /// <summary>True when the file has a <c>-- mem</c> section.</summary>
    public bool HasMemory { get; }

    /// <summary>The expected final r0, or null when the file has no <c>-- result</c>.</summary>
    public ulong? ExpectedResult { get; }

    /// <summary>The expected error text from <c>-- error</c>, or null.</summary>
    public string? ExpectedError { get; }

    /// <summary>Reads and parses a <c>.data</c> file (as Latin-1).</summary>
    /// <param name="path">The file path.</param>
    public static ConformanceFile Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllText(path, Encoding.Latin1), Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Parses the text of a <c>.data</c> file; throws <see cref="ConformanceFormatException"/> naming the file and line.</summary>
    /// <param name="text">The file's text.</param>
    /// <param name="name">The test's name, used in messages.</param>
    public static ConformanceFile Parse(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(name);
        var asm = new List<(int Line, string Text)>();
        List<byte>? mem = null;
        List<Instruction>? raw = null;
        (int Line, string Text)? result = null;
        string? error = null;
        var section = Section.None;
        bool sawAsm = false;
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNo = i + 1;
            string line = lines[i];
            if (line.EndsWith('\r'))
            {
                line = line[..^1];
            }

            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash];
            }

            if (line.Contains("--", StringComparison.Ordinal))
            {
                section = MarkerOf(line) ?? throw new ConformanceFormatException(name, lineNo, $"unknown directive '{line.Trim()}'");
                switch (section)
                {
                    case Section.Asm:
                        sawAsm = true;
                        break;
                    case Section.Mem:
                        mem ??= [];
                        break;
                    case Section.Raw:
                        raw ??= [];
                        break;
                }

                continue;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            switch (section)
            {
                case Section.Asm:
                    asm.Add((lineNo, line.Trim()));
                    break;
                case Section.Result:
                    result = (lineNo, line.Trim());
                    break;
                case Section.Error:
                    error = line.Trim();
                    break;
                case Section.Mem:
                    ParseBytes(line, name, lineNo, mem!);
                    break;
                case Section.Raw:
                    ParseWords(line, name, lineNo, raw!);
                    break;
            }
        }

        string? asmSource = sawAsm ? string.Join('\n', asm.Select(a => a.Text)) : null;
        return new ConformanceFile(
            name,
            asmSource,
            Assemble(asm, name),
            raw?.ToArray(),
            mem?.ToArray(),
            result is { } r ? ParseResult(r.Text, name, r.Line) : null,
            error);
    }

    private static Section? MarkerOf(string line)
    {
        if (line.Contains("asm", StringComparison.Ordinal))
        {
            return Section.Asm;
        }

        if (line.Contains("result", StringComparison.Ordinal))
        {
            return Section.Result;
        }

        if (line.Contains("mem", StringComparison.Ordinal))
        {
            return Section.Mem;
        }

        if (line.Contains("raw", StringComparison.Ordinal))
        {
            return Section.Raw;
        }

        if (line.Contains("no register offset", StringComparison.Ordinal) || line.Contains(" c", StringComparison.Ordinal))
        {
            return Section.Ignored;
        }

        return line.Contains("error", StringComparison.Ordinal) ? Section.Error : null;
    }

    private static Instruction[] Assemble(List<(int Line, string Text)> asm, string name)
    {
        if (asm.Count == 0)
        {
            return [];
        }

        try
        {
            return Assembler.Assemble(string.Join('\n', asm.Select(a => a.Text)));
        }
        catch (AssemblerException e)
        {
            int fileLine = e.Line >= 1 && e.Line <= asm.Count ? asm[e.Line - 1].Line : 0;
            throw new ConformanceFormatException(name, fileLine, e.Reason, e);
        }
    }

    private static void ParseBytes(string line, string name, int lineNo, List<byte> into)
    {
        foreach (string token in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (token.Length > 2 || !byte.TryParse(token, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                throw new ConformanceFormatException(name, lineNo, $"invalid memory byte '{token}'");
            }

            into.Add(b);
        }
    }

    private static void ParseWords(string line, string name, int lineNo, List<Instruction> into)
    {
        foreach (string token in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            ulong word = ParseUnsigned(token, name, lineNo, "raw instruction word");
            into.Add(Instruction.FromRaw(word));
        }
    }

    private static ulong ParseResult(string text, string name, int lineNo) =>
        ParseUnsigned(text, name, lineNo, "result");

    // "0x" anywhere selects hex (as upstream's check does), otherwise decimal; a leading '-' wraps to two's complement.
    private static ulong ParseUnsigned(string text, string name, int lineNo, string what)
    {
        var s = text.AsSpan().Trim();
        bool negative = s.StartsWith("-");
        if (negative)
        {
            s = s[1..];
        }

        bool ok;
        ulong value = 0;
        if (s.Contains("0x", StringComparison.OrdinalIgnoreCase))
        {
            ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
                ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }
        else
        {
            ok = ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        }

        if (!ok)
        {
            throw new ConformanceFormatException(name, lineNo, $"invalid {what} '{text}'");
        }

        return negative ? unchecked(0UL - value) : value;
    }
}

/// <summary>A malformed conformance <c>.data</c> file: names the file and the 1-based line.</summary>
public sealed class ConformanceFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="fileName"/>, line <paramref name="line"/> (0 when not about one line).</summary>
    public ConformanceFormatException(string fileName, int line, string reason, Exception? inner = null)
        : base(Compose(fileName, line, reason), inner)
    {
        FileName = fileName;
        Line = line;
        Reason = reason;
    }

    /// <summary>Creates the exception without a file.</summary>
    public ConformanceFormatException()
        : this(string.Empty, 0, "invalid conformance file")
    {
    }

    /// <summary>Creates the exception without a file.</summary>
    public ConformanceFormatException(string message)
        : this(string.Empty, 0, message)
    {
    }

    /// <summary>Creates the exception without a file.</summary>
    public ConformanceFormatException(string message, Exception inner)
        : this(string.Empty, 0, message, inner)
    {
    }

    /// <summary>The test's name.</summary>
    public string FileName { get; }

    /// <summary>The 1-based line in the file, or 0.</summary>
    public int Line { get; }

    /// <summary>The reason without the file and line.</summary>
    public string Reason { get; }

    private static string Compose(string fileName, int line, string reason)
    {
        string where = line > 0 ? $"line {line}: " : string.Empty;
        return fileName.Length > 0 ? $"{fileName}: {where}{reason}" : where + reason;
    }
}
