namespace LogQuota.Shared.Contracts;

/// <summary>
/// Answer of the runner's <c>GET /api/pull?after=CURSOR&amp;wait=S</c>: every job's events after a runner-wide cursor,
/// in one answer bounded in size.
/// </summary>
/// <param name="Cursor">Where the next request starts (<c>after</c>): everything up to it is in this answer or an earlier one.
/// Opaque to the caller; it names the runner process, so a cursor of an earlier process is never taken for one of this one.</param>
/// <param name="HasMore">True when more is waiting now: ask again at once, without <c>wait</c>.</param>
/// <param name="Jobs">One page per job that changed after the cursor asked for, each as a per-job pull answers it: its
/// states, log events, quota events after the position the runner delivered before, with its live region, quota block and
/// <c>log_bytes_hour</c> as of now.</param>
/// <param name="Held">Set only when the answer starts the runner's sequence afresh (no cursor, or a cursor of an earlier
/// process of the runner): the ids of every job the runner holds. A job the caller thinks is on this runner and is not
/// among them was lost with an earlier runner process.</param>
public sealed record StreamResponse(
    string Cursor,
    bool HasMore,
    IReadOnlyList<StreamJobPage> Jobs,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<Guid>? Held = null);

/// <summary>One job's part of a <see cref="StreamResponse"/>.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Page">Its events after what the runner delivered up to the cursor asked for; <see cref="PullResponse.LastUpdated"/>
/// is the job's position after this page.</param>
public sealed record StreamJobPage(Guid JobId, PullResponse Page);
