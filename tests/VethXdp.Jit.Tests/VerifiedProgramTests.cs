using System.Reflection;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;
using static VethXdp.Jit.Tests.Asm;

namespace VethXdp.Jit.Tests;

/// <summary>The unchecked JIT runs only programs the verifier vouched for, and nothing but the verifier can vouch.</summary>
public class VerifiedProgramTests
{
    [Fact]
    public void VerifiedProgram_HasNoPublicConstructor()
    {
        var type = typeof(VerifiedProgram);
        Assert.True(type.IsSealed);
        Assert.Empty(type.GetConstructors(BindingFlags.Public | BindingFlags.Instance));
        Assert.All(type.GetConstructors(BindingFlags.NonPublic | BindingFlags.Instance), c => Assert.True(c.IsAssembly));
        var visibleTo = type.Assembly.GetCustomAttributes<System.Runtime.CompilerServices.InternalsVisibleToAttribute>().Select(a => a.AssemblyName).ToArray();
        Assert.Contains("VethXdp.Verifier", visibleTo);
        Assert.DoesNotContain("VethXdp.Jit", visibleTo);
    }

    [Fact]
    public void UncheckedFactory_UnverifiedProgram_RefusedNamingJitChecked()
    {
        var program = new ExecutableProgram(BpfProgram.Create([Mov64(R0, 1), Exit()], "xdp_x"));
        var factory = JitEngineFactory.Unchecked([]);
        Assert.Equal("jit", factory.Name);
        var e = Assert.Throws<UnverifiedProgramException>(() => factory.Create(program, null, null, null));
        Assert.Equal("program xdp_x was not verified: use --engine jit-checked (or interp)", e.Message);
        Assert.Equal("xdp_x", e.ProgramName);
    }

    [Fact]
    public void XdpRunner_UncheckedFactory_RefusesUnverifiedProgram()
    {
        using var obj = LoadedObject.Create([], [Xdp.Prog("r0 = 2\nexit", "xdp_pass")], new LoadOptions { PossibleCpus = 1 });
        Assert.Throws<UnverifiedProgramException>(() => new XdpRunner(obj, null, null, JitEngineFactory.Unchecked([])));
    }

    [Fact]
    public void CheckedFactory_AnyProgram_RunsCheckedMode()
    {
        var program = new ExecutableProgram(BpfProgram.Create([Mov64(R0, 1), Exit()]));
        using var engine = (JitEngine)JitEngineFactory.Checked.Create(program, null, null, null);
        Assert.Equal("jit-checked", engine.EngineName);
        Assert.Equal(JitMode.Checked, engine.Program.Mode);
        Assert.Equal(1UL, engine.RunWithMemory([]).R0);
    }

    [Fact]
    public void UncheckedCode_ContextLoadsStillGivePointers()
    {
        // r0 = data_end - data: the unchecked code still recognises the context by its address.
        var prog = BpfProgram.Create([I(Op.LdxW, R2, R1, 0), I(Op.LdxW, R0, R1, 4), I(Op.Sub64Reg, R0, R2), Exit()]);
        using var vm = new JitEngine(JitCompiler.CompileUnverified(new ExecutableProgram(prog)));
        Assert.Equal("jit", vm.EngineName);
        Assert.Equal(33UL, vm.RunXdp(new byte[33]).R0);
    }

    [Fact]
    public void InterpreterEngine_IsTheDefault()
    {
        Assert.Equal("interp", InterpreterEngineFactory.Instance.Name);
        var program = new ExecutableProgram(BpfProgram.Create([Mov64(R0, 5), Exit()]));
        using var engine = InterpreterEngineFactory.Instance.Create(program, null, new InterpreterOptions { InstructionBudget = 10 }, null);
        Assert.Equal(5UL, engine.RunWithMemory([]).R0);
    }
}
