using VethXdp.Vm.Btf;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Tests.Elf;

public class ElfExternAndCoreTests
{
    // ---- kfuncs and other .ksyms externs ----

    [Fact]
    public void Load_XdpKfuncs_CallsWithSrc2AndKfuncIds()
    {
        var obj = TestObjects.Load("kfuncs.o");

        var dynptr = obj.FindProgram("dynptr")!;
        Assert.Equal([new KfuncCall(3, "bpf_dynptr_from_xdp", KfuncId.DynptrFromXdp), new KfuncCall(13, "bpf_dynptr_slice", KfuncId.DynptrSlice)], dynptr.Kfuncs);
        Assert.Equal(new Instruction(Op.Call, 0x20, 0, 1), dynptr.Slots[3]);
        Assert.Equal(new Instruction(Op.Call, 0x20, 0, 2), dynptr.Slots[13]);

        var rxHash = obj.FindProgram("rx_hash")!;
        Assert.Equal([new KfuncCall(7, "bpf_xdp_metadata_rx_hash", KfuncId.XdpMetadataRxHash)], rxHash.Kfuncs);
        Assert.Equal(new Instruction(Op.Call, 0x20, 0, 5), rxHash.Slots[7]);
        Assert.True(Kfuncs.NeedsDevice(KfuncId.XdpMetadataRxHash));
        Assert.False(Kfuncs.NeedsDevice(KfuncId.DynptrSlice));
        LoadAssert.EveryProgramValid(obj);
    }

    [Theory]
    [InlineData(KfuncId.DynptrFromXdp, 1, "bpf_dynptr_from_xdp")]
    [InlineData(KfuncId.DynptrSlice, 2, "bpf_dynptr_slice")]
    [InlineData(KfuncId.DynptrSliceRdwr, 3, "bpf_dynptr_slice_rdwr")]
    [InlineData(KfuncId.XdpMetadataRxTimestamp, 4, "bpf_xdp_metadata_rx_timestamp")]
    [InlineData(KfuncId.XdpMetadataRxHash, 5, "bpf_xdp_metadata_rx_hash")]
    [InlineData(KfuncId.XdpMetadataRxVlanTag, 6, "bpf_xdp_metadata_rx_vlan_tag")]
    public void Kfuncs_IdAndName_RoundTrip(KfuncId id, int value, string name)
    {
        Assert.Equal((value, name, id), ((int)id, Kfuncs.NameOf(id), Kfuncs.IdOf(name)));
    }

    [Fact]
    public void Load_OtherKfunc_IsRefusedNamingIt()
    {
        var ex = Assert.Throws<ElfLoadException>(() => TestObjects.Load("ksym_bad.o"));

        Assert.StartsWith("ksym_bad.o: section \"xdp\": insn 2: kfunc \"bpf_xdp_get_xfrm_state\" is not provided by the VM", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.Instruction);
    }

    [Fact]
    public void Load_KsymVariable_IsRefusedNamingIt()
    {
        var ex = Assert.Throws<ElfLoadException>(() => TestObjects.Load("ksym_var.o"));

        Assert.Equal("ksym_var.o: section \"xdp\": insn 2: ksym \"bpf_prog_active\": kernel variables (.ksyms) are not provided by the VM", ex.Message);
    }

    // ---- CO-RE ----

    [Fact]
    public void Load_CoreRelocations_PatchedAgainstTheObjectsOwnBtf()
    {
        var obj = TestObjects.Load("core.o");
        var raw = obj.FindSection("xdp")!.SlotSpan;
        var prog = obj.FindProgram("core_prog")!;
        var btf = obj.Btf!;

        // h->len: struct my_hdr is its own target, offset 2 stays.
        Assert.Equal((Op.LdxH, (short)2), (prog.Slots[6].Opcode, prog.Slots[6].Offset));
        // h2->id: my_hdr___v2.id (offset 0) is my_hdr.id (offset 4).
        Assert.Equal(((short)0, (short)4), (raw[8].Offset, prog.Slots[8].Offset));
        // bpf_core_field_offset(h2->id): 0 -> 4.
        Assert.Equal((0, 4), (raw[7].Imm, prog.Slots[7].Imm));
        // bpf_core_field_exists(h2->extra): my_hdr has no "extra".
        Assert.Equal((1, 0), (raw[10].Imm, prog.Slots[10].Imm));
        // bpf_core_field_size(h->delta), the bitfield's byte offset, size, lshift, rshift and signedness.
        Assert.Equal([2, 8, 4, 56, 59, 0], new[] { 12, 16, 18, 34, 37, 35 }.Select(i => prog.Slots[i].Imm));
        Assert.Equal(59, prog.Slots[39].Imm);
        // bpf_core_type_exists / bpf_core_type_size(struct my_hdr___v2): exists, 8 -> 12.
        Assert.Equal((1, 1), (raw[41].Imm, prog.Slots[41].Imm));
        Assert.Equal((8, 12), (raw[43].Imm, prog.Slots[43].Imm));
        // Enumerators: KIND_NEW___v2 does not exist in enum my_kind; KIND_A___v2 3 -> 1; KIND_B 7.
        Assert.Equal((1, 0), (raw[45].Imm, prog.Slots[45].Imm));
        Assert.Equal((3, 1), (raw[48].Imm, prog.Slots[48].Imm));
        Assert.Equal((7, 7), (raw[51].Imm, prog.Slots[51].Imm));
        // bpf_core_type_id_kernel(struct my_hdr___v2): the target's id, struct my_hdr.
        Assert.Equal("my_hdr___v2", btf[(uint)raw[54].Imm].Name);
        Assert.Equal("my_hdr", btf[(uint)prog.Slots[54].Imm].Name);
        LoadAssert.EveryProgramValid(obj);
    }

    [Fact]
    public void Load_CoreAccessToTypeNotInTheObject_IsRefusedNamingTheRelocation()
    {
        var ex = Assert.Throws<ElfLoadException>(() => TestObjects.Load("core_missing.o"));

        Assert.Equal(
            "core_missing.o: section \"xdp\": insn 6: CO-RE relocation #0 <byte_off> [8] struct task_struct___x.pid (0:1 @ offset 4): no target type (struct task_struct is not in the object's BTF)",
            ex.Message);
        Assert.Equal(("xdp", 6), (ex.Section, ex.Instruction));
    }

    [Fact]
    public void Load_CoreFieldMissingFromAnExistingType_IsPoisonedAsLibbpfDoes()
    {
        var obj = TestObjects.Load("core_poison.o");
        var raw = obj.FindSection("xdp")!.SlotSpan;
        var prog = obj.FindProgram("core_poison")!;

        // bpf_core_field_exists(h->c): struct hdr has no c -> 0; the offset of h->c is poisoned.
        Assert.Equal((1, 0), (raw[6].Imm, prog.Slots[6].Imm));
        Assert.Equal(new Instruction(Op.Mov64Imm, Register.R2, Register.R0, 0, 4), raw[8]);
        Assert.Equal(new Instruction(Op.Call, 0, 0, 195896080), prog.Slots[8]);
        Assert.Equal(0xbad2310, CoreRelocator.PoisonHelperId);
        Assert.Equal(raw[10], prog.Slots[10]);
        LoadAssert.EveryProgramValid(obj);
    }

    [Fact]
    public void Load_CoreRelocationsBtfExt_ParsedPerSection()
    {
        var obj = TestObjects.Load("core.o");

        var relos = obj.BtfExt!.CoreRelos["xdp"];
        Assert.Equal(17, relos.Count);
        Assert.Contains(relos, r => r.Slot == 8 && r.Kind == BtfCoreReloKind.FieldByteOffset && r.Access == "0:0" && obj.Btf![r.TypeId].Name == "my_hdr___v2");
        Assert.Contains(relos, r => r.Slot == 54 && r.Kind == BtfCoreReloKind.TypeIdTarget && r.Access == "0");
    }

    [Fact]
    public void Load_CoreRelocationValidationMismatch_IsRefused()
    {
        // The relocation for h->len expects the instruction's offset to be 2; make it 3.
        var p = new ElfPatcher(TestObjects.Bytes("core.o"));
        var xdp = p.Contents("xdp");
        Assert.Equal(2, xdp[(6 * 8) + 2]);
        xdp[(6 * 8) + 2] = 3;

        LoadAssert.Refused(p.Bytes, "core.o", "core.o: section \"xdp\": insn 6: CO-RE relocation #");
        var ex = Assert.Throws<ElfLoadException>(() => TestObjects.Load(p.Bytes, "core.o"));
        Assert.EndsWith("unexpected insn #6 (LDX/ST/STX) value: got 3, exp 2 -> 2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("task_struct", 11)]
    [InlineData("task_struct___x", 11)]
    [InlineData("my_hdr___v2", 6)]
    [InlineData("a___b___c", 5)]
    [InlineData("____x", 5)]
    [InlineData("x___", 4)]
    public void EssentialNameLength_FlavourSuffix_IsDropped(string name, int length)
    {
        Assert.Equal(length, CoreRelocator.EssentialNameLength(name));
    }
}
