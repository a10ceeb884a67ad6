using System.Diagnostics.CodeAnalysis;

namespace VethXdp.Vm.Helpers;

/// <summary>Helpers by id: the one table the interpreter and the JIT both call through.</summary>
/// <remarks>An array indexed by id (Linux ids are small), so a lookup is a bounds check and a load.</remarks>
public sealed class HelperTable
{
    private HelperFunc?[] _funcs = new HelperFunc?[32];
    private string?[] _names = new string?[32];

    /// <summary>The table with every helper this VM implements: 5 = bpf_ktime_get_ns.</summary>
    public static HelperTable CreateDefault()
    {
        var t = new HelperTable();
        t.Register((int)HelperId.KtimeGetNs, "bpf_ktime_get_ns", TimeHelpers.KtimeGetNs);
        return t;
    }

    /// <summary>Registers (or replaces) helper <paramref name="id"/>.</summary>
    public void Register(int id, string name, HelperFunc f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(id, 1 << 16);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(f);
        if (id >= _funcs.Length)
        {
            int size = Math.Max(_funcs.Length * 2, id + 1);
            Array.Resize(ref _funcs, size);
            Array.Resize(ref _names, size);
        }

        _funcs[id] = f;
        _names[id] = name;
    }

    /// <summary>Looks up helper <paramref name="id"/>.</summary>
    public bool TryGet(int id, [MaybeNullWhen(false)] out HelperFunc f)
    {
        var funcs = _funcs;
        if ((uint)id < (uint)funcs.Length && funcs[id] is { } found)
        {
            f = found;
            return true;
        }

        f = null;
        return false;
    }

    /// <summary>The name helper <paramref name="id"/> was registered with, or null.</summary>
    public string? GetName(int id) => (uint)id < (uint)_names.Length ? _names[id] : null;
}
