using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>One hand-assembled XDP program loaded with its maps and a <see cref="NetEnvironment"/>, run frame by frame.</summary>
internal sealed class NetRun : IDisposable
{
    private readonly LoadedObject _obj;
    private readonly XdpRunner _runner;

    public NetRun(string asm, NetEnvironment? net = null, RunOptions? options = null, params MapSpec[] maps)
        : this(asm, net, options, deviceBound: false, maps)
    {
    }

    public NetRun(string asm, NetEnvironment? net, RunOptions? options, bool deviceBound, params MapSpec[] maps)
    {
        _obj = LoadedObject.Create(maps, [Rt.Xdp(asm)], new LoadOptions { PossibleCpus = 2, DeviceBound = deviceBound });
        _runner = new XdpRunner(_obj, null, options);
        if (net is not null)
        {
            State.Environment = net;
        }
    }

    public NetRunState State => NetRunState.For(_runner.Env);

    public RuntimeEnv Env => _runner.Env;

    public LoadedObject Object => _obj;

    /// <summary>Runs one frame (60 bytes of i &amp; 0xff by default).</summary>
    public Outcome Run(byte[]? frame = null) => Outcome.Of(_runner.Run(frame ?? Rt.Frame()));

    public void Dispose()
    {
        _runner.Dispose();
        _obj.Dispose();
    }

    public static Outcome Once(string asm, byte[]? frame = null, NetEnvironment? net = null, params MapSpec[] maps)
    {
        using var r = new NetRun(asm, net, null, maps);
        return r.Run(frame);
    }

    public static string? Fault(Outcome o) => o.Error?.Message;
}
