using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LogQuota.EndToEnd.Tests.Metrics;

/// <summary>
/// A real Prometheus on a free loopback port, with a config written for the test and its own TSDB directory; the
/// process and the directory are removed on dispose.
/// </summary>
internal sealed class PrometheusProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _http;

    private PrometheusProcess(Process process, string dir, Uri address)
    {
        _process = process;
        _dir = dir;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>What Prometheus logged so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts Prometheus with <paramref name="config"/> (prometheus.yml) and <paramref name="files"/> beside it, and waits until it is ready.</summary>
    public static async Task<PrometheusProcess> StartAsync(string binary, string dir, string config, IReadOnlyDictionary<string, string> files)
    {
        foreach (var (name, text) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(dir, name), text);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Path.Combine(dir, name), UnixFileMode.UserRead | UnixFileMode.UserWrite); // the tokens among them
            }
        }

        await File.WriteAllTextAsync(Path.Combine(dir, "prometheus.yml"), config);
        var port = SystemProcesses.FreePort();
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            $"--config.file={Path.Combine(dir, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var prometheus = new PrometheusProcess(process, dir, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => prometheus.Append(e.Data);
        process.ErrorDataReceived += (_, e) => prometheus.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await prometheus.WaitReadyAsync();
            return prometheus;
        }
        catch
        {
            await prometheus.DisposeAsync();
            throw;
        }
    }

    /// <summary>An instant query through the HTTP API: each series' labels and value.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        var json = await _http.GetStringAsync(new Uri($"/api/v1/query?query={Uri.EscapeDataString(promql)}", UriKind.Relative));
        using var document = JsonDocument.Parse(json);
        var data = document.RootElement.GetProperty("data");
        var results = new List<(Dictionary<string, string>, double)>();
        if (data.GetProperty("resultType").GetString() == "scalar")
        {
            results.Add(([], double.Parse(data.GetProperty("result")[1].GetString()!, CultureInfo.InvariantCulture)));
            return results;
        }

        foreach (var series in data.GetProperty("result").EnumerateArray())
        {
            var labels = series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            results.Add((labels, double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)));
        }

        return results;
    }

    /// <summary>Queries <paramref name="promql"/> until <paramref name="holds"/> is true of the answer, at most <paramref name="timeout"/>.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> WaitForAsync(
        string promql, Func<List<(Dictionary<string, string> Labels, double Value)>, bool> holds, TimeSpan timeout, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var result = await QueryAsync(promql);
            if (holds(result))
            {
                return result;
            }

            if (DateTime.UtcNow > deadline)
            {
                var shown = string.Join("; ", result.Select(r => $"{{{string.Join(",", r.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {r.Value}"));
                Assert.Fail($"{promql} never held within {timeout.TotalSeconds} s; last answer: [{shown}]\n{context?.Invoke()}\nPrometheus said:\n{Output}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The value of <paramref name="promql"/>'s only series once it equals <paramref name="expected"/>.</summary>
    public Task WaitForValueAsync(string promql, double expected, TimeSpan timeout, Func<string>? context = null) =>
        WaitForAsync(promql, r => r.Count == 1 && r[0].Value == expected, timeout, context);

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"Prometheus exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri("/-/ready", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Prometheus was not ready within 60 s:\n{Output}");
            }

            await Task.Delay(200);
        }
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
