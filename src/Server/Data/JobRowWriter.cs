using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Data;

/// <summary>Writes the columns a plain page changes (position, quota block, live region) of many job rows with one prepared
/// statement, fenced by each row's stored position as EF's concurrency token fences it.</summary>
internal static class JobRowWriter
{
    public static void Update(SqliteTransaction transaction, IReadOnlyList<(JobEntity Job, long Before)> rows)
    {
        using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE jobs SET runner_timestamp = $t, log_quota = $q, live = $l WHERE id = $id AND runner_timestamp = $before;";
        var t = command.Parameters.Add("$t", SqliteType.Integer);
        var q = command.Parameters.Add("$q", SqliteType.Text);
        var l = command.Parameters.Add("$l", SqliteType.Blob);
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var before = command.Parameters.Add("$before", SqliteType.Integer);
        command.Prepare();
        foreach (var (job, stored) in rows)
        {
            t.Value = job.RunnerTimestamp;
            q.Value = (object?)Configurations.JobEntityConfiguration.QuotaJson(job.LogQuota) ?? DBNull.Value;
            l.Value = (object?)job.Live ?? DBNull.Value;
            id.Value = LogEventWriter.IdText(job.Id);
            before.Value = stored;
            if (command.ExecuteNonQuery() != 1)
            {
                throw new DbUpdateConcurrencyException($"Job {job.Id}'s stored position moved from {stored} meanwhile.");
            }
        }
    }
}
