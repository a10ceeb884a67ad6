using System.Buffers.Binary;
using System.Text;
using VethXdp.Kernel;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Kernel.Tests;

/// <summary>The helper calls no corpus program can make (corpus/README.md, "helpers no corpus program can call, and
/// why"): tiny hand-assembled XDP programs that call each of them, loaded into the running kernel, which must refuse
/// them with the errno and the verifier message the README quotes; and run in our VM, which must refuse or fault them
/// with the same message.</summary>
public class HelperRefusalTests
{
    /// <summary>One refused call: the program, the maps it names (by index), whether it needs BTF func_info for a
    /// callback at <paramref name="CallbackSlot"/>, and the kernel's answer.</summary>
    public sealed record RefusedCall(string Name, string Source, MapSpec[] Maps, int CallbackSlot, int Errno, string Message)
    {
        /// <summary>The slots; a callback's address is loaded into r2 by the line <c>r2 = callback</c>.</summary>
        public Instruction[] Slots()
        {
            var lines = Source.Split('\n');
            var slots = new List<Instruction>();
            foreach (string line in lines)
            {
                if (line.Trim() == "r2 = callback")
                {
                    // BPF_PSEUDO_FUNC: imm is the callback's slot relative to the next one.
                    int imm = CallbackSlot - slots.Count - 1;
                    slots.Add(new Instruction(Op.LdDw, Register.R2, (Register)PseudoSrc.Func, 0, imm));
                    slots.Add(new Instruction(0, 0, 0, 0));
                }
                else if (line.Trim().Length > 0)
                {
                    slots.AddRange(Assembler.Assemble(line));
                }
            }

            return [.. slots];
        }

        /// <summary>"bpf_copy_from_user#148".</summary>
        public override string ToString() => Name;
    }

    private static readonly MapSpec ArrayMap = new() { Name = "arr", Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 };

    private static readonly RefusedCall[] s_calls =
    [
        new("bpf_copy_from_user#148", """
            *(u64 *)(r10 -8) = 0
            r1 = r10
            r1 += -8
            r2 = 8
            r3 = 0
            call 148
            r0 = 2
            exit
            """, [], -1, Errno.EINVAL, "helper call might sleep in a non-sleepable prog"),
        new("bpf_copy_from_user_task#191", """
            call 158
            r4 = r0
            *(u64 *)(r10 -8) = 0
            r1 = r10
            r1 += -8
            r2 = 8
            r3 = 0
            r5 = 0
            call 191
            r0 = 2
            exit
            """, [], -1, Errno.EINVAL, "helper call might sleep in a non-sleepable prog"),
        new("bpf_user_ringbuf_drain#209 on an array", """
            r1 = map[idx:0]
            r2 = callback
            r3 = 0
            r4 = 0
            call 209
            r0 = 2
            exit
            r0 = 0
            exit
            """, [ArrayMap], 9, Errno.EINVAL, "cannot pass map_type 2 into func bpf_user_ringbuf_drain#209"),
        new("bpf_per_cpu_ptr#153 on a scalar", """
            r1 = 0
            r2 = 0
            call 153
            r0 = 2
            exit
            """, [], -1, Errno.EACCES, "R1 type=scalar expected=percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_"),
        new("bpf_this_cpu_ptr#154 on a scalar", """
            r1 = 0
            call 154
            r0 = 2
            exit
            """, [], -1, Errno.EACCES, "R1 type=scalar expected=percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_"),
        new("bpf_kptr_xchg#194 on the stack", """
            *(u64 *)(r10 -8) = 0
            r1 = r10
            r1 += -8
            r2 = 0
            call 194
            r0 = 2
            exit
            """, [], -1, Errno.EACCES, "R1 type=fp expected=map_value, ptr_"),
    ];

    public static TheoryData<string> Calls()
    {
        var data = new TheoryData<string>();
        foreach (var c in s_calls)
        {
            data.Add(c.Name);
        }

        return data;
    }

    private static RefusedCall Find(string name) => s_calls.Single(c => c.Name == name);

    [SkippableTheory]
    [MemberData(nameof(Calls))]
    public void Load_CallXdpCannotMake_KernelRefusesWithTheReadmesMessage(string name)
    {
        KernelSkip.IfNotPermitted();
        var call = Find(name);

        var e = Assert.Throws<KernelBpfException>(() => LoadIntoKernel(call).Dispose());

        Assert.Equal(call.Errno, e.Errno);
        Assert.NotNull(e.VerifierLog);
        Assert.Equal(call.Message, e.VerifierMessage);
        Assert.Contains($"`{call.Message}`", Readme(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Calls))]
    public void Run_CallXdpCannotMake_OurRuntimeFaultsWithTheKernelsMessage(string name)
    {
        var call = Find(name);
        var program = new ProgramSpec
        {
            Name = "refused",
            SectionName = "xdp",
            Type = ProgramType.Xdp,
            ExpectedAttachType = BpfFlags.AttachXdp,
            Slots = call.Slots(),
            License = "GPL",
        };

        string? refusal = null;
        try
        {
            using var obj = LoadedObject.Create(call.Maps, [program], new LoadOptions { PossibleCpus = 2 });
            using var runner = new XdpRunner(obj);
            var r = runner.Run(CorpusKernelTests.UdpFrame());
            refusal = r.Error?.Message;
        }
        catch (RuntimeLoadException e)
        {
            refusal = e.Message;
        }

        Assert.NotNull(refusal);
        Assert.Contains(call.Message, refusal, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Load_UserRingbufDrainOnAUserRingbuf_KernelLoadsIt()
    {
        // Not a refusal: with a BPF_MAP_TYPE_USER_RINGBUF the kernel takes the call in an XDP program (the README says
        // why no corpus program makes it anyway).
        KernelSkip.IfNotPermitted();
        var call = Find("bpf_user_ringbuf_drain#209 on an array") with
        {
            Maps = [new MapSpec { Name = "urb", Type = MapType.UserRingbuf, KeySize = 0, ValueSize = 0, MaxEntries = 4096 }],
        };

        using var fd = LoadIntoKernel(call);

        Assert.True(fd.Value > 0);
    }

    private static string Readme() => File.ReadAllText(Path.Combine(TestPaths.CorpusDir, "README.md"));

    private static BpfFd LoadIntoKernel(RefusedCall call)
    {
        var maps = new List<BpfFd>();
        BpfFd? btf = null;
        try
        {
            foreach (var m in call.Maps)
            {
                maps.Add(BpfSyscall.MapCreate(new MapCreateRequest
                {
                    Type = m.Type,
                    KeySize = m.KeySize,
                    ValueSize = m.ValueSize,
                    MaxEntries = m.MaxEntries,
                    Name = m.Name,
                }));
            }

            IReadOnlyList<(int, uint)>? funcInfo = null;
            if (call.CallbackSlot >= 0)
            {
                // A callback needs func_info: FUNC 3 "prog" at slot 0, FUNC 4 "cb" at the callback.
                btf = BpfSyscall.BtfLoad(TwoFunctionBtf());
                funcInfo = [(0, 3u), (call.CallbackSlot, 4u)];
            }

            return BpfSyscall.ProgLoad(new ProgLoadRequest
            {
                Type = ProgramType.Xdp,
                Instructions = call.Slots(),
                License = "GPL",
                Name = "refused",
                Btf = btf,
                FuncInfo = funcInfo,
                FdArray = maps,
            }).Fd;
        }
        finally
        {
            btf?.Dispose();
            foreach (var m in maps)
            {
                m.Dispose();
            }
        }
    }

    // BTF with [1] int, [2] int (void) (a FUNC_PROTO without parameters), [3] static FUNC "prog" and [4] static FUNC
    // "cb" of that prototype (include/uapi/linux/btf.h).
    private static byte[] TwoFunctionBtf()
    {
        const int BtfKindInt = 1, BtfKindFunc = 12, BtfKindFuncProto = 13;
        byte[] strings = Encoding.ASCII.GetBytes("\0int\0prog\0cb\0");
        uint[] types =
        [
            1, (uint)BtfKindInt << 24, 4, (1u << 24) | 32,          // "int": signed, 32 bits
            0, (uint)BtfKindFuncProto << 24, 1,                      // int (void)
            5, (uint)BtfKindFunc << 24, 2,                           // static int prog(void)
            10, (uint)BtfKindFunc << 24, 2,                          // static int cb(void)
        ];
        var btf = new byte[24 + (types.Length * 4) + strings.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(btf, 0xeb9f);      // magic
        btf[2] = 1;                                                 // version
        BinaryPrimitives.WriteUInt32LittleEndian(btf.AsSpan(4), 24);                          // hdr_len
        BinaryPrimitives.WriteUInt32LittleEndian(btf.AsSpan(8), 0);                           // type_off
        BinaryPrimitives.WriteUInt32LittleEndian(btf.AsSpan(12), (uint)(types.Length * 4));  // type_len
        BinaryPrimitives.WriteUInt32LittleEndian(btf.AsSpan(16), (uint)(types.Length * 4));  // str_off
        BinaryPrimitives.WriteUInt32LittleEndian(btf.AsSpan(20), (uint)strings.Length);      // str_len
        for (int i = 0; i < types.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(btf.AsSpan(24 + (i * 4)), types[i]);
        }

        strings.CopyTo(btf.AsSpan(24 + (types.Length * 4)));
        return btf;
    }
}
