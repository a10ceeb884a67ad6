using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>CPU, time, randomness, probes and string helpers.</summary>
public class SystemHelperTests
{
    [Fact]
    public void Prandom_KernelAlgorithm_KnownSequence()
    {
        // prandom_seed_state(0) then prandom_u32_state x4 (LFSR113, lib/random32.c), computed independently.
        var p = Prandom.FromSeed(0);
        Assert.Equal([1574944u, 268744u, 1109394980u, 8552980u], new[] { p.Next(), p.Next(), p.Next(), p.Next() });
        var q = Prandom.FromSeed(0xdeadbeef);
        Assert.Equal([1102069293u, 3938551990u, 1700228878u, 3940971296u], new[] { q.Next(), q.Next(), q.Next(), q.Next() });
    }

    [Fact]
    public void GetPrandomU32_FromSeed_ContinuesAcrossPackets()
    {
        using var obj = Rt.Load("call bpf_get_prandom_u32\nexit");
        using var runner = new XdpRunner(obj, null, new RunOptions { Seed = 1 });
        Assert.Equal(276959246u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(18909696u, runner.Run(Rt.Frame()).Retval);
    }

    [Fact]
    public void SmpProcessorId_IsTheRunsCpu() =>
        Assert.Equal(1u, Rt.RunOnce("call bpf_get_smp_processor_id\nexit", options: new RunOptions { Cpu = 1 }).Retval);

    [Fact]
    public void NumaNode_Zero() => Assert.Equal(0u, Rt.RunOnce("call bpf_get_numa_node_id\nexit").Retval);

    [Fact]
    public void Ktime_AllClocksEqual_TimeNs()
    {
        const string asm = """
            call bpf_ktime_get_ns
            r6 = r0
            call bpf_ktime_get_boot_ns
            r6 ^= r0
            call bpf_ktime_get_coarse_ns
            r6 ^= r0
            call bpf_ktime_get_tai_ns
            r6 ^= r0
            r0 = r6
            exit
            """;
        Assert.Equal(0u, Rt.RunOnce(asm, options: new RunOptions { TimeNs = 123456789 }).Retval);
        Assert.Equal(123456789u, Rt.RunOnce("call bpf_ktime_get_tai_ns\nexit", options: new RunOptions { TimeNs = 123456789 }).Retval);
    }

    [Fact]
    public void Jiffies64_InitialJiffiesPlusTicks()
    {
        // HZ 250: 4 ms per tick; INITIAL_JIFFIES = (u32)-75000.
        var o = Rt.RunOnce("call bpf_jiffies64\nexit", options: new RunOptions { TimeNs = 40_000_000 });
        Assert.Equal(unchecked((uint)(4294892296UL + 10)), o.Retval);
        Assert.Equal(4294892296UL, TimeHelpers.InitialJiffies(250));
    }

    [Fact]
    public void ProbeReadKernel_OwnedMemory_Copies_OtherwiseEfaultAndZeroed()
    {
        // copy the packet's first 8 bytes to the stack: 0, then r0 = the bytes
        var ok = Rt.RunOnce("""
            r3 = *(u32 *)(r1 +0)
            r1 = r10
            r1 += -8
            r2 = 8
            call bpf_probe_read_kernel
            r0 = *(u64 *)(r10 -8)
            exit
            """);
        Assert.Equal(0x03020100u, ok.Retval);
        var bad = Rt.RunOnce("""
            *(u64 *)(r10 -8) = -1
            r1 = r10
            r1 += -8
            r2 = 8
            r3 = 64
            call bpf_probe_read_kernel
            r6 = r0
            r0 = *(u64 *)(r10 -8)
            r0 |= r6
            exit
            """);
        Assert.Equal(Rt.Err(Errno.EFAULT), bad.Retval);   // destination zeroed, so only the errno remains
    }

    [Theory]
    [InlineData(16, 4u)]    // "abc" and its NUL
    [InlineData(3, 3u)]     // truncated: "ab" and a NUL
    [InlineData(0, 0u)]
    public void ProbeReadKernelStr_LengthWithNul(int size, uint expected)
    {
        var rodata = Rt.Global(".rodata", "abc\0"u8.ToArray());
        var o = Rt.RunOnce($"r3 = map[idx:0][0]+0\nr1 = r10\nr1 += -16\nr2 = {size}\ncall bpf_probe_read_kernel_str\nexit", maps: rodata);
        Assert.Equal(expected, o.Retval);
    }

    [Fact]
    public void ProbeReadUser_AlwaysEfault() =>
        Assert.Equal(Rt.Err(Errno.EFAULT), Rt.RunOnce("r3 = r10\nr3 += -16\nr1 = r10\nr1 += -8\nr2 = 8\ncall bpf_probe_read_user\nexit").Retval);

    // r0 = bpf_strtol(str, len, flags, &fp-8); r0 = r0 << 32 | (u32)*res
    private static uint[] Strto(string helper, string text, ulong flags)
    {
        var rodata = Rt.Global(".rodata", System.Text.Encoding.ASCII.GetBytes(text));
        var o = Rt.RunOnce($"""
            *(u64 *)(r10 -8) = 99
            r1 = map[idx:0][0]+0
            r2 = {text.Length}
            r3 = {flags}
            r4 = r10
            r4 += -8
            call {helper}
            r6 = *(u64 *)(r10 -8)
            *(u64 *)(r10 -16) = r6
            r1 = map[idx:1][0]+0
            *(u64 *)(r1 +0) = r6
            exit
            """, maps: [rodata, Rt.Global(".bss", new byte[8], frozen: false)]);
        return [o.Retval, 0];
    }

    [Theory]
    [InlineData("  -12x", 0UL, 5)]
    [InlineData("0x1f", 0UL, 4)]
    [InlineData("0x1f", 10UL, 1)]
    [InlineData("017", 0UL, 3)]
    [InlineData("18", 8UL, 1)]
    [InlineData("x", 0UL, -Errno.EINVAL)]
    [InlineData("12", 0x20UL, -Errno.EINVAL)]
    [InlineData("12", 7UL, -Errno.EINVAL)]
    [InlineData("99999999999999999999", 0UL, -Errno.ERANGE)]
    public void Strtol_ConsumedOrErrno(string text, ulong flags, int expected) =>
        Assert.Equal(unchecked((uint)expected), Strto("bpf_strtol", text, flags)[0]);

    [Fact]
    public void Strtoul_Negative_Einval() =>
        Assert.Equal(Rt.Err(Errno.EINVAL), Strto("bpf_strtoul", "-5", 0)[0]);

    [Fact]
    public void Strtol_ResultAndZeroOnError()
    {
        var rodata = Rt.Global(".rodata", "-42 12"u8.ToArray());
        const string asm = """
            *(u64 *)(r10 -8) = 99
            r1 = map[idx:0][0]+0
            r2 = R2
            r3 = 0
            r4 = r10
            r4 += -8
            call bpf_strtol
            r0 = *(u64 *)(r10 -8)
            exit
            """;
        Assert.Equal(unchecked((uint)-42), Rt.RunOnce(asm.Replace("R2", "6", StringComparison.Ordinal), maps: rodata).Retval);
        Assert.Equal(0u, Rt.RunOnce(asm.Replace("R2", "0", StringComparison.Ordinal), maps: rodata).Retval);   // -EINVAL leaves *res = 0
    }

    [Theory]
    [InlineData("abc\0", "abc\0", 0u)]
    [InlineData("abd\0", "abc\0", 1u)]
    [InlineData("abb\0", "abc\0", 0xffffffffu)]
    [InlineData("abX\0", "abc\0", 0xffffffffu)]
    public void Strncmp_KernelSign(string s1, string s2, uint expected)
    {
        var rodata = Rt.Global(".rodata", System.Text.Encoding.ASCII.GetBytes(s1 + s2));
        var o = Rt.RunOnce($"r1 = map[idx:0][0]+0\nr2 = {s1.Length}\nr3 = map[idx:0][0]+{s1.Length}\ncall bpf_strncmp\nexit", maps: rodata);
        Assert.Equal(expected, o.Retval);
    }
}
