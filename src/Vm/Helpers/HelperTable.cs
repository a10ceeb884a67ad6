using System.Diagnostics.CodeAnalysis;

namespace VethXdp.Vm.Helpers;

/// <summary>Helpers by id, and kfuncs by id: the one table the interpreter and the JIT both call through.</summary>
/// <remarks>
/// Helpers live in an array indexed by id (Linux ids are small), so a lookup is a bounds check and a load.
/// <see cref="CreateDefault"/> fills the table in groups, each a partial method in its own file
/// (<c>HelperTable.Core.cs</c> here; <c>Net*.cs</c> and <c>Dynptr*.cs</c> add theirs by implementing
/// <see cref="RegisterNet"/>, <see cref="RegisterDynptr"/> and <see cref="RegisterKfuncs"/>).
/// </remarks>
public sealed partial class HelperTable
{
    private HelperFunc?[] _funcs = new HelperFunc?[32];
    private string?[] _names = new string?[32];
    private readonly Dictionary<int, KeyValuePair<string, HelperFunc>> _kfuncs = [];

    /// <summary>The table with every helper an XDP program may call that this VM implements (see <see cref="XdpHelperSet"/>).</summary>
    public static HelperTable CreateDefault()
    {
        var t = new HelperTable();
        RegisterCore(t);
        RegisterProcess(t);
        RegisterNet(t);
        RegisterDynptr(t);
        RegisterKfuncs(t);
        return t;
    }

    // The networking helpers (fib_lookup, check_mtu, csum_diff, socket lookups, syncookies, spin locks): Net*.cs.
    static partial void RegisterNet(HelperTable table);

    // The dynptr helpers: Dynptr*.cs.
    static partial void RegisterDynptr(HelperTable table);

    // The kfuncs (bpf_dynptr_from_xdp, bpf_dynptr_slice, ...), registered with RegisterKfunc.
    static partial void RegisterKfuncs(HelperTable table);

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

    /// <summary>Registers helper <paramref name="id"/> under the kernel's name for it (<see cref="Isa.HelperNames"/>).</summary>
    public void Register(HelperId id, HelperFunc f) =>
        Register((int)id, Isa.HelperNames.Name((int)id) ?? throw new ArgumentOutOfRangeException(nameof(id)), f);

    /// <summary>Removes helper <paramref name="id"/> (a program calling it is then refused at load).</summary>
    public void Unregister(int id)
    {
        if ((uint)id < (uint)_funcs.Length)
        {
            _funcs[id] = null;
            _names[id] = null;
        }
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

    /// <summary>True when helper <paramref name="id"/> is registered.</summary>
    public bool Contains(int id) => (uint)id < (uint)_funcs.Length && _funcs[id] is not null;

    /// <summary>The name helper <paramref name="id"/> was registered with, or null.</summary>
    public string? GetName(int id) => (uint)id < (uint)_names.Length ? _names[id] : null;

    /// <summary>Every registered helper id, ascending.</summary>
    public IReadOnlyList<int> Ids
    {
        get
        {
            var ids = new List<int>();
            for (int i = 0; i < _funcs.Length; i++)
            {
                if (_funcs[i] is not null)
                {
                    ids.Add(i);
                }
            }

            return ids;
        }
    }

    /// <summary>Registers (or replaces) kfunc <paramref name="id"/> (the imm of a <c>call</c> with src 2 after loading).</summary>
    public void RegisterKfunc(int id, string name, HelperFunc f)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(f);
        _kfuncs[id] = new KeyValuePair<string, HelperFunc>(name, f);
    }

    /// <summary>Looks up kfunc <paramref name="id"/>.</summary>
    public bool TryGetKfunc(int id, [MaybeNullWhen(false)] out HelperFunc f)
    {
        if (_kfuncs.TryGetValue(id, out var entry))
        {
            f = entry.Value;
            return true;
        }

        f = null;
        return false;
    }

    /// <summary>The name kfunc <paramref name="id"/> was registered with, or null.</summary>
    public string? GetKfuncName(int id) => _kfuncs.TryGetValue(id, out var entry) ? entry.Key : null;
}
