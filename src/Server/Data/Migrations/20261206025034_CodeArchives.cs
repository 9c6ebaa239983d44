using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class CodeArchives : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "code_hash",
                table: "jobs",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "code_archives",
                columns: table => new
                {
                    sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    size_bytes = table.Column<long>(type: "INTEGER", nullable: false),
                    chunks = table.Column<int>(type: "INTEGER", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    used_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_code_archives", x => x.sha256);
                });

            migrationBuilder.CreateTable(
                name: "code_chunks",
                columns: table => new
                {
                    sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    seq = table.Column<int>(type: "INTEGER", nullable: false),
                    data = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_code_chunks", x => new { x.sha256, x.seq });
                    table.ForeignKey(
                        name: "FK_code_chunks_code_archives_sha256",
                        column: x => x.sha256,
                        principalTable: "code_archives",
                        principalColumn: "sha256",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_jobs_code_hash",
                table: "jobs",
                column: "code_hash");

            migrationBuilder.CreateIndex(
                name: "IX_code_archives_used_at",
                table: "code_archives",
                column: "used_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "code_chunks");

            migrationBuilder.DropTable(
                name: "code_archives");

            migrationBuilder.DropIndex(
                name: "IX_jobs_code_hash",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "code_hash",
                table: "jobs");
        }
    }
}
