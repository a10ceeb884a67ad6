using System.Text.Encodings.Web;
using System.Text.Json;

namespace VethXdp.Cli;

/// <summary>JSON output on standard output: indented, UTF-8, one document per command, ending in a newline.</summary>
internal static class Json
{
    private static readonly JsonWriterOptions s_options = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Print(Action<Utf8JsonWriter> body)
    {
        Console.Out.Flush();
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, s_options))
        {
            body(w);
        }

        stdout.WriteByte((byte)'\n');
        stdout.Flush();
    }
}
