using System.Collections.Immutable;

namespace VethXdp.Verifier.Helpers;

/// <summary>Construction helpers for the transcribed prototypes in KernelProtos.g.cs.</summary>
internal static partial class KernelProtos
{
    /// <summary>The arguments R1..R5, padded with ARG_DONTCARE to five.</summary>
    private static ImmutableArray<HelperArg> Args(params HelperArg[] args)
    {
        var b = ImmutableArray.CreateBuilder<HelperArg>(5);
        b.AddRange(args);
        while (b.Count < 5)
        {
            b.Add(default);
        }

        return b.MoveToImmutable();
    }
}
