using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;

namespace LogQuota.Server.Web;

/// <summary>
/// A form post without a valid antiforgery token is refused with a 400 that says why in words, instead of the
/// framework's empty 400: RFC 7807 problem details, as the API answers.
/// </summary>
internal sealed class AntiforgeryFailureFilter : IAlwaysRunResultFilter
{
    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is IAntiforgeryValidationFailedResult)
        {
            context.Result = new ObjectResult(new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Bad Request",
                Detail = "The form did not carry this site's antiforgery token (it may have expired, or the post came " +
                    "from another site); reload the page and send it again.",
            })
            {
                StatusCode = StatusCodes.Status400BadRequest,
                ContentTypes = { "application/problem+json" },
            };
        }
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }
}
