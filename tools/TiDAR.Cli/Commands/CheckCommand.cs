using System.CommandLine;
using TiDAR.Engine.Checks;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Cli;

/// <summary>`tidar check`: every op on the chosen device against the C# reference, with its error.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var command = new Command("check", "Run every GPU op on the chosen device against the C# reference and print the error per op");
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            using var device = GpuDevice.Open(CommonOptions.DeviceOptions(parse));
            Console.WriteLine($"Device {device.Info.Index}: {device.Info.Name} ({device.Info.TypeText}, {device.Info.DriverName})");
            Console.WriteLine($"{"op",-19} {"shape",-56} {"error",10} {"tolerance",10}  result");
            int failed = 0, total = 0;
            foreach (var r in new OpChecks(device).StandardSuite())
            {
                total++;
                if (!r.Passed) failed++;
                Console.WriteLine($"{r.Op,-19} {r.Shape,-56} {r.Error,10:0.00e+00} {r.Tolerance,10:0.0e+00}  {(r.Passed ? "ok" : "FAIL")}");
            }
            var messages = device.Instance.TakeValidationMessages();
            foreach (var m in messages) Console.WriteLine($"validation: {m}");
            Console.WriteLine(failed == 0 && messages.Count == 0
                ? $"All {total} checks passed."
                : $"{failed} of {total} checks failed; {messages.Count} validation message(s).");
            return failed == 0 && messages.Count == 0 ? 0 : 1;
        }));
        return command;
    }
}
