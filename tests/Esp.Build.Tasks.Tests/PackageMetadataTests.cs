using System.Xml.Linq;

namespace Esp.Build.Tasks.Tests;

/// <summary>What NuGet shows of the package: a readme, a licence, the project's address.</summary>
[Collection(PackageCollection.Name)]
public sealed class PackageMetadataTests(PackageFixture package)
{
    private string Metadata(string name) => package.Nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata")
        .Elements().Single(e => e.Name.LocalName == name).Value;

    private XElement MetadataElement(string name) => package.Nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata")
        .Elements().Single(e => e.Name.LocalName == name);

    [Fact]
    public void TheReadmeLicenceAndProjectUrlArePacked()
    {
        Assert.Equal("README.md", Metadata("readme"));
        Assert.Contains("README.md", package.PackageFiles);
        Assert.Equal("file", (string?)MetadataElement("license").Attribute("type"));
        Assert.Contains(Metadata("license"), package.PackageFiles);
        var repository = (string?)MetadataElement("repository").Attribute("url");
        Assert.Equal(repository, Metadata("projectUrl"));
        Assert.Equal(repository + "/blob/main/docs/errors.md", ErrorLinks.Page); // the help links point into the same repository
    }

    [Fact]
    public void ThePackageReadmeLinksIntoTheRepository()
    {
        var readme = File.ReadAllText(TestRepository.File("src/Esp.Build.Tasks/PackageReadme.md"));
        var repository = (string?)MetadataElement("repository").Attribute("url");
        Assert.Contains(repository + "/blob/main/docs/properties.md", readme);
        Assert.Contains(repository + "/blob/main/docs/errors.md", readme);
    }
}
