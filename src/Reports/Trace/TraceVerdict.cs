using VethXdp.Vm.Runtime;

namespace VethXdp.Reports.Trace;

/// <summary>How a traced run ended.</summary>
/// <param name="Action">The verdict's kernel name (<c>XDP_PASS</c>), <c>unknown</c> for a return value beyond
/// XDP_REDIRECT, or <c>error</c>.</param>
/// <param name="Retval">The program's return value (0 after an error).</param>
/// <param name="Instructions">Instructions executed.</param>
/// <param name="Redirect">The redirect target as text, for XDP_REDIRECT.</param>
/// <param name="ErrorInsn">The instruction that faulted, when the error names one.</param>
/// <param name="ErrorMessage">The error, or null.</param>
/// <param name="Data">The packet's bytes afterwards.</param>
public sealed record TraceVerdict(string Action, uint Retval, long Instructions, string? Redirect, int? ErrorInsn, string? ErrorMessage, byte[] Data)
{
    /// <summary>The faulting instruction's text, when known.</summary>
    public string? ErrorText { get; init; }

    /// <summary>The faulting instruction's source line ("file.c:22"), when known.</summary>
    public string? ErrorLine { get; init; }

    /// <summary>The verdict of <paramref name="result"/>.</summary>
    public static TraceVerdict From(in XdpResult result)
    {
        if (result.Error is { } e)
        {
            return new TraceVerdict("error", 0, result.InstructionsExecuted, null, e.Insn, e.Message, []);
        }

        string action = result.Action == XdpAction.Unknown ? "unknown" : XdpActions.KernelName(result.Action);
        string? redirect = result.Redirect is { } rd && result.Action == XdpAction.Redirect ? Describe(rd) : null;
        return new TraceVerdict(action, result.Retval, result.InstructionsExecuted, redirect, null, null, result.Data.ToArray());
    }

    private static string Describe(RedirectInfo rd)
    {
        var parts = new List<string> { rd.KindName };
        if (rd.Map is not null)
        {
            parts.Add(FormattableString.Invariant($"{rd.Map}[{rd.Key}]"));
        }

        if (rd.Ifindex is { } ifx)
        {
            parts.Add(FormattableString.Invariant($"ifindex {ifx}"));
        }

        if (rd.Cpu is { } cpu)
        {
            parts.Add(FormattableString.Invariant($"cpu {cpu}"));
        }

        if (rd.Queue is { } q)
        {
            parts.Add(FormattableString.Invariant($"queue {q}"));
        }

        if (rd.Broadcast)
        {
            parts.Add(rd.ExcludeIngress ? "broadcast, excluding ingress" : "broadcast");
        }

        return string.Join(' ', parts);
    }
}
