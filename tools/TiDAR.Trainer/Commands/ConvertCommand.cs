using TiDAR.WeightsConvert;

namespace TiDAR.Trainer.Commands;

/// <summary>HF folder -> GGUF through the project's converter (same as `tidar convert`).</summary>
public static class ConvertCommand
{
    public static int Run(Args a)
    {
        string hf = a.Req("hf");
        string output = a.Req("out");
        var type = OutputTypes.Parse(a.Str("type", "f16")!);
        string? name = a.Str("name");
        a.RejectUnknown();
        var result = GgufConverter.Convert(hf, output, new ConvertOptions { OutputType = type, Name = name });
        Console.WriteLine($"wrote {output} ({new FileInfo(output).Length / 1e6:F1} MB)");
        return 0;
    }
}
