using System.Text.Json;
using Esp.Protocol.Images;

namespace Esp.Build.Tasks.Tests;

/// <summary><c>dotnet build -t:Deploy</c> with a list of ports, through the packed NuGet: every board, one table, one record each.</summary>
[Collection(PackageCollection.Name)]
public sealed class ManyBoardsEndToEndTests(PackageFixture package)
{
    private const int DeployOffset = 0x1C0000;

    [Fact]
    public void DeployToAListOfPortsPrintsATableAndASecondRunFindsEveryBoardUnchanged()
    {
        var dir = Path.Combine(package.Root, "boards-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var table = Path.Combine(dir, "pt.bin");
        File.WriteAllBytes(table, PartitionTable.BuildNanoFramework());
        string Board(string chip) => $"sim:{chip}?flash=4MB&state={Path.Combine(dir, chip + ".bin")}&preload=0x8000:{table}";
        var summaryFile = Path.Combine(dir, "esp-deploy.json");
        // The quotes keep MSBuild from reading the ';' as the start of another property (a shell needs them escaped).
        string[] args = ["-t:Deploy", $"-p:EspPort=\"{Board("esp32")};{Board("esp32c3")}\"", $"-p:EspDeploySummaryFile={summaryFile}"];

        var first = package.Build(args);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("Esp.Build on 2 boards: 2 succeeded, 0 failed", first.Output);
        Assert.Matches(@"sim:esp32 \(esp32\.bin\)\s+ESP32\s+[0-9a-f:]{17}\s+written\s+\d+\s+yes", first.Output);
        Assert.Matches(@"sim:esp32c3 \(esp32c3\.bin\)\s+ESP32-C3\s+[0-9a-f:]{17}\s+written\s+\d+\s+yes", first.Output);
        using (var summary = JsonDocument.Parse(File.ReadAllText(summaryFile)))
        {
            var boards = summary.RootElement.GetProperty("boards").EnumerateArray().ToList();
            Assert.Equal(["ESP32", "ESP32-C3"], boards.Select(b => b.GetProperty("chip").GetString()));
            Assert.All(boards, b => Assert.True(b.GetProperty("allVerified").GetBoolean()));
            // Both boards hold the same deployment image, as their MD5s say.
            Assert.Single(boards.Select(b => b.GetProperty("images")[0].GetProperty("md5").GetString()).Distinct());
        }
        var esp32 = File.ReadAllBytes(Path.Combine(dir, "esp32.bin")).AsSpan(DeployOffset, 64 * 1024).ToArray();
        Assert.Equal(esp32, File.ReadAllBytes(Path.Combine(dir, "esp32c3.bin")).AsSpan(DeployOffset, 64 * 1024).ToArray());
        Assert.Contains(esp32, b => b != 0xFF);

        var second = package.Build(args);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("Esp.Build on 2 boards: 2 succeeded (2 unchanged), 0 failed", second.Output);
    }
}
