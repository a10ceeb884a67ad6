using System.Runtime.InteropServices;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Kernel;

/// <summary>Whether this process may use the running kernel's bpf(), and why not.</summary>
public static class KernelProbe
{
    private static readonly Lazy<(bool Permitted, string Reason)> s_result = new(Probe);

    /// <summary>Loads a tiny socket filter (<c>r0 = 0; exit</c>), then a tiny XDP program that it test-runs; true when
    /// both work. <paramref name="reason"/> says why not (not Linux, ENOSYS, EPERM and what decides it, seccomp, ...),
    /// or names the kernel when permitted. The answer is computed once per process.</summary>
    /// <param name="reason">Why bpf() is not permitted, or the kernel's release.</param>
    public static bool IsBpfPermitted(out string reason)
    {
        (bool ok, reason) = s_result.Value;
        return ok;
    }

    private static (bool, string) Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (false, $"not Linux ({RuntimeInformation.OSDescription}): there is no bpf() to cross-check against");
        }

        if (!BpfSyscall.IsSupportedArchitecture)
        {
            return (false, $"no known bpf() syscall number for {RuntimeInformation.ProcessArchitecture} (x86_64 and aarch64 only)");
        }

        Instruction[] returnZero = [new(Op.Mov64Imm, Register.R0, 0, 0, 0), new(Op.Exit, 0, 0, 0, 0)];
        Instruction[] returnPass = [new(Op.Mov64Imm, Register.R0, 0, 0, 2), new(Op.Exit, 0, 0, 0, 0)];
        try
        {
            using (BpfSyscall.ProgLoad(new ProgLoadRequest { Type = ProgramType.SocketFilter, Instructions = returnZero, Name = "probe" }).Fd)
            {
            }

            using var xdp = BpfSyscall.ProgLoad(new ProgLoadRequest
            {
                Type = ProgramType.Xdp,
                Instructions = returnPass,
                Name = "probe_xdp",
                ExpectedAttachType = BpfFlags.AttachXdp,
            }).Fd;
            var run = BpfSyscall.ProgTestRun(xdp, new TestRunRequest { Data = new byte[14] });
            return run.Retval == 2
                ? (true, $"bpf() permitted (Linux {KernelInfo.Release})")
                : (false, $"BPF_PROG_TEST_RUN of `r0 = 2; exit` returned {run.Retval}");
        }
        catch (KernelBpfException e)
        {
            return (false, Explain(e));
        }
        catch (DllNotFoundException e)
        {
            return (false, $"libc not found: {e.Message}");
        }
        catch (EntryPointNotFoundException e)
        {
            return (false, $"libc has no syscall(): {e.Message}");
        }
    }

    private static string Explain(KernelBpfException e)
    {
        string what = $"{BpfCommandNames.Name(e.Command)} {e.Context} failed with {e.ErrnoName}";
        return e.Errno switch
        {
            Errno.EPERM or Errno.EACCES when e.Context?.Contains("probe_xdp", StringComparison.Ordinal) == true =>
                $"{what}: socket filters load, but XDP programs need CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN)",
            Errno.EPERM =>
                $"{what}: bpf() needs CAP_BPF or CAP_SYS_ADMIN (kernel.unprivileged_bpf_disabled={ReadProc("/proc/sys/kernel/unprivileged_bpf_disabled")}, {SeccompStatus()})",
            Errno.ENOSYS =>
                $"{what}: this kernel has no bpf() (built without CONFIG_BPF_SYSCALL), or a seccomp filter answers ENOSYS ({SeccompStatus()})",
            _ => $"{what}: {ErrnoNames.Describe(e.Errno)}",
        };
    }

    private static string SeccompStatus()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("Seccomp:", StringComparison.Ordinal))
                {
                    string mode = line["Seccomp:".Length..].Trim();
                    return mode switch
                    {
                        "0" => "no seccomp filter",
                        "2" => "a seccomp filter is active (mode 2), which may block bpf()",
                        _ => $"seccomp mode {mode}",
                    };
                }
            }
        }
        catch (IOException)
        {
        }

        return "seccomp status unknown";
    }

    private static string ReadProc(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : "?";
        }
        catch (IOException)
        {
            return "?";
        }
        catch (UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
