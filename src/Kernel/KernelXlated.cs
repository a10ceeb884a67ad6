using System.Buffers.Binary;
using VethXdp.Vm.Isa;

namespace VethXdp.Kernel;

/// <summary>The kernel's translated ("xlated") instructions of a loaded program: what the verifier's rewrites
/// (context-access conversion, prologues, helper fix-ups) made of the program, read back with
/// BPF_OBJ_GET_INFO_BY_FD (<c>struct bpf_prog_info</c>: <c>xlated_prog_len</c> at byte 20,
/// <c>xlated_prog_insns</c> at byte 32).</summary>
/// <remarks>The kernel fills the dump only for a caller with CAP_BPF (bpf_prog_get_info_by_fd), and prepares it
/// with bpf_insn_prepare_dump: helper calls keep their imm (the distance from __bpf_call_base, a constant of the
/// kernel build) only where kptr_restrict allows raw addresses, else 0; map addresses become map ids.</remarks>
public static unsafe class KernelXlated
{
    private const int InfoLen = 40;            // up to and including xlated_prog_insns
    private const int XlatedLenOffset = 20;    // struct bpf_prog_info.xlated_prog_len
    private const int XlatedInsnsOffset = 32;  // struct bpf_prog_info.xlated_prog_insns

    /// <summary>The translated instructions of <paramref name="program"/>.</summary>
    /// <param name="program">A loaded program.</param>
    /// <exception cref="KernelBpfException">The kernel refused BPF_OBJ_GET_INFO_BY_FD.</exception>
    /// <exception cref="InvalidOperationException">The kernel gave no translated instructions (no CAP_BPF).</exception>
    public static Instruction[] Get(BpfFd program)
    {
        ArgumentNullException.ThrowIfNull(program);
        bool addRef = false;
        try
        {
            program.DangerousAddRef(ref addRef);
            byte* info = stackalloc byte[InfoLen];
            new Span<byte>(info, InfoLen).Clear();
            GetInfo(program.Value, info);
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(info + XlatedLenOffset, 4));
            if (len == 0)
            {
                throw new InvalidOperationException("the kernel gave no xlated instructions (it dumps them only for CAP_BPF)");
            }

            byte[] buffer = new byte[len];
            fixed (byte* p = buffer)
            {
                new Span<byte>(info, InfoLen).Clear();
                BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(info + XlatedLenOffset, 4), len);
                BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(info + XlatedInsnsOffset, 8), (ulong)p);
                GetInfo(program.Value, info);
            }

            return BpfProgram.DecodeSlots(buffer);
        }
        finally
        {
            if (addRef)
            {
                program.DangerousRelease();
            }
        }
    }

    /// <summary>Loads <paramref name="request"/>, reads its translated instructions and closes it again.</summary>
    /// <param name="request">The program (ask for <see cref="ProgLoadRequest.LogLevel"/> 1 to get the log of a
    /// refused program without a second load).</param>
    /// <exception cref="KernelBpfException">The kernel refused the program; the exception carries the log.</exception>
    public static Instruction[] LoadAndGet(ProgLoadRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var fd = BpfSyscall.ProgLoad(request).Fd;
        return Get(fd);
    }

    private static void GetInfo(int fd, byte* info)
    {
        var attr = default(ObjInfoAttr);
        attr.BpfFd = (uint)fd;
        attr.InfoLen = InfoLen;
        attr.Info = (ulong)info;
        long r = BpfSyscall.Invoke(BpfCommand.ObjGetInfoByFd, &attr, sizeof(ObjInfoAttr));
        if (r < 0)
        {
            throw new KernelBpfException(BpfCommand.ObjGetInfoByFd, (int)-r);
        }
    }
}
