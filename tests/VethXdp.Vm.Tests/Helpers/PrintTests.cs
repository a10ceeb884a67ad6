using System.Runtime.InteropServices;
using System.Text;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>bpf_trace_printk formatting: every case below was printed by Linux 6.18 through trace_pipe (the message
/// and the return value), from a program calling bpf_trace_printk(fmt, sizeof(fmt), a1, a2, a3).</summary>
public sealed unsafe class PrintTests : IDisposable
{
    private const ulong Str = 1, Ip4 = 2, Ip6 = 3, Bad = 4;

    private readonly byte[] _memory = GC.AllocateArray<byte>(64, pinned: true);
    private readonly RuntimeEnv _env = new();
    private readonly ulong _base;

    public PrintTests()
    {
        _base = (ulong)Marshal.UnsafeAddrOfPinnedArrayElement(_memory, 0);
        "abc\0"u8.CopyTo(_memory);
        new byte[] { 192, 168, 0, 1 }.CopyTo(_memory, 16);
        new byte[] { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }.CopyTo(_memory, 32);
        _env.Regions.Add(new MemoryRegion(_base, 64, RegionKind.MapValue, true, "test memory"));
    }

    public void Dispose() => _env.Regions.Clear();

    // Arguments 1..4 stand for pointers to "abc", 192.168.0.1, 2001:db8::1 and an address nothing covers.
    private ulong Arg(ulong a) => a switch
    {
        Str => _base,
        Ip4 => _base + 16,
        Ip6 => _base + 32,
        Bad => 8,
        _ => a,
    };

    private (int Ret, string Text) Print(string format, params ulong[] args)
    {
        var fmt = Encoding.ASCII.GetBytes(format + "\0");
        var argv = new ulong[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            argv[i] = Arg(args[i]);
        }

        var output = new byte[BpfPrintf.MaxBuf];
        int ret = BpfPrintf.Format(_env, fmt, argv, output);
        int nul = Array.IndexOf(output, (byte)0);
        return (ret, ret < 0 ? string.Empty : Encoding.ASCII.GetString(output, 0, nul));
    }

    [Theory]
    [InlineData("hello %d world\n", 15, "hello 42 world\n", 42UL, 0UL, 0UL)]
    [InlineData("%d %i %u", 16, "-1 -2 4294967293", 0xffffffffffffffffUL, 0xfffffffffffffffeUL, 0xfffffffffffffffdUL)]
    [InlineData("%ld %lu %lld", 26, "-1 18446744073709551614 -3", 0xffffffffffffffffUL, 0xfffffffffffffffeUL, 0xfffffffffffffffdUL)]
    [InlineData("%x %X %lx", 16, "ff FF abcdef0123", 255UL, 255UL, 0xabcdef0123UL)]
    [InlineData("%llx %llu %lli", 40, "ffffffffffffffff 18446744073709551615 -1", ulong.MaxValue, ulong.MaxValue, ulong.MaxValue)]
    [InlineData("[%5d] [%-5d] [%05d]", 23, "[   42] [42   ] [00042]", 42UL, 42UL, 42UL)]
    [InlineData("[%+d] [% d] [%+5d]", 19, "[+42] [ 42] [  -42]", 42UL, 42UL, 0xffffffffffffffd6UL)]
    [InlineData("[%08x] [%-8x] [%8lx]", 32, "[000000ff] [ff      ] [      ff]", 255UL, 255UL, 255UL)]
    [InlineData("%c%c%c", 3, "ABC", 65UL, 66UL, 0x143UL)]
    [InlineData("[%5c] [%-3c]", 13, "[    A] [B  ]", 65UL, 66UL, 0UL)]
    [InlineData("s=%s!", 6, "s=abc!", Str, 0UL, 0UL)]
    [InlineData("[%10s] [%-10s]", 25, "[       abc] [abc       ]", Str, Str, 0UL)]
    [InlineData("s=%s", 2, "s=", Bad, 0UL, 0UL)]
    [InlineData("%pI4", 11, "192.168.0.1", Ip4, 0UL, 0UL)]
    [InlineData("%pi4", 15, "192.168.000.001", Ip4, 0UL, 0UL)]
    [InlineData("%pI6", 39, "2001:0db8:0000:0000:0000:0000:0000:0001", Ip6, 0UL, 0UL)]
    [InlineData("%pi6", 32, "20010db8000000000000000000000001", Ip6, 0UL, 0UL)]
    [InlineData("%pI6c", 39, "2001:0db8:0000:0000:0000:0000:0000:0001", Ip6, 0UL, 0UL)]
    [InlineData("%pI4h", 11, "192.168.0.1", Ip4, 0UL, 0UL)]
    [InlineData("%pI4 %d", 9, "0.0.0.0 5", Bad, 5UL, 0UL)]
    [InlineData("%px", 16, "0000000000001234", 0x1234UL, 0UL, 0UL)]
    [InlineData("%ps", 6, "0x1234", 0x1234UL, 0UL, 0UL)]
    [InlineData("%pS", 6, "0x1234", 0x1234UL, 0UL, 0UL)]
    [InlineData("%pB", 6, "0x1234", 0x1234UL, 0UL, 0UL)]
    [InlineData("%pks", 3, "abc", Str, 0UL, 0UL)]
    [InlineData("%pus", 0, "", Str, 0UL, 0UL)]
    [InlineData("%%d %d", 4, "%d 7", 7UL, 0UL, 0UL)]
    [InlineData("%lld%%", 2, "5%", 5UL, 0UL, 0UL)]
    [InlineData("%0-5d", 5, "5    ", 5UL, 0UL, 0UL)]
    [InlineData("%-05d", 5, "5    ", 5UL, 0UL, 0UL)]
    [InlineData("%d", 2, "-1", 0x1ffffffffUL, 0UL, 0UL)]
    [InlineData("%u", 10, "2147483648", 0xffffffff80000000UL, 0UL, 0UL)]
    [InlineData("%i", 11, "-2147483648", 0x80000000UL, 0UL, 0UL)]
    [InlineData("%c", 1, "", 0UL, 0UL, 0UL)]
    [InlineData("a%cb", 3, "a", 0UL, 0UL, 0UL)]
    public void TracePrintk_AsLinux(string format, int ret, string text, ulong a1, ulong a2, ulong a3)
    {
        var (r, t) = Print(format, a1, a2, a3);
        Assert.Equal(ret, r);
        Assert.Equal(text, t);
    }

    [Theory]
    [InlineData("%d %d %d %d")]     // four conversions, three arguments
    [InlineData("%sx")]             // %s followed by a letter
    [InlineData("%s1")]
    [InlineData("%.3d")]            // no precision
    [InlineData("%hd")]
    [InlineData("%#x")]
    [InlineData("%z")]
    [InlineData("%pa")]
    [InlineData("bad \x01 char")]
    [InlineData("%")]
    [InlineData("end %")]
    [InlineData("%10.d")]
    [InlineData("%5%")]
    public void TracePrintk_RefusedFormat_Einval(string format) =>
        Assert.Equal(-Errno.EINVAL, Print(format, 1, 2, 3).Ret);

    [Fact]
    public void PointerHash_SixteenDigitsWithEightZeros()
    {
        var (ret, text) = Print("%p %pK", 0x1234, 0x1234);
        Assert.Equal(33, ret);
        Assert.Matches("^00000000[0-9a-f]{8} 00000000[0-9a-f]{8}$", text);
        Assert.Equal(text[..16], text[17..]);
    }

    [Fact]
    public void Format_NoNul_Einval()
    {
        var output = new byte[16];
        Assert.Equal(-Errno.EINVAL, BpfPrintf.Format(_env, "abc"u8, [], output));
    }

    [Fact]
    public void Format_StringsPastBinArgs_Enospc()
    {
        // Strings of 63 characters take 64 bytes each of the 512-byte argument buffer: 8 fit, a 9th does not.
        var mem = GC.AllocateArray<byte>(64, pinned: true);
        Array.Fill(mem, (byte)'x');
        mem[63] = 0;
        ulong p = (ulong)Marshal.UnsafeAddrOfPinnedArrayElement(mem, 0);
        _env.Regions.Add(new MemoryRegion(p, 64, RegionKind.MapValue, false, "big"));
        var args = Enumerable.Repeat(p, 12).ToArray();
        var output = new byte[4096];
        var eight = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("%s ", 8)) + "\0");
        Assert.Equal(8 * 64, BpfPrintf.Format(_env, eight, args, output));
        var nine = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("%s ", 9)) + "\0");
        Assert.Equal(-Errno.ENOSPC, BpfPrintf.Format(_env, nine, args, output));

        // After 7 strings (448 bytes) and an int (4), a string gets the 60 bytes left: 59 characters and a NUL.
        var truncated = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("%s", 7)) + "%d%s\0");
        Assert.Equal((7 * 63) + 1 + 59, BpfPrintf.Format(_env, truncated, [p, p, p, p, p, p, p, 7, p], output));
    }

    [Fact]
    public void TracePrintk_Program_MessageCapturedFromRodata()
    {
        var rodata = Rt.Global(".rodata", Encoding.ASCII.GetBytes("pkt %d bytes\n\0"));
        var o = Rt.RunOnce("""
            r6 = r1
            r2 = *(u32 *)(r6 +0)
            r3 = *(u32 *)(r6 +4)
            r3 -= r2
            r1 = map[idx:0][0]+0
            r2 = 14
            call bpf_trace_printk
            exit
            """, maps: rodata);
        Assert.Equal(13u, o.Retval);
        Assert.Equal(["pkt 60 bytes\n"], o.Trace);
    }

    [Fact]
    public void TracePrintk_BadFormat_NoMessage()
    {
        var rodata = Rt.Global(".rodata", Encoding.ASCII.GetBytes("%q\0"));
        var o = Rt.RunOnce("r1 = map[idx:0][0]+0\nr2 = 3\ncall bpf_trace_printk\nexit", maps: rodata);
        Assert.Equal(Rt.Err(Errno.EINVAL), o.Retval);
        Assert.Empty(o.Trace);
    }

    [Fact]
    public void TraceVprintk_FiveArguments()
    {
        var rodata = Rt.Global(".rodata", Encoding.ASCII.GetBytes("%d %d %d %d %d\0"));
        var o = Rt.RunOnce("""
            *(u64 *)(r10 -40) = 1
            *(u64 *)(r10 -32) = 2
            *(u64 *)(r10 -24) = 3
            *(u64 *)(r10 -16) = 4
            *(u64 *)(r10 -8) = 5
            r1 = map[idx:0][0]+0
            r2 = 15
            r3 = r10
            r3 += -40
            r4 = 40
            call bpf_trace_vprintk
            exit
            """, maps: rodata);
        Assert.Equal(9u, o.Retval);
        Assert.Equal(["1 2 3 4 5"], o.Trace);
    }

    [Fact]
    public void TraceVprintk_DataLengthNotMultipleOfEight_Einval()
    {
        var rodata = Rt.Global(".rodata", Encoding.ASCII.GetBytes("%d\0"));
        Assert.Equal(Rt.Err(Errno.EINVAL), Rt.RunOnce("r1 = map[idx:0][0]+0\nr2 = 3\nr3 = r10\nr3 += -8\nr4 = 4\ncall bpf_trace_vprintk\nexit", maps: rodata).Retval);
    }

    [Fact]
    public void Snprintf_WritesAndReturnsLengthPlusOne()
    {
        var rodata = Rt.Global(".rodata", Encoding.ASCII.GetBytes("v=%d\0"));
        var o = Rt.RunOnce("""
            *(u64 *)(r10 -8) = 1234
            r1 = r10
            r1 += -24
            r2 = 16
            r3 = map[idx:0][0]+0
            r4 = r10
            r4 += -8
            r5 = 8
            call bpf_snprintf
            r1 = *(u64 *)(r10 -24)
            r1 <<= 8
            r0 |= r1
            exit
            """, maps: rodata);
        // "v=1234" + NUL = 7; the first bytes of the buffer land above r0's low byte.
        Assert.Equal(7u, o.Retval & 0xff);
        Assert.Equal((uint)'v' | ((uint)'=' << 8) | ((uint)'1' << 16), o.Retval >> 8);
    }

    [Fact]
    public void Snprintf_Truncates_ReturnsFullLengthPlusOne()
    {
        var rodata = Rt.Global(".rodata", Encoding.ASCII.GetBytes("abcdefgh\0"));
        var o = Rt.RunOnce("""
            r1 = r10
            r1 += -8
            r2 = 4
            r3 = map[idx:0][0]+0
            r4 = 0
            r5 = 0
            call bpf_snprintf
            r1 = *(u32 *)(r10 -8)
            r1 <<= 8
            r0 |= r1
            exit
            """, maps: rodata);
        Assert.Equal(9u, o.Retval & 0xff);
        Assert.Equal((uint)'a' | ((uint)'b' << 8) | ((uint)'c' << 16), o.Retval >> 8);   // "abc" and a NUL
    }
}
