using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace LogQuota.Server.Data.Postgres.Migrations
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
                type: "character varying(41)",
                maxLength: 41,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "submitted_by_id",
                table: "runs",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "data_protection_keys",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    friendly_name = table.Column<string>(type: "text", nullable: true),
                    xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_data_protection_keys", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "project_secrets",
                columns: table => new
                {
                    project_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    protected_value = table.Column<string>(type: "text", nullable: false),
                    updated_at = table.Column<long>(type: "bigint", nullable: false),
                    updated_by = table.Column<string>(type: "character varying(41)", maxLength: 41, nullable: false)
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
                name: "data_protection_keys");

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
