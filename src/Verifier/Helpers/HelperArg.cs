using VethXdp.Verifier.State;

namespace VethXdp.Verifier.Helpers;

/// <summary>One argument of a helper prototype: <c>argN_type</c> split into its base type and its modifier flags, with
/// <c>argN_size</c> and the struct behind <c>argN_btf_id</c> (include/linux/bpf.h, <c>struct bpf_func_proto</c>).</summary>
/// <param name="Type">The base type (<c>base_type(arg_type)</c>).</param>
/// <param name="Flags">The modifiers (<c>type_flag(arg_type)</c>); MEM_WRITE is <see cref="MemWrite"/>.</param>
/// <param name="Size">For MEM_FIXED_SIZE memory the size the helper reads or writes (<c>arg_size</c>), else 0.</param>
/// <param name="BtfType">For BTF-typed arguments the kernel struct expected (e.g. "sock_common", "task_struct"); null
/// where there is none or where the kernel decides it at verification time (<c>BPF_PTR_POISON</c>).</param>
public readonly record struct HelperArg(ArgType Type, RegTypeFlags Flags, int Size = 0, string? BtfType = null)
{
    /// <summary>MEM_WRITE (<c>BIT(18 + BPF_BASE_TYPE_BITS)</c>): the helper writes the memory. <see cref="RegTypeFlags"/>
    /// has no member for it yet, so this shim uses a bit the kernel's flags never reach (bit 30); replace it with
    /// <c>RegTypeFlags.MemWrite</c> once that exists.</summary>
    public const RegTypeFlags MemWrite = RegTypeFlags.MemWrite;

    /// <summary>True for ARG_DONTCARE (an unused argument slot).</summary>
    public bool IsUnused => Type == ArgType.DontCare;

    /// <summary>PTR_MAYBE_NULL: a NULL (scalar 0) is accepted.</summary>
    public bool MaybeNull => (Flags & RegTypeFlags.MaybeNull) != 0;

    /// <summary>MEM_RDONLY: the helper only reads the memory, so read-only memory is accepted.</summary>
    public bool ReadOnly => (Flags & RegTypeFlags.MemRdonly) != 0;

    /// <summary>MEM_UNINIT: the memory need not be initialised (the helper fills it).</summary>
    public bool Uninit => (Flags & RegTypeFlags.MemUninit) != 0;

    /// <summary>MEM_WRITE: the helper writes the memory (the verifier checks it as a write access).</summary>
    public bool Writes => (Flags & MemWrite) != 0;

    /// <summary>OBJ_RELEASE: the call releases the reference this argument holds.</summary>
    public bool Releases => (Flags & RegTypeFlags.ObjRelease) != 0;

    /// <summary>MEM_FIXED_SIZE: the access size is <see cref="Size"/>, not the next argument.</summary>
    public bool FixedSize => (Flags & RegTypeFlags.MemFixedSize) != 0;

    /// <summary>The kernel's spelling of the argument, e.g. <c>ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE</c>, for
    /// messages and tests.</summary>
    public override string ToString() => HelperText.Arg(this);
}
