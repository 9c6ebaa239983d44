using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class RunsListIndex : Migration
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_runs_submitted_at_id",
                table: "runs");

            migrationBuilder.CreateIndex(
                name: "IX_runs_submitted_at",
                table: "runs",
                column: "submitted_at");
        }
    }
}
