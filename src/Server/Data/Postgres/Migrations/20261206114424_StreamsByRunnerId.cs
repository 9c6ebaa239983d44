using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class StreamsByRunnerId : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // A stream was keyed by its runner's address; it is keyed by the runner's id now. A cursor only saves a re-read: a
            // stream without one is answered afresh, and each job's stored position drops what is stored already.
            migrationBuilder.Sql("DELETE FROM runner_streams;");

            migrationBuilder.DropPrimaryKey(
                name: "PK_runner_streams",
                table: "runner_streams");

            migrationBuilder.DropColumn(
                name: "runner",
                table: "runner_streams");

            migrationBuilder.AddColumn<string>(
                name: "runner_id",
                table: "runner_streams",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddPrimaryKey(
                name: "PK_runner_streams",
                table: "runner_streams",
                column: "runner_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DELETE FROM runner_streams;");

            migrationBuilder.DropPrimaryKey(
                name: "PK_runner_streams",
                table: "runner_streams");

            migrationBuilder.DropColumn(
                name: "runner_id",
                table: "runner_streams");

            migrationBuilder.AddColumn<string>(
                name: "runner",
                table: "runner_streams",
                type: "character varying(2048)",
                maxLength: 2048,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddPrimaryKey(
                name: "PK_runner_streams",
                table: "runner_streams",
                column: "runner");
        }
    }
}
