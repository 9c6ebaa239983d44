using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using LogQuota.Cli.Formatting;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Commands;

/// <summary><c>--cpus N</c>, <c>--memory SIZE</c> and <c>--gpus N</c> of <c>run</c>: the run's <c>resources</c> (SPEC §9).</summary>
public sealed class ResourceOptions
{
    /// <summary>CPUs the job may use.</summary>
    public Option<double?> Cpus { get; } = new("--cpus")
    {
        Description = "CPUs the job may use, fractions allowed (0.5, 2); the runner throttles it to that",
        HelpName = "N",
        CustomParser = ParseCpus,
    };

    /// <summary>Memory the job may use.</summary>
    public Option<long?> Memory { get; } = new("--memory")
    {
        Description = "Memory the job may use (512MiB, 8GiB); past it the kernel kills a process of the job, and the run ends out of memory",
        HelpName = "SIZE",
        CustomParser = ParseMemory,
    };

    /// <summary>GPUs the job needs.</summary>
    public Option<int?> Gpus { get; } = new("--gpus")
    {
        Description = "GPUs the job needs: it runs only on a runner that has that many",
        HelpName = "N",
        CustomParser = ParseGpus,
    };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Cpus);
        command.Options.Add(Memory);
        command.Options.Add(Gpus);
    }

    /// <summary>The run's <c>resources</c>, or null when none of the options was given.</summary>
    public JobResources? From(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var (cpus, memory, gpus) = (parse.GetValue(Cpus), parse.GetValue(Memory), parse.GetValue(Gpus));
        return cpus is null && memory is null && gpus is null ? null : new JobResources(cpus, memory, gpus);
    }

    private static double? ParseCpus(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var cpus) && cpus is >= JobSpecRules.MinCpus and <= JobSpecRules.MaxCpus)
        {
            return cpus;
        }

        result.AddError($"--cpus must be a number of CPUs from {JobSpecRules.MinCpus.ToString(CultureInfo.InvariantCulture)} to {JobSpecRules.MaxCpus.ToString(CultureInfo.InvariantCulture)}, such as 0.5 or 2; got '{text}'");
        return null;
    }

    private static long? ParseMemory(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (ByteSize.TryParse(text, out var bytes) && bytes >= JobSpecRules.MinMemoryBytes)
        {
            return bytes;
        }

        result.AddError($"--memory must be a size of at least 4MiB, such as 512MiB or 8GiB; got '{text}'");
        return null;
    }

    private static int? ParseGpus(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var gpus))
        {
            return gpus;
        }

        result.AddError($"--gpus must be a whole number of GPUs, such as 1; got '{text}'");
        return null;
    }
}
