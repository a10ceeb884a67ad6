namespace VethXdp.Jit;

/// <summary>Engines that run BPF programs (the JIT issue fills this project).</summary>
public static class JitInfo
{
    /// <summary>The engine names.</summary>
    public static readonly string[] Engines = ["interp", "jit-checked", "jit"];
}
