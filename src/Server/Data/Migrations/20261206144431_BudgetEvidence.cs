using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Migrations
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
                    project_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    hour_start = table.Column<long>(type: "INTEGER", nullable: false),
                    top_lines = table.Column<byte[]>(type: "BLOB", nullable: false),
                    bytes_per_minute = table.Column<byte[]>(type: "BLOB", nullable: false),
                    dropped_lines = table.Column<long>(type: "INTEGER", nullable: false),
                    dropped_tail = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_project_budget_evidence", x => new { x.project_id, x.hour_start });
                    table.ForeignKey(
                        name: "FK_project_budget_evidence_project_budget_hours_project_id_hour_start",
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
