// Package migrations holds the SQL migrations of the relational schema,
// embedded so the binary can migrate the database it is pointed at. Files are
// named NNNN_name.sql, applied in order by postgres.Migrate, each in its own
// transaction; a file must therefore not contain BEGIN/COMMIT nor statements
// that cannot run in a transaction (CREATE INDEX CONCURRENTLY).
package migrations

import "embed"

// FS contains every migration file, for postgres.Migrate.
//
//go:embed *.sql
var FS embed.FS
