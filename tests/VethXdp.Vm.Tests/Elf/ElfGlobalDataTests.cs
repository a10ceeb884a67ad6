using VethXdp.Vm.Btf;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Tests.Elf;

public class ElfGlobalDataTests
{
    private const uint RdonlyProg = 0x80;
    private const uint Mmapable = 0x400;

    [Fact]
    public void Load_GlobalData_OneArrayMapPerSectionNamedLikeIt()
    {
        var obj = TestObjects.Load("globals.o");

        Assert.Equal(
            [
                (".data", 12u, Mmapable, false),
                (".rodata", 17u, RdonlyProg | Mmapable, true),
                (".data.custom", 4u, Mmapable, false),
                (".bss", 24u, Mmapable, false),
                (".rodata.str1.1", 7u, RdonlyProg, true),
                (".kconfig", 25u, RdonlyProg | Mmapable, true),
            ],
            obj.Maps.Select(m => (m.Name, m.ValueSize, m.Flags, m.Frozen)));
        Assert.All(obj.Maps, m => Assert.Equal((MapType.Array, 4u, 1u, true, m.Name), (m.Type, m.KeySize, m.MaxEntries, m.IsGlobalData, m.SectionName)));
    }

    [Fact]
    public void Load_GlobalData_InitialDataIsTheSectionBytes()
    {
        var obj = TestObjects.Load("globals.o");

        Assert.Equal(Convert.FromHexString("070000000000000044332211"), obj.FindMap(".data")!.InitialData);           // packets = 7, hits = 0x11223344
        Assert.Equal(Convert.FromHexString("DC0500000200000000016C656E20257500"), obj.FindMap(".rodata")!.InitialData); // threshold 1500, mac, "len %u"
        Assert.Equal("lit %u\0"u8.ToArray(), obj.FindMap(".rodata.str1.1")!.InitialData);
        Assert.Equal([42, 0, 0, 0], obj.FindMap(".data.custom")!.InitialData);
        Assert.Equal(new byte[24], obj.FindMap(".bss")!.InitialData);
    }

    [Fact]
    public void Load_GlobalData_BtfValueTypeIsTheDatasec()
    {
        var obj = TestObjects.Load("globals.o");
        var btf = obj.Btf!;

        foreach (var name in new[] { ".data", ".rodata", ".bss", ".data.custom", ".kconfig" })
        {
            var sec = Assert.IsType<BtfDatasec>(btf[obj.FindMap(name)!.BtfValueTypeId]);
            Assert.Equal(name, sec.Name);
            Assert.Equal(obj.FindMap(name)!.ValueSize, sec.Size);
        }

        Assert.Equal(0u, obj.FindMap(".rodata.str1.1")!.BtfValueTypeId);
        var data = (BtfDatasec)btf[obj.FindMap(".data")!.BtfValueTypeId];
        Assert.Equal([("packets", 0u), ("hits", 8u)], data.Vars.Select(v => (btf[v.TypeId].Name, v.Offset)));
    }

    [Fact]
    public void Load_GlobalDataReferences_BecomeMapValueLoadsWithOffsets()
    {
        var obj = TestObjects.Load("globals.o");
        var prog = obj.FindProgram("globals")!;

        var loads = TestObjects.LdImm64s(prog).Select(l => (l.Slot, l.Src, Map: obj.Maps[l.Imm].Name, Offset: l.Imm2)).ToList();

        Assert.Equal(
            [
                (2, 6, ".data", 0),             // packets (global symbol)
                (7, 6, ".data", 8),             // hits (section symbol, imm 8)
                (12, 6, ".rodata", 4),          // mac
                (15, 6, ".data.custom", 0),     // custom_counter
                (21, 6, ".bss", 0),             // scratch
                (24, 6, ".rodata", 10),         // bpf_printk's format
                (34, 6, ".rodata.str1.1", 0),   // "lit %u"
                (39, 6, ".kconfig", 12),        // LINUX_KERNEL_VERSION
                (43, 6, ".kconfig", 16),        // CONFIG_BPF_SYSCALL
                (47, 6, ".kconfig", 0),         // CONFIG_BPF_JIT
                (51, 6, ".kconfig", 8),         // CONFIG_VETHXDP_NOT_A_CONFIG
                (55, 6, ".kconfig", 17),        // CONFIG_DEFAULT_HOSTNAME
                (59, 6, ".rodata", 0),          // threshold
                (62, 6, ".kconfig", 4),         // CONFIG_HZ
                (68, 6, ".bss", 16),            // drops
            ],
            loads);
        LoadAssert.EveryProgramValid(obj);
    }

    [Fact]
    public void Load_Kconfig_LaidOutByAlignmentSizeAndName_WithDefaultValues()
    {
        var obj = TestObjects.Load("globals.o");
        var kconfig = obj.FindMap(".kconfig")!;

        // CONFIG_BPF_JIT (tristate y = 1) @0, CONFIG_HZ = 250 @4, weak unknown = 0 @8, LINUX_KERNEL_VERSION 6.18.0
        // @12, CONFIG_BPF_SYSCALL (bool y = 1) @16, CONFIG_DEFAULT_HOSTNAME "(none)" @17.
        Assert.Equal(Convert.FromHexString("01000000" + "FA000000" + "00000000" + "00120600" + "01" + "286E6F6E65290000"), kconfig.InitialData);
        var btf = obj.Btf!;
        var sec = (BtfDatasec)btf[kconfig.BtfValueTypeId];
        Assert.Equal(
            [("CONFIG_BPF_JIT", 0u), ("CONFIG_HZ", 4u), ("CONFIG_VETHXDP_NOT_A_CONFIG", 8u), ("LINUX_KERNEL_VERSION", 12u), ("CONFIG_BPF_SYSCALL", 16u), ("CONFIG_DEFAULT_HOSTNAME", 17u)],
            sec.Vars.Select(v => (btf[v.TypeId].Name, v.Offset)));
        Assert.All(sec.Vars, v => Assert.Equal(BtfVarLinkage.GlobalAllocated, ((BtfVar)btf[v.TypeId]).Linkage));
    }

    [Fact]
    public void Load_KconfigFromATable_EncodesEveryKind()
    {
        var table = KconfigTable.Parse("""
            # a .config excerpt
            CONFIG_BPF_JIT=m
            CONFIG_BPF_SYSCALL=n
            CONFIG_HZ=0x3e8
            CONFIG_DEFAULT_HOSTNAME="longer-than-eight"
            # CONFIG_SOMETHING is not set
            CONFIG_VETHXDP_NOT_A_CONFIG=-5
            """);
        var options = new ElfLoadOptions { KernelVersion = ElfLoadOptions.KernelVersionCode(5, 10, 300), Kconfig = table };

        var obj = ElfObjectReader.Load(TestObjects.PathOf("globals.o"), options);

        Assert.Equal(
            Convert.FromHexString("02000000" + "E8030000" + "FBFFFFFF" + "FF0A0500" + "00" + "6C6F6E6765722D00"),
            obj.FindMap(".kconfig")!.InitialData);
    }

    [Fact]
    public void Load_StrongKconfigWithoutValue_IsRefusedNamingIt()
    {
        var options = TestObjects.Options with { Kconfig = KconfigTable.Empty };

        var ex = Assert.Throws<ElfLoadException>(() => ElfObjectReader.Load(TestObjects.PathOf("globals.o"), options));

        Assert.Equal("globals.o: extern \"CONFIG_BPF_JIT\" (strong): not resolved: the kconfig table has no value for it (declare it __weak to default to 0)", ex.Message);
    }

    [Theory]
    [InlineData("CONFIG_BPF_SYSCALL", "m", "extern (kcfg) \"CONFIG_BPF_SYSCALL\": value 'm' implies tristate or char type")]
    [InlineData("CONFIG_BPF_SYSCALL", "2", "extern (kcfg) \"CONFIG_BPF_SYSCALL\": value '2' isn't boolean compatible")]
    [InlineData("CONFIG_HZ", "y", "extern (kcfg) \"CONFIG_HZ\": value 'y' implies bool, tristate, or char type")]
    [InlineData("CONFIG_HZ", "\"str\"", "extern (kcfg) \"CONFIG_HZ\": value '\"str\"' implies char array type")]
    [InlineData("CONFIG_HZ", "0x100000000", "extern (kcfg) \"CONFIG_HZ\": value '4294967296' doesn't fit in 4 bytes")]
    [InlineData("CONFIG_DEFAULT_HOSTNAME", "12", "extern (kcfg) \"CONFIG_DEFAULT_HOSTNAME\": value '12' implies integer type")]
    [InlineData("CONFIG_BPF_JIT", "abc", "extern (kcfg) \"CONFIG_BPF_JIT\": failed to parse value 'abc'")]
    public void Load_KconfigValueOfTheWrongKind_IsRefused(string name, string value, string expected)
    {
        var options = TestObjects.Options with { Kconfig = KconfigTable.Default.With(name, value) };

        var ex = Assert.Throws<ElfLoadException>(() => ElfObjectReader.Load(TestObjects.PathOf("globals.o"), options));

        Assert.Equal("globals.o: " + expected, ex.Message);
    }

    [Theory]
    [InlineData("6.18.44-fc-v657", 0x06122c)]
    [InlineData("5.15.0", 0x050f00)]
    [InlineData("4.19.300-rt", 0x0413ff)]
    [InlineData("6.1", null)]
    [InlineData("v6.1.2", null)]
    public void ParseRelease_Release_KernelVersionCode(string release, int? expected)
    {
        Assert.Equal(expected is null ? null : (uint)expected, ElfLoadOptions.ParseRelease(release));
    }

    [Fact]
    public void Load_DefaultOptions_LinuxKernelVersionIsTheRunningKernels()
    {
        var obj = ElfObjectReader.Load(TestObjects.PathOf("globals.o"));
        var release = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease") : string.Empty;
        uint expected = ElfLoadOptions.ParseRelease(release) ?? ElfLoadOptions.FallbackKernelVersion;

        Assert.Equal(expected, BitConverter.ToUInt32(obj.FindMap(".kconfig")!.InitialData!, 12));
        Assert.Equal(ElfLoadOptions.KernelVersionCode(6, 18, 0), ElfLoadOptions.FallbackKernelVersion);
    }

    [Fact]
    public void Load_GlobalDataRelocationOutsideTheSection_IsRefused()
    {
        // hits is reached through the .data section symbol with imm 8; make it 64, beyond the 12-byte section.
        var p = new ElfPatcher(TestObjects.Bytes("globals.o"));
        var xdp = p.Contents("xdp");
        Assert.Equal(Op.LdDw, xdp[7 * 8]);
        xdp[(7 * 8) + 4] = 64;

        LoadAssert.Refused(p.Bytes, "globals.o", "globals.o: section \"xdp\": insn 7: relocation against \".data\": offset 64 is outside section \".data\" (12 bytes)");
    }
}
