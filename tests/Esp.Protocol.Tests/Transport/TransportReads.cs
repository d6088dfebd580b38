using Esp.Protocol.Transport;

namespace Esp.Protocol.Tests.Transport;

internal static class TransportReads
{
    /// <summary>Reads exactly <paramref name="count"/> bytes, failing if the link closes or <paramref name="limit"/> passes.</summary>
    public static async Task<byte[]> ReadExactlyAsync(IEspTransport t, int count, TimeSpan limit)
    {
        var data = new byte[count];
        int got = 0;
        using var cts = new CancellationTokenSource(limit);
        while (got < count)
        {
            int n = await t.ReadAsync(data.AsMemory(got), cts.Token);
            Assert.True(n > 0, "the link closed");
            got += n;
        }
        return data;
    }
}
