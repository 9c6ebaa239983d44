using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace LogQuota.Server.Apis;

/// <summary>
/// Completes <c>/openapi/v1.json</c> where the endpoints' metadata cannot say it: the bearer scheme and the 401 of every
/// endpoint behind it (answered by <see cref="CallerMiddleware"/>, before any endpoint runs), the types of the logs
/// and runs queries (read as strings, so that a bad value gets a clear 400, but typed on the wire), and the <c>text/plain</c> form of
/// the logs answer.
/// </summary>
internal static class OpenApiDocumentation
{
    private const string Bearer = "bearer";

    public static void AddLogQuotaOpenApi(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The admin token: DSTACK_SERVER_ADMIN_TOKEN, or the one the server generated in <server dir>/admin-token.",
            };

            // Descriptions come from XML doc comments, where "&&" must be written "&amp;&amp;"; the generator keeps the
            // entity, so the document showed `cmd1 &amp;&amp; cmd2`. Document transformers run last, after it.
            foreach (var schema in document.Components.Schemas?.Values ?? [])
            {
                DecodeDescriptions(schema, depth: 0);
            }

            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var path = "/" + context.Description.RelativePath?.TrimStart('/');
            if (path.StartsWith("/api/", StringComparison.Ordinal) && path != "/api/healthcheck")
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] });
                operation.Responses ??= [];
                operation.Responses["401"] = ProblemResponse(operation, context, "The token (a user's, or the admin token) is missing or wrong.");
            }

            // The runs handlers read {project} from the route values (ProjectRoute), so nothing declares it but this.
            if (path.Contains("{project}", StringComparison.Ordinal) && operation.Parameters?.Any(p => p.Name == "project") != true)
            {
                operation.Parameters ??= [];
                operation.Parameters.Insert(0, new OpenApiParameter
                {
                    Name = "project", In = ParameterLocation.Path, Required = true, Schema = Schema(JsonSchemaType.String),
                    Description = "The project's name; /api/runs/... is the main project's alias of /api/projects/main/runs/...",
                });
            }

            if (operation.OperationId == "GetRunLogs")
            {
                DescribeLogsQuery(operation);
            }

            if (operation.OperationId == "ListRuns")
            {
                DescribeRunsQuery(operation);
            }

            return Task.CompletedTask;
        });
    });

    /// <summary>A problem-details answer, with the schema the document already holds for one.</summary>
    private static OpenApiResponse ProblemResponse(OpenApiOperation operation, OpenApiOperationTransformerContext context, string description)
    {
        var schema = operation.Responses?.Values
            .SelectMany(r => r.Content?.Values ?? [])
            .Select(c => c.Schema)
            .FirstOrDefault(s => s is OpenApiSchemaReference { Reference.Id: "ProblemDetails" })
            ?? new OpenApiSchemaReference("ProblemDetails", context.Document);
        return new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = schema } },
        };
    }

    private static void DescribeLogsQuery(OpenApiOperation operation)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            (parameter.Schema, parameter.Description) = parameter.Name switch
            {
                "start_time" => (Schema(JsonSchemaType.String, format: "date-time"), "Only events stored after this time (exclusive), ISO 8601."),
                "end_time" => (Schema(JsonSchemaType.String, format: "date-time"), "Only events stored up to this time (inclusive), ISO 8601."),
                "limit" => (Schema(JsonSchemaType.Integer, minimum: "1", maximum: "1000", @default: JsonValue.Create(1000)), "Events per page (each event is a chunk of lines); with q, matching lines per page (default 100)."),
                "descending" => (Schema(JsonSchemaType.Boolean, @default: JsonValue.Create(false)), "Newest first."),
                "next_token" => (Schema(JsonSchemaType.String), "The next_token of the previous page."),
                "format" => (new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("json"), JsonValue.Create("text"), JsonValue.Create("ansi")], Default = JsonValue.Create("json") },
                    "json: pages of base64 events with their style runs; text: the stored bytes as text/plain, in order; ansi: the same with colours and links rebuilt as SGR and OSC 8 sequences."),
                "timestamps" => (Schema(JsonSchemaType.Boolean, @default: JsonValue.Create(false)), "format=text or ansi: each line starts with the time it was stored (ISO 8601 UTC) and a space."),
                "q" => (Schema(JsonSchemaType.String), "Search: the lines containing this text (any case), answered as a LogSearchResponse page of numbered lines."),
                "regex" => (Schema(JsonSchemaType.Boolean, @default: JsonValue.Create(false)), "Search: q is a .NET regular expression (1 s per line at most, else 400)."),
                "match_case" => (Schema(JsonSchemaType.Boolean, @default: JsonValue.Create(false)), "Search: upper and lower case differ."),
                "line" => (Schema(JsonSchemaType.String), "One line by its number (from 1), or last: a LogSearchResponse with that line."),
                _ => (parameter.Schema, parameter.Description),
            };
        }

        if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse response)
        {
            response.Content ??= new Dictionary<string, OpenApiMediaType>();
            response.Content["text/plain"] = new OpenApiMediaType { Schema = Schema(JsonSchemaType.String) };
        }
    }

    private static void DescribeRunsQuery(OpenApiOperation operation)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            (parameter.Schema, parameter.Description) = parameter.Name switch
            {
                "limit" => (Schema(JsonSchemaType.Integer, minimum: "1", maximum: "1000", @default: JsonValue.Create(100)), "Runs per page, newest submitted first."),
                "only_active" => (Schema(JsonSchemaType.Boolean, @default: JsonValue.Create(false)), "Only runs whose job has not ended."),
                "next_token" => (Schema(JsonSchemaType.String), "The next_token of the previous page, asked with the same only_active."),
                _ => (parameter.Schema, parameter.Description),
            };
        }
    }

    private static void DecodeDescriptions(IOpenApiSchema schema, int depth)
    {
        // Component schemas refer to each other by reference; the depth bound only guards against a cycle of inline schemas.
        if (schema is not OpenApiSchema concrete || depth > 8)
        {
            return;
        }

        if (concrete.Description?.Contains('&', StringComparison.Ordinal) == true)
        {
            concrete.Description = System.Net.WebUtility.HtmlDecode(concrete.Description);
        }

        foreach (var property in concrete.Properties?.Values ?? [])
        {
            DecodeDescriptions(property, depth + 1);
        }

        if (concrete.Items is { } items)
        {
            DecodeDescriptions(items, depth + 1);
        }
    }

    private static OpenApiSchema Schema(JsonSchemaType type, string? format = null, string? minimum = null, string? maximum = null, JsonNode? @default = null) =>
        new() { Type = type, Format = format, Minimum = minimum, Maximum = maximum, Default = @default };
}
