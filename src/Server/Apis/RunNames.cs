using System.Security.Cryptography;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Apis;

/// <summary>Run names: the rule (SPEC §4) and dstack-style generated names such as <c>quiet-otter-1</c>.</summary>
internal static class RunNames
{
    private static readonly string[] Adjectives =
    [
        "amber", "brave", "calm", "dark", "eager", "fancy", "gentle", "happy",
        "icy", "jolly", "kind", "lucky", "merry", "nimble", "odd", "proud",
        "quiet", "rapid", "shy", "tidy", "upbeat", "vivid", "witty", "zesty",
    ];

    private static readonly string[] Animals =
    [
        "ant", "bear", "cat", "dingo", "eagle", "fox", "gecko", "heron",
        "ibis", "jackal", "koala", "lynx", "mole", "newt", "otter", "panda",
        "quail", "raven", "seal", "tapir", "urchin", "vole", "wolf", "yak",
    ];

    public static bool IsValid(string name) => JobSpecRules.IsValidRunName(name);

    public static string Generate() =>
        $"{Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)]}-{Animals[RandomNumberGenerator.GetInt32(Animals.Length)]}-{RandomNumberGenerator.GetInt32(1, 1000)}";
}
