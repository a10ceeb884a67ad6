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

    private static readonly JsonWriterOptions s_lineOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Print(Action<Utf8JsonWriter> body) => Print(body, indented: true);

    /// <summary>Prints one document; <paramref name="indented"/> false gives one line (the JSON-lines outputs).</summary>
    public static void Print(Action<Utf8JsonWriter> body, bool indented)
    {
        Console.Out.Flush();
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, indented ? s_options : s_lineOptions))
        {
            body(w);
        }

        stdout.WriteByte((byte)'\n');
        stdout.Flush();
    }
}
