using System.CommandLine.Parsing;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Parsing;

/// <summary><c>--name</c>: checked while parsing, so a name the server would refuse is a usage error (exit 2), not a server error.</summary>
public static class RunNameArgument
{
    /// <summary>Adds a parse error unless the option's value matches <see cref="JobSpecRules.RunNamePattern"/>.</summary>
    public static void Validate(OptionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Tokens is [.., var last] && !JobSpecRules.IsValidRunName(last.Value))
        {
            result.AddError($"--name must be a lowercase letter followed by up to 40 lowercase letters, digits or dashes ({JobSpecRules.RunNamePattern}); got '{last.Value}'");
        }
    }
}
