using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Kernel;

/// <summary>The bpf() system call, through libc's <c>syscall</c> (SYS_bpf is 321 on x86_64 and 280 on aarch64):
/// no native library of our own and no libbpf.</summary>
/// <remarks>Every failure throws <see cref="KernelBpfException"/> with the command and the errno, except the
/// <c>Try</c> methods, which return false for the one errno that means "not there" (ENOENT).</remarks>
public static unsafe class BpfSyscall
{
    /// <summary>True when this process's architecture has a known bpf() syscall number.</summary>
    public static bool IsSupportedArchitecture => LibC.BpfSyscallNumber != 0;

    /// <summary>Calls bpf(<paramref name="command"/>, <paramref name="attr"/>, <paramref name="size"/>); returns the
    /// result, or minus the errno.</summary>
    /// <param name="command">The command.</param>
    /// <param name="attr">The attribute block.</param>
    /// <param name="size">Its size in bytes.</param>
    /// <exception cref="PlatformNotSupportedException">Not Linux, or an architecture without a known syscall number.</exception>
    public static long Invoke(BpfCommand command, void* attr, int size)
    {
        long nr = LibC.BpfSyscallNumber;
        if (!OperatingSystem.IsLinux() || nr == 0)
        {
            throw new PlatformNotSupportedException(
                $"bpf() needs Linux on x86_64 or aarch64 (this is {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture})");
        }

        long r = LibC.Syscall(nr, (long)command, attr, size);
        return r < 0 ? -Marshal.GetLastPInvokeError() : r;
    }

    /// <summary>BPF_MAP_CREATE.</summary>
    /// <param name="request">The map's definition.</param>
    /// <exception cref="KernelBpfException">The kernel refused.</exception>
    public static BpfFd MapCreate(MapCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var attr = default(MapCreateAttr);
        attr.MapType = (uint)request.Type;
        attr.KeySize = request.KeySize;
        attr.ValueSize = request.ValueSize;
        attr.MaxEntries = request.MaxEntries;
        attr.MapFlags = request.Flags;
        attr.NumaNode = request.NumaNode;
        attr.MapExtra = request.MapExtra;
        attr.BtfKeyTypeId = request.BtfKeyTypeId;
        attr.BtfValueTypeId = request.BtfValueTypeId;
        WriteName(request.Name, new Span<byte>(attr.MapName, BpfFlags.ObjNameLen));
        bool addRef = false, btfRef = false;
        try
        {
            if (request.InnerMap is { } inner)
            {
                inner.DangerousAddRef(ref addRef);
                attr.InnerMapFd = (uint)inner.Value;
            }

            if (request.Btf is { } btf)
            {
                btf.DangerousAddRef(ref btfRef);
                attr.BtfFd = (uint)btf.Value;
            }

            long r = Invoke(BpfCommand.MapCreate, &attr, sizeof(MapCreateAttr));
            return r < 0 ? throw new KernelBpfException(BpfCommand.MapCreate, (int)-r, null, $"map \"{request.Name}\"") : new BpfFd((int)r);
        }
        finally
        {
            if (addRef)
            {
                request.InnerMap!.DangerousRelease();
            }

            if (btfRef)
            {
                request.Btf!.DangerousRelease();
            }
        }
    }

    /// <summary>BPF_BTF_LOAD. A refused blob is loaded again with log level 1 so that the exception carries the
    /// kernel's BTF log.</summary>
    /// <param name="btf">Raw BTF (header, types, strings).</param>
    /// <exception cref="KernelBpfException">The kernel refused the BTF; <see cref="KernelBpfException.VerifierLog"/> says why.</exception>
    public static BpfFd BtfLoad(ReadOnlySpan<byte> btf)
    {
        const int logSize = 1 << 20;
        byte[] log = new byte[logSize];
        fixed (byte* pBtf = btf)
        fixed (byte* pLog = log)
        {
            for (uint level = 0; ; level++)
            {
                var attr = default(BtfLoadAttr);
                attr.Btf = (ulong)pBtf;
                attr.BtfSize = (uint)btf.Length;
                attr.BtfLogLevel = level;
                attr.BtfLogBuf = level > 0 ? (ulong)pLog : 0;
                attr.BtfLogSize = level > 0 ? (uint)logSize : 0;
                long r = Invoke(BpfCommand.BtfLoad, &attr, sizeof(BtfLoadAttr));
                if (r >= 0)
                {
                    return new BpfFd((int)r);
                }

                if (level > 0)
                {
                    int len = Array.IndexOf(log, (byte)0);
                    throw new KernelBpfException(BpfCommand.BtfLoad, (int)-r, Encoding.UTF8.GetString(log, 0, len < 0 ? log.Length : len), "BTF");
                }
            }
        }
    }

    /// <summary>BPF_MAP_LOOKUP_ELEM; false when the key is absent (ENOENT). An empty key is passed as NULL
    /// (queue and stack: peek).</summary>
    /// <param name="map">The map.</param>
    /// <param name="key">The key.</param>
    /// <param name="value">Receives the value (for per-CPU maps round_up(value_size, 8) times the possible CPUs).</param>
    /// <param name="flags">BPF_F_LOCK or 0.</param>
    public static bool TryMapLookup(BpfFd map, ReadOnlySpan<byte> key, Span<byte> value, ulong flags = 0) =>
        ElemCommand(BpfCommand.MapLookupElem, map, key, value, flags, tolerateEnoent: true);

    /// <summary>BPF_MAP_LOOKUP_AND_DELETE_ELEM (queue and stack: pop, with an empty key); false when empty (ENOENT).</summary>
    /// <param name="map">The map.</param>
    /// <param name="key">The key (empty for queue and stack).</param>
    /// <param name="value">Receives the value.</param>
    public static bool TryMapLookupAndDelete(BpfFd map, ReadOnlySpan<byte> key, Span<byte> value) =>
        ElemCommand(BpfCommand.MapLookupAndDeleteElem, map, key, value, 0, tolerateEnoent: true);

    /// <summary>BPF_MAP_UPDATE_ELEM with BPF_ANY / BPF_NOEXIST / BPF_EXIST (an empty key is NULL: queue and stack push).</summary>
    /// <param name="map">The map.</param>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="flags">The update flags.</param>
    public static void MapUpdate(BpfFd map, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = BpfFlags.Any)
    {
        fixed (byte* v = value)
        {
            ElemCommand(BpfCommand.MapUpdateElem, map, key, new Span<byte>(v, value.Length), flags, tolerateEnoent: false);
        }
    }

    /// <summary>BPF_MAP_DELETE_ELEM; false when the key is absent (ENOENT).</summary>
    /// <param name="map">The map.</param>
    /// <param name="key">The key.</param>
    public static bool TryMapDelete(BpfFd map, ReadOnlySpan<byte> key) =>
        ElemCommand(BpfCommand.MapDeleteElem, map, key, [], 0, tolerateEnoent: true);

    /// <summary>BPF_MAP_GET_NEXT_KEY: the key after <paramref name="key"/> (the first key when it is empty);
    /// false at the end (ENOENT).</summary>
    /// <param name="map">The map.</param>
    /// <param name="key">The current key, or empty for the first.</param>
    /// <param name="nextKey">Receives the next key.</param>
    public static bool TryMapGetNextKey(BpfFd map, ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        ElemCommand(BpfCommand.MapGetNextKey, map, key, nextKey, 0, tolerateEnoent: true);

    /// <summary>BPF_MAP_FREEZE: user space may no longer write the map.</summary>
    /// <param name="map">The map.</param>
    public static void MapFreeze(BpfFd map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var attr = default(MapElemAttr);
        bool addRef = false;
        try
        {
            map.DangerousAddRef(ref addRef);
            attr.MapFd = (uint)map.Value;
            long r = Invoke(BpfCommand.MapFreeze, &attr, sizeof(MapElemAttr));
            if (r < 0)
            {
                throw new KernelBpfException(BpfCommand.MapFreeze, (int)-r);
            }
        }
        finally
        {
            if (addRef)
            {
                map.DangerousRelease();
            }
        }
    }

    /// <summary>BPF_PROG_LOAD. A refused program is loaded again with log_level 1 so that the exception carries the
    /// verifier's log (as libbpf does).</summary>
    /// <param name="request">The program.</param>
    /// <exception cref="KernelBpfException">The kernel refused; <see cref="KernelBpfException.VerifierLog"/> says why.</exception>
    public static ProgLoadResult ProgLoad(ProgLoadRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var insns = BpfProgram.EncodeSlots(request.Instructions.ToArray());
        byte[] license = Encoding.ASCII.GetBytes(request.License + "\0");
        var fds = request.FdArray ?? [];
        var fdValues = new int[Math.Max(1, fds.Count)];
        int refs = 0;
        try
        {
            for (; refs < fds.Count; refs++)
            {
                bool ok = false;
                fds[refs].DangerousAddRef(ref ok);
                fdValues[refs] = fds[refs].Value;
            }

            uint level = request.LogLevel;
            int logSize = level > 0 ? request.LogSize : 0;
            for (int attempt = 0; ; attempt++)
            {
                long r = LoadOnce(request, insns, license, fds.Count > 0 ? fdValues : null, level, logSize, out string log, out uint trueSize);
                if (r >= 0)
                {
                    return new ProgLoadResult(new BpfFd((int)r), log);
                }

                int errno = (int)-r;
                if (errno == Errno.ENOSPC && level > 0 && trueSize > logSize && attempt < 3)
                {
                    logSize = (int)Math.Min(trueSize + 1, int.MaxValue / 2);   // the log did not fit: once more, large enough
                    continue;
                }

                if (level == 0 && attempt == 0)
                {
                    level = 1;   // again, for the log
                    logSize = request.LogSize;
                    continue;
                }

                throw new KernelBpfException(BpfCommand.ProgLoad, errno, log, $"program \"{request.Name}\"");
            }
        }
        finally
        {
            for (int i = 0; i < refs; i++)
            {
                fds[i].DangerousRelease();
            }
        }
    }

    /// <summary>BPF_PROG_TEST_RUN.</summary>
    /// <param name="program">The program.</param>
    /// <param name="request">Input, output capacities and options.</param>
    /// <exception cref="KernelBpfException">The kernel refused the run (EINVAL for a frame shorter than 14 bytes, ...).</exception>
    public static TestRunResult ProgTestRun(BpfFd program, TestRunRequest request)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(request);
        byte[] dataOut = new byte[request.DataOutCapacity];
        byte[] ctxOut = new byte[request.ContextOutCapacity];
        bool addRef = false;
        try
        {
            program.DangerousAddRef(ref addRef);
            fixed (byte* din = request.Data.Span)
            fixed (byte* dout = dataOut)
            fixed (byte* cin = request.Context.Span)
            fixed (byte* cout = ctxOut)
            {
                var attr = default(TestRunAttr);
                attr.ProgFd = (uint)program.Value;
                attr.DataIn = (ulong)din;
                attr.DataSizeIn = (uint)request.Data.Length;
                attr.DataOut = dataOut.Length > 0 ? (ulong)dout : 0;
                attr.DataSizeOut = (uint)dataOut.Length;
                attr.CtxIn = request.Context.Length > 0 ? (ulong)cin : 0;
                attr.CtxSizeIn = (uint)request.Context.Length;
                attr.CtxOut = ctxOut.Length > 0 ? (ulong)cout : 0;
                attr.CtxSizeOut = (uint)ctxOut.Length;
                attr.Repeat = request.Repeat;
                attr.Flags = request.Flags;
                attr.Cpu = request.Cpu;
                attr.BatchSize = request.BatchSize;
                long r = Invoke(BpfCommand.ProgTestRun, &attr, sizeof(TestRunAttr));
                if (r < 0)
                {
                    throw new KernelBpfException(BpfCommand.ProgTestRun, (int)-r);
                }

                int outLen = (int)Math.Min(attr.DataSizeOut, (uint)dataOut.Length);
                int ctxLen = (int)Math.Min(attr.CtxSizeOut, (uint)ctxOut.Length);
                return new TestRunResult(attr.Retval, attr.Duration, dataOut[..outLen], ctxOut[..ctxLen]);
            }
        }
        finally
        {
            if (addRef)
            {
                program.DangerousRelease();
            }
        }
    }

    /// <summary>BPF_OBJ_GET_INFO_BY_FD: the object's kernel id (the second u32 of bpf_prog_info and bpf_map_info).</summary>
    /// <param name="fd">A program or map.</param>
    public static uint GetObjectId(BpfFd fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        byte* info = stackalloc byte[8];
        bool addRef = false;
        try
        {
            fd.DangerousAddRef(ref addRef);
            var attr = default(ObjInfoAttr);
            attr.BpfFd = (uint)fd.Value;
            attr.InfoLen = 8;
            attr.Info = (ulong)info;
            long r = Invoke(BpfCommand.ObjGetInfoByFd, &attr, sizeof(ObjInfoAttr));
            if (r < 0)
            {
                throw new KernelBpfException(BpfCommand.ObjGetInfoByFd, (int)-r);
            }

            return BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(info + 4, 4));
        }
        finally
        {
            if (addRef)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>A name the kernel accepts for a map or program (bpf_obj_name_cpy): characters outside
    /// [A-Za-z0-9_.] become '_', and it is cut to 15 characters.</summary>
    /// <param name="name">The name.</param>
    public static string KernelName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var sb = new StringBuilder(Math.Min(name.Length, BpfFlags.ObjNameLen - 1));
        foreach (char c in name)
        {
            if (sb.Length == BpfFlags.ObjNameLen - 1)
            {
                break;
            }

            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '.' ? c : '_');
        }

        return sb.ToString();
    }

    private static void WriteName(string name, Span<byte> into)
    {
        into.Clear();
        Encoding.ASCII.GetBytes(KernelName(name), into);
    }

    private static long LoadOnce(
        ProgLoadRequest request, byte[] insns, byte[] license, int[]? fdArray, uint level, int logSize, out string log, out uint trueSize)
    {
        byte[] logBuf = new byte[Math.Max(logSize, 1)];
        fixed (byte* pInsns = insns)
        fixed (byte* pLicense = license)
        fixed (byte* pLog = logBuf)
        fixed (int* pFds = fdArray)
        fixed (uint* pFuncs = FuncInfoWords(request.FuncInfo))
        fixed (uint* pLines = LineInfoWords(request.LineInfo))
        {
            var attr = default(ProgLoadAttr);
            attr.ProgType = (uint)request.Type;
            attr.InsnCnt = (uint)(insns.Length / Instruction.Size);
            attr.Insns = (ulong)pInsns;
            attr.License = (ulong)pLicense;
            attr.LogLevel = level;
            attr.LogSize = level > 0 ? (uint)logSize : 0;
            attr.LogBuf = level > 0 ? (ulong)pLog : 0;
            attr.KernVersion = request.KernVersion;
            attr.ProgFlags = request.Flags;
            attr.ExpectedAttachType = request.ExpectedAttachType;
            attr.FdArray = fdArray is null ? 0 : (ulong)pFds;
            attr.ProgIfindex = request.Ifindex;
            WriteName(request.Name, new Span<byte>(attr.ProgName, BpfFlags.ObjNameLen));
            if (request.Btf is not null && request.FuncInfo is { Count: > 0 } funcs)
            {
                attr.ProgBtfFd = (uint)request.Btf.Value;
                attr.FuncInfoRecSize = 8;   // struct bpf_func_info { u32 insn_off; u32 type_id; }
                attr.FuncInfoCnt = (uint)funcs.Count;
                attr.FuncInfo = (ulong)pFuncs;
                if (request.LineInfo is { Count: > 0 } lines)
                {
                    attr.LineInfoRecSize = 16;   // struct bpf_line_info { u32 insn_off, file_name_off, line_off, line_col; }
                    attr.LineInfoCnt = (uint)lines.Count;
                    attr.LineInfo = (ulong)pLines;
                }
            }

            long r = Invoke(BpfCommand.ProgLoad, &attr, sizeof(ProgLoadAttr));
            trueSize = attr.LogTrueSize;
            int len = level > 0 ? Array.IndexOf(logBuf, (byte)0) : 0;
            log = Encoding.UTF8.GetString(logBuf, 0, len < 0 ? logBuf.Length : len);
            return r;
        }
    }

    private static uint[]? FuncInfoWords(IReadOnlyList<(int InsnOff, uint TypeId)>? funcs)
    {
        if (funcs is null || funcs.Count == 0)
        {
            return null;
        }

        var words = new uint[funcs.Count * 2];
        for (int i = 0; i < funcs.Count; i++)
        {
            words[2 * i] = (uint)funcs[i].InsnOff;
            words[(2 * i) + 1] = funcs[i].TypeId;
        }

        return words;
    }

    private static uint[]? LineInfoWords(IReadOnlyList<(int InsnOff, uint FileNameOff, uint LineOff, uint LineCol)>? lines)
    {
        if (lines is null || lines.Count == 0)
        {
            return null;
        }

        var words = new uint[lines.Count * 4];
        for (int i = 0; i < lines.Count; i++)
        {
            words[4 * i] = (uint)lines[i].InsnOff;
            words[(4 * i) + 1] = lines[i].FileNameOff;
            words[(4 * i) + 2] = lines[i].LineOff;
            words[(4 * i) + 3] = lines[i].LineCol;
        }

        return words;
    }

    private static bool ElemCommand(BpfCommand command, BpfFd map, ReadOnlySpan<byte> key, Span<byte> value, ulong flags, bool tolerateEnoent)
    {
        ArgumentNullException.ThrowIfNull(map);
        bool addRef = false;
        try
        {
            map.DangerousAddRef(ref addRef);
            fixed (byte* k = key)
            fixed (byte* v = value)
            {
                var attr = default(MapElemAttr);
                attr.MapFd = (uint)map.Value;
                attr.Key = key.IsEmpty ? 0 : (ulong)k;
                attr.ValueOrNextKey = value.IsEmpty ? 0 : (ulong)v;
                attr.Flags = flags;
                long r = Invoke(command, &attr, sizeof(MapElemAttr));
                if (r >= 0)
                {
                    return true;
                }

                return tolerateEnoent && r == -Errno.ENOENT ? false : throw new KernelBpfException(command, (int)-r);
            }
        }
        finally
        {
            if (addRef)
            {
                map.DangerousRelease();
            }
        }
    }
}
