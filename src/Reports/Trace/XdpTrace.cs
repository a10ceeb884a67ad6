using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Runtime;

namespace VethXdp.Reports.Trace;

/// <summary>Traces an <see cref="XdpRunner"/>'s run of one frame.</summary>
public static class XdpTrace
{
    /// <summary>Runs <paramref name="frame"/> on <paramref name="runner"/> with <paramref name="recorder"/> attached to
    /// its interpreter (timer callbacks that fire before the frame are traced too), sets the recorder's
    /// <see cref="TraceRecorder.Verdict"/>, and returns the result.</summary>
    /// <exception cref="InvalidOperationException">The runner does not run programs on a <see cref="BpfInterpreter"/>.</exception>
    public static XdpResult Run(XdpRunner runner, ReadOnlySpan<byte> frame, TraceRecorder recorder)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(recorder);

        var vm = (runner.Engine as InterpreterEngine)?.Interpreter
            ?? throw new InvalidOperationException($"this runner runs programs on the {runner.Engine.EngineName} engine: only the interpreter ({InterpreterEngine.Name}) traces");
        vm.Tracer = recorder;
        try
        {
            var result = runner.Run(frame);
            var verdict = TraceVerdict.From(result);
            if (verdict.ErrorInsn is { } insn)
            {
                var (text, line) = recorder.Describe(insn);
                verdict = verdict with { ErrorText = text, ErrorLine = line, Instructions = Math.Max(verdict.Instructions, recorder.LastStep) };
            }

            recorder.Verdict = verdict;
            return result;
        }
        finally
        {
            vm.Tracer = null;
        }
    }
}
