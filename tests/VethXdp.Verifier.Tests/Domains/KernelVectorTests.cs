using System.Text.Json;
using VethXdp.Verifier.Domains;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Tests.Domains;

/// <summary>Replays Data/kernel-bounds.jsonl: ALU results and branch refinements that Linux 6.18.44 printed in its
/// level-2 log for random operands (made by loading random programs into the running kernel; see
/// Data/README.md). Our transfer functions must print exactly what the kernel printed.</summary>
public class KernelVectorTests
{
    private static readonly Lazy<List<JsonElement>> s_vectors = new(Load);

    private static List<JsonElement> Load()
    {
        // VETHXDP_BOUNDS_VECTORS points at a larger, freshly generated set (see Data/README.md) for ad-hoc runs.
        string data = Path.Combine(TestPaths.RepoRoot, "tests", "VethXdp.Verifier.Tests", "Data");
        string[] paths = Environment.GetEnvironmentVariable("VETHXDP_BOUNDS_VECTORS") is { Length: > 0 } env
            ? [env]
            : [Path.Combine(data, "kernel-bounds.jsonl"), Path.Combine(data, "kernel-reg-bounds-crafted.jsonl")];
        var list = new List<JsonElement>();
        foreach (string path in paths)
        {
            foreach (string line in File.ReadLines(path))
            {
                if (line.Length > 0)
                {
                    list.Add(JsonDocument.Parse(line).RootElement.Clone());
                }
            }
        }

        return list;
    }

    private static Instruction InsnOf(JsonElement v)
    {
        var a = v.GetProperty("insn");
        return new Instruction((byte)a[0].GetInt32(), (Register)a[1].GetInt32(), (Register)a[2].GetInt32(),
            (short)a[3].GetInt32(), a[4].GetInt32());
    }

    private static string? Str(JsonElement v, string name) =>
        v.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    [Fact]
    public void Vectors_Present_CoverAluAndBranches()
    {
        var all = s_vectors.Value;
        Assert.True(all.Count >= 3000, $"only {all.Count} vectors");
        Assert.Contains(all, v => Str(v, "case") is not null); // the reg_bounds.c crafted cases
        Assert.Contains(all, v => Str(v, "mode") == "alu");
        Assert.Contains(all, v => Str(v, "outcome") == "always");
        Assert.Contains(all, v => Str(v, "outcome") == "never");
        Assert.Contains(all, v => Str(v, "outcome") == "unknown");
    }

    [Fact]
    public void KernelText_EveryRecordedState_RoundTrips()
    {
        var failures = new List<string>();
        foreach (var v in s_vectors.Value)
        {
            foreach (string field in new[] { "dst", "src", "out_dst", "true_dst", "true_src", "false_dst", "false_src" })
            {
                string? text = Str(v, field);
                if (text is null)
                {
                    continue;
                }

                string ours = KernelText.ParseScalar(text).ToString();
                if (ours != text)
                {
                    failures.Add($"{text} -> {ours}");
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} texts differ:\n" + string.Join("\n", failures.Take(10)));
    }

    [Fact]
    public void Alu_AsLinuxPrintedIt_SameResult()
    {
        var failures = new List<string>();
        int n = 0;
        foreach (var v in s_vectors.Value.Where(v => Str(v, "mode") == "alu"))
        {
            n++;
            var insn = InsnOf(v);
            var dst = KernelText.ParseScalar(Str(v, "dst")!);
            bool unary = insn.AluOp is AluOp.Neg or AluOp.End;
            var src = unary ? dst : insn.SrcIsReg ? KernelText.ParseScalar(Str(v, "src")!) : ScalarBounds.ImmOperand(insn);
            // maybe_fork_scalars: the recorded line is the path that continues with the destination all ones
            if (insn.AluOp is AluOp.And or AluOp.Or && src.IsConst && ScalarBounds.IsSignMaskFork(dst, out bool fork32))
            {
                ScalarBounds.SplitSignMask(ref dst, fork32);
            }

            if (insn.AluOp == AluOp.Mov)
            {
                ScalarBounds.Mov(ref dst, in src, insn);
            }
            else
            {
                ScalarBounds.Alu(ref dst, src, insn);
            }

            string expected = Str(v, "out_dst")!;
            if (dst.ToString() != expected)
            {
                failures.Add($"{Str(v, "name")} {insn}: dst={Str(v, "dst")} src={Str(v, "src")}\n  linux: {expected}\n  ours:  {dst}");
            }
        }

        Assert.True(n > 1000);
        Assert.True(failures.Count == 0, $"{failures.Count}/{n} differ:\n" + string.Join("\n", failures.Take(8)));
    }

    [Fact]
    public void Branch_AsLinuxDecidedAndRefined_SameStates()
    {
        var failures = new List<string>();
        int n = 0;
        foreach (var v in s_vectors.Value.Where(v => Str(v, "mode") == "jmp"))
        {
            n++;
            var insn = InsnOf(v);
            bool is32 = insn.Class == OpClass.Jmp32;
            var dst = KernelText.ParseScalar(Str(v, "dst")!);
            var src = insn.SrcIsReg ? KernelText.ParseScalar(Str(v, "src")!) : ScalarBounds.ImmOperand(insn);
            var outcome = ScalarBounds.IsBranchTaken(dst, src, insn.JmpOp, is32);
            string expected = Str(v, "outcome")!;
            string ours = outcome switch
            {
                BranchOutcome.Always => "always",
                BranchOutcome.Never => "never",
                _ => "unknown",
            };
            string head = $"{Str(v, "name")} {insn}: dst={Str(v, "dst")} src={Str(v, "src")}";
            if (ours != expected)
            {
                failures.Add($"{head}\n  linux: {expected}\n  ours:  {ours}");
                continue;
            }

            if (outcome != BranchOutcome.Unknown)
            {
                continue;
            }

            var s = ScalarBounds.Branch(dst, src, insn.JmpOp, is32);
            Compare(failures, head, "true_dst", Str(v, "true_dst"), s.TrueReg1);
            Compare(failures, head, "false_dst", Str(v, "false_dst"), s.FalseReg1);
            if (insn.SrcIsReg)
            {
                Compare(failures, head, "true_src", Str(v, "true_src"), s.TrueReg2);
                Compare(failures, head, "false_src", Str(v, "false_src"), s.FalseReg2);
            }
        }

        Assert.True(n > 1000);
        Assert.True(failures.Count == 0, $"{failures.Count}/{n} differ:\n" + string.Join("\n", failures.Take(8)));
    }

    private static void Compare(List<string> failures, string head, string what, string? linux, ScalarBounds ours)
    {
        if (linux is not null && ours.ToString() != linux)
        {
            failures.Add($"{head}\n  {what} linux: {linux}\n  {what} ours:  {ours}");
        }
    }
}
