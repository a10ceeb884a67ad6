using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Tests.Elf;

public class ElfLinkTests
{
    public static TheoryData<string> LoadableObjects()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(TestObjects.Dir, "*.o").Concat(Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "xdp"), "*.o")).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name is not ("core_missing.o" or "ksym_bad.o" or "ksym_var.o" or "odd_encodings.o"))
            {
                data.Add(path);
            }
        }

        return data;
    }

    [Fact]
    public void Load_CallsObject_ProgramsWithLibbpfSectionTypes()
    {
        var obj = TestObjects.Load("calls.o");

        Assert.Equal(
            [
                ("prog_a", "xdp", ProgramType.Xdp, AttachType.Xdp, false, true),
                ("prog_b", "xdp", ProgramType.Xdp, AttachType.Xdp, false, true),
                ("tc_prog", "tc", ProgramType.SchedCls, (AttachType)0, false, true),
                ("optional_prog", "xdp", ProgramType.Xdp, AttachType.Xdp, false, false),
                ("frags_prog", "xdp.frags", ProgramType.Xdp, AttachType.Xdp, true, true),
                ("devmap_prog", "xdp/devmap", ProgramType.Xdp, AttachType.XdpDevmap, false, true),
                ("cpumap_prog", "xdp.frags/cpumap", ProgramType.Xdp, AttachType.XdpCpumap, true, true),
                ("tp_prog", "tracepoint/syscalls/sys_enter_write", ProgramType.Tracepoint, (AttachType)0, false, true),
            ],
            obj.Programs.Select(p => (p.Name, p.SectionName, p.Type, (AttachType)p.ExpectedAttachType, p.Frags, p.AutoLoad)));
        Assert.All(obj.Programs, p => Assert.Equal("GPL", p.License));
        Assert.Equal(37u, (uint)AttachType.Xdp);
        Assert.Equal(33u, (uint)AttachType.XdpDevmap);
        Assert.Equal(35u, (uint)AttachType.XdpCpumap);
    }

    [Fact]
    public void Load_TextFunctions_AreSubprogramsNotPrograms()
    {
        var obj = TestObjects.Load("calls.o");

        Assert.Null(obj.FindProgram("glob_sub"));
        Assert.Null(obj.FindProgram("add_static"));
        Assert.Null(obj.FindProgram("missing"));
        Assert.Equal("prog_b", obj.FindProgram("prog_b")!.Name);
    }

    [Fact]
    public void Link_ProgramWithCallsAndCallback_AppendsSubprogramsDepthFirst()
    {
        var obj = TestObjects.Load("calls.o");
        var text = obj.FindSection(".text")!.SlotSpan;
        var prog = obj.FindProgram("prog_a")!;

        Assert.Equal(30, prog.Slots.Count);
        Assert.Equal(
            [new FunctionInfo(0, "prog_a", true), new FunctionInfo(17, "loop_cb", false), new FunctionInfo(22, "add_static", false), new FunctionInfo(25, "glob_sub", true)],
            prog.Functions);

        // bpf_loop's callback: lddw src=4 (BPF_PSEUDO_FUNC), imm relative to the next slot -> loop_cb at 17.
        Assert.Equal((Op.LdDw, (int)PseudoSrc.Func, 10), (prog.Slots[6].Opcode, prog.Slots[6].SrcReg, prog.Slots[6].Imm));
        Assert.Equal(17, 6 + 1 + prog.Slots[6].Imm);

        // call add_static (static: relocation against .text + imm) and call glob_sub (global symbol).
        Assert.Equal(new Instruction(Op.Call, 0x10, 0, 10), prog.Slots[11]);
        Assert.Equal(new Instruction(Op.Call, 0x10, 0, 10), prog.Slots[14]);
        Assert.Equal(22, 11 + 1 + prog.Slots[11].Imm);
        Assert.Equal(25, 14 + 1 + prog.Slots[14].Imm);

        // The appended copies are the .text functions, unchanged (they make no calls).
        Assert.Equal(text[5..10].ToArray(), prog.Slots.Skip(17).Take(5));
        Assert.Equal(text[10..13].ToArray(), prog.Slots.Skip(22).Take(3));
        Assert.Equal(text[0..5].ToArray(), prog.Slots.Skip(25).Take(5));
    }

    [Fact]
    public void Link_SubprogramsCalledFromTwoSections_EachProgramHasItsOwnCopy()
    {
        var obj = TestObjects.Load("calls.o");

        var progB = obj.FindProgram("prog_b")!;
        Assert.Equal([new FunctionInfo(0, "prog_b", true), new FunctionInfo(2, "glob_sub", true)], progB.Functions);
        Assert.Equal(new Instruction(Op.Call, 0x10, 0, 1), progB.Slots[0]);

        var tc = obj.FindProgram("tc_prog")!;
        Assert.Equal([new FunctionInfo(0, "tc_prog", true), new FunctionInfo(3, "add_static", false)], tc.Functions);
        Assert.Equal(new Instruction(Op.Call, 0x10, 0, 1), tc.Slots[1]);

        // frags_prog (xdp.frags) calls both: add_static at 8, glob_sub at 11.
        var frags = obj.FindProgram("frags_prog")!;
        Assert.Equal([new FunctionInfo(0, "frags_prog", true), new FunctionInfo(8, "add_static", false), new FunctionInfo(11, "glob_sub", true)], frags.Functions);
        Assert.Equal(16, frags.Slots.Count);
        Assert.Equal((new Instruction(Op.Call, 0x10, 0, 5), new Instruction(Op.Call, 0x10, 0, 5)), (frags.Slots[2], frags.Slots[5]));
        var text = obj.FindSection(".text")!.SlotSpan;
        Assert.Equal(text[0..5].ToArray(), frags.Slots.Skip(11));
    }

    [Fact]
    public void Link_LineInfo_MapsSlotsToFileLineAndText()
    {
        var obj = TestObjects.Load("calls.o");
        var prog = obj.FindProgram("prog_a")!;

        var call = prog.LineAt(14)!;
        Assert.EndsWith("calls.c", call.File, StringComparison.Ordinal);
        Assert.Equal((29, 27, "\treturn add_static(sum) + glob_sub(ctx);"), (call.Line, call.Column, call.Text));

        var sub = prog.LineAt(25)!;
        Assert.Equal((14, 14, "\treturn ctx->ingress_ifindex > 1 ? XDP_PASS : XDP_DROP;"), (sub.Line, sub.Column, sub.Text));
        Assert.Equal("int prog_a(struct xdp_md *ctx)", prog.LineAt(0)!.Text);
        Assert.True(prog.Lines.Zip(prog.Lines.Skip(1)).All(p => p.First.Slot <= p.Second.Slot));
        Assert.All(Enumerable.Range(0, prog.Slots.Count), slot => Assert.NotNull(prog.LineAt(slot)));
    }

    [Fact]
    public void Load_UnknownSectionName_ProgramOfUnspecType()
    {
        var obj = TestObjects.Load("legacy_maps_ext.o");

        var prog = Assert.Single(obj.Programs);
        Assert.Equal(("classify", "prog", ProgramType.Unspec, 0u), (prog.Name, prog.SectionName, prog.Type, prog.ExpectedAttachType));
        Assert.Equal([new FunctionInfo(0, "classify", true)], prog.Functions);
        Assert.Empty(prog.Lines);
    }

    [Theory]
    [MemberData(nameof(LoadableObjects))]
    public void Load_EveryTestAndCorpusObject_LinksValidPrograms(string path)
    {
        var obj = ElfObjectReader.Load(path, TestObjects.Options);

        LoadAssert.EveryProgramValid(obj);
        Assert.Equal(obj.Programs.Count, obj.Programs.Select(p => p.Name).Distinct().Count());
        foreach (var p in obj.Programs)
        {
            Assert.Equal(0, p.Functions[0].StartSlot);
            Assert.Equal(p.Name, p.Functions[0].Name);
            Assert.DoesNotContain(p.Slots, i => i.IsLdImm64 && i.SrcReg is (int)PseudoSrc.MapFd or (int)PseudoSrc.MapValue);
            foreach (var (slot, src, imm, _) in TestObjects.LdImm64s(p))
            {
                if (src is (int)PseudoSrc.MapIdx or (int)PseudoSrc.MapIdxValue)
                {
                    Assert.InRange(imm, 0, obj.Maps.Count - 1);
                }
            }
        }
    }

    [Fact]
    public void Load_ConformanceStyleObject_HasNoProgramsButStillLoads()
    {
        var obj = ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, "xdp", "all_opcodes.o"));

        Assert.Empty(obj.Programs);
        Assert.Empty(obj.Maps);
        Assert.Null(obj.Btf);
    }

    [Fact]
    public void Load_CallRelocationAgainstAProgramSection_IsRefused()
    {
        // Point prog_a's call to glob_sub at prog_b (in "xdp"): libbpf only links subprograms from .text.
        var p = new ElfPatcher(TestObjects.Bytes("calls.o"));
        int glob = p.Symbol("glob_sub");
        int progB = p.Symbol("prog_b");
        var rel = p.Contents(".relxdp");
        uint globIndex = (uint)((glob - p.Offset(p.Section(".symtab"))) / 24);
        uint progBIndex = (uint)((progB - p.Offset(p.Section(".symtab"))) / 24);
        for (int e = 0; e < rel.Length; e += 16)
        {
            if (BitConverter.ToUInt32(rel[(e + 12)..]) == globIndex)
            {
                BitConverter.TryWriteBytes(rel[(e + 12)..], progBIndex);
            }
        }

        LoadAssert.Refused(p.Bytes, "calls.o", "calls.o: section \"xdp\": insn 14: bad call relo against \"prog_b\" in section \"xdp\"");
    }

    [Fact]
    public void Load_RelocationAgainstUnknownSymbol_IsRefusedNamingInstructionAndSymbol()
    {
        // Make tx_port an undefined object symbol: nothing defines it any more.
        var p = new ElfPatcher(TestObjects.Bytes("legacy_maps.o"));
        int sym = p.Symbol("tx_port");
        p.Bytes[sym + 6] = 0;
        p.Bytes[sym + 7] = 0;

        var ex = LoadAssert.Refused(p.Bytes, "legacy_maps.o", "legacy_maps.o: section \"xdp\": insn 30: relocation against unknown symbol \"tx_port\"");

        Assert.Equal(("xdp", 30, 240L), (ex.Section, ex.Instruction, ex.Offset));
    }

    [Fact]
    public void Load_RelocationOffsetOutsideTheSection_IsRefused()
    {
        var p = new ElfPatcher(TestObjects.Bytes("legacy_maps.o"));
        var rel = p.Contents(".relxdp");
        BitConverter.TryWriteBytes(rel, 0x1000UL);

        LoadAssert.Refused(p.Bytes, "legacy_maps.o", "legacy_maps.o: section \".relxdp\": offset 0x0: invalid offset 0x1000 for relocation #0 (section \"xdp\" has 288 bytes)");
    }

    [Fact]
    public void Load_RelocationOnANonLoadInstruction_IsRefused()
    {
        var p = new ElfPatcher(TestObjects.Bytes("legacy_maps.o"));
        var rel = p.Contents(".relxdp");
        BitConverter.TryWriteBytes(rel, 0x28UL); // slot 5, the second half of a lddw

        LoadAssert.Refused(p.Bytes, "legacy_maps.o", "section \"xdp\": insn 5: invalid relo against \"rx_count\" for insns[5].code 0x00");
    }

    [Fact]
    public void Load_EveryTruncationOfCallsObject_ThrowsElfLoadException()
    {
        var bytes = TestObjects.Bytes("calls.o");
        for (int length = 0; length < bytes.Length; length += 7)
        {
            var ex = Record.Exception(() => TestObjects.Load(bytes[..length], "cut.o"));
            Assert.True(ex is ElfLoadException, $"length {length}: {ex?.GetType().Name ?? "no exception"}: {ex?.Message}");
        }
    }
}
