using System.Text.Json;
using VethXdp.Verifier.Cfg;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Tests.Cfg;

/// <summary>Replays Data/kernel-cfg.jsonl: random small programs with random jumps, calls and ld_imm64, with the
/// control-flow message Linux 6.18.44 printed for each (null when the program got past the control-flow passes).
/// Made by Data/gen_kernel_cfg.py.</summary>
public class KernelCfgVectorTests
{
    [Fact]
    public void Check_RandomPrograms_SameMessageAsLinux()
    {
        string path = Path.Combine(TestPaths.RepoRoot, "tests", "VethXdp.Verifier.Tests", "Data", "kernel-cfg.jsonl");
        var failures = new List<string>();
        int n = 0, accepted = 0;
        foreach (string line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line);
            var slots = doc.RootElement.GetProperty("slots").EnumerateArray()
                .Select(a => new Instruction((byte)a[0].GetInt32(), (Register)a[1].GetInt32(), (Register)a[2].GetInt32(),
                    (short)a[3].GetInt32(), a[4].GetInt32()))
                .ToArray();
            var expected = doc.RootElement.GetProperty("cfg_error");
            string? linux = expected.ValueKind == JsonValueKind.Null ? null : expected.GetString();
            var r = CfgCheck.Check(slots);
            n++;
            accepted += linux is null ? 1 : 0;
            if (r.Error?.Message != linux)
            {
                failures.Add($"{line}\n  ours: {r.Error?.Message ?? "ok"}");
            }
        }

        Assert.True(n > 2000 && accepted > 50, $"{n} programs, {accepted} accepted");
        Assert.True(failures.Count == 0, $"{failures.Count}/{n} differ:\n" + string.Join("\n", failures.Take(8)));
    }
}
