using System.Globalization;

namespace Esp.Simulator;

/// <summary>Parses <c>sim:[//]chip?key=value&amp;…</c> into <see cref="VirtualChipOptions"/>.</summary>
public static class SimUri
{
    public static readonly IReadOnlyList<string> Keys =
    [
        "flash", "state", "preload", "seed", "baud-throttle", "latency-us", "stub", "stub-kind", "secure-download",
        "flash-crypt-cnt", "revision", "mac", "download", "peripherals", "flash-timing", "rx-buffer", "xtal",
        "drop-rate", "flip-rate", "insert-rate", "fault-direction", "banner", "flash-status", "jedec", "baud-change",
        "security-flags",
    ];

    public static VirtualChipOptions Parse(string uri)
    {
        var (chip, query) = Split(uri);
        var o = new VirtualChipOptions { Chip = chip.Length == 0 ? "esp32" : ChipProfile.Get(chip).Key };
        var link = o.Link;
        var faults = o.Faults;
        var preloads = new List<FlashPreload>();
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(eq >= 0 ? pair[..eq] : pair).Trim().ToLowerInvariant();
            var value = Uri.UnescapeDataString(eq >= 0 ? pair[(eq + 1)..] : "true").Trim();
            try
            {
                switch (key)
                {
                    case "flash": o = o with { FlashSize = checked((int)ParseSize(value)) }; break;
                    case "state": o = o with { StatePath = value }; break;
                    case "preload":
                    {
                        var colon = value.IndexOf(':');
                        if (colon <= 0) throw new FormatException("expected ADDRESS:PATH");
                        preloads.Add(new FlashPreload(ParseUInt(value[..colon]), File.ReadAllBytes(value[(colon + 1)..])));
                        break;
                    }
                    case "seed": faults = faults with { Seed = int.Parse(value, CultureInfo.InvariantCulture) }; break;
                    case "baud-throttle": link = link with { BaudThrottle = ParseBool(value) }; break;
                    case "latency-us":
                    {
                        var t = TimeSpan.FromMicroseconds(double.Parse(value, CultureInfo.InvariantCulture));
                        link = link with { HostToChipLatency = t, ChipToHostLatency = t };
                        break;
                    }
                    case "rx-buffer": link = link with { RxBufferSize = checked((int)ParseSize(value)) }; break;
                    case "stub": o = o with { StartInStub = ParseBool(value) }; break;
                    case "stub-kind": o = o with { DefaultStubKind = value is "1" or "legacy" ? StubKind.Legacy : value is "2" or "new" ? StubKind.New : throw new FormatException("expected 1|2|legacy|new") }; break;
                    case "secure-download": o = o with { SecureDownload = ParseBool(value) }; break;
                    case "flash-crypt-cnt": o = o with { FlashCryptCnt = (int)ParseUInt(value) }; break;
                    case "security-flags": o = o with { SecurityFlags = ParseUInt(value) }; break;
                    case "revision": o = o with { Revision = int.Parse(value, CultureInfo.InvariantCulture) }; break;
                    case "mac": Identity.ParseMac(value); o = o with { Mac = value }; break;
                    case "download": o = o with { StartInDownloadMode = ParseBool(value) }; break;
                    case "peripherals":
                        o = o with { Peripherals = value.ToLowerInvariant() switch { "qemu" or "qemu-like" => PeripheralProfile.QemuLike, "silicon" => PeripheralProfile.Silicon, _ => throw new FormatException("expected silicon|qemu-like") } };
                        break;
                    case "flash-timing": o = o with { FlashTiming = o.FlashTiming with { Enabled = ParseBool(value) } }; break;
                    case "xtal": o = o with { XtalMhz = int.Parse(value, CultureInfo.InvariantCulture) }; break;
                    case "disconnect-after": faults = faults with { DisconnectAfterHostBytes = (long)ParseSize(value) }; break;
                    case "drop-rate": faults = faults with { DropByteRate = double.Parse(value, CultureInfo.InvariantCulture) }; break;
                    case "flip-rate": faults = faults with { FlipBitRate = double.Parse(value, CultureInfo.InvariantCulture) }; break;
                    case "insert-rate": faults = faults with { InsertByteRate = double.Parse(value, CultureInfo.InvariantCulture) }; break;
                    case "fault-direction": faults = faults with { Direction = Enum.Parse<FaultDirection>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true) }; break;
                    case "banner": o = o with { PrintBootBanner = ParseBool(value) }; break;
                    case "baud-change": o = o with { BaudChange = Enum.Parse<BaudChangeBehaviour>(value, ignoreCase: true) }; break;
                    case "flash-status":
                    {
                        var v = ParseUInt(value);
                        o = o with { FlashStatus = [(byte)v, (byte)(v >> 8), (byte)(v >> 16)] };
                        break;
                    }
                    case "jedec":
                    {
                        var v = ParseUInt(value);
                        o = o with { FlashManufacturer = (byte)(v >> 16), FlashMemoryType = (byte)(v >> 8) };
                        break;
                    }
                    default:
                        throw new ArgumentException($"Unknown simulator URI parameter '{key}' in '{uri}'. Known parameters: {string.Join(", ", Keys)}.", nameof(uri));
                }
            }
            catch (Exception e) when (e is FormatException or OverflowException or IOException)
            {
                throw new ArgumentException($"Bad value '{value}' for simulator URI parameter '{key}': {e.Message}", nameof(uri), e);
            }
        }
        return o with { Link = link, Faults = faults, Preloads = preloads };
    }

    /// <summary>
    /// Parses <paramref name="uri"/> followed by <paramref name="settings"/> (<c>key=value</c>, or <c>key</c> alone for
    /// true), as if they ended its query: a setting wins over the URI's value of the same key; preloads add up.
    /// </summary>
    public static VirtualChipOptions Parse(string uri, IEnumerable<string> settings)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(settings);
        var extra = string.Join('&', settings.Select(EscapeSetting));
        if (extra.Length == 0) return Parse(uri);
        return Parse(uri + (uri.Contains('?', StringComparison.Ordinal) ? "&" : "?") + extra);
    }

    /// <summary>The chip a URI names (<c>sim:esp32c3?…</c>), or null when it names none (<c>sim:</c>, <c>sim:?seed=1</c>).</summary>
    public static string? ChipOf(string uri)
    {
        var (chip, _) = Split(uri);
        return chip.Length == 0 ? null : ChipProfile.Get(chip).Key;
    }

    private static (string Chip, string Query) Split(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.StartsWith("sim:", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{uri}' is not a simulator URI (expected 'sim:<chip>?key=value&...').", nameof(uri));
        var rest = uri[4..];
        if (rest.StartsWith("//", StringComparison.Ordinal)) rest = rest[2..];
        var q = rest.IndexOf('?');
        var chip = (q >= 0 ? rest[..q] : rest).Trim('/');
        var query = q >= 0 ? rest[(q + 1)..] : "";
        return (chip, query);
    }

    // Values may hold '&' or '=' (paths): escaped here, unescaped by Parse.
    private static string EscapeSetting(string setting)
    {
        var eq = setting.IndexOf('=');
        return eq < 0 ? Uri.EscapeDataString(setting)
            : Uri.EscapeDataString(setting[..eq]) + "=" + Uri.EscapeDataString(setting[(eq + 1)..]);
    }

    public static bool ParseBool(string v) => v.ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => throw new FormatException($"'{v}' is not a boolean"),
    };

    public static uint ParseUInt(string v) =>
        v.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.Parse(v.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : uint.Parse(v, CultureInfo.InvariantCulture);

    /// <summary>"4MB", "4M", "512KB", "4194304", "0x400000".</summary>
    public static long ParseSize(string v)
    {
        var s = v.Trim().ToUpperInvariant();
        long mul = 1;
        if (s.EndsWith("MB", StringComparison.Ordinal) || s.EndsWith("MIB", StringComparison.Ordinal)) { mul = 1024 * 1024; s = s[..s.IndexOf('M')]; }
        else if (s.EndsWith('M')) { mul = 1024 * 1024; s = s[..^1]; }
        else if (s.EndsWith("KB", StringComparison.Ordinal) || s.EndsWith("KIB", StringComparison.Ordinal)) { mul = 1024; s = s[..s.IndexOf('K')]; }
        else if (s.EndsWith('K')) { mul = 1024; s = s[..^1]; }
        return (s.StartsWith("0X", StringComparison.Ordinal) ? ParseUInt(s) : long.Parse(s, CultureInfo.InvariantCulture)) * mul;
    }
}
