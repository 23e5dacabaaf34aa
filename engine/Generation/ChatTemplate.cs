namespace TiDAR.Engine.Generation;

/// <summary>One turn of a conversation.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// ChatML, the template of Qwen models: each message as "&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n", then
/// the assistant's opening. (The GGUF's Jinja template is not interpreted; ChatML is what Qwen's is.)
/// </summary>
public static class ChatTemplate
{
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";

    public static string ChatMl(IEnumerable<ChatMessage> messages, bool addAssistantPrefix = true)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var m in messages) sb.Append(ImStart).Append(m.Role).Append('\n').Append(m.Content).Append(ImEnd).Append('\n');
        if (addAssistantPrefix) sb.Append(ImStart).Append("assistant\n");
        return sb.ToString();
    }
}
