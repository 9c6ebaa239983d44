using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class ProjectSecrets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "submitted_by",
                table: "runs",
                type: "TEXT",
                maxLength: 41,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "submitted_by_id",
                table: "runs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "project_secrets",
                columns: table => new
                {
                    project_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    protected_value = table.Column<string>(type: "TEXT", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_by = table.Column<string>(type: "TEXT", maxLength: 41, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_project_secrets", x => new { x.project_id, x.name });
                    table.ForeignKey(
                        name: "FK_project_secrets_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "project_secrets");

            migrationBuilder.DropColumn(
                name: "submitted_by",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "submitted_by_id",
                table: "runs");
        }
    }
}
