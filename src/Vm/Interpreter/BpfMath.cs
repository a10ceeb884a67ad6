namespace VethXdp.Vm.Interpreter;

/// <summary>BPF division and modulo: total functions with the ISA's answers where .NET would throw.</summary>
/// <remarks>
/// RFC 9669 section 4.1: x / 0 = 0; x % 0 = x (for ALU the result is then zero-extended like any
/// 32-bit result, i.e. the low 32 bits of dst); signed INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0
/// (the value wraps instead of trapping). Signed modulo takes the dividend's sign, as C's % does.
/// The JIT calls these same methods.
/// </remarks>
public static class BpfMath
{
    /// <summary>Unsigned 64-bit division; x / 0 = 0.</summary>
    public static ulong UDiv64(ulong dst, ulong src) => src == 0 ? 0 : dst / src;

    /// <summary>Unsigned 64-bit modulo; x % 0 = x.</summary>
    public static ulong UMod64(ulong dst, ulong src) => src == 0 ? dst : dst % src;

    /// <summary>Signed 64-bit division; x / 0 = 0, INT64_MIN / -1 = INT64_MIN.</summary>
    public static ulong SDiv64(ulong dst, ulong src)
    {
        long d = (long)dst, s = (long)src;
        return s switch
        {
            0 => 0,
            -1 => (ulong)(0 - d), // unchecked negation: INT64_MIN stays INT64_MIN
            _ => (ulong)(d / s),
        };
    }

    /// <summary>Signed 64-bit modulo; x % 0 = x, x % -1 = 0.</summary>
    public static ulong SMod64(ulong dst, ulong src)
    {
        long d = (long)dst, s = (long)src;
        return s switch
        {
            0 => dst,
            -1 => 0,
            _ => (ulong)(d % s),
        };
    }

    /// <summary>Unsigned 32-bit division; x / 0 = 0.</summary>
    public static uint UDiv32(uint dst, uint src) => src == 0 ? 0 : dst / src;

    /// <summary>Unsigned 32-bit modulo; x % 0 = x.</summary>
    public static uint UMod32(uint dst, uint src) => src == 0 ? dst : dst % src;

    /// <summary>Signed 32-bit division; x / 0 = 0, INT32_MIN / -1 = INT32_MIN.</summary>
    public static uint SDiv32(uint dst, uint src)
    {
        int d = (int)dst, s = (int)src;
        return s switch
        {
            0 => 0,
            -1 => (uint)(0 - d),
            _ => (uint)(d / s),
        };
    }

    /// <summary>Signed 32-bit modulo; x % 0 = x, x % -1 = 0.</summary>
    public static uint SMod32(uint dst, uint src)
    {
        int d = (int)dst, s = (int)src;
        return s switch
        {
            0 => dst,
            -1 => 0,
            _ => (uint)(d % s),
        };
    }
}
