using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class Runners : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "runners",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 41, nullable: false),
                    url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    runner_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    draining = table.Column<bool>(type: "INTEGER", nullable: false),
                    max_jobs = table.Column<int>(type: "INTEGER", nullable: true),
                    isolation_kill = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    isolation_users = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    added_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_runners", x => x.name);
                });

            migrationBuilder.CreateIndex(
                name: "IX_runners_runner_id",
                table: "runners",
                column: "runner_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_runners_url",
                table: "runners",
                column: "url",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "runners");
        }
    }
}
