using System.Globalization;
using System.Reflection;
using System.Reflection.Emit;
using System.Text;

namespace VethXdp.Jit.Emitters;

/// <summary>An <see cref="ILGenerator"/> that can also write what it emits as a listing (cecil style,
/// <c>IL_0012: ldloc r1</c>), with comments such as the eBPF instruction each block of IL comes from.</summary>
/// <remarks>The listing is the printer, kept apart from the emitters (which only call Emit). Operands print by name:
/// locals and labels by the names they were declared with, members as <c>Type::Name</c>, constants in hex.</remarks>
internal sealed class IlWriter
{
    private readonly ILGenerator _il;
    private readonly StringBuilder? _listing;
    private readonly Dictionary<int, string> _labelNames = [];
    private readonly Dictionary<int, string> _localNames = [];

    public IlWriter(ILGenerator il, bool listing)
    {
        _il = il;
        _listing = listing ? new StringBuilder() : null;
    }

    /// <summary>True when a listing is being written.</summary>
    public bool Listing => _listing is not null;

    /// <summary>The listing so far (empty when none is written).</summary>
    public string Text => _listing?.ToString() ?? string.Empty;

    /// <summary>Bytes of IL emitted so far.</summary>
    public int Offset => _il.ILOffset;

    public LocalBuilder DeclareLocal(Type type, string name)
    {
        var local = _il.DeclareLocal(type);
        _localNames[local.LocalIndex] = name;
        if (_listing is not null)
        {
            _listing.Append("  .local ").Append(TypeName(type)).Append(' ').Append(name).Append('\n');
        }

        return local;
    }

    public Label DefineLabel(string name)
    {
        var label = _il.DefineLabel();
        _labelNames[label.GetHashCode()] = name;
        return label;
    }

    public void MarkLabel(Label label)
    {
        _il.MarkLabel(label);
        _listing?.Append(Name(label)).Append(":\n");
    }

    public void Comment(string text) => _listing?.Append("  // ").Append(text).Append('\n');

    public void Blank() => _listing?.Append('\n');

    public void Emit(OpCode op)
    {
        Line(op, null);
        _il.Emit(op);
    }

    public void Emit(OpCode op, int value)
    {
        Line(op, value.ToString(CultureInfo.InvariantCulture));
        _il.Emit(op, value);
    }

    public void Emit(OpCode op, byte value)
    {
        // ldc.i4.s takes a signed byte; unaligned. an alignment.
        Line(op, op == OpCodes.Ldc_I4_S ? ((sbyte)value).ToString(CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture));
        _il.Emit(op, value);
    }

    public void Emit(OpCode op, long value)
    {
        Line(op, value < 0 ? "-0x" + ((ulong)(-value)).ToString("x", CultureInfo.InvariantCulture) : "0x" + value.ToString("x", CultureInfo.InvariantCulture));
        _il.Emit(op, value);
    }

    public void Emit(OpCode op, Label label)
    {
        Line(op, Name(label));
        _il.Emit(op, label);
    }

    public void Emit(OpCode op, Label[] labels)
    {
        if (_listing is not null)
        {
            var sb = new StringBuilder("(");
            for (int i = 0; i < labels.Length; i++)
            {
                sb.Append(i == 0 ? string.Empty : ", ").Append(Name(labels[i]));
            }

            Line(op, sb.Append(')').ToString());
        }

        _il.Emit(op, labels);
    }

    public void Emit(OpCode op, LocalBuilder local)
    {
        Line(op, _localNames.TryGetValue(local.LocalIndex, out var n) ? n : "V_" + local.LocalIndex.ToString(CultureInfo.InvariantCulture));
        _il.Emit(op, local);
    }

    public void Emit(OpCode op, FieldInfo field)
    {
        Line(op, $"{TypeName(field.FieldType)} {field.DeclaringType!.Name}::{field.Name}");
        _il.Emit(op, field);
    }

    public void Emit(OpCode op, MethodInfo method)
    {
        Line(op, Signature(method));
        _il.Emit(op, method);
    }

    public void Emit(OpCode op, Type type)
    {
        Line(op, TypeName(type));
        _il.Emit(op, type);
    }

    public static string Signature(MethodInfo method)
    {
        var sb = new StringBuilder();
        sb.Append(TypeName(method.ReturnType)).Append(' ');
        if (method.DeclaringType is { } t)
        {
            sb.Append(t.Name).Append("::");
        }

        sb.Append(method.Name).Append('(');
        var ps = method.GetParameters();
        for (int i = 0; i < ps.Length; i++)
        {
            sb.Append(i == 0 ? string.Empty : ", ").Append(TypeName(ps[i].ParameterType));
        }

        return sb.Append(')').ToString();
    }

    public static string TypeName(Type type)
    {
        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!) + "&";
        }

        if (type.IsPointer)
        {
            return TypeName(type.GetElementType()!) + "*";
        }

        return Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "bool",
            TypeCode.Byte => "uint8",
            TypeCode.SByte => "int8",
            TypeCode.Int16 => "int16",
            TypeCode.UInt16 => "uint16",
            TypeCode.Int32 => "int32",
            TypeCode.UInt32 => "uint32",
            TypeCode.Int64 => "int64",
            TypeCode.UInt64 => "uint64",
            _ when type == typeof(void) => "void",
            _ => type.Name,
        };
    }

    private string Name(Label label) =>
        _labelNames.TryGetValue(label.GetHashCode(), out var n) ? n : "L_" + label.GetHashCode().ToString(CultureInfo.InvariantCulture);

    private void Line(OpCode op, string? operand)
    {
        if (_listing is null)
        {
            return;
        }

        _listing.Append("  IL_").Append(_il.ILOffset.ToString("x4", CultureInfo.InvariantCulture)).Append(": ").Append(op.Name);
        if (operand is not null)
        {
            _listing.Append(' ').Append(operand);
        }

        _listing.Append('\n');
    }
}
