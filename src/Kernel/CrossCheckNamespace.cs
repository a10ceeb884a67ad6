using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace VethXdp.Kernel;

/// <summary>A <see cref="CrossCheckEnvironment"/> made real: the namespace created and set up, the calling thread
/// inside it, the sockets open. Disposing (on the same thread) closes the sockets, returns the thread and deletes
/// the namespace.</summary>
internal sealed class CrossCheckNamespace : IDisposable
{
    private readonly KernelNetns _netns;
    private readonly List<Socket> _sockets = [];
    private KernelNetns.Scope _scope;
    private bool _entered;

    private CrossCheckNamespace(KernelNetns netns) => _netns = netns;

    /// <summary>The namespace's name.</summary>
    public string Name => _netns.Name;

    /// <summary>Creates the namespace, runs the commands, enters it and opens the sockets.</summary>
    /// <exception cref="InvalidOperationException">A command failed, or a socket could not be opened.</exception>
    /// <exception cref="NotSupportedException">A command is neither <c>ip</c> nor <c>sysctl</c>.</exception>
    public static CrossCheckNamespace Create(CrossCheckEnvironment environment)
    {
        var ns = new CrossCheckNamespace(KernelNetns.Create(environment.Netns ?? new NetnsSpec()));
        try
        {
            foreach (string command in environment.Commands)
            {
                ns.RunCommand(command);
            }

            ns._scope = ns._netns.Enter();
            ns._entered = true;
            foreach (var s in environment.Sockets)
            {
                ns._sockets.Add(Open(s));
            }

            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>Closes the sockets, leaves and deletes the namespace.</summary>
    public void Dispose()
    {
        foreach (var s in _sockets)
        {
            s.Dispose();
        }

        _sockets.Clear();
        if (_entered)
        {
            _entered = false;
            _scope.Dispose();
        }

        _netns.Dispose();
    }

    private void RunCommand(string command)
    {
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return;
        }

        switch (words[0])
        {
            case "ip":
                _netns.In(words[1..]);
                break;
            case "sysctl":
                Exec("ip", ["netns", "exec", _netns.Name, .. words]);
                break;
            default:
                throw new NotSupportedException($"environment command \"{command}\": only ip and sysctl commands are run");
        }
    }

    private static void Exec(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        _ = stdout.Result;
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)}: exit {p.ExitCode}: {stderr.Trim()}");
        }
    }

    // socket(2) takes the calling thread's network namespace: this runs after Enter, on the same thread.
    private static Socket Open(CrossCheckSocket spec)
    {
        bool tcp = spec.Proto switch
        {
            "tcp" => true,
            "udp" => false,
            _ => throw new NotSupportedException($"socket protocol \"{spec.Proto}\" (tcp or udp)"),
        };
        try
        {
            if (spec.Listen is { } listen)
            {
                var ep = IPEndPoint.Parse(listen);
                var s = New(ep, tcp);
                s.Bind(ep);
                if (tcp)
                {
                    s.Listen(16);
                }

                return s;
            }

            if (spec.Bind is { } bind)
            {
                var ep = IPEndPoint.Parse(bind);
                var s = New(ep, tcp);
                s.Bind(ep);
                return s;
            }

            if (spec.Connect is { } connect)
            {
                int arrow = connect.IndexOf("->", StringComparison.Ordinal);
                if (arrow < 0)
                {
                    throw new FormatException($"socket \"connect\": \"{connect}\" is not LOCAL->REMOTE");
                }

                var local = IPEndPoint.Parse(connect[..arrow]);
                var remote = IPEndPoint.Parse(connect[(arrow + 2)..]);
                var s = New(local, tcp);
                s.Bind(local);
                s.Connect(remote);
                return s;
            }
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"socket {spec}: {e.SocketErrorCode}: {e.Message}", e);
        }

        throw new FormatException($"socket {spec}: give listen, bind or connect");
    }

    private static Socket New(IPEndPoint ep, bool tcp)
    {
        var s = new Socket(ep.AddressFamily, tcp ? SocketType.Stream : SocketType.Dgram, tcp ? ProtocolType.Tcp : ProtocolType.Udp);
        s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        return s;
    }
}
