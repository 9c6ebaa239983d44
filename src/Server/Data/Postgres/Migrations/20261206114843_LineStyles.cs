using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class LineStyles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "styles",
                table: "log_events",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "styles",
                table: "log_events");
        }
    }
}
