using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class RunsListAndRetentionIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_runs_submitted_at",
                table: "runs");

            migrationBuilder.CreateIndex(
                name: "IX_runs_submitted_at_id",
                table: "runs",
                columns: new[] { "submitted_at", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_jobs_finished_at_id",
                table: "jobs",
                columns: new[] { "finished_at", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_runs_submitted_at_id",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "IX_jobs_finished_at_id",
                table: "jobs");

            migrationBuilder.CreateIndex(
                name: "IX_runs_submitted_at",
                table: "runs",
                column: "submitted_at");
        }
    }
}
