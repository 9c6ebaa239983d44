namespace LogQuota.Web.Tests.Infrastructure;

/// <summary>One server and one browser for every browser test: the machine's two cores run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class WebPageGroup : ICollectionFixture<WebServer>, ICollectionFixture<Browser>
{
    public const string Name = "web page";
}
