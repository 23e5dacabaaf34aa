#nullable enable
// MSBuild inline task (compiled by RoslynCodeTaskFactory, not part of the trainer assembly).
//
// TorchSharp 0.107.0's libLibTorchSharp.so lists GLIBCXX_3.4.32 in its ELF version needs
// (.gnu.version_r) only for std::ios_base_library_init, which it never calls. Debian 12's libstdc++
// stops at GLIBCXX_3.4.30, so the dynamic loader refuses the library. Marking that one vernaux entry
// VER_FLG_WEAK (0x2) turns the hard requirement into a weak one and the library loads. We patch only
// the copy in the build output, never the NuGet cache. Idempotent; a no-op when the system libstdc++
// already provides the version.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class PatchGlibcxxNeed : Task
{
    [Required] public string LibraryPath { get; set; } = "";
    public string VersionName { get; set; } = "GLIBCXX_3.4.32";

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        if (!File.Exists(LibraryPath)) { Log.LogMessage(MessageImportance.Low, "PatchGlibcxxNeed: {0} not found, nothing to do.", LibraryPath); return true; }
        if (SystemHasVersion()) { Log.LogMessage(MessageImportance.Low, "PatchGlibcxxNeed: system libstdc++ has {0}; no patch needed.", VersionName); return true; }
        byte[] elf = File.ReadAllBytes(LibraryPath);
        string? error = Patch(elf, VersionName, out bool changed);
        if (error != null) { Log.LogWarning("PatchGlibcxxNeed: {0}: {1}", LibraryPath, error); return true; }
        if (changed)
        {
            File.WriteAllBytes(LibraryPath, elf);
            Log.LogMessage(MessageImportance.High, "Marked the {0} version need of {1} weak (Debian 12 libstdc++ lacks it).", VersionName, Path.GetFileName(LibraryPath));
        }
        return true;
    }

    private bool SystemHasVersion()
    {
        byte[] needle = Encoding.ASCII.GetBytes(VersionName + "\0");
        foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu" })
        {
            string p = Path.Combine(dir, "libstdc++.so.6");
            if (!File.Exists(p)) continue;
            byte[] lib = File.ReadAllBytes(p);
            return IndexOf(lib, needle) >= 0;
        }
        return false; // unknown: patching is harmless
    }

    private static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= hay.Length; i++)
        {
            if (hay[i] != needle[0]) continue;
            int j = 1;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    /// <summary>Sets VER_FLG_WEAK on the vernaux entry named <paramref name="version"/>; returns an error or null.</summary>
    public static string? Patch(byte[] b, string version, out bool changed)
    {
        changed = false;
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F') return "not an ELF file";
        if (b[4] != 2 || b[5] != 1) return "not a little-endian ELF64 file";
        ulong shoff = BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        if (shoff == 0 || shentsize < 64 || shoff + (ulong)(shentsize * shnum) > (ulong)b.Length) return "bad section header table";
        bool found = false;
        for (int s = 0; s < shnum; s++)
        {
            int sh = checked((int)shoff + s * shentsize);
            if (BitConverter.ToUInt32(b, sh + 4) != ShtGnuVerneed) continue;
            int off = checked((int)BitConverter.ToUInt64(b, sh + 0x18));
            int size = checked((int)BitConverter.ToUInt64(b, sh + 0x20));
            int link = (int)BitConverter.ToUInt32(b, sh + 0x28);
            int count = (int)BitConverter.ToUInt32(b, sh + 0x2C);
            int strsh = checked((int)shoff + link * shentsize);
            int stroff = checked((int)BitConverter.ToUInt64(b, strsh + 0x18));
            int strsize = checked((int)BitConverter.ToUInt64(b, strsh + 0x20));
            int vn = off;
            for (int i = 0; i < count; i++)
            {
                if (vn < off || vn + 16 > off + size) return "verneed entry outside .gnu.version_r";
                int cnt = BitConverter.ToUInt16(b, vn + 2);
                int aux = vn + (int)BitConverter.ToUInt32(b, vn + 8);
                for (int j = 0; j < cnt; j++)
                {
                    if (aux < off || aux + 16 > off + size) return "vernaux entry outside .gnu.version_r";
                    int name = (int)BitConverter.ToUInt32(b, aux + 8);
                    if (name >= strsize) return "vernaux name outside .dynstr";
                    if (CString(b, stroff + name) == version)
                    {
                        found = true;
                        ushort flags = BitConverter.ToUInt16(b, aux + 4);
                        if ((flags & VerFlgWeak) == 0)
                        {
                            flags |= VerFlgWeak;
                            b[aux + 4] = (byte)flags; b[aux + 5] = (byte)(flags >> 8);
                            changed = true;
                        }
                    }
                    uint nextAux = BitConverter.ToUInt32(b, aux + 12);
                    if (nextAux == 0) break;
                    aux += (int)nextAux;
                }
                uint next = BitConverter.ToUInt32(b, vn + 12);
                if (next == 0) break;
                vn += (int)next;
            }
        }
        return found ? null : null; // absent: nothing needs it (a newer TorchSharp build)
    }

    private static string CString(byte[] b, int at)
    {
        int end = at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, at, end - at);
    }
}
