using System.Buffers.Binary;
using System.Text;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Tests.Elf;

/// <summary>The clang-built objects in tests/VethXdp.Vm.Tests/Elf/objects (see the Makefile there), loaded with a
/// fixed LINUX_KERNEL_VERSION so results do not depend on the machine.</summary>
internal static class TestObjects
{
    public static readonly ElfLoadOptions Options = new() { KernelVersion = ElfLoadOptions.KernelVersionCode(6, 18, 0) };

    public static string Dir => Path.Combine(TestPaths.RepoRoot, "tests", "VethXdp.Vm.Tests", "Elf", "objects");

    public static string PathOf(string name) => Path.Combine(Dir, name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    public static BpfObject Load(string name) => ElfObjectReader.Load(PathOf(name), Options);

    public static BpfObject Load(byte[] bytes, string name) => ElfObjectReader.Load(bytes, name, Options);

    /// <summary>Every 64-bit load of a program: (slot, src, imm, second imm).</summary>
    public static List<(int Slot, int Src, int Imm, int Imm2)> LdImm64s(ProgramSpec p)
    {
        var result = new List<(int, int, int, int)>();
        for (int i = 0; i < p.Slots.Count; i++)
        {
            if (p.Slots[i].IsLdImm64)
            {
                result.Add((i, p.Slots[i].SrcReg, p.Slots[i].Imm, p.Slots[i + 1].Imm));
                i++;
            }
        }

        return result;
    }
}

/// <summary>Reads and patches a little-endian ELF64 object in place, for corruption tests.</summary>
internal sealed class ElfPatcher
{
    private readonly byte[] _bytes;

    public ElfPatcher(byte[] bytes)
    {
        _bytes = bytes;
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0x28));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(0x3c));
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(0x3e));
        Headers = new int[shnum];
        for (int i = 0; i < shnum; i++)
        {
            Headers[i] = (int)shoff + (i * 64);
        }

        NamesOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(Headers[shstrndx] + 0x18));
    }

    public byte[] Bytes => _bytes;

    /// <summary>File offsets of the section headers.</summary>
    public int[] Headers { get; }

    private int NamesOffset { get; }

    public string NameOf(int section)
    {
        int off = NamesOffset + (int)BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(Headers[section]));
        int end = Array.IndexOf(_bytes, (byte)0, off);
        return Encoding.ASCII.GetString(_bytes, off, end - off);
    }

    public int Section(string name)
    {
        for (int i = 0; i < Headers.Length; i++)
        {
            if (NameOf(i) == name)
            {
                return i;
            }
        }

        throw new ArgumentException("no section " + name);
    }

    public int Offset(int section) => (int)BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(Headers[section] + 0x18));

    public int Size(int section) => (int)BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(Headers[section] + 0x20));

    public void SetSize(int section, ulong size) => BinaryPrimitives.WriteUInt64LittleEndian(_bytes.AsSpan(Headers[section] + 0x20), size);

    public Span<byte> Contents(string name)
    {
        int s = Section(name);
        return _bytes.AsSpan(Offset(s), Size(s));
    }

    /// <summary>The file offset of the symbol table entry named <paramref name="name"/>.</summary>
    public int Symbol(string name)
    {
        int symtab = Section(".symtab");
        int strtab = (int)BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(Headers[symtab] + 0x28));
        int strOff = Offset(strtab);
        for (int e = Offset(symtab); e < Offset(symtab) + Size(symtab); e += 24)
        {
            int n = strOff + (int)BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(e));
            int end = Array.IndexOf(_bytes, (byte)0, n);
            if (Encoding.ASCII.GetString(_bytes, n, end - n) == name)
            {
                return e;
            }
        }

        throw new ArgumentException("no symbol " + name);
    }

    /// <summary>Replaces every occurrence of <paramref name="from"/> in the section name table by a string of the same length.</summary>
    public void RenameSections(string from, string to)
    {
        int s = BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(0x3e));
        var table = _bytes.AsSpan(Offset(s), Size(s));
        var f = Encoding.ASCII.GetBytes(from);
        var t = Encoding.ASCII.GetBytes(to);
        for (int i = table.IndexOf(f); i >= 0;)
        {
            t.CopyTo(table[i..]);
            int next = table[(i + 1)..].IndexOf(f);
            i = next < 0 ? -1 : i + 1 + next;
        }
    }
}

/// <summary>Shared assertions.</summary>
internal static class LoadAssert
{
    public static ElfLoadException Refused(byte[] bytes, string name, string expected)
    {
        var ex = Assert.Throws<ElfLoadException>(() => TestObjects.Load(bytes, name));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        return ex;
    }

    public static void EveryProgramValid(BpfObject obj)
    {
        foreach (var p in obj.Programs)
        {
            var prog = p.ToProgram();
            Assert.Equal(p.Slots.Count, prog.Length);
            Assert.Null(InstructionValidator.Validate(p.Slots.ToArray()));
        }
    }
}
