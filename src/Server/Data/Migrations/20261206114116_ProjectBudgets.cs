using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class ProjectBudgets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "log_budget_action",
                table: "projects",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                // Projects made before budgets have none; their action is kill, the default, until one is set.
                defaultValue: "Kill");

            migrationBuilder.AddColumn<long>(
                name: "log_budget_hour",
                table: "projects",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "budget_dropped_bytes",
                table: "jobs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "budget_dropped_lines",
                table: "jobs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "budget_dropping_hour",
                table: "jobs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "stop_reason",
                table: "jobs",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "project_budget_hours",
                columns: table => new
                {
                    project_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    hour_start = table.Column<long>(type: "INTEGER", nullable: false),
                    used_bytes = table.Column<long>(type: "INTEGER", nullable: false),
                    dropped_bytes = table.Column<long>(type: "INTEGER", nullable: false),
                    warned_percent = table.Column<int>(type: "INTEGER", nullable: false),
                    exceeded_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_project_budget_hours", x => new { x.project_id, x.hour_start });
                    table.ForeignKey(
                        name: "FK_project_budget_hours_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "project_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    project_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    timestamp = table.Column<long>(type: "INTEGER", nullable: false),
                    type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    message = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_project_events", x => x.id);
                    table.ForeignKey(
                        name: "FK_project_events_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.UpdateData(
                table: "projects",
                keyColumn: "id",
                keyValue: new Guid("00000000-0000-7000-8000-000000000001"),
                columns: new[] { "log_budget_action", "log_budget_hour" },
                values: new object[] { "Kill", null });

            migrationBuilder.CreateIndex(
                name: "IX_project_events_project_id_timestamp",
                table: "project_events",
                columns: new[] { "project_id", "timestamp" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "project_budget_hours");

            migrationBuilder.DropTable(
                name: "project_events");

            // SQLite drops these in place: EF's rebuild of the tables would follow the Teams migration's model, which
            // still names jobs.log_bytes_hour (dropped before it), and fail on a database migrated down from here.
            migrationBuilder.Sql("ALTER TABLE projects DROP COLUMN log_budget_action;");

            migrationBuilder.Sql("ALTER TABLE projects DROP COLUMN log_budget_hour;");

            migrationBuilder.Sql("ALTER TABLE jobs DROP COLUMN budget_dropped_bytes;");

            migrationBuilder.Sql("ALTER TABLE jobs DROP COLUMN budget_dropped_lines;");

            migrationBuilder.Sql("ALTER TABLE jobs DROP COLUMN budget_dropping_hour;");

            migrationBuilder.Sql("ALTER TABLE jobs DROP COLUMN stop_reason;");
        }
    }
}
