using System;
using System.Threading;

namespace NanoFrameworkApp
{
    /// <summary>A minimal nanoFramework application: prints a heartbeat once a second.</summary>
    public class Program
    {
        public static void Main()
        {
            int beat = 0;
            while (true)
            {
                Console.WriteLine("Hello from nanoFramework, beat " + beat.ToString());
                beat++;
                Thread.Sleep(1000);
            }
        }
    }
}
