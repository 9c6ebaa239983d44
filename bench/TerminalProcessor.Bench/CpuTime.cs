using System.Diagnostics;
using System.Globalization;

namespace LogQuota.Bench.Terminal;

/// <summary>
/// CPU time of <see cref="TerminalProcessorBenchmarks.Process"/> per input byte, for comparing two builds of the
/// processor on a busy machine: the process's CPU time does not grow when other processes take the cores, as wall
/// time does. bench/styles.py runs this same file against the processor before and after style runs.
/// </summary>
public static class CpuTime
{
    /// <summary>Prints one line per input kind: <c>kind read_bytes ns_per_byte</c>, the median of <paramref name="rounds"/> rounds.</summary>
    public static void Print(IEnumerable<InputKind> kinds, int readBytes, int rounds, int operationsPerRound)
    {
        foreach (var kind in kinds)
        {
            var benchmark = new TerminalProcessorBenchmarks { Input = kind, ReadBytes = readBytes };
            benchmark.Setup();
            long bytes = Inputs.Create(kind).Length;
            for (int i = 0; i < 3; i++)
            {
                benchmark.Process();
            }

            var perByte = new List<double>();
            using var self = Process.GetCurrentProcess();
            for (int round = 0; round < rounds; round++)
            {
                self.Refresh();
                var start = self.TotalProcessorTime;
                for (int i = 0; i < operationsPerRound; i++)
                {
                    benchmark.Process();
                }

                self.Refresh();
                perByte.Add((self.TotalProcessorTime - start).TotalNanoseconds / (bytes * operationsPerRound));
            }

            perByte.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind} {readBytes} {perByte[perByte.Count / 2]:F4}"));
        }
    }
}
