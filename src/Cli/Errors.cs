using VethXdp.Vm.Conformance;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;

namespace VethXdp.Cli;

/// <summary>Turns exceptions into one line on standard error and an exit code.</summary>
internal static class Errors
{
    public static int Report(Exception ex, bool verbose)
    {
        if (ex is RefusedError)
        {
            Console.Error.WriteLine($"vethxdp: {ex.Message}");
            if (verbose)
            {
                Console.Error.WriteLine(ex);
            }

            return ExitCode.Negative;
        }

        string message = ex switch
        {
            CliError or BpfFormatException or AssemblerException or ElfLoadException or ExecutionFaultException
                or ConformanceFormatException or FormatException or PcapFormatException or MapsJsonException
                or MapCreateException or RuntimeLoadException => ex.Message,
            FileNotFoundException f => $"{f.FileName}: no such file",
            DirectoryNotFoundException or UnauthorizedAccessException or IOException => ex.Message,
            _ => $"internal error: {ex.GetType().Name}: {ex.Message}",
        };
        Console.Error.WriteLine($"vethxdp: {message}");
        if (verbose)
        {
            Console.Error.WriteLine(ex);
        }

        return ExitCode.BadInput;
    }
}
