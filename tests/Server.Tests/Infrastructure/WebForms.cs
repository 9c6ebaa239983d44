namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>The web page's forms posted as a browser posts them: the page first, for its antiforgery field (the cookie comes with it).</summary>
public static class WebForms
{
    /// <summary>GETs <paramref name="path"/>, then posts <paramref name="fields"/> to it with the page's antiforgery field.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(this HttpClient browser, string path, params (string Name, string Value)[] fields)
    {
        using var form = await browser.GetAsync(new Uri(path, UriKind.Relative));
        Assert.True(form.IsSuccessStatusCode, $"GET {path} answered {(int)form.StatusCode}");
        var html = await form.Content.ReadAsStringAsync();
        const string marker = "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"";
        var start = html.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        Assert.True(start >= marker.Length, $"{path} has no antiforgery field.");
        var token = html[start..html.IndexOf('"', start)];
        using var content = new FormUrlEncodedContent(fields.Append(("__RequestVerificationToken", token)).Select(f => KeyValuePair.Create(f.Item1, f.Item2)));
        return await browser.PostAsync(new Uri(path, UriKind.Relative), content);
    }
}
