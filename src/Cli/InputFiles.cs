using VethXdp.Vm.Conformance;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Text;

namespace VethXdp.Cli;

/// <summary>Reads the files commands take, and names the file in every error.</summary>
internal static class InputFiles
{
    public static byte[] ReadBytes(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliError($"{path}: no such file");
        }

        return File.ReadAllBytes(path);
    }

    public static bool IsElf(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 4 && bytes[0] == 0x7f && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F';

    /// <summary>Raw bytecode: binary, or hex text (whitespace between bytes or none).</summary>
    public static Instruction[] ReadRawSlots(string path, byte[] bytes)
    {
        try
        {
            byte[] code = HexText.LooksLikeHex(bytes)
                ? HexText.Parse(System.Text.Encoding.ASCII.GetString(bytes), path)
                : bytes;
            return BpfProgram.DecodeSlots(code);
        }
        catch (BpfFormatException ex)
        {
            throw new CliError($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Assembles a .s file.</summary>
    public static Instruction[] Assemble(string path)
    {
        var text = File.ReadAllText(ReadableFile(path));
        try
        {
            return Assembler.Assemble(text);
        }
        catch (AssemblerException ex)
        {
            throw new CliError($"{path}: {ex.Message}", ex);
        }
    }

    public static ConformanceFile LoadConformance(string path)
    {
        try
        {
            return ConformanceFile.Load(ReadableFile(path));
        }
        catch (AssemblerException ex)
        {
            throw new CliError($"{path}: {ex.Message}", ex);
        }
    }

    public static BpfObject LoadElf(string path, byte[] bytes) => ElfObjectReader.Load(bytes, Path.GetFileName(path));

    /// <summary>Validates slots into a program, naming the file on error.</summary>
    public static BpfProgram Validate(string path, IReadOnlyList<Instruction> slots)
    {
        try
        {
            return BpfProgram.Create(slots.ToArray(), Path.GetFileNameWithoutExtension(path));
        }
        catch (BpfFormatException ex)
        {
            throw new CliError($"{path}: {ex.Message}", ex);
        }
    }

    private static string ReadableFile(string path) =>
        File.Exists(path) ? path : throw new CliError($"{path}: no such file");
}
