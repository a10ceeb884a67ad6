using System.Text;
using VethXdp.Kernel;
using VethXdp.Verifier.Context;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Context;

/// <summary>Every (offset, size, direction) our context models accept or refuse, asked of the running kernel: one
/// tiny program per combination, so the models are Linux's, not ours.</summary>
public class CtxAccessKernelMatrixTests
{
    private static readonly CompositeFormat s_invalidAccess = CompositeFormat.Parse(CtxMessages.InvalidAccess);

    public static TheoryData<string> Configs => new() { "xdp", "xdp/devmap", "xdp/cpumap", "socket_filter", "sched_cls", "sched_act" };

    [SkippableTheory]
    [MemberData(nameof(Configs))]
    public void IsValidAccess_EveryFieldSizeAndDirection_SameAsKernel(string config)
    {
        Skip.IfNot(KernelProbe.IsBpfPermitted(out string reason), reason);
        (ProgramType type, uint attach) = config switch
        {
            "xdp" => (ProgramType.Xdp, (uint)AttachType.Xdp),
            "xdp/devmap" => (ProgramType.Xdp, (uint)AttachType.XdpDevmap),
            "xdp/cpumap" => (ProgramType.Xdp, (uint)AttachType.XdpCpumap),
            "socket_filter" => (ProgramType.SocketFilter, 0u),
            "sched_cls" => (ProgramType.SchedCls, 0u),
            _ => (ProgramType.SchedAct, 0u),
        };
        var model = ContextModel.For(type, attach);
        var disagreements = new List<string>();
        int asked = 0;
        foreach (var (access, ldsx) in new[] { (CtxAccessType.Read, false), (CtxAccessType.Read, true), (CtxAccessType.Write, false) })
        {
            foreach (int size in new[] { 1, 2, 4, 8 })
            {
                if (ldsx && size == 8)
                {
                    continue;   // there is no 64-bit sign-extending load
                }

                for (int off = -4; off < model.Size + 8; off++)
                {
                    bool ours = model.IsValidAccess(off, size, access, ldsx, out _);
                    (bool theirs, string? message) = KernelAccepts(type, attach, off, size, access, ldsx);
                    asked++;
                    string what = $"{access}{(ldsx ? " sx" : string.Empty)} off={off} size={size}";
                    if (ours != theirs)
                    {
                        disagreements.Add($"{what}: ours {(ours ? "accepts" : "refuses")}, kernel {(theirs ? "accepts" : "refuses: " + message)}");
                    }
                    else if (!theirs)
                    {
                        string expected = string.Format(null, s_invalidAccess, off, size);
                        if (message != expected)
                        {
                            disagreements.Add($"{what}: kernel says \"{message}\", we would say \"{expected}\"");
                        }
                    }
                }
            }
        }

        Assert.True(asked > 100);
        Assert.Empty(disagreements);
    }

    private static (bool Accepted, string? Message) KernelAccepts(ProgramType type, uint attach, int off, int size, CtxAccessType access, bool ldsx)
    {
        byte sizeBits = size switch { 1 => 0x10, 2 => 0x08, 4 => 0x00, _ => 0x18 };
        Instruction[] prog = access == CtxAccessType.Write
            ?
            [
                new(Op.Mov64Imm, Register.R2, 0, 0, 0),
                new((byte)(0x03 | 0x60 | sizeBits), Register.R1, Register.R2, (short)off, 0),   // *(size *)(r1 + off) = r2
                new(Op.Mov64Imm, Register.R0, 0, 0, 0),
                new(Op.Exit, 0, 0, 0, 0),
            ]
            :
            [
                new((byte)(0x01 | (ldsx ? 0x80 : 0x60) | sizeBits), Register.R0, Register.R1, (short)off, 0),   // r0 = *(size *)(r1 + off)
                new(Op.Mov64Imm, Register.R0, 0, 0, 0),
                new(Op.Exit, 0, 0, 0, 0),
            ];
        try
        {
            using var fd = BpfSyscall.ProgLoad(new ProgLoadRequest
            {
                Type = type,
                Instructions = prog,
                ExpectedAttachType = attach,
                LogLevel = 1,
                LogSize = 1 << 16,
                Name = "ctx_matrix",
            }).Fd;
            return (true, null);
        }
        catch (KernelBpfException e)
        {
            return (false, e.VerifierMessage);
        }
    }
}
