namespace Esp.Bench;

/// <summary>Deterministic test images.</summary>
public static class Data
{
    public static byte[] Random(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>
    /// Firmware-like bytes: instruction words drawn with a skewed distribution from a small vocabulary (code reuses
    /// a few encodings and registers), runs of ASCII log strings, small zero-filled tables and literal pools of
    /// addresses. esptool's own logs for ESP-IDF and Arduino applications show zlib sizes of about 53-56 % (e.g. "Wrote
    /// 171712 bytes (92103 compressed)"); this generator lands near that (the bench prints the measured ratio).
    /// </summary>
    public static byte[] FirmwareLike(int length, int seed)
    {
        var rng = new Random(seed);
        var vocab = new uint[4096];
        for (int i = 0; i < vocab.Length; i++) vocab[i] = (uint)rng.Next() ^ ((uint)rng.Next(4) << 30);
        string[] words = ["esp_", "wifi", "init", "failed", "error", "task", "heap", "spi_flash", "nvs", "partition",
            "boot", "app_main", "I (%d) ", "E (%d) ", "%s: ", "0x%08x", "timeout", "connect", "event", "handler", "\n", " "];
        var b = new byte[length];
        int o = 0;
        while (o < length)
        {
            int kind = rng.Next(100);
            if (kind < 70)
            {
                // a run of code: 16..256 words, index skewed towards the start of the vocabulary
                int n = rng.Next(16, 256);
                for (int i = 0; i < n && o + 4 <= length; i++, o += 4)
                {
                    double u = rng.NextDouble();
                    int idx = (int)(vocab.Length * u * u * u * u);
                    uint w = vocab[idx];
                    if (rng.Next(10) == 0) w ^= (uint)rng.Next(1 << 12); // immediates and offsets vary
                    BitConverter.TryWriteBytes(b.AsSpan(o), w);
                }
            }
            else if (kind < 85)
            {
                int n = rng.Next(4, 24);
                for (int i = 0; i < n && o < length; i++)
                {
                    var w = words[rng.Next(words.Length)];
                    for (int j = 0; j < w.Length && o < length; j++) b[o++] = (byte)w[j];
                }
                if (o < length) b[o++] = 0;
            }
            else if (kind < 93)
            {
                // literal pool: addresses in a few regions
                int n = rng.Next(4, 32);
                for (int i = 0; i < n && o + 4 <= length; i++, o += 4)
                    BitConverter.TryWriteBytes(b.AsSpan(o), 0x3FC80000u + (uint)rng.Next(0x20000) * 4);
            }
            else
            {
                int n = rng.Next(16, 512);
                o += Math.Min(n, length - o); // zero-filled .data / tables
            }
        }
        return b;
    }
}
