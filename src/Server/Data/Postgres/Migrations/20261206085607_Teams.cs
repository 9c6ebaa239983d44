using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Teams : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_runs_run_name",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "IX_runs_submitted_at_id",
                table: "runs");

            migrationBuilder.AddColumn<Guid>(
                name: "project_id",
                table: "runs",
                type: "uuid",
                nullable: false,
                // Every run stored before projects belongs to main, which this migration creates below.
                defaultValue: new Guid("00000000-0000-7000-8000-000000000001"));

            migrationBuilder.AddColumn<Guid>(
                name: "project_id",
                table: "jobs",
                type: "uuid",
                nullable: false,
                // Every run stored before projects belongs to main, which this migration creates below.
                defaultValue: new Guid("00000000-0000-7000-8000-000000000001"));

            migrationBuilder.CreateTable(
                name: "projects",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(41)", maxLength: 41, nullable: false),
                    created_at = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_projects", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "users",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(41)", maxLength: 41, nullable: false),
                    global_role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    token_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    created_at = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_users", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "project_members",
                columns: table => new
                {
                    project_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_project_members", x => new { x.project_id, x.user_id });
                    table.ForeignKey(
                        name: "FK_project_members_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_project_members_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.InsertData(
                table: "projects",
                columns: new[] { "id", "created_at", "name" },
                values: new object[] { new Guid("00000000-0000-7000-8000-000000000001"), 0L, "main" });

            migrationBuilder.CreateIndex(
                name: "IX_runs_project_id_run_name",
                table: "runs",
                columns: new[] { "project_id", "run_name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_runs_project_id_submitted_at_id",
                table: "runs",
                columns: new[] { "project_id", "submitted_at", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_jobs_project_id_status",
                table: "jobs",
                columns: new[] { "project_id", "status" });

            migrationBuilder.CreateIndex(
                name: "IX_project_members_user_id",
                table: "project_members",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "IX_projects_name",
                table: "projects",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_users_name",
                table: "users",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_users_token_hash",
                table: "users",
                column: "token_hash",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_runs_projects_project_id",
                table: "runs",
                column: "project_id",
                principalTable: "projects",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_runs_projects_project_id",
                table: "runs");

            migrationBuilder.DropTable(
                name: "project_members");

            migrationBuilder.DropTable(
                name: "projects");

            migrationBuilder.DropTable(
                name: "users");

            migrationBuilder.DropIndex(
                name: "IX_runs_project_id_run_name",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "IX_runs_project_id_submitted_at_id",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "IX_jobs_project_id_status",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "project_id",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "project_id",
                table: "jobs");

            migrationBuilder.CreateIndex(
                name: "IX_runs_run_name",
                table: "runs",
                column: "run_name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_runs_submitted_at_id",
                table: "runs",
                columns: new[] { "submitted_at", "id" });
        }
    }
}
