using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class StreamsByRunnerId : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // A stream was keyed by its runner's address; it is keyed by the runner's id now. A cursor only saves a re-read: a
            // stream without one is answered afresh, and each job's stored position drops what is stored already. SQLite
            // cannot drop a primary key, so the table is made anew (both ways).
            migrationBuilder.DropTable(name: "runner_streams");

            migrationBuilder.CreateTable(
                name: "runner_streams",
                columns: table => new
                {
                    runner_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    cursor = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    failing_since = table.Column<long>(type: "INTEGER", nullable: true),
                    lease_owner = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    lease_expires_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_runner_streams", x => x.runner_id);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(name: "runner_streams");

            migrationBuilder.CreateTable(
                name: "runner_streams",
                columns: table => new
                {
                    runner = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    cursor = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    failing_since = table.Column<long>(type: "INTEGER", nullable: true),
                    lease_owner = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    lease_expires_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_runner_streams", x => x.runner);
                });
        }
    }
}
