using System.Text.Json;

namespace VethXdp.Devices.Tests;

/// <summary>The switch scenarios at 1,514-byte frames (corpus/scenarios/xsk-*-1514.json, the same eight-frame cycle
/// padded to a 1,500-byte MTU): the frame size changes no decision, so every packet counter equals the 64-byte
/// scenario's and every byte counter is scaled by exactly 1514 / 64.</summary>
public sealed class FrameSizeScenarioTests
{
    private const int SmallFrame = 64;
    private const int LargeFrame = 1514;
    private const int EthHlen = 14;

    [Theory]
    [InlineData("xsk-xdp-switch")]
    [InlineData("xsk-afxdp-switch")]
    [InlineData("xsk-stack")]
    [InlineData("xsk-bridge")]
    public void Run_FullSizeFrames_SameDecisionsBytesScaled(string name)
    {
        var small = ScenarioTests.Run(name, packets: 800);
        var large = ScenarioTests.Run(name + "-1514", packets: 800);
        Assert.True(large.Conserved, string.Join("; ", large.Diagnosis));

        using var a = JsonDocument.Parse(small.ToJson(withRate: false));
        using var b = JsonDocument.Parse(large.ToJson(withRate: false));
        int compared = 0;
        foreach (var key in new[] { "devices", "drops", "delivered", "generated", "cloned", "in_flight", "sockets", "xsk" })
        {
            bool inSmall = a.RootElement.TryGetProperty(key, out var x);
            Assert.Equal(inSmall, b.RootElement.TryGetProperty(key, out var y));
            if (inSmall)
            {
                compared += Compare(key, x, y);
            }
        }

        // the byte counters are really there (rx_bytes, tx_bytes, xdp_bytes of every device), and non-zero
        Assert.True(compared > 20, $"{name}: only {compared} counters compared");
    }

    private static int Compare(string path, JsonElement small, JsonElement large)
    {
        Assert.Equal(small.ValueKind, large.ValueKind);
        switch (small.ValueKind)
        {
            case JsonValueKind.Object:
            {
                int n = 0;
                var names = small.EnumerateObject().Select(p => p.Name).ToList();
                Assert.Equal(names, large.EnumerateObject().Select(p => p.Name).ToList());
                foreach (var p in names)
                {
                    n += Compare(path + "." + p, small.GetProperty(p), large.GetProperty(p));
                }

                return n;
            }

            case JsonValueKind.Array:
            {
                int n = 0;
                Assert.Equal(small.GetArrayLength(), large.GetArrayLength());
                for (int i = 0; i < small.GetArrayLength(); i++)
                {
                    n += Compare($"{path}[{i}]", small[i], large[i]);
                }

                return n;
            }

            case JsonValueKind.Number:
            {
                long s = small.GetInt64();
                long l = large.GetInt64();
                if (path.EndsWith("bytes", StringComparison.Ordinal))
                {
                    // whole frames, or frames without their Ethernet header (a bridge counts what its rx_handler sees)
                    bool frames = s * LargeFrame == l * SmallFrame;
                    bool payloads = s * (LargeFrame - EthHlen) == l * (SmallFrame - EthHlen);
                    Assert.True(frames || payloads, $"{path}: {l} at 1514 bytes, {s} at 64");
                }
                else
                {
                    Assert.True(s == l, $"{path}: {l} at 1514 bytes, {s} at 64");
                }

                return 1;
            }

            default:
                Assert.Equal(small.GetRawText(), large.GetRawText());
                return 0;
        }
    }
}
