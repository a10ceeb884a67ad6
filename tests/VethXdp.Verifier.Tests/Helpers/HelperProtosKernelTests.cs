using VethXdp.Kernel;
using VethXdp.Verifier.Helpers;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Helpers;

/// <summary>The helper sets against the running kernel: every helper id, called with zeroed arguments from an xdp,
/// socket filter and sched_cls program, is refused with "program of this type cannot use helper" exactly when
/// <see cref="HelperProtos.Lookup"/> says so, and with "invalid func unknown#N" past the last id.</summary>
public class HelperProtosKernelTests
{
    private static Instruction[] CallProgram(int id)
    {
        var slots = new List<Instruction>();
        for (int r = 1; r <= 5; r++)
        {
            slots.Add(new Instruction(Op.Mov64Imm, (Register)r, Register.R0, 0, 0));
        }

        slots.Add(new Instruction(Op.Call, Register.R0, Register.R0, 0, id));
        slots.Add(new Instruction(Op.Mov64Imm, Register.R0, Register.R0, 0, 0));
        slots.Add(new Instruction(Op.Exit, Register.R0, Register.R0, 0, 0));
        return [.. slots];
    }

    private static HelperAvailability KernelAnswer(ProgramType type, int id, out string? message)
    {
        try
        {
            using var fd = BpfSyscall.ProgLoad(new ProgLoadRequest
            {
                Type = type,
                Instructions = CallProgram(id),
                License = "GPL",
                Name = "helper_probe",
            }).Fd;
            message = null;
            return HelperAvailability.Available;
        }
        catch (KernelBpfException e)
        {
            message = e.VerifierMessage;
            if (message is not null && message.StartsWith("program of this type cannot use helper", StringComparison.Ordinal))
            {
                return HelperAvailability.NotForThisProgramType;
            }

            if (message is not null && message.StartsWith("invalid func ", StringComparison.Ordinal))
            {
                return HelperAvailability.Unknown;
            }

            return HelperAvailability.Available;   // refused later, for the zeroed arguments: the helper exists here
        }
    }

    [SkippableTheory]
    [InlineData(ProgramType.Xdp)]
    [InlineData(ProgramType.SocketFilter)]
    [InlineData(ProgramType.SchedCls)]
    public void Lookup_EveryHelperId_SameAnswerAsTheRunningKernel(ProgramType type)
    {
        Skip.IfNot(KernelProbe.IsBpfPermitted(out string reason), reason);
        var failures = new List<string>();
        for (int id = 0; id <= HelperNames.Count; id++)
        {
            var kernel = KernelAnswer(type, id, out string? message);
            var ours = HelperProtos.Lookup(type, 0, id, out _);
            if (kernel != ours)
            {
                failures.Add($"#{id} {HelperNames.Name(id)}: kernel {kernel} ({message}), ours {ours}");
            }
            else if (kernel != HelperAvailability.Available && message != HelperProtos.Message(ours, id))
            {
                failures.Add($"#{id}: kernel says \"{message}\", we say \"{HelperProtos.Message(ours, id)}\"");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [SkippableFact]
    public void Load_SocketFilterCallingRedirect_KernelRefusesWithOurMessage()
    {
        Skip.IfNot(KernelProbe.IsBpfPermitted(out string reason), reason);

        var kernel = KernelAnswer(ProgramType.SocketFilter, 23, out string? message);

        Assert.Equal(HelperAvailability.NotForThisProgramType, kernel);
        Assert.Equal("program of this type cannot use helper bpf_redirect#23", message);
        Assert.Equal(message, HelperProtos.Message(HelperProtos.Lookup(ProgramType.SocketFilter, 0, 23, out _), 23));
    }
}
