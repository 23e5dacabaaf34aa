using System.CommandLine;
using TiDAR.Engine.Tokenizer;

namespace TiDAR.Cli;

/// <summary>`tidar tokenize --model PATH TEXT`: the token ids of a text as a JSON array on one line.</summary>
internal static class TokenizeCommand
{
    /// <param name="loadMetadata">Reads the metadata of the model file at a path (the GGUF reader).</param>
    public static Command Create(Func<string, IReadOnlyDictionary<string, object>> loadMetadata)
    {
        ArgumentNullException.ThrowIfNull(loadMetadata);
        var model = new Option<string>("--model")
        {
            Description = "Model file (GGUF) whose tokenizer to use",
            Required = true,
        };
        var addSpecial = new Option<bool>("--add-special")
        {
            Description = "Add the model's BOS/EOS tokens as it asks for (add_bos_token / add_eos_token)",
        };
        var noParseSpecial = new Option<bool>("--no-parse-special")
        {
            Description = "Treat special tokens written in the text (e.g. <|im_start|>) as plain text",
        };
        var text = new Argument<string>("text") { Description = "Text to tokenize" };

        var command = new Command("tokenize", "Print the token ids of a text as a JSON array");
        command.Options.Add(model);
        command.Options.Add(addSpecial);
        command.Options.Add(noParseSpecial);
        command.Arguments.Add(text);
        command.SetAction(parseResult =>
        {
            try
            {
                string path = parseResult.GetValue(model)!;
                var tokenizer = TextTokenizer.FromGgufMetadata(loadMetadata(path));
                if (tokenizer.PreTokenizerNote is string note) Console.Error.WriteLine($"note: {note}");
                var ids = tokenizer.Encode(parseResult.GetValue(text) ?? "", parseResult.GetValue(addSpecial), !parseResult.GetValue(noParseSpecial));
                Console.WriteLine("[" + string.Join(",", ids) + "]");
                return 0;
            }
            catch (Exception e)
            {
                // Unreadable file, malformed GGUF or tokenizer metadata, unsupported tokenizer: one line, exit 1.
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
