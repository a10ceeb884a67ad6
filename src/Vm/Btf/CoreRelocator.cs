using System.Globalization;
using System.Text;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Btf;

/// <summary>The outcome of one CO-RE relocation (libbpf's bpf_core_relo_res).</summary>
internal struct CoreResult
{
    public ulong OrigVal;
    public ulong NewVal;
    public bool Poison;
    public bool Validate;
    public bool FailMemSizeAdjust;
    public uint OrigSize;
    public uint NewSize;
    public uint OrigTypeId;
    public uint NewTypeId;
}

/// <summary>CO-RE relocations resolved against a target BTF, as libbpf's relo_core.c does it
/// (bpf_core_calc_relo_insn, bpf_core_patch_insn), written from its description.</summary>
/// <remarks>
/// <para>The loader's target is the object's own BTF: the UAPI types an XDP object uses (xdp_md, ethhdr, iphdr)
/// are defined in it. Candidates for a local type are the types of a compatible kind whose name equals the local
/// type's name without a flavour suffix (<c>foo___v2</c> -> <c>foo</c>); types whose own name has a flavour are
/// never candidates, as a kernel's BTF has none. So an unflavoured type resolves to itself and a flavoured one to
/// its base type when the object defines it.</para>
/// <para>As in libbpf: a field or enumerator that no candidate has gives 0 for the "exists" kinds and poisons
/// the instruction otherwise (it becomes <c>call 0xbad2310</c>, which the verifier refuses only if reachable);
/// type-based kinds give 0 without a target. When no candidate type exists at all and the value is needed, the
/// caller refuses the object (<see cref="NoTargetType"/>).</para>
/// </remarks>
internal static class CoreRelocator
{
    /// <summary>BPF_CORE_SPEC_MAX_LEN.</summary>
    public const int SpecMaxLength = 64;

    /// <summary>The helper id libbpf writes into a poisoned instruction: 0xbad2310, "bad relo".</summary>
    public const int PoisonHelperId = 195896080;

    private const int MaxDepth = 32;

    /// <summary>libbpf's core_relo_kind_str().</summary>
    public static string KindName(BtfCoreReloKind kind) => kind switch
    {
        BtfCoreReloKind.FieldByteOffset => "byte_off",
        BtfCoreReloKind.FieldByteSize => "byte_sz",
        BtfCoreReloKind.FieldExists => "field_exists",
        BtfCoreReloKind.FieldSigned => "signed",
        BtfCoreReloKind.FieldLShiftU64 => "lshift_u64",
        BtfCoreReloKind.FieldRShiftU64 => "rshift_u64",
        BtfCoreReloKind.TypeIdLocal => "local_type_id",
        BtfCoreReloKind.TypeIdTarget => "target_type_id",
        BtfCoreReloKind.TypeExists => "type_exists",
        BtfCoreReloKind.TypeMatches => "type_matches",
        BtfCoreReloKind.TypeSize => "type_size",
        BtfCoreReloKind.EnumValueExists => "enumval_exists",
        BtfCoreReloKind.EnumValue => "enumval_value",
        _ => "unknown",
    };

    private static bool IsFieldBased(BtfCoreReloKind k) => k <= BtfCoreReloKind.FieldRShiftU64;

    private static bool IsTypeBased(BtfCoreReloKind k) =>
        k is BtfCoreReloKind.TypeIdLocal or BtfCoreReloKind.TypeIdTarget or BtfCoreReloKind.TypeExists
            or BtfCoreReloKind.TypeSize or BtfCoreReloKind.TypeMatches;

    private static bool IsEnumValueBased(BtfCoreReloKind k) => k is BtfCoreReloKind.EnumValueExists or BtfCoreReloKind.EnumValue;

    /// <summary>The error text meaning "no candidate type in the target" (the caller decides whether to refuse).</summary>
    public const string NoTargetType = "no target type";

    private sealed class Accessor
    {
        public uint TypeId;
        public int Index;
        public string? Name;
    }

    private sealed class Spec
    {
        public Spec(BtfSpec btf, uint root, BtfCoreReloKind kind)
        {
            Btf = btf;
            RootTypeId = root;
            Kind = kind;
        }

        public BtfSpec Btf { get; }

        public uint RootTypeId { get; }

        public BtfCoreReloKind Kind { get; }

        public List<Accessor> Accessors { get; } = [];

        public List<int> Raw { get; } = [];

        public long BitOffset { get; set; }
    }

    /// <summary>Resolves one relocation. Returns null and the result, or an error; <paramref name="description"/> is
    /// the local spec as libbpf prints it (<c>&lt;byte_off&gt; [8] struct my_hdr.len (0:2 @ offset 2)</c>).</summary>
    public static string? Calculate(BtfSpec btf, BtfCoreRelo relo, out CoreResult result, out string description, out bool needsTarget)
    {
        result = default;
        needsTarget = false;
        var localType = btf.TryGet(relo.TypeId);
        description = $"<{KindName(relo.Kind)}> [{relo.TypeId}]";
        if (localType is null)
        {
            return $"type [{relo.TypeId}] does not exist";
        }

        var err = ParseSpec(btf, relo, out var local);
        if (err is not null)
        {
            description += $" {KindText(localType)} {(localType.IsAnonymous ? "<anon>" : localType.Name)} + {relo.Access}";
            return "parsing the access string failed: " + err;
        }

        description = Format(local);
        if (relo.Kind == BtfCoreReloKind.TypeIdLocal)
        {
            result = new CoreResult { OrigVal = local.RootTypeId, NewVal = local.RootTypeId, Validate = false };
            return null;
        }

        if (localType.IsAnonymous)
        {
            return $"<{KindName(relo.Kind)}> ({(int)relo.Kind}) relocation doesn't support anonymous types";
        }

        var candidates = FindCandidates(btf, localType);
        Spec? target = null;
        bool found = false;
        foreach (uint cand in candidates)
        {
            int m = SpecMatch(local, btf, cand, out var candSpec, out var matchErr);
            if (m < 0)
            {
                return $"error matching candidate [{cand}]: {matchErr}";
            }

            if (m == 0)
            {
                continue;
            }

            err = CalcRelo(relo, local, candSpec, out var candRes);
            if (err is not null)
            {
                return err;
            }

            if (!found)
            {
                result = candRes;
                target = candSpec;
                found = true;
            }
            else if (candSpec.BitOffset != target!.BitOffset)
            {
                return $"field offset ambiguity: {candSpec.BitOffset} != {target.BitOffset}";
            }
            else if (candRes.Poison != result.Poison || candRes.NewVal != result.NewVal)
            {
                return $"relocation decision ambiguity: {(result.Poison ? "poison" : "value")} {result.NewVal} != {(candRes.Poison ? "poison" : "value")} {candRes.NewVal}";
            }
        }

        if (!found)
        {
            err = CalcRelo(relo, local, null, out result);
            if (err is not null)
            {
                return err;
            }

            needsTarget = candidates.Count == 0 && result.Poison;
            if (needsTarget)
            {
                return NoTargetType;
            }
        }

        return null;
    }

    // libbpf's btf_kind_str(): lower-case kind names.
    private static string KindText(BtfType t) => BtfType.KindName(t.Kind).ToLowerInvariant();

    /// <summary>A name's length without its flavour suffix (libbpf's bpf_core_essential_name_len).</summary>
    public static int EssentialNameLength(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int i = name.Length - 5; i >= 0; i--)
        {
            if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' && name[i + 4] != '_')
            {
                return i + 1;
            }
        }

        return name.Length;
    }

    private static bool KindCompat(BtfType a, BtfType b) =>
        a.Kind == b.Kind || (a is BtfEnum && b is BtfEnum);

    private static List<uint> FindCandidates(BtfSpec btf, BtfType local)
    {
        int len = EssentialNameLength(local.Name);
        var essential = local.Name.AsSpan(0, len);
        var result = new List<uint>();
        for (uint id = 1; id < (uint)btf.Count; id++)
        {
            var t = btf[id];
            if (!KindCompat(t, local) || t.IsAnonymous || t.Name.Length != len)
            {
                continue;
            }

            // The target has no flavoured names (EssentialNameLength == Length, checked by the equal lengths).
            if (t.Name.AsSpan().SequenceEqual(essential))
            {
                result.Add(id);
            }
        }

        return result;
    }

    // kernel: relo_core.c bpf_core_parse_spec()
    private static string? ParseSpec(BtfSpec btf, BtfCoreRelo relo, out Spec spec)
    {
        spec = new Spec(btf, relo.TypeId, relo.Kind);
        if (IsTypeBased(relo.Kind))
        {
            return relo.Access == "0" ? null : $"type-based relocation with access string \"{relo.Access}\"";
        }

        foreach (var part in relo.Access.Split(':'))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int idx))
            {
                return $"invalid access string \"{relo.Access}\"";
            }

            if (spec.Raw.Count == SpecMaxLength)
            {
                return "access string is too long";
            }

            spec.Raw.Add(idx);
        }

        var t = btf.SkipModsAndTypedefs(relo.TypeId, out uint id);
        if (t is null)
        {
            return $"cannot resolve type [{relo.TypeId}]";
        }

        int access = spec.Raw[0];
        var acc = new Accessor { TypeId = id, Index = access };
        spec.Accessors.Add(acc);
        if (IsEnumValueBased(relo.Kind))
        {
            if (t is not BtfEnum e || spec.Raw.Count > 1 || access >= e.Values.Count)
            {
                return "enumerator access does not name an enumerator";
            }

            acc.Name = e.Values[access].Name;
            return null;
        }

        if (!IsFieldBased(relo.Kind))
        {
            return $"unknown relocation kind {(int)relo.Kind}";
        }

        long sz = btf.ResolveSize(id);
        if (sz < 0)
        {
            return $"cannot size type [{id}]";
        }

        spec.BitOffset = access * sz * 8;
        for (int i = 1; i < spec.Raw.Count; i++)
        {
            t = btf.SkipModsAndTypedefs(id, out id);
            if (t is null)
            {
                return $"cannot resolve type [{id}]";
            }

            access = spec.Raw[i];
            if (t is BtfComposite c)
            {
                if (access >= c.Members.Count)
                {
                    return $"member #{access} of [{id}] does not exist";
                }

                var m = c.Members[access];
                spec.BitOffset += m.BitOffset;
                if (m.Name.Length > 0)
                {
                    spec.Accessors.Add(new Accessor { TypeId = id, Index = access, Name = m.Name });
                }

                id = m.TypeId;
            }
            else if (t is BtfArray a)
            {
                if (btf.SkipModsAndTypedefs(a.ElementTypeId, out id) is null)
                {
                    return $"cannot resolve type [{a.ElementTypeId}]";
                }

                bool flex = IsFlexArray(btf, spec.Accessors[^1], a);
                if (!flex && access >= a.Count)
                {
                    return $"index {access} is beyond the array's {a.Count} elements";
                }

                spec.Accessors.Add(new Accessor { TypeId = id, Index = access });
                sz = btf.ResolveSize(id);
                if (sz < 0)
                {
                    return $"cannot size type [{id}]";
                }

                spec.BitOffset += access * sz * 8;
            }
            else
            {
                return $"access #{i} captures type [{id}] of unexpected kind {KindText(t)}";
            }
        }

        return null;
    }

    private static bool IsFlexArray(BtfSpec btf, Accessor acc, BtfArray a) =>
        acc.Name is not null && a.Count == 0 && btf.TryGet(acc.TypeId) is BtfComposite c && acc.Index == c.Members.Count - 1;

    // kernel: relo_core.c bpf_core_spec_match(): 1 match, 0 no match, -1 error.
    private static int SpecMatch(Spec local, BtfSpec btf, uint targetId, out Spec target, out string? error)
    {
        error = null;
        target = new Spec(btf, targetId, local.Kind);
        if (IsTypeBased(local.Kind))
        {
            return local.Kind == BtfCoreReloKind.TypeMatches
                ? (TypesMatch(btf, local.RootTypeId, targetId, true, 0) ? 1 : 0)
                : TypesAreCompat(btf, local.RootTypeId, targetId, MaxDepth);
        }

        var localAcc = local.Accessors[0];
        if (IsEnumValueBased(local.Kind))
        {
            if (btf.SkipModsAndTypedefs(targetId, out targetId) is not BtfEnum e)
            {
                return 0;
            }

            int len = EssentialNameLength(localAcc.Name!);
            for (int i = 0; i < e.Values.Count; i++)
            {
                var n = e.Values[i].Name;
                if (EssentialNameLength(n) == len && string.CompareOrdinal(n, 0, localAcc.Name, 0, len) == 0)
                {
                    target.Accessors.Add(new Accessor { TypeId = targetId, Index = i, Name = n });
                    target.Raw.Add(i);
                    return 1;
                }
            }

            return 0;
        }

        for (int i = 0; i < local.Accessors.Count; i++)
        {
            localAcc = local.Accessors[i];
            var targetType = btf.SkipModsAndTypedefs(targetId, out targetId);
            if (targetType is null)
            {
                error = $"cannot resolve target type [{targetId}]";
                return -1;
            }

            if (localAcc.Name is not null)
            {
                int matched = MatchMember(local.Btf, localAcc, btf, targetId, target, out targetId, 0, out error);
                if (matched <= 0)
                {
                    return matched;
                }
            }
            else
            {
                if (i > 0)
                {
                    if (targetType is not BtfArray a)
                    {
                        return 0;
                    }

                    bool flex = target.Accessors.Count > 0 && IsFlexArray(btf, target.Accessors[^1], a);
                    if (!flex && localAcc.Index >= a.Count)
                    {
                        return 0;
                    }

                    if (btf.SkipModsAndTypedefs(a.ElementTypeId, out targetId) is null)
                    {
                        error = $"cannot resolve target type [{a.ElementTypeId}]";
                        return -1;
                    }
                }

                if (target.Raw.Count == SpecMaxLength)
                {
                    error = "too deep struct/union/array nesting";
                    return -1;
                }

                target.Accessors.Add(new Accessor { TypeId = targetId, Index = localAcc.Index });
                target.Raw.Add(localAcc.Index);
                long sz = btf.ResolveSize(targetId);
                if (sz < 0)
                {
                    error = $"cannot size target type [{targetId}]";
                    return -1;
                }

                target.BitOffset += localAcc.Index * sz * 8;
            }
        }

        return 1;
    }

    // kernel: relo_core.c bpf_core_match_member(): searches named members, descending into anonymous ones.
    private static int MatchMember(BtfSpec localBtf, Accessor localAcc, BtfSpec btf, uint targetId, Spec spec, out uint nextTargetId, int depth, out string? error)
    {
        error = null;
        nextTargetId = targetId;
        if (depth > MaxDepth)
        {
            error = "too deep anonymous member nesting";
            return -1;
        }

        var targetType = btf.SkipModsAndTypedefs(targetId, out targetId);
        if (targetType is null)
        {
            error = $"cannot resolve target type [{targetId}]";
            return -1;
        }

        if (targetType is not BtfComposite tc)
        {
            return 0;
        }

        var localMember = ((BtfComposite)localBtf[localAcc.TypeId]).Members[localAcc.Index];
        for (int i = 0; i < tc.Members.Count; i++)
        {
            var m = tc.Members[i];
            if (spec.Raw.Count == SpecMaxLength)
            {
                error = "too deep struct/union/array nesting";
                return -1;
            }

            spec.BitOffset += m.BitOffset;
            spec.Raw.Add(i);
            if (m.Name.Length == 0)
            {
                int found = MatchMember(localBtf, localAcc, btf, m.TypeId, spec, out nextTargetId, depth + 1, out error);
                if (found != 0)
                {
                    return found;
                }
            }
            else if (m.Name == localMember.Name)
            {
                spec.Accessors.Add(new Accessor { TypeId = targetId, Index = i, Name = m.Name });
                nextTargetId = m.TypeId;
                int compat = FieldsAreCompat(localBtf, localMember.TypeId, btf, m.TypeId);
                if (compat <= 0)
                {
                    spec.Accessors.RemoveAt(spec.Accessors.Count - 1);
                }

                if (compat < 0)
                {
                    error = "cannot resolve member types";
                }

                return compat;
            }

            spec.BitOffset -= m.BitOffset;
            spec.Raw.RemoveAt(spec.Raw.Count - 1);
        }

        return 0;
    }

    // kernel: relo_core.c bpf_core_fields_are_compat()
    private static int FieldsAreCompat(BtfSpec localBtf, uint localId, BtfSpec btf, uint targetId)
    {
        for (int depth = 0; depth < MaxDepth; depth++)
        {
            var l = localBtf.SkipModsAndTypedefs(localId, out localId);
            var t = btf.SkipModsAndTypedefs(targetId, out targetId);
            if (l is null || t is null)
            {
                return -1;
            }

            if (l is BtfComposite && t is BtfComposite)
            {
                return 1;
            }

            if (!KindCompat(l, t))
            {
                return 0;
            }

            switch (l)
            {
                case BtfPtr or BtfFloat:
                    return 1;
                case BtfFwd or BtfEnum:
                {
                    int ll = EssentialNameLength(l.Name), tl = EssentialNameLength(t.Name);
                    return ll == 0 || tl == 0 || (ll == tl && string.CompareOrdinal(l.Name, 0, t.Name, 0, ll) == 0) ? 1 : 0;
                }

                case BtfInt li:
                    return li.BitOffset == 0 && ((BtfInt)t).BitOffset == 0 ? 1 : 0;
                case BtfArray la:
                    localId = la.ElementTypeId;
                    targetId = ((BtfArray)t).ElementTypeId;
                    continue;
                default:
                    return 0;
            }
        }

        return -1;
    }

    // kernel: relo_core.c __bpf_core_types_are_compat()
    private static int TypesAreCompat(BtfSpec btf, uint localId, uint targetId, int level)
    {
        var l0 = btf.TryGet(localId);
        var t0 = btf.TryGet(targetId);
        if (l0 is null || t0 is null || !KindCompat(l0, t0))
        {
            return 0;
        }

        for (int depth = 0; depth < MaxDepth; depth++)
        {
            var l = btf.SkipModsAndTypedefs(localId, out localId);
            var t = btf.SkipModsAndTypedefs(targetId, out targetId);
            if (l is null || t is null)
            {
                return -1;
            }

            if (!KindCompat(l, t))
            {
                return 0;
            }

            switch (l)
            {
                case BtfVoid or BtfComposite or BtfEnum or BtfFwd:
                    return 1;
                case BtfInt li:
                    return li.BitOffset == 0 && ((BtfInt)t).BitOffset == 0 ? 1 : 0;
                case BtfPtr lp:
                    localId = lp.TypeId;
                    targetId = ((BtfPtr)t).TypeId;
                    continue;
                case BtfArray la:
                    localId = la.ElementTypeId;
                    targetId = ((BtfArray)t).ElementTypeId;
                    continue;
                case BtfFuncProto lf:
                {
                    var tf = (BtfFuncProto)t;
                    if (lf.Parameters.Count != tf.Parameters.Count)
                    {
                        return 0;
                    }

                    for (int i = 0; i < lf.Parameters.Count; i++)
                    {
                        if (level <= 0)
                        {
                            return -1;
                        }

                        btf.SkipModsAndTypedefs(lf.Parameters[i].TypeId, out uint lpId);
                        btf.SkipModsAndTypedefs(tf.Parameters[i].TypeId, out uint tpId);
                        int r = TypesAreCompat(btf, lpId, tpId, level - 1);
                        if (r <= 0)
                        {
                            return r;
                        }
                    }

                    btf.SkipModsAndTypedefs(lf.ReturnTypeId, out localId);
                    btf.SkipModsAndTypedefs(tf.ReturnTypeId, out targetId);
                    continue;
                }

                default:
                    return 0;
            }
        }

        return -1;
    }

    // kernel: relo_core.c __bpf_core_types_match(), for TYPE_MATCHES: the same shape, member by member.
    private static bool TypesMatch(BtfSpec btf, uint localId, uint targetId, bool behindPtr, int depth)
    {
        if (depth > MaxDepth)
        {
            return false;
        }

        var l = btf.SkipModsAndTypedefs(localId, out localId);
        var t = btf.SkipModsAndTypedefs(targetId, out targetId);
        if (l is null || t is null || !NamesMatch(l, t))
        {
            return false;
        }

        if (l.Kind != t.Kind && !(l is BtfEnum && t is BtfEnum) && !(behindPtr && (l is BtfFwd || t is BtfFwd)))
        {
            return false;
        }

        switch (l)
        {
            case BtfVoid or BtfFloat or BtfFwd:
                return true;
            case BtfInt li:
                return t is BtfInt ti && li.Size == ti.Size && li.IsSigned == ti.IsSigned;
            case BtfEnum le:
                if (t is not BtfEnum te || le.Size != te.Size)
                {
                    return false;
                }

                foreach (var v in le.Values)
                {
                    if (!te.Values.Any(x => x.Name == v.Name))
                    {
                        return false;
                    }
                }

                return true;
            case BtfComposite lc:
                if (t is BtfFwd)
                {
                    return behindPtr;
                }

                if (t is not BtfComposite tc || lc.Members.Count > tc.Members.Count)
                {
                    return false;
                }

                foreach (var lm in lc.Members)
                {
                    var tm = tc.Members.FirstOrDefault(x => x.Name == lm.Name);
                    if (tm is null || !TypesMatch(btf, lm.TypeId, tm.TypeId, false, depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            case BtfPtr lp:
                return TypesMatch(btf, lp.TypeId, ((BtfPtr)t).TypeId, true, depth + 1);
            case BtfArray la:
            {
                var ta = (BtfArray)t;
                return la.Count == ta.Count && TypesMatch(btf, la.ElementTypeId, ta.ElementTypeId, behindPtr, depth + 1);
            }

            case BtfFuncProto lf:
            {
                var tf = (BtfFuncProto)t;
                if (lf.Parameters.Count != tf.Parameters.Count)
                {
                    return false;
                }

                for (int i = 0; i < lf.Parameters.Count; i++)
                {
                    if (!TypesMatch(btf, lf.Parameters[i].TypeId, tf.Parameters[i].TypeId, behindPtr, depth + 1))
                    {
                        return false;
                    }
                }

                return TypesMatch(btf, lf.ReturnTypeId, tf.ReturnTypeId, behindPtr, depth + 1);
            }

            default:
                return false;
        }
    }

    private static bool NamesMatch(BtfType l, BtfType t)
    {
        if (l.IsAnonymous || t.IsAnonymous)
        {
            return l.IsAnonymous == t.IsAnonymous || l is not (BtfComposite or BtfEnum or BtfFwd);
        }

        int len = EssentialNameLength(l.Name);
        return EssentialNameLength(t.Name) == len && string.CompareOrdinal(l.Name, 0, t.Name, 0, len) == 0;
    }

    // kernel: relo_core.c bpf_core_calc_relo()
    private static string? CalcRelo(BtfCoreRelo relo, Spec local, Spec? target, out CoreResult res)
    {
        res = new CoreResult { Validate = true };
        string? err;
        bool poison = false;
        if (IsFieldBased(relo.Kind))
        {
            err = CalcFieldRelo(relo, local, out res.OrigVal, out res.OrigSize, out res.OrigTypeId, out bool validate, out poison);
            res.Validate = validate;
            if (err is null && !poison)
            {
                err = CalcFieldRelo(relo, target, out res.NewVal, out res.NewSize, out res.NewTypeId, out _, out poison);
            }

            if (err is null && !poison && res.OrigSize != res.NewSize)
            {
                var o = local.Btf.TryGet(res.OrigTypeId);
                var n = target!.Btf.TryGet(res.NewTypeId);
                bool safe = (o is BtfPtr && n is BtfPtr) || (o is BtfInt oi && n is BtfInt ni && !oi.IsSigned && !ni.IsSigned);
                res.FailMemSizeAdjust = !safe;
            }
        }
        else if (IsTypeBased(relo.Kind))
        {
            err = CalcTypeRelo(relo, local, out res.OrigVal, out bool validate);
            res.Validate = validate;
            err ??= CalcTypeRelo(relo, target, out res.NewVal, out _);
        }
        else
        {
            err = CalcEnumValueRelo(relo, local, out res.OrigVal, out poison);
            if (err is null && !poison)
            {
                err = CalcEnumValueRelo(relo, target, out res.NewVal, out poison);
            }
        }

        res.Poison = poison;
        return err;
    }

    // kernel: relo_core.c bpf_core_calc_field_relo(); poison stands for its -EUCLEAN.
    private static string? CalcFieldRelo(BtfCoreRelo relo, Spec? spec, out ulong val, out uint fieldSize, out uint typeId, out bool validate, out bool poison)
    {
        val = 0;
        fieldSize = 0;
        typeId = 0;
        validate = true;
        poison = false;
        if (relo.Kind == BtfCoreReloKind.FieldExists)
        {
            val = spec is null ? 0UL : 1UL;
            return null;
        }

        if (spec is null)
        {
            poison = true;
            return null;
        }

        var acc = spec.Accessors[^1];
        var btf = spec.Btf;
        if (acc.Name is null)
        {
            long sz = btf.ResolveSize(acc.TypeId);
            if (sz < 0)
            {
                return $"cannot size type [{acc.TypeId}]";
            }

            if (relo.Kind == BtfCoreReloKind.FieldByteOffset)
            {
                val = (ulong)(spec.BitOffset / 8);
                fieldSize = (uint)sz;
                typeId = acc.TypeId;
            }
            else if (relo.Kind == BtfCoreReloKind.FieldByteSize)
            {
                val = (ulong)sz;
            }
            else
            {
                return $"relocation {KindName(relo.Kind)} can't be applied to an array access";
            }

            return null;
        }

        var t = (BtfComposite)btf[acc.TypeId];
        var m = t.Members[acc.Index];
        var mt = btf.SkipModsAndTypedefs(m.TypeId, out uint fieldTypeId);
        if (mt is null)
        {
            return $"cannot resolve type [{m.TypeId}]";
        }

        ulong bitOff = (ulong)spec.BitOffset;
        ulong bitSize = m.BitfieldSize;
        ulong byteOff, byteSize;
        bool bitfield = bitSize > 0;
        if (bitfield)
        {
            byteSize = mt switch { BtfInt i => i.Size, BtfEnum e => e.Size, _ => 0 };
            if (byteSize == 0)
            {
                return $"bitfield of type [{fieldTypeId}] has no integer size";
            }

            byteOff = bitOff / 8 / byteSize * byteSize;
            while (bitOff + bitSize - (byteOff * 8) > byteSize * 8)
            {
                if (byteSize >= 8)
                {
                    return "bitfield can't be read with a 64-bit read";
                }

                byteSize *= 2;
                byteOff = bitOff / 8 / byteSize * byteSize;
            }
        }
        else
        {
            long sz = btf.ResolveSize(fieldTypeId);
            if (sz < 0)
            {
                return $"cannot size type [{fieldTypeId}]";
            }

            byteSize = (ulong)sz;
            byteOff = bitOff / 8;
            bitSize = byteSize * 8;
        }

        validate = !bitfield;
        switch (relo.Kind)
        {
            case BtfCoreReloKind.FieldByteOffset:
                val = byteOff;
                if (!bitfield)
                {
                    fieldSize = (uint)byteSize;
                    typeId = fieldTypeId;
                }

                break;
            case BtfCoreReloKind.FieldByteSize:
                val = byteSize;
                break;
            case BtfCoreReloKind.FieldSigned:
                val = (mt is BtfEnum en && en.IsSigned) || (mt is BtfInt it && it.IsSigned) ? 1UL : 0UL;
                validate = true;
                break;
            case BtfCoreReloKind.FieldLShiftU64:
                val = 64 - (bitOff + bitSize - (byteOff * 8));
                break;
            case BtfCoreReloKind.FieldRShiftU64:
                val = 64 - bitSize;
                validate = true;
                break;
            default:
                return $"unexpected field relocation kind {(int)relo.Kind}";
        }

        return null;
    }

    // kernel: relo_core.c bpf_core_calc_type_relo(): type-based kinds are 0 without a target.
    private static string? CalcTypeRelo(BtfCoreRelo relo, Spec? spec, out ulong val, out bool validate)
    {
        validate = true;
        val = 0;
        if (spec is null)
        {
            return null;
        }

        switch (relo.Kind)
        {
            case BtfCoreReloKind.TypeIdTarget:
                val = spec.RootTypeId;
                validate = false;
                return null;
            case BtfCoreReloKind.TypeExists or BtfCoreReloKind.TypeMatches:
                val = 1;
                return null;
            case BtfCoreReloKind.TypeSize:
                long sz = spec.Btf.ResolveSize(spec.RootTypeId);
                if (sz < 0)
                {
                    return $"cannot size type [{spec.RootTypeId}]";
                }

                val = (ulong)sz;
                return null;
            default:
                return $"unexpected type relocation kind {(int)relo.Kind}";
        }
    }

    // kernel: relo_core.c bpf_core_calc_enumval_relo()
    private static string? CalcEnumValueRelo(BtfCoreRelo relo, Spec? spec, out ulong val, out bool poison)
    {
        val = 0;
        poison = false;
        if (relo.Kind == BtfCoreReloKind.EnumValueExists)
        {
            val = spec is null ? 0UL : 1UL;
            return null;
        }

        if (spec is null)
        {
            poison = true;
            return null;
        }

        var e = (BtfEnum)spec.Btf[spec.Accessors[0].TypeId];
        val = (ulong)e.Values[spec.Accessors[0].Index].Value;
        return null;
    }

    // kernel: relo_core.c bpf_core_format_spec()
    private static string Format(Spec spec)
    {
        var t = spec.Btf[spec.RootTypeId];
        var sb = new StringBuilder();
        sb.Append('<').Append(KindName(spec.Kind)).Append("> [").Append(spec.RootTypeId).Append("] ")
            .Append(KindText(t)).Append(' ').Append(t.IsAnonymous ? "<anon>" : t.Name);
        if (IsTypeBased(spec.Kind))
        {
            return sb.ToString();
        }

        if (IsEnumValueBased(spec.Kind))
        {
            if (spec.Btf.SkipModsAndTypedefs(spec.RootTypeId, out _) is BtfEnum e)
            {
                var v = e.Values[spec.Raw[0]];
                sb.Append("::").Append(v.Name).Append(" = ")
                    .Append(e.IsSigned || e.Kind == BtfKind.Enum64 ? v.Value.ToString(CultureInfo.InvariantCulture) : ((uint)v.Value).ToString(CultureInfo.InvariantCulture));
            }

            return sb.ToString();
        }

        for (int i = 0; i < spec.Accessors.Count; i++)
        {
            var a = spec.Accessors[i];
            if (a.Name is not null)
            {
                sb.Append('.').Append(a.Name);
            }
            else if (i > 0 || a.Index > 0)
            {
                sb.Append('[').Append(a.Index).Append(']');
            }
        }

        sb.Append(" (").AppendJoin(':', spec.Raw);
        sb.Append(spec.BitOffset % 8 != 0
            ? $" @ offset {spec.BitOffset / 8}.{spec.BitOffset % 8})"
            : $" @ offset {spec.BitOffset / 8})");
        return sb.ToString();
    }

    /// <summary>Patches the instruction at <paramref name="index"/> (kernel: relo_core.c bpf_core_patch_insn);
    /// null on success, else why it cannot be patched.</summary>
    public static string? Patch(Span<Instruction> slots, int index, in CoreResult res)
    {
        var insn = slots[index];
        if (res.Poison)
        {
            Poison(slots, index);
            return null;
        }

        ulong orig = res.OrigVal, value = res.NewVal;
        switch (insn.Class)
        {
            case OpClass.Alu or OpClass.Alu64:
                if (insn.SrcIsReg)
                {
                    return "ALU instruction with a register source cannot take a CO-RE value";
                }

                if (res.Validate && (ulong)(long)insn.Imm != orig)
                {
                    return $"unexpected insn #{index} (ALU/ALU64) value: got {insn.Imm}, exp {orig} -> {value}";
                }

                slots[index] = new Instruction(insn.Opcode, insn.Regs, insn.Offset, (int)value);
                return null;
            case OpClass.Ldx or OpClass.St or OpClass.Stx:
            {
                if (res.Validate && (ulong)(long)insn.Offset != orig)
                {
                    return $"unexpected insn #{index} (LDX/ST/STX) value: got {insn.Offset}, exp {orig} -> {value}";
                }

                if (value > (ulong)short.MaxValue)
                {
                    return $"insn #{index} (LDX/ST/STX) value too big: {value}";
                }

                if (res.FailMemSizeAdjust)
                {
                    Poison(slots, index);
                    return null;
                }

                byte opcode = insn.Opcode;
                if (res.NewSize != res.OrigSize)
                {
                    if (insn.AccessBytes != res.OrigSize)
                    {
                        return $"insn #{index} (LDX/ST/STX) unexpected mem size: got {insn.AccessBytes}, exp {res.OrigSize}";
                    }

                    MemSize? size = res.NewSize switch { 1 => MemSize.B, 2 => MemSize.H, 4 => MemSize.W, 8 => MemSize.DW, _ => null };
                    if (size is null)
                    {
                        return $"insn #{index} (LDX/ST/STX) invalid new mem size: {res.NewSize}";
                    }

                    opcode = (byte)((opcode & 0xe7) | (byte)size.Value);
                }

                slots[index] = new Instruction(opcode, insn.Regs, (short)value, insn.Imm);
                return null;
            }

            case OpClass.Ld:
            {
                if (!insn.IsLdImm64 || insn.SrcReg != 0 || insn.Offset != 0 || index + 1 >= slots.Length
                    || slots[index + 1].Opcode != 0 || slots[index + 1].Regs != 0 || slots[index + 1].Offset != 0)
                {
                    return $"insn #{index} (LDIMM64) has unexpected form";
                }

                ulong imm = BpfProgram.Combine(insn, slots[index + 1]);
                if (res.Validate && imm != orig)
                {
                    return $"unexpected insn #{index} (LDIMM64) value: got {imm}, exp {orig} -> {value}";
                }

                slots[index] = new Instruction(insn.Opcode, insn.Regs, insn.Offset, (int)(uint)value);
                slots[index + 1] = new Instruction(0, 0, 0, (int)(uint)(value >> 32));
                return null;
            }

            default:
                return $"trying to relocate unrecognized insn #{index}, code:0x{insn.Opcode:x}, src:0x{insn.SrcReg:x}, dst:0x{insn.DstReg:x}, off:0x{(ushort)insn.Offset:x}, imm:0x{insn.Imm:x}";
        }
    }

    // kernel: relo_core.c bpf_core_poison_insn(): call 0xbad2310, and the same for a lddw's second slot.
    private static void Poison(Span<Instruction> slots, int index)
    {
        if (slots[index].IsLdImm64 && index + 1 < slots.Length)
        {
            slots[index + 1] = new Instruction(Op.Call, 0, 0, PoisonHelperId);
        }

        slots[index] = new Instruction(Op.Call, 0, 0, PoisonHelperId);
    }
}
