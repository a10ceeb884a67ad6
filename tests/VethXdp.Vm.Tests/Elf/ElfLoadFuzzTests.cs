using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.Elf;

/// <summary>Corruption of the parts the loader reads beyond headers and symbols: BTF, BTF.ext, relocations, map
/// definitions, global data and code. Every outcome must be a whole object or an ElfLoadException.</summary>
public class ElfLoadFuzzTests
{
    private static readonly string[] s_objects = ["maps_btf.o", "globals.o", "core.o", "calls.o", "legacy_maps.o", "kfuncs.o"];

    private static readonly string[] s_sections = [".BTF", ".BTF.ext", ".relxdp", ".rel.maps", ".maps", "maps", "xdp", ".data", ".rodata", ".symtab", ".rel.text"];

    [Property(MaxTest = 1500)]
    public Property Load_CorruptedLoaderSections_LoadsOrThrowsElfLoadException() =>
        Prop.ForAll(
            Gen.Choose(0, s_objects.Length - 1).ToArbitrary(),
            Gen.Choose(0, int.MaxValue).ArrayOf().ToArbitrary(),
            (objectIndex, patches) =>
            {
                var p = new ElfPatcher(TestObjects.Bytes(s_objects[objectIndex]));
                var targets = new List<(int Offset, int Size)>();
                for (int s = 1; s < p.Headers.Length; s++)
                {
                    if (s_sections.Contains(p.NameOf(s)) && p.Size(s) > 0 && p.Offset(s) + p.Size(s) <= p.Bytes.Length)
                    {
                        targets.Add((p.Offset(s), p.Size(s)));
                    }
                }

                foreach (int patch in patches)
                {
                    // Each patch picks a section (bits 0-3), a position in it (bits 4-23) and a value (bits 24-31).
                    var (offset, size) = targets[(patch & 0xf) % targets.Count];
                    p.Bytes[offset + (((patch >> 4) & 0xfffff) % size)] = (byte)(patch >> 24);
                }

                var error = LoadOrElfError(p.Bytes);
                return (error is null).Label(error ?? "ok");
            });

    [Fact]
    public void Load_EveryBtfByteFlipped_LoadsOrThrowsElfLoadException()
    {
        var original = TestObjects.Bytes("core.o");
        var p = new ElfPatcher(original);
        int start = p.Offset(p.Section(".BTF"));
        int loaded = 0;
        for (int i = start; i < start + p.Size(p.Section(".BTF")); i++)
        {
            foreach (byte v in new byte[] { 0x00, 0xff, (byte)(original[i] ^ 0x01) })
            {
                var bytes = (byte[])original.Clone();
                bytes[i] = v;
                var error = LoadOrElfError(bytes);
                Assert.True(error is null, $"BTF byte {i - start} = 0x{v:x2}: {error}");
                loaded += error is null && Loads(bytes) ? 1 : 0;
            }
        }

        Assert.True(loaded > 0, "flips of string bytes and unused fields still load");
    }

    private static bool Loads(byte[] bytes)
    {
        try
        {
            TestObjects.Load(bytes, "fuzz.o");
            return true;
        }
        catch (ElfLoadException)
        {
            return false;
        }
    }

    /// <summary>Null when the bytes load (with every program linked) or are refused with an ElfLoadException.</summary>
    private static string? LoadOrElfError(byte[] bytes)
    {
        try
        {
            var obj = TestObjects.Load(bytes, "fuzz.o");
            foreach (var prog in obj.Programs)
            {
                _ = InstructionValidator.Validate(prog.Slots.ToArray());
            }

            return null;
        }
        catch (ElfLoadException ex) when (ex.InnerException is { } inner && ThrownByOurCode(inner))
        {
            // The loader wraps exceptions of the ELF library; one raised by the loader itself is a bug.
            return "wrapped " + inner.GetType().Name + ": " + inner.Message + "\n" + inner.StackTrace;
        }
        catch (ElfLoadException)
        {
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ex.GetType().Name + ": " + ex.Message + "\n" + ex.StackTrace;
        }
    }

    // The first stack frame outside the runtime's System namespaces is in VethXdp (not ELFSharp).
    private static bool ThrownByOurCode(Exception ex)
    {
        if (ex is Vm.Btf.BtfFormatException)
        {
            return false;
        }

        foreach (var line in (ex.StackTrace ?? string.Empty).Split('\n'))
        {
            var frame = line.Trim();
            if (frame.StartsWith("at System.", StringComparison.Ordinal))
            {
                continue;
            }

            return frame.StartsWith("at VethXdp.", StringComparison.Ordinal);
        }

        return false;
    }
}
