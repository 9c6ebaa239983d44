using System.Reflection;

namespace LogQuota.Shared;

/// <summary>
/// The one version of LogQuota, set once in <c>Directory.Build.props</c> (<c>&lt;Version&gt;</c>) and reported by both
/// services' health checks and the CLI's <c>--version</c>.
/// </summary>
public static class ProductVersion
{
    /// <summary>The version, e.g. <c>0.2.0</c> (without the source revision the SDK may append after a <c>+</c>).</summary>
    public static string Value { get; } =
        typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0";
}
