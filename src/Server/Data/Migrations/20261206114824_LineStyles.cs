using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace LogQuota.Server.Data.Migrations
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
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // SQLite drops the column in place (3.35+): EF's own way rebuilds the table and turns foreign keys back on
            // in the middle of a migration down that needs them off.
            migrationBuilder.Sql("ALTER TABLE log_events DROP COLUMN styles;");
        }
    }
}
