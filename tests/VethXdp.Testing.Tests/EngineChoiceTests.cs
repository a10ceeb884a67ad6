using VethXdp.Vm.Runtime;

namespace VethXdp.Testing.Tests;

/// <summary>XdpProperty.WithEngine: the engine a property's frames run on, chosen before the first frame.</summary>
public class EngineChoiceTests
{
    [Fact]
    public void Engine_NotChosen_IsTheInterpreter()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter"));
        Assert.Equal("interp", p.Engine);
        Assert.Equal("interp", p.Runner.Engine.EngineName);
    }

    [Fact]
    public void WithEngine_BeforeTheFirstFrame_FramesRunOnThatEngine()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter")).WithEngine(new NamedInterpreter());
        Assert.Equal(NamedInterpreter.EngineName, p.Engine);
        p.Verify(Frames.Spec().Ipv4().Tcp(dstPorts: 22).Untagged().WellFormed(), XdpAssert.VerdictIs(XdpAction.Drop), maxTest: 50);
        Assert.True(NamedInterpreter.Created > 0);
    }

    [Fact]
    public void WithEngine_AfterAFrameRan_Throws()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter"));
        p.Verify(Frames.Spec().Ipv4().Tcp(dstPorts: 22).Untagged().WellFormed(), XdpAssert.VerdictIs(XdpAction.Drop), maxTest: 5);
        Assert.Throws<InvalidOperationException>(() => p.WithEngine(InterpreterEngineFactory.Instance));
    }

    // The interpreter under another name, to see that the property used the factory it was given.
    private sealed class NamedInterpreter : IBpfEngineFactory
    {
        public const string EngineName = "interp-under-test";

        public static int Created { get; private set; }

        public string Name => EngineName;

        public IBpfEngine Create(Vm.Interpreter.ExecutableProgram program, Vm.Helpers.HelperTable? helpers, Vm.Interpreter.InterpreterOptions? options, Vm.Helpers.RuntimeEnv? env)
        {
            Created++;
            return InterpreterEngineFactory.Instance.Create(program, helpers, options, env);
        }
    }
}
