using System.Globalization;
using System.Text;

namespace VethXdp.Verifier.Domains;

// The log text of a scalar (kernel/bpf/log.c: print_reg_state's scalar case, print_scalar_ranges, verbose_snum,
// verbose_unum), e.g. "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))" or "-1".
public partial struct ScalarBounds
{
    // kernel: UNUM_MAX_DECIMAL / SNUM_{MIN,MAX}_DECIMAL — small numbers print in decimal, others in hex.
    private const ulong UnumMaxDecimal = ushort.MaxValue;
    private const long SnumMinDecimal = short.MinValue;
    private const long SnumMaxDecimal = short.MaxValue;

    private static readonly string[] RangeNames = ["smin", "smax", "umin", "umax", "smin32", "smax32", "umin32", "umax32"];

    /// <summary>The register text the kernel's log prints for a scalar: the constant for a known value
    /// (<c>8</c>, <c>-1</c>, <c>0xffffffff</c>), otherwise <c>scalar(...)</c> listing the non-trivial bounds, with
    /// equal values merged (<c>smax=umax=255</c>), and <c>var_off</c> unless it is fully unknown. The precision mark
    /// (<c>P</c>) and ids belong to the register, not to the bounds.</summary>
    public override readonly string ToString()
    {
        var sb = new StringBuilder(64);
        AppendKernelText(sb);
        return sb.ToString();
    }

    /// <summary>Appends the text of <see cref="ToString"/>.</summary>
    /// <param name="sb">The destination.</param>
    public readonly void AppendKernelText(StringBuilder sb)
    {
        ArgumentNullException.ThrowIfNull(sb);
        if (VarOff.IsConst)
        {
            AppendSnum(sb, (long)VarOff.Value);
            return;
        }

        sb.Append("scalar(");
        bool first = true;
        AppendRanges(sb, ref first);
        if (!VarOff.IsUnknown)
        {
            sb.Append(first ? string.Empty : ",").Append("var_off=").Append(VarOff.ToString());
        }

        sb.Append(')');
    }

    /// <summary>Appends the range list of <c>print_scalar_ranges</c> (without the parentheses).</summary>
    /// <param name="sb">The destination.</param>
    /// <param name="first">True when nothing was written inside the parentheses yet; updated.</param>
    public readonly void AppendRanges(StringBuilder sb, ref bool first)
    {
        ArgumentNullException.ThrowIfNull(sb);

        // Signed 32-bit values print sign-extended when they print in decimal, else as their u32 pattern, so that
        // hex smin=0xfffffffffffffffe and smin32=0xfffffffe are not merged.
        Span<ulong> vals =
        [
            (ulong)SMin, (ulong)SMax, UMin, UMax,
            IsSnumDecimal(S32Min) ? (ulong)(long)S32Min : (uint)S32Min,
            IsSnumDecimal(S32Max) ? (ulong)(long)S32Max : (uint)S32Max,
            U32Min, U32Max,
        ];
        Span<bool> omit =
        [
            SMin == long.MinValue, SMax == long.MaxValue, UMin == 0, UMax == ulong.MaxValue,
            S32Min == int.MinValue, S32Max == int.MaxValue, U32Min == 0, U32Max == uint.MaxValue,
        ];

        for (int m1 = 0; m1 < 8; m1++)
        {
            if (omit[m1])
            {
                continue;
            }

            bool signed1 = RangeNames[m1][0] == 's';
            bool neg1 = signed1 && (long)vals[m1] < 0;
            sb.Append(first ? string.Empty : ",").Append(RangeNames[m1]).Append('=');
            first = false;

            // merge the later entries of the same kind (min with min, max with max) that hold the same value
            for (int m2 = m1 + 2; m2 < 8; m2 += 2)
            {
                if (omit[m2] || vals[m2] != vals[m1])
                {
                    continue;
                }

                // don't mix negatives with positives
                bool neg2 = RangeNames[m2][0] == 's' && (long)vals[m2] < 0;
                if (neg2 != neg1)
                {
                    continue;
                }

                omit[m2] = true;
                sb.Append(RangeNames[m2]).Append('=');
            }

            if (signed1)
            {
                AppendSnum(sb, (long)vals[m1]);
            }
            else
            {
                AppendUnum(sb, vals[m1]);
            }
        }
    }

    /// <summary>Appends a signed number as <c>verbose_snum</c> does: decimal in [-32768, 32767], else <c>0x...</c>.</summary>
    /// <param name="sb">The destination.</param>
    /// <param name="num">The number.</param>
    public static void AppendSnum(StringBuilder sb, long num)
    {
        ArgumentNullException.ThrowIfNull(sb);
        if (IsSnumDecimal(num))
        {
            sb.Append(num.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append("0x").Append(((ulong)num).ToString("x", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Appends an unsigned number as <c>verbose_unum</c> does: decimal up to 65535, else <c>0x...</c>.</summary>
    /// <param name="sb">The destination.</param>
    /// <param name="num">The number.</param>
    public static void AppendUnum(StringBuilder sb, ulong num)
    {
        ArgumentNullException.ThrowIfNull(sb);
        if (num <= UnumMaxDecimal)
        {
            sb.Append(num.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append("0x").Append(num.ToString("x", CultureInfo.InvariantCulture));
        }
    }

    private static bool IsSnumDecimal(long num) => num >= SnumMinDecimal && num <= SnumMaxDecimal;
}
