using System.Buffers.Binary;

namespace VethXdp.Vm.Helpers;

/// <summary>The formatting behind bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf, with the kernel's rules:
/// <c>bpf_bprintf_prepare()</c> checks the format and copies the arguments, then <c>bstr_printf()</c> prints.</summary>
/// <remarks>
/// <para>Accepted (kernel/bpf/helpers.c): printable ASCII and white space; <c>%%</c>; flags <c>0 + - space</c>; a width
/// (no precision, no <c>*</c>); <c>%d %i %u %x %X</c> with <c>l</c> or <c>ll</c> (int without, 64 bits with);
/// <c>%c</c>; <c>%s</c>, <c>%pks</c>, <c>%pus</c> (which must be followed by the end, white space or punctuation);
/// <c>%p %pK %px %ps %pS %pB</c>; <c>%pi4 %pI4 %pi6 %pI6</c>. Anything else, more conversions than arguments, or a
/// format without a NUL is -EINVAL; argument copies past 512 bytes are -ENOSPC.</para>
/// <para>Checked on Linux 6.18 against trace_pipe: a string argument the run does not own prints as empty; an IP
/// address it does not own prints as zeros; <c>%pus</c> (user memory) is always empty; <c>%ps %pS %pB</c> print
/// <c>0x</c> and the hex value (no kernel symbol matches); <c>%px</c> prints 16 hex digits. <c>%p</c> and <c>%pK</c>
/// print a hashed value in the kernel (00000000 and 8 hex digits from a per-boot key); here the 8 digits come from
/// a fixed hash of the address, so they are stable within a run but not equal to the kernel's.</para>
/// </remarks>
internal static class BpfPrintf
{
    /// <summary>MAX_BPRINTF_BUF: the output buffer of trace_printk.</summary>
    public const int MaxBuf = 1024;

    /// <summary>MAX_BPRINTF_BIN_ARGS: room for the copied arguments.</summary>
    public const int MaxBinArgs = 512;

    /// <summary>MAX_BPRINTF_VARARGS: arguments of trace_vprintk and snprintf.</summary>
    public const int MaxVarargs = 12;

    private const int Left = 1, Plus = 2, Space = 4, ZeroPad = 8, Sign = 16, Small = 32;

    private enum ArgKind : byte
    {
        Int32,
        Int64,
        Char,
        Text,
        Pointer,
    }

    private struct Arg
    {
        public ArgKind Kind;
        public ulong Value;
        public int TextOffset;
        public int TextLength;
    }

    [System.Runtime.CompilerServices.InlineArray(MaxVarargs)]
    private struct ArgArray
    {
        private Arg _a0;
    }

    /// <summary>Formats <paramref name="format"/> (which must contain its NUL) with <paramref name="args"/> into
    /// <paramref name="output"/> as bstr_printf does (at most output.Length - 1 bytes and a NUL when output is not
    /// empty). Returns the full length (without the NUL) the text has, or a negative errno.</summary>
    public static int Format(RuntimeEnv env, ReadOnlySpan<byte> format, ReadOnlySpan<ulong> args, Span<byte> output)
    {
        int nul = format.IndexOf((byte)0);
        if (nul < 0)
        {
            return -Maps.Errno.EINVAL;
        }

        var fmt = format[..(nul + 1)];   // keep the NUL: the kernel reads fmt[i + 1], fmt[i + 2] freely
        Span<byte> bin = stackalloc byte[MaxBinArgs];
        var parsed = default(ArgArray);
        int err = Prepare(env, fmt, args, bin, parsed);
        if (err < 0)
        {
            return err;
        }

        return Print(fmt, parsed, bin, output);
    }

    // kernel: bpf_bprintf_prepare(). Checks the format and copies every argument (strings and IP addresses are
    // read now, like the kernel copies them into its bin_args buffer, whose 512 bytes are accounted the same way).
    private static int Prepare(RuntimeEnv env, ReadOnlySpan<byte> fmt, ReadOnlySpan<ulong> args, Span<byte> bin, Span<Arg> parsed)
    {
        int size = fmt.Length - 1;
        int used = 0;       // tmp_buf - tmp_buf_start
        Span<byte> ipBuffer = stackalloc byte[16];
        int spec = 0;
        for (int i = 0; i < size; i++)
        {
            byte c = fmt[i];
            if ((!IsPrint(c) && !IsSpace(c)) || c > 127)
            {
                return -Maps.Errno.EINVAL;
            }

            if (c != '%')
            {
                continue;
            }

            if (fmt[i + 1] == '%')
            {
                i++;
                continue;
            }

            if (spec >= args.Length)
            {
                return -Maps.Errno.EINVAL;
            }

            i++;
            while (fmt[i] is (byte)'0' or (byte)'+' or (byte)'-' or (byte)' ')
            {
                i++;
            }

            if (fmt[i] >= '1' && fmt[i] <= '9')
            {
                i++;
                while (fmt[i] >= '0' && fmt[i] <= '9')
                {
                    i++;
                }
            }

            ulong raw = args[spec];
            ref Arg arg = ref parsed[spec];
            int argSize;
            if (fmt[i] == 'p')
            {
                if ((fmt[i + 1] == 'k' || fmt[i + 1] == 'u') && fmt[i + 2] == 's')
                {
                    byte kind = fmt[i + 1];
                    i += 2;
                    int e = CopyStringArg(env, fmt, i, raw, userMemory: kind == 'u', bin, ref used, ref arg);
                    if (e < 0)
                    {
                        return e;
                    }

                    spec++;
                    continue;
                }

                byte next = fmt[i + 1];
                if (next == 0 || IsSpace(next) || IsPunct(next) || next is (byte)'K' or (byte)'x' or (byte)'s' or (byte)'S')
                {
                    i++;
                    arg.Kind = ArgKind.Pointer;
                    arg.Value = raw;
                    argSize = 8;
                }
                else if (next == 'B')
                {
                    // snprintf("%pB"): no kernel symbol matches one of our addresses, so it prints 0x and the value.
                    int n = FormatSymbolless(raw, bin[used..], out int full);
                    arg = new Arg { Kind = ArgKind.Text, TextOffset = used, TextLength = n };
                    used = Math.Min(used + full + 1, MaxBinArgs);
                    i++;
                    spec++;
                    continue;
                }
                else
                {
                    if ((next != 'i' && next != 'I') || (fmt[i + 2] != '4' && fmt[i + 2] != '6'))
                    {
                        return -Maps.Errno.EINVAL;
                    }

                    i += 2;
                    int ipSize = fmt[i] == '4' ? 4 : 16;
                    if (MaxBinArgs - used < ipSize)
                    {
                        return -Maps.Errno.ENOSPC;
                    }

                    var ip = ipBuffer[..ipSize];
                    if (env.IsReadable(raw, ipSize))
                    {
                        env.Load(raw, ipSize).CopyTo(ip);
                    }
                    else
                    {
                        ip.Clear();
                    }

                    int n = FormatIp(ip, upper: fmt[i - 1] == 'I', bin[used..], out int full);
                    arg = new Arg { Kind = ArgKind.Text, TextOffset = used, TextLength = n };
                    used = Math.Min(used + full + 1, MaxBinArgs);
                    spec++;
                    continue;
                }
            }
            else if (fmt[i] == 's')
            {
                int e = CopyStringArg(env, fmt, i, raw, userMemory: false, bin, ref used, ref arg);
                if (e < 0)
                {
                    return e;
                }

                spec++;
                continue;
            }
            else if (fmt[i] == 'c')
            {
                if (used == MaxBinArgs)
                {
                    return -Maps.Errno.ENOSPC;
                }

                arg.Kind = ArgKind.Char;
                arg.Value = (byte)raw;
                used++;
                spec++;
                continue;
            }
            else
            {
                argSize = 4;
                if (fmt[i] == 'l')
                {
                    argSize = 8;
                    i++;
                }

                if (fmt[i] == 'l')
                {
                    argSize = 8;
                    i++;
                }

                if (fmt[i] is not ((byte)'i' or (byte)'d' or (byte)'u' or (byte)'x' or (byte)'X'))
                {
                    return -Maps.Errno.EINVAL;
                }

                arg.Kind = argSize == 8 ? ArgKind.Int64 : ArgKind.Int32;
                arg.Value = raw;
            }

            // nocopy_fmt: the value goes into bin_args, 4-byte aligned.
            used = (used + 3) & ~3;
            if (MaxBinArgs - used < argSize)
            {
                return -Maps.Errno.ENOSPC;
            }

            used += argSize;
            spec++;
        }

        return 0;
    }

    // %s, %pks, %pus: the next character must end the conversion; the string is copied into bin_args (truncated to
    // the room left); one the run does not own (or any user-memory string) is empty.
    private static int CopyStringArg(RuntimeEnv env, ReadOnlySpan<byte> fmt, int i, ulong raw, bool userMemory, Span<byte> bin, ref int used, ref Arg arg)
    {
        byte next = fmt[i + 1];
        if (next != 0 && !IsSpace(next) && !IsPunct(next))
        {
            return -Maps.Errno.EINVAL;
        }

        if (used == MaxBinArgs)
        {
            return -Maps.Errno.ENOSPC;
        }

        // strncpy_from_kernel_nofault(dst, src, room): at most room - 1 characters and a NUL.
        int room = MaxBinArgs - used;
        int n = userMemory ? -1 : env.CopyString(raw, bin.Slice(used, room - 1));
        if (n < 0)
        {
            n = 0;
        }

        bin[used + n] = 0;
        arg = new Arg { Kind = ArgKind.Text, TextOffset = used, TextLength = n };
        used += n + 1;
        return 0;
    }

    // kernel: bstr_printf() over what Prepare accepted.
    private static int Print(ReadOnlySpan<byte> fmt, ReadOnlySpan<Arg> args, ReadOnlySpan<byte> bin, Span<byte> output)
    {
        var w = new Writer(output);
        Span<byte> sym = stackalloc byte[24];
        int spec = 0;
        int i = 0;
        while (fmt[i] != 0)
        {
            byte c = fmt[i];
            if (c != '%')
            {
                w.Put(c);
                i++;
                continue;
            }

            if (fmt[i + 1] == '%')
            {
                w.Put((byte)'%');
                i += 2;
                continue;
            }

            i++;
            int flags = 0;
            while (true)
            {
                int f = fmt[i] switch
                {
                    (byte)'-' => Left,
                    (byte)'+' => Plus,
                    (byte)' ' => Space,
                    (byte)'0' => ZeroPad,
                    _ => 0,
                };
                if (f == 0)
                {
                    break;
                }

                flags |= f;
                i++;
            }

            int width = -1;
            if (fmt[i] >= '0' && fmt[i] <= '9')
            {
                width = 0;
                while (fmt[i] >= '0' && fmt[i] <= '9')
                {
                    width = (width * 10) + (fmt[i] - '0');
                    i++;
                }
            }

            ref readonly Arg arg = ref args[spec++];
            if (fmt[i] == 'p')
            {
                i++;
                if (arg.Kind == ArgKind.Text)
                {
                    PutText(ref w, bin.Slice(arg.TextOffset, arg.TextLength), width, flags);
                }
                else
                {
                    // %px: the value; %ps and %pS: no symbol, so 0x and the value; %p and %pK: the hashed value.
                    byte ext = fmt[i];
                    if (ext is (byte)'s' or (byte)'S')
                    {
                        int n = FormatSymbolless(arg.Value, sym, out _);
                        PutText(ref w, sym[..n], width, flags);
                    }
                    else
                    {
                        ulong shown = ext == 'x' ? arg.Value : HashPointer(arg.Value);
                        int pflags = flags | Small;
                        int pwidth = width;
                        if (pwidth == -1)
                        {
                            pwidth = 16;
                            pflags |= ZeroPad;
                        }

                        PutNumber(ref w, shown, 16, pwidth, pflags);
                    }
                }

                while (IsAlnum(fmt[i]))
                {
                    i++;
                }

                continue;
            }

            if (fmt[i] == 's')
            {
                PutText(ref w, bin.Slice(arg.TextOffset, arg.TextLength), width, flags);
                i++;
                continue;
            }

            if (fmt[i] == 'c')
            {
                if ((flags & Left) == 0)
                {
                    w.Pad((byte)' ', width - 1);
                }

                w.Put((byte)arg.Value);
                if ((flags & Left) != 0)
                {
                    w.Pad((byte)' ', width - 1);
                }

                i++;
                continue;
            }

            while (fmt[i] == 'l')
            {
                i++;
            }

            byte conv = fmt[i++];
            bool wide = arg.Kind == ArgKind.Int64;
            ulong value = arg.Value;
            int b = 10;
            if (conv is (byte)'d' or (byte)'i')
            {
                flags |= Sign;
                value = wide ? value : (ulong)(long)(int)value;
            }
            else
            {
                value = wide ? value : (uint)value;
                if (conv == 'x')
                {
                    b = 16;
                    flags |= Small;
                }
                else if (conv == 'X')
                {
                    b = 16;
                }
            }

            PutNumber(ref w, value, b, width, flags);
        }

        return w.Finish();
    }

    // kernel: string(): the text, padded to the width on the left (or on the right with '-').
    private static void PutText(ref Writer w, scoped ReadOnlySpan<byte> text, int width, int flags)
    {
        int pad = width - text.Length;
        if ((flags & Left) == 0)
        {
            w.Pad((byte)' ', pad);
        }

        foreach (byte t in text)
        {
            w.Put(t);
        }

        if ((flags & Left) != 0)
        {
            w.Pad((byte)' ', pad);
        }
    }

    // kernel: number() for base 10 and 16 without precision or '#'.
    private static void PutNumber(ref Writer w, ulong value, int numberBase, int width, int flags)
    {
        if ((flags & Left) != 0)
        {
            flags &= ~ZeroPad;
        }

        byte sign = 0;
        if ((flags & Sign) != 0)
        {
            if ((long)value < 0)
            {
                sign = (byte)'-';
                value = 0 - value;
            }
            else if ((flags & Plus) != 0)
            {
                sign = (byte)'+';
            }
            else if ((flags & Space) != 0)
            {
                sign = (byte)' ';
            }
        }

        Span<byte> digits = stackalloc byte[24];
        int n = 0;
        string table = (flags & Small) != 0 ? "0123456789abcdef" : "0123456789ABCDEF";
        do
        {
            digits[n++] = (byte)table[(int)(value % (ulong)numberBase)];
            value /= (ulong)numberBase;
        }
        while (value != 0);

        int pad = width - n - (sign != 0 ? 1 : 0);
        if ((flags & (Left | ZeroPad)) == 0)
        {
            w.Pad((byte)' ', pad);
        }

        if (sign != 0)
        {
            w.Put(sign);
        }

        if ((flags & ZeroPad) != 0)
        {
            w.Pad((byte)'0', pad);
        }

        while (n > 0)
        {
            w.Put(digits[--n]);
        }

        if ((flags & Left) != 0)
        {
            w.Pad((byte)' ', pad);
        }
    }

    // "%pI4" 1.2.3.4, "%pi4" 001.002.003.004, "%pI6" 2001:0db8:...:0001, "%pi6" 32 hex digits.
    private static int FormatIp(ReadOnlySpan<byte> ip, bool upper, Span<byte> dst, out int full)
    {
        Span<byte> text = stackalloc byte[40];
        int n = 0;
        if (ip.Length == 4)
        {
            for (int k = 0; k < 4; k++)
            {
                if (k > 0)
                {
                    text[n++] = (byte)'.';
                }

                int v = ip[k];
                if (!upper || v >= 100)
                {
                    text[n++] = (byte)('0' + (v / 100));
                }

                if (!upper || v >= 10)
                {
                    text[n++] = (byte)('0' + (v / 10 % 10));
                }

                text[n++] = (byte)('0' + (v % 10));
            }
        }
        else
        {
            const string hex = "0123456789abcdef";
            for (int k = 0; k < 16; k++)
            {
                text[n++] = (byte)hex[ip[k] >> 4];
                text[n++] = (byte)hex[ip[k] & 15];
                if (upper && (k & 1) == 1 && k != 15)
                {
                    text[n++] = (byte)':';
                }
            }
        }

        full = n;
        int copy = Math.Min(n, Math.Max(dst.Length - 1, 0));
        text[..copy].CopyTo(dst);
        return copy;
    }

    // How the kernel prints an address that no symbol covers: 0x and the lowercase hex value.
    private static int FormatSymbolless(ulong value, Span<byte> dst, out int full)
    {
        Span<byte> text = stackalloc byte[20];
        text[0] = (byte)'0';
        text[1] = (byte)'x';
        int n = 2;
        int shift = 60;
        while (shift > 0 && ((value >> shift) & 0xf) == 0)
        {
            shift -= 4;
        }

        for (; shift >= 0; shift -= 4)
        {
            text[n++] = (byte)"0123456789abcdef"[(int)((value >> shift) & 0xf)];
        }

        full = n;
        int copy = Math.Min(n, Math.Max(dst.Length - 1, 0));
        text[..copy].CopyTo(dst);
        return copy;
    }

    // A stand-in for the kernel's siphash of the pointer with a per-boot key: the low 32 bits of a fixed mix.
    private static ulong HashPointer(ulong p)
    {
        ulong z = p + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (z ^ (z >> 31)) & 0xffffffffUL;
    }

    private static bool IsPrint(byte c) => c >= 0x20 && c < 0x7f;

    private static bool IsSpace(byte c) => c == ' ' || (c >= 9 && c <= 13);

    private static bool IsAlnum(byte c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

    private static bool IsPunct(byte c) => IsPrint(c) && c != ' ' && !IsAlnum(c);

    /// <summary>Reads <paramref name="args"/>.Length little-endian u64 arguments from <paramref name="data"/>.</summary>
    public static void ReadArgs(ReadOnlySpan<byte> data, Span<ulong> args)
    {
        for (int k = 0; k < args.Length; k++)
        {
            args[k] = BinaryPrimitives.ReadUInt64LittleEndian(data[(k * 8)..]);
        }
    }

    // bstr_printf's output: as many bytes as fit (leaving room for the NUL), counting all of them.
    private ref struct Writer
    {
        private readonly Span<byte> _out;
        private int _length;

        public Writer(Span<byte> output)
        {
            _out = output;
            _length = 0;
        }

        public void Put(byte b)
        {
            if (_length < _out.Length - 1)
            {
                _out[_length] = b;
            }

            _length++;
        }

        public void Pad(byte b, int count)
        {
            for (int k = 0; k < count; k++)
            {
                Put(b);
            }
        }

        public readonly int Finish()
        {
            if (_out.Length > 0)
            {
                _out[Math.Min(_length, _out.Length - 1)] = 0;
            }

            return _length;
        }
    }
}
