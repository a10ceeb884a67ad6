using System.Buffers.Binary;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_PROG_ARRAY (kernel/bpf/arraymap.c): the tail-call table; each slot holds a program.</summary>
/// <remarks>
/// Slots hold whatever program objects the runtime stores (<see cref="SetProgram(uint, object?)"/>,
/// <see cref="GetProgram"/>). User space writes a u32 "fd": <see cref="ProgramResolver"/> turns it into a program
/// (the runtime passes an index into the object's programs); without a resolver, or when it returns null, the update
/// is -EBADF as for a bad fd. User-side lookups return the stored program's id (the fd it was given, or the id
/// passed to <see cref="SetProgram(uint, object?, uint)"/>), as bpf() returns the program's id. Updates take BPF_ANY
/// only (-EINVAL), an index past the end is -E2BIG, deleting an empty slot -ENOENT. Programs cannot look slots up
/// (bpf_map_lookup_elem returns 0); they tail-call.
/// </remarks>
public sealed class ProgArrayMap : BpfMap
{
    private readonly object?[] _programs;
    private readonly uint[] _ids;

    internal ProgArrayMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _programs = new object?[spec.MaxEntries];
        _ids = new uint[spec.MaxEntries];
    }

    /// <summary>Turns a user-side value (the runtime's program "fd") into a program object, or null.</summary>
    public Func<uint, object?>? ProgramResolver { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => [];

    /// <summary>The program in slot <paramref name="index"/>, or null (empty, or past the end): what bpf_tail_call jumps to.</summary>
    public object? GetProgram(uint index) => index < (uint)_programs.Length ? _programs[index] : null;

    /// <summary>Stores <paramref name="prog"/> (null clears) in slot <paramref name="index"/>; its id is 0.</summary>
    public void SetProgram(uint index, object? prog) => SetProgram(index, prog, 0);

    /// <summary>Stores <paramref name="prog"/> (null clears) in slot <paramref name="index"/> with the id user-side
    /// lookups return.</summary>
    public void SetProgram(uint index, object? prog, uint id)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, (uint)_programs.Length);
        _programs[index] = prog;
        _ids[index] = prog is null ? 0 : id;
    }

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => 0;

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        // kernel: bpf_fd_array_map_lookup_elem + prog_fd_array_sys_lookup_elem
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        uint index = MapValue.U32(key);
        if (index >= (uint)_programs.Length || _programs[index] is null)
        {
            return -Errno.ENOENT;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(value, _ids[index]);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: bpf_fd_array_map_update_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        if (flags != MapUpdateFlags.Any)
        {
            return -Errno.EINVAL;
        }

        uint index = MapValue.U32(key);
        if (index >= (uint)_programs.Length)
        {
            return -Errno.E2BIG;
        }

        uint fd = BinaryPrimitives.ReadUInt32LittleEndian(value);
        object? prog = ProgramResolver?.Invoke(fd);
        if (prog is null)
        {
            return -Errno.EBADF;
        }

        _programs[index] = prog;
        _ids[index] = fd;
        return 0;
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key)
    {
        // kernel: fd_array_map_delete_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        uint index = MapValue.U32(key);
        if (index >= (uint)_programs.Length)
        {
            return -Errno.E2BIG;
        }

        if (_programs[index] is null)
        {
            return -Errno.ENOENT;
        }

        _programs[index] = null;
        _ids[index] = 0;
        return 0;
    }

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        UserCanRead ? ArrayKeys.GetNext(key, nextKey, (uint)_programs.Length) : -Errno.EPERM;
}
