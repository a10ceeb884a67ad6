using System.Runtime.CompilerServices;

namespace VethXdp.Vm.Interpreter;

/// <summary>R0-R10 as 64-bit values, kept on the interpreter's stack (no allocation per run).</summary>
[InlineArray(11)]
internal struct RegisterFile
{
    private ulong _r0;
}
