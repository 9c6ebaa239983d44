namespace LogQuota.Shared.Tests.Docs;

/// <summary>The repository's documents: every relative link leads somewhere, and none points outside the repository.</summary>
public sealed class DocumentationTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("logquota-docs-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public void EveryRelativeLink_LeadsToAFileAndAHeadingThatExist()
    {
        var root = MarkdownDocuments.RepositoryRoot();
        var documents = MarkdownDocuments.Find(root);

        Assert.Contains(Path.Combine(root, "README.md"), documents);
        Assert.Contains(Path.Combine(root, "docs", "server.md"), documents);
        var broken = documents.SelectMany(file => MarkdownDocuments.BrokenLinks(root, file)).ToList();
        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void NoDocument_RefersToAnythingOutsideTheRepository()
    {
        var root = MarkdownDocuments.RepositoryRoot();

        var found = MarkdownDocuments.Find(root).SelectMany(file => MarkdownDocuments.OutsideReferences(root, file)).ToList();

        Assert.True(found.Count == 0, "References outside the repository:\n" + string.Join('\n', found));
    }

    [Fact]
    public void TheCheck_FindsAMissingFile_AMissingHeading_AndNothingInCode()
    {
        Write("docs/a.md", """
            # Top
            ## Quota policy: warn, then act
            ## Top
            [fine](b.md) [fine too](b.md#the-cli) [here](#quota-policy-warn-then-act) [again](#top-1) [web](https://example.com/x.md)
            [gone](missing.md) and [no heading](b.md#nowhere) and ![picture](images/none.png)
            `[in a code span](missing.md)`
            ```
            [in a code block](missing.md)
            ```
            """);
        Write("docs/b.md", "# The CLI\n");

        var broken = MarkdownDocuments.BrokenLinks(_scratch, Path.Combine(_scratch, "docs", "a.md")).ToList();

        Assert.Equal(
            [
                "docs/a.md:5: (missing.md) no such file or directory",
                "docs/a.md:5: (b.md#nowhere) no heading with the anchor #nowhere",
                "docs/a.md:5: (images/none.png) no such file or directory",
            ],
            broken);
    }

    [Theory]
    [InlineData("The contract is `SPEC.md` in the shared folder.")]
    [InlineData("as SPEC §4 asks")]
    [InlineData("see /work/shared/docker-local/setup.sh")]
    [InlineData("`GET /api/runs` (issue #17; measured)")]
    [InlineData("Job isolation (issue 14)")]
    [InlineData("fixed in #23 last week")]
    [InlineData("measured on this 2-core machine shared with other builds")]
    [InlineData("cannot be pulled on the development machine")]
    public void TheCheck_FindsAReferenceOutsideTheRepository(string line)
    {
        Write("x.md", line + "\n");

        Assert.NotEmpty(MarkdownDocuments.OutsideReferences(_scratch, Path.Combine(_scratch, "x.md")));
    }

    [Theory]
    [InlineData("[The CLI](docs/cli.md#the-cli) and the spec of a job (`job_spec`)")]
    [InlineData("a C# record, a colour like #fff, the anchor [x](#top) and `work/` relative paths")]
    [InlineData("the issue of tokens: who issues them; 2 cores, AMD EPYC")]
    public void TheCheck_LeavesOrdinaryTextAlone(string line)
    {
        Write("x.md", line + "\n");

        Assert.Empty(MarkdownDocuments.OutsideReferences(_scratch, Path.Combine(_scratch, "x.md")));
    }

    [Theory]
    [InlineData("Quota policy: warn, then act", "quota-policy-warn-then-act")]
    [InlineData("A job's files: home, code and working directory", "a-jobs-files-home-code-and-working-directory")]
    [InlineData("`GET /api/runs`", "get-apiruns")]
    [InlineData("Running on PostgreSQL with several replicas", "running-on-postgresql-with-several-replicas")]
    public void Slug_IsGitHubs(string heading, string slug) => Assert.Equal(slug, MarkdownDocuments.Slug(heading));

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_scratch, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
