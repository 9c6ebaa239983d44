using System.Text;

namespace LogQuota.Bench.Terminal;

/// <summary>The kinds of terminal output measured; each is what a real job of that kind writes.</summary>
public enum InputKind
{
    /// <summary>Plain log lines ending in "\n", as a job on a pipe (<c>tty: false</c>) writes them.</summary>
    Plain,

    /// <summary>The same plain lines ending in "\r\n", as they come out of a pty (the line discipline's ONLCR).</summary>
    PlainTty,

    /// <summary>Coloured build and test output: SGR (16, 256 and 24-bit colours), CSI K, cursor hiding, OSC titles and links.</summary>
    Ansi,

    /// <summary>Progress bars redrawn with "\r" 50–200 times, then ended with "\r\n": tqdm (Unicode blocks), pip-style ASCII, and "\e[2K" redraws.</summary>
    Progress,

    /// <summary>
    /// Multi-line displays redrawn in place: nested tqdm bars (an epoch bar over a batch bar, the cursor moved up with
    /// "\e[A" after every frame) and a rich-style block of four task rows erased and redrawn from its top
    /// ("\e[4A\r\e[J"), with a log line printed above the display between displays.
    /// </summary>
    Redraw,
}

/// <summary>
/// Builds the benchmark inputs: about <see cref="TargetBytes"/> of realistic output per kind, generated from a fixed
/// seed so every run measures the same bytes. Every input ends with a line end, so the processor is back at column 0
/// with nothing pending after each pass.
/// </summary>
public static class Inputs
{
    public const int TargetBytes = 4 * 1024 * 1024;

    private static readonly string[] s_levels = ["INFO ", "INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"];

    private static readonly string[] s_loggers =
        ["http.server", "db.pool", "worker[3]", "scheduler", "cache", "auth.jwt", "storage.s3", "train.loop"];

    private static readonly string[] s_messages =
    [
        "GET /api/v1/runs/{0}/logs?limit=1000 200 in {1} ms",
        "Processed batch {0} of 4096 examples, loss={1}.{2:D4}, lr=3.0e-4",
        "Connection {0} returned to pool (idle={1}, busy={2})",
        "Uploaded chunk {0} to s3://bucket/checkpoints/step-{1}.pt ({2} KiB)",
        "Cache miss for key user:{0}:profile; fetched in {1} µs",
        "Retrying request {0} after 503 Service Unavailable (attempt {1}/5)",
        "Token for subject {0} expires at 2026-11-29T10:{1:D2}:00Z",
        "epoch {0} step {1}: accuracy 0.{2:D4}, throughput {1} samples/s — ok",
    ];

    public static byte[] Create(InputKind kind) => kind switch
    {
        InputKind.Plain => Encoding.UTF8.GetBytes(Build(PlainLines("\n"))),
        InputKind.PlainTty => Encoding.UTF8.GetBytes(Build(PlainLines("\r\n"))),
        InputKind.Ansi => Encoding.UTF8.GetBytes(Build(AnsiLines())),
        InputKind.Progress => Encoding.UTF8.GetBytes(Build(ProgressLines())),
        InputKind.Redraw => Encoding.UTF8.GetBytes(Build(RedrawFrames())),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static string Build(IEnumerable<string> pieces)
    {
        var text = new StringBuilder(TargetBytes + 4096);
        foreach (string piece in pieces)
        {
            text.Append(piece);
            if (text.Length >= TargetBytes)
            {
                break;
            }
        }

        return text.ToString();
    }

    private static string Timestamp(int i) =>
        $"2026-11-29T09:{i / 60000 % 60:D2}:{i / 1000 % 60:D2}.{i % 1000:D3}Z";

    private static string Message(Random random) =>
        string.Format(
            System.Globalization.CultureInfo.InvariantCulture,
            s_messages[random.Next(s_messages.Length)],
            random.Next(100_000),
            random.Next(1, 60),
            random.Next(10_000));

    private static IEnumerable<string> PlainLines(string end)
    {
        var random = new Random(7);
        for (int i = 0; ; i++)
        {
            string level = s_levels[random.Next(s_levels.Length)];
            string logger = s_loggers[random.Next(s_loggers.Length)];
            string line = $"{Timestamp(i)} {level} [{logger}] {Message(random)}";

            // One line in fifty is a long one (a stack frame list, a JSON payload), as real logs have.
            if (random.Next(50) == 0)
            {
                line += " payload=" + new string('x', random.Next(200, 2000));
            }

            yield return line + end;
        }
    }

    private static IEnumerable<string> AnsiLines()
    {
        var random = new Random(11);
        string[] levelColours = ["\e[32m", "\e[32m", "\e[32m", "\e[2m", "\e[33m", "\e[1;31m"];
        for (int i = 0; ; i++)
        {
            int level = random.Next(s_levels.Length);
            string line = random.Next(6) switch
            {
                // A coloured log line (structlog, loguru, Serilog's console theme).
                0 or 1 => $"\e[2m{Timestamp(i)}\e[0m {levelColours[level]}{s_levels[level]}\e[0m "
                    + $"\e[38;5;{random.Next(256)}m[{s_loggers[random.Next(s_loggers.Length)]}]\e[39m {Message(random)}\e[K",

                // A test runner's result line (pytest, cargo test).
                2 => $"\e[1mtests/test_{random.Next(40)}.py::test_case[{random.Next(1000)}]\e[22m "
                    + (random.Next(10) == 0 ? "\e[31mFAILED\e[0m" : "\e[32mPASSED\e[0m")
                    + $" \e[36m[{random.Next(100),3}%]\e[0m",

                // A compiler diagnostic with 24-bit colour and a hyperlink to the file (OSC 8, ST-terminated).
                3 => $"\e[1m\e]8;;file:///src/module_{random.Next(100)}.rs\e\\src/module_{random.Next(100)}.rs:{random.Next(1, 900)}:{random.Next(1, 80)}\e]8;;\e\\\e[0m: "
                    + $"\e[38;2;255;{random.Next(256)};0mwarning\e[0m\e[1m: unused variable: `x{random.Next(100)}`\e[0m",

                // A build step that also sets the window title (OSC 0, BEL-terminated) and hides the cursor.
                4 => $"\e]0;build: step {i}\a\e[?25l\e[1;34m==>\e[0m \e[1mCompiling crate_{random.Next(300)} v0.{random.Next(20)}.{random.Next(10)}\e[0m\e[?25h",

                // A status line of a tool that colours single words.
                _ => $"  \e[32m✓\e[0m {Message(random)} \e[2m({random.Next(1000)} ms)\e[0m",
            };

            yield return line + "\r\n";
        }
    }

    private static IEnumerable<string> ProgressLines()
    {
        var random = new Random(13);
        for (int bar = 0; ; bar++)
        {
            int steps = random.Next(50, 201);
            var redraws = new StringBuilder();
            switch (bar % 3)
            {
                // tqdm: Unicode eighth blocks, redrawn with "\r".
                case 0:
                    redraws.Append("Epoch ").Append(bar).Append("\r\n");
                    for (int step = 0; step <= steps; step++)
                    {
                        redraws.Append('\r').Append(TqdmBar(step, steps));
                    }

                    break;

                // pip / wget: an ASCII bar with a rate, redrawn with "\r".
                case 1:
                    for (int step = 0; step <= steps; step++)
                    {
                        int filled = step * 30 / steps;
                        redraws.Append("\r  ").Append(new string('#', filled)).Append(new string('-', 30 - filled))
                            .Append(' ').Append((step * 100 / steps).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(3))
                            .Append("% ").Append(random.Next(1, 99)).Append('.').Append(random.Next(10)).Append(" MB/s eta 0:00:")
                            .Append(random.Next(60).ToString("D2", System.Globalization.CultureInfo.InvariantCulture));
                    }

                    break;

                // docker / npm: erase the line, then draw a coloured status.
                default:
                    for (int step = 0; step <= steps; step++)
                    {
                        redraws.Append("\r\e[2K\e[36m").Append(step).Append('/').Append(steps).Append("\e[0m Pulling layer sha256:")
                            .Append(random.Next().ToString("x8", System.Globalization.CultureInfo.InvariantCulture))
                            .Append(" \e[33m").Append(step * 100 / steps).Append("%\e[0m");
                    }

                    break;
            }

            yield return redraws.Append("\r\n").ToString();
        }
    }

    private static IEnumerable<string> RedrawFrames()
    {
        var random = new Random(17);
        for (int display = 0; ; display++)
        {
            int steps = random.Next(50, 201);
            var frames = new StringBuilder();
            frames.Append(Timestamp(display)).Append(" INFO [train.loop] ").Append(Message(random)).Append("\r\n");
            if (display % 2 == 0)
            {
                // tqdm's nested bars: the outer bar on this row, the inner one below, the cursor back up after each frame.
                for (int step = 0; step <= steps; step++)
                {
                    frames.Append('\r').Append(TqdmBar(display % 10, 10)).Append("\n\r").Append(TqdmBar(step, steps)).Append("\e[A");
                }

                frames.Append("\n\n");
            }
            else
            {
                // rich's Progress: four task rows, erased from the top of the block and drawn again each refresh.
                for (int step = 0; step <= steps; step++)
                {
                    if (step > 0)
                    {
                        frames.Append("\e[4A\r\e[J");
                    }

                    for (int task = 0; task < 4; task++)
                    {
                        frames.Append("\e[1mtask ").Append(task).Append("\e[0m \e[35m").Append(TqdmBar(Math.Min(steps, step * (task + 1)), steps)).Append("\e[0m\r\n");
                    }
                }
            }

            yield return frames.Append("\r\n").ToString();
        }
    }

    private static string TqdmBar(int step, int steps)
    {
        const int Width = 20;
        string[] partial = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
        int eighths = step * Width * 8 / steps;
        string bar = new string('█', eighths / 8) + (eighths / 8 < Width ? partial[eighths % 8] : "");
        return $"{step * 100 / steps,3}%|{bar.PadRight(Width)}| {step}/{steps} [00:{step / 10 % 60:D2}<00:{(steps - step) / 10 % 60:D2}, {10 + (step % 7)}.{step % 10}it/s]";
    }
}
