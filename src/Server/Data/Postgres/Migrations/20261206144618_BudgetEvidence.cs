using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class BudgetEvidence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "project_budget_evidence",
                columns: table => new
                {
                    project_id = table.Column<Guid>(type: "uuid", nullable: false),
                    hour_start = table.Column<long>(type: "bigint", nullable: false),
                    top_lines = table.Column<byte[]>(type: "bytea", nullable: false),
                    bytes_per_minute = table.Column<byte[]>(type: "bytea", nullable: false),
                    dropped_lines = table.Column<long>(type: "bigint", nullable: false),
                    dropped_tail = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_project_budget_evidence", x => new { x.project_id, x.hour_start });
                    table.ForeignKey(
                        name: "FK_project_budget_evidence_project_budget_hours_project_id_hou~",
                        columns: x => new { x.project_id, x.hour_start },
                        principalTable: "project_budget_hours",
                        principalColumns: new[] { "project_id", "hour_start" },
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "project_budget_evidence");
        }
    }
}
