using System.Text;
using System.Text.RegularExpressions;

namespace LogQuota.Shared.Contracts;

/// <summary>
/// The limits on what a run may ask for, checked identically by the server (<c>POST /api/runs</c>) and the runner
/// (<c>POST /api/jobs</c>), so nothing the server accepts can fail on the runner for its size or shape. The numbers
/// come from what one <c>posix_spawn</c> of <c>/bin/sh -c</c> can carry on Linux.
/// </summary>
public static partial class JobSpecRules
{
    /// <summary>Largest request body either service reads: 1 MiB. A larger one is answered 413.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Most commands in one run.</summary>
    public const int MaxCommands = 1000;

    /// <summary>
    /// Most UTF-8 bytes of the shell script, that is the commands joined with <c>" &amp;&amp; "</c>: 120 KiB. The script is
    /// one argument of <c>/bin/sh -c</c>, and Linux refuses any single argument of 128 KiB or more (MAX_ARG_STRLEN).
    /// </summary>
    public const int MaxScriptBytes = 120 * 1024;

    /// <summary>Most environment variables in one run.</summary>
    public const int MaxEnvEntries = 1000;

    /// <summary>Most UTF-8 bytes of one <c>NAME=value</c> environment entry: 32 KiB (each is one string of the new
    /// process's environment, also under MAX_ARG_STRLEN; the body limit bounds them all together).</summary>
    public const int MaxEnvEntryBytes = 32 * 1024;

    /// <summary>Most UTF-8 bytes of <c>working_dir</c> (PATH_MAX less its terminating NUL).</summary>
    public const int MaxWorkingDirBytes = 4095;

    /// <summary>Most characters of a stop's <c>termination_message</c>.</summary>
    public const int MaxTerminationMessageLength = 1024;

    /// <summary>Most seconds of <c>log_quota_kill_grace</c>: an hour, so a kill always ends within the bucket's next one.</summary>
    public const int MaxKillGraceSeconds = 3600;

    /// <summary>Most entries of <c>log_quota_warn_at</c>.</summary>
    public const int MaxWarnThresholds = 10;

    /// <summary>The width of a job's terminal when its run asks none: roomy, so progress bars keep their counters.</summary>
    public const int DefaultColumns = 200;

    /// <summary>The narrowest terminal a run may ask: narrower, most programs' own lines no longer fit.</summary>
    public const int MinColumns = 20;

    /// <summary>The widest terminal a run may ask: the screen keeps 50 rows of this many cells per job.</summary>
    public const int MaxColumns = 1000;

    /// <summary>The run name rule of SPEC §4.</summary>
    public const string RunNamePattern = "^[a-z][a-z0-9-]{0,40}$";

    /// <summary>The environment variable name rule (POSIX portable names).</summary>
    public const string EnvNamePattern = "^[A-Za-z_][A-Za-z0-9_]*$";

    /// <summary>True when <paramref name="name"/> matches <see cref="RunNamePattern"/> (no trailing newline either).</summary>
    public static bool IsValidRunName(string name) => RunName().IsMatch(name);

    /// <summary>Every problem with a job's specification, as (JSON field, message); none when it is acceptable.</summary>
    /// <remarks>JSON binding does not check list elements and map values for null, so they are checked here.</remarks>
    public static IEnumerable<(string Field, string Message)> Check(
        IReadOnlyList<string> commands, IReadOnlyDictionary<string, string>? env, string? workingDir, int? maxDuration, long? logQuotaHour)
    {
        ArgumentNullException.ThrowIfNull(commands);
        if (CheckCommands(commands) is { } commandsProblem)
        {
            yield return ("commands", commandsProblem);
        }

        if (env is not null && CheckEnv(env) is { } envProblem)
        {
            yield return ("env", envProblem);
        }

        if (workingDir is not null && CheckWorkingDir(workingDir) is { } dirProblem)
        {
            yield return ("working_dir", dirProblem);
        }

        if (maxDuration is < 1)
        {
            yield return ("max_duration", $"max_duration must be a whole number of seconds of at least 1, got {maxDuration}.");
        }

        if (logQuotaHour is < 1)
        {
            yield return ("log_quota_hour", $"log_quota_hour must be a whole number of bytes of at least 1 (or null for unlimited), got {logQuotaHour}.");
        }
    }

    /// <summary>Least memory a job may ask: 4 MiB, as for <c>DSTACK_RUNNER_JOB_MEMORY_MAX</c> (a shell needs a few MiB; less is surely a unit mistake).</summary>
    public const long MinMemoryBytes = 4L << 20;

    /// <summary>Least CPU a job may ask: 0.01, a CFS quota of 1 ms per 100 ms period (the kernel's smallest quota).</summary>
    public const double MinCpus = 0.01;

    /// <summary>Most CPUs a job may ask (no host has more; it keeps the CFS quota in range).</summary>
    public const double MaxCpus = 4096;

    /// <summary>Every problem with a job's <c>resources</c> as such, whatever any runner has, as (JSON field, message).</summary>
    public static IEnumerable<(string Field, string Message)> CheckResources(JobResources? resources)
    {
        if (resources is null)
        {
            yield break;
        }

        if (resources.Cpus is { } cpus && !(cpus is >= MinCpus and <= MaxCpus))
        {
            yield return ("resources.cpus", $"resources.cpus must be a number of CPUs from {MinCpus} to {MaxCpus}, such as 0.5 or 2; got {cpus.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }

        if (resources.Memory is < MinMemoryBytes and var memory)
        {
            yield return ("resources.memory", $"resources.memory must be at least 4MiB, such as \"512MiB\" or \"8GiB\"; got {ByteCount.Readable(memory)}.");
        }

        if (resources.Gpus is < 0 and var gpus)
        {
            yield return ("resources.gpus", $"resources.gpus must be a whole number of GPUs of at least 0; got {gpus}.");
        }

        // Passed to Slurm as one option: a plain name, never anything a shell or salloc could read as more.
        if (resources.Partition is { } partition
            && (partition.Length is 0 or > 64 || !partition.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            yield return ("resources.partition", $"resources.partition must be a Slurm partition name of letters, digits, '_', '-' and '.' (at most 64); got {Quote(partition)}.");
        }
    }

    /// <summary>The problem with a requested terminal width, as (JSON field, message); none when it is null or from <see cref="MinColumns"/> to <see cref="MaxColumns"/>.</summary>
    public static IEnumerable<(string Field, string Message)> CheckColumns(int? columns)
    {
        if (columns is < MinColumns or > MaxColumns)
        {
            yield return ("columns", $"columns must be a terminal width from {MinColumns} to {MaxColumns} characters; got {columns}.");
        }
    }

    /// <summary>Every problem with a job's quota policy, as (JSON field, message); none when it is acceptable.</summary>
    public static IEnumerable<(string Field, string Message)> CheckQuotaPolicy(IReadOnlyList<int>? warnAt, int? killGrace)
    {
        if (killGrace is < 0 or > MaxKillGraceSeconds)
        {
            yield return ("log_quota_kill_grace", $"log_quota_kill_grace must be a whole number of seconds from 0 to {MaxKillGraceSeconds}, got {killGrace}.");
        }

        if (warnAt is not null && CheckWarnAt(warnAt) is { } problem)
        {
            yield return ("log_quota_warn_at", problem);
        }
    }

    /// <summary>The problem with a list of warning percentages, or null: 1 to 99 each, at most <see cref="MaxWarnThresholds"/>.</summary>
    public static string? CheckWarnAt(IReadOnlyList<int> warnAt)
    {
        ArgumentNullException.ThrowIfNull(warnAt);
        if (warnAt.Count > MaxWarnThresholds)
        {
            return $"log_quota_warn_at may hold at most {MaxWarnThresholds} percentages, got {warnAt.Count}.";
        }

        foreach (var percent in warnAt)
        {
            if (percent is < 1 or > 99)
            {
                return $"log_quota_warn_at percentages must be whole numbers from 1 to 99, got {percent}.";
            }
        }

        return null;
    }

    /// <summary>Text quoted in a message, cut to 60 characters and with control characters escaped.</summary>
    public static string Quote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var shortened = text.Length <= 60 ? text : text[..60] + "…";
        var builder = new StringBuilder(shortened.Length + 2).Append('\'');
        foreach (var c in shortened)
        {
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c);
        }

        return builder.Append('\'').ToString();
    }

    private static string? CheckCommands(IReadOnlyList<string> commands)
    {
        if (commands.Count == 0)
        {
            return "commands must hold at least one command.";
        }

        if (commands.Count > MaxCommands)
        {
            return $"commands may hold at most {MaxCommands} commands, got {commands.Count}.";
        }

        if (commands.Any(string.IsNullOrWhiteSpace))
        {
            return "Every command must be a non-empty string.";
        }

        if (commands.Any(c => c.Contains('\0', StringComparison.Ordinal)))
        {
            return "A command may not contain NUL characters.";
        }

        var scriptBytes = commands.Sum(c => (long)Utf8Length(c)) + ((commands.Count - 1) * " && ".Length);
        if (scriptBytes > MaxScriptBytes)
        {
            return $"commands may hold at most {MaxScriptBytes} bytes of UTF-8 in all (joined with ' && '), got {scriptBytes}.";
        }

        return null;
    }

    private static string? CheckEnv(IReadOnlyDictionary<string, string> env)
    {
        if (env.Count > MaxEnvEntries)
        {
            return $"env may hold at most {MaxEnvEntries} variables, got {env.Count}.";
        }

        foreach (var (name, value) in env)
        {
            if (!EnvName().IsMatch(name))
            {
                return $"env name {Quote(name)} must be letters, digits and _, not starting with a digit.";
            }

            if (value is null || value.Contains('\0', StringComparison.Ordinal))
            {
                return $"env value of {name} must be a string without NUL characters.";
            }

            if (Utf8Length(name) + 1 + Utf8Length(value) > MaxEnvEntryBytes)
            {
                return $"env entry {name}=... must be at most {MaxEnvEntryBytes} bytes of UTF-8.";
            }
        }

        return null;
    }

    private static string? CheckWorkingDir(string dir)
    {
        if (dir.Length == 0 || dir.Contains('\0', StringComparison.Ordinal) || Utf8Length(dir) > MaxWorkingDirBytes)
        {
            return $"working_dir must be a path without NUL characters, at most {MaxWorkingDirBytes} bytes; got {Quote(dir)}.";
        }

        // A relative path is taken inside the code directory (SPEC §9); ".." would lead out of it. An absolute path never
        // needs "..": refusing it there too keeps a path that looks like it is inside a directory inside it.
        if (dir.Split('/').Contains(".."))
        {
            return dir.StartsWith('/')
                ? $"working_dir must not contain '..' segments; got {Quote(dir)}."
                : $"working_dir {Quote(dir)} must stay inside the code directory: a relative path may not contain '..' segments.";
        }

        return null;
    }

    /// <summary>True when <paramref name="hash"/> names a code archive: 64 lowercase hex digits, a SHA-256 (SPEC §9).</summary>
    public static bool IsValidCodeHash(string? hash) =>
        hash is { Length: 64 } && hash.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    private static int Utf8Length(string text) => Encoding.UTF8.GetByteCount(text);

    [GeneratedRegex(@"^[a-z][a-z0-9-]{0,40}\z", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex RunName();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex EnvName();
}
