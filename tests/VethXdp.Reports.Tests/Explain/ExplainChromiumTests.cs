using System.Diagnostics;
using System.Text.RegularExpressions;
using VethXdp.Reports.Explain;

namespace VethXdp.Reports.Tests.Explain;

/// <summary>The page as a browser shows it: headless Chromium (Debian's chromium package; .ci/run installs it).</summary>
public sealed class ExplainChromiumTests : IDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private readonly string _dir = Directory.CreateTempSubdirectory("vethxdp-explain-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void Render_InChromium_ShowsVerdictAndHintAndIsNotBlank()
    {
        Skip.IfNot(File.Exists(ChromiumPath), $"{ChromiumPath} is absent (apt-get install -y chromium): the rendered page was not checked");
        string page = Path.Combine(_dir, "report.html");
        File.WriteAllText(page, ExplainHtmlWriter.Render(ExplainHtmlWriterTests.OffByOne()));
        string url = new Uri(page).AbsoluteUri;

        string dom = RunChromium("--dump-dom", url);
        var verdict = Regex.Match(dom, "<section id=\"verdict\"[^>]*>(.*?)</section>", RegexOptions.Singleline);
        Assert.True(verdict.Success, "the rendered DOM has no verdict section");
        Assert.Contains("REJECTED", verdict.Groups[1].Value, StringComparison.Ordinal);
        Assert.Contains("invalid access to packet, off=14 size=1", verdict.Groups[1].Value, StringComparison.Ordinal);
        var hint = Regex.Match(dom, "<section id=\"hint\"[^>]*>(.*?)</section>", RegexOptions.Singleline);
        Assert.True(hint.Success, "the rendered DOM has no hint section");
        Assert.Contains("Packet access without a bounds check", hint.Groups[1].Value, StringComparison.Ordinal);
        Assert.Contains("if ((void *)p + 1 &gt; data_end) return XDP_DROP;", hint.Groups[1].Value, StringComparison.Ordinal);
        Assert.Contains("line 42 of xdp_off_by_one.c", hint.Groups[1].Value, StringComparison.Ordinal);
        Assert.Contains("cursor: pointer", dom, StringComparison.Ordinal);   // the page's script ran

        string png = Path.Combine(_dir, "report.png");
        RunChromium($"--screenshot={png}", "--window-size=1200,900", url);
        Assert.True(File.Exists(png), "chromium wrote no screenshot");
        var image = PngImage.Read(File.ReadAllBytes(png));
        var colours = new HashSet<(byte, byte, byte)>();
        long red = 0, dark = 0;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var (r, g, b) = image.Pixel(x, y);
                colours.Add((r, g, b));
                red += r > 150 && g < 80 && b < 80 ? 1 : 0;      // the REJECTED badge and frame (#c62828)
                dark += r < 96 && g < 96 && b < 96 ? 1 : 0;      // text
            }
        }

        Assert.True(colours.Count > 20, $"the screenshot has only {colours.Count} colours: blank");
        Assert.True(red > 500, $"only {red} red pixels: the verdict did not render");
        Assert.True(dark > 2000, $"only {dark} dark pixels: the text did not render");
    }

    private static string RunChromium(params string[] args)
    {
        var psi = new ProcessStartInfo(ChromiumPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run" }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish in 60 s");
        }

        p.WaitForExit();
        _ = stderr.Result;
        return stdout.Result;
    }
}
