using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Cli;

/// <summary>Opens objects for the commands, turning library errors into the command's exit codes.</summary>
internal static class ObjectFiles
{
    /// <summary>Loads the object, creates its maps and applies --maps-in.</summary>
    public static LoadedObject Open(string path, LoadOptions options, string? mapsIn)
    {
        if (!File.Exists(path))
        {
            throw new CliError($"{path}: no such file");
        }

        LoadedObject loaded;
        try
        {
            loaded = LoadedObject.Open(path, options);
        }
        catch (MapCreateException ex)
        {
            throw new CliError($"{Path.GetFileName(path)}: {ex.Message}", ex);
        }
        catch (RuntimeLoadException ex)
        {
            throw new RefusedError($"{Path.GetFileName(path)}: {ex.Message}", ex);
        }

        if (mapsIn is not null)
        {
            try
            {
                if (!File.Exists(mapsIn))
                {
                    throw new CliError($"{mapsIn}: no such file");
                }

                var byName = loaded.Maps.ToDictionary(m => m.Name, StringComparer.Ordinal);
                MapsJson.Apply(File.ReadAllText(mapsIn), Path.GetFileName(mapsIn), byName, Names(loaded));
            }
            catch
            {
                loaded.Dispose();
                throw;
            }
        }

        return loaded;
    }

    /// <summary>The runner for --prog (or the only program) on the interpreter, refusing as Linux would refuse to load
    /// it.</summary>
    public static XdpRunner Runner(LoadedObject loaded, string? prog, RunOptions options) =>
        Runner(loaded, prog, options, InterpreterEngineFactory.Instance);

    /// <summary>The runner for --prog (or the only program) on <paramref name="engine"/> (null: <c>jit</c> when the
    /// verifier accepts the program, else <c>interp</c>; see <see cref="Engines.Choose(LoadedObject, string, string?, bool, Jit.JitOptions?)"/>),
    /// refusing as Linux would refuse to load it.</summary>
    public static XdpRunner Runner(LoadedObject loaded, string? prog, RunOptions options, string? engine, bool unverified)
    {
        string name = ProgramName(loaded, prog);
        return Runner(loaded, name, options, Engines.Choose(loaded, name, engine, unverified).Factory);
    }

    /// <summary>The runner for --prog (or the only program) on the engines <paramref name="factory"/> makes.</summary>
    public static XdpRunner Runner(LoadedObject loaded, string? prog, RunOptions options, IBpfEngineFactory factory)
    {
        string name = ProgramName(loaded, prog);
        try
        {
            return new XdpRunner(loaded, name, options, factory);
        }
        catch (RuntimeLoadException ex)
        {
            throw new RefusedError($"program {name}: {ex.Reason}", ex);
        }
    }

    /// <summary>--prog, or the object's only program; a usage error listing the names otherwise.</summary>
    public static string ProgramName(LoadedObject loaded, string? prog)
    {
        var names = loaded.Programs.Select(p => p.Name).ToArray();
        if (prog is null)
        {
            return names.Length switch
            {
                1 => names[0],
                0 => throw new CliError("the object has no programs"),
                _ => throw new CliError($"the object has {names.Length} programs; choose one with --prog: {string.Join(", ", names)}"),
            };
        }

        return names.Contains(prog, StringComparer.Ordinal)
            ? prog
            : throw new CliError($"no program named \"{prog}\"; the object has: {string.Join(", ", names)}");
    }

    /// <summary>How program and map references print in the maps JSON: ids and "fds" are index + 1 for both programs
    /// and maps, as the runtime numbers them (so no object is ever fd 0, which devmaps read as "no program").</summary>
    public static MapsJsonNames Names(LoadedObject loaded) => new(
        id => id >= 1 && id <= loaded.Programs.Count ? loaded.Programs[(int)id - 1].Name : null,
        name =>
        {
            for (int i = 0; i < loaded.Programs.Count; i++)
            {
                if (loaded.Programs[i].Name == name)
                {
                    return (uint)i + 1;
                }
            }

            return null;
        },
        id => id >= 1 && id <= loaded.Maps.Count ? loaded.Maps[(int)id - 1].Name : null,
        name => loaded.Maps.IndexOf(name) is var i and >= 0 ? (uint)i + 1 : null);
}

/// <summary>The program was refused (as Linux would refuse to load it): exit 1.</summary>
internal sealed class RefusedError : Exception
{
    public RefusedError(string message, Exception inner)
        : base(message, inner)
    {
    }

    public RefusedError(string message)
        : base(message)
    {
    }

    public RefusedError()
    {
    }
}
