package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrateLockKey is the pg_advisory_lock key every Migrate takes, so that
// processes starting together apply migrations one after the other. Advisory
// locks are per database, so the key only needs to be unique in this schema.
const migrateLockKey int64 = 0x7265707572706f73 // "repurpos"

// migrationName is the file name of a migration: a four-digit version, an
// underscore and a lower-case name. The version alone identifies it, so a
// file can be renamed without being applied again.
var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

type migration struct {
	version string
	file    string
}

// Migrate applies, in version order, every migration of fsys (files named
// NNNN_name.sql at its root) that the database at databaseURL has not applied
// yet. Each one runs in its own transaction together with its row in
// schema_migrations, so a failing migration leaves nothing behind. Migrate
// holds a PostgreSQL advisory lock on its single connection while it works, so
// concurrent callers serialize and all succeed; it is idempotent.
func Migrate(ctx context.Context, databaseURL string, fsys fs.FS) error {
	migrations, err := readMigrations(fsys)
	if err != nil {
		return err
	}
	// Parsed as the pool parses it, so the same DATABASE_URL serves both:
	// pgx.Connect would send pool_max_conns and the other pool parameters
	// to the server as settings, which it refuses.
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("migrate: parse database url: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		// Closing the session also releases the advisory lock.
		_ = conn.Close(closeCtx)
	}()

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer func() {
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(unlockCtx, "SELECT pg_advisory_unlock($1)", migrateLockKey)
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text        PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return err
	}
	for _, m := range migrations {
		if applied[m.version] {
			continue
		}
		if err := applyMigration(ctx, conn, fsys, m); err != nil {
			return err
		}
	}
	return nil
}

// readMigrations lists the migrations of fsys in version order. A .sql file
// whose name does not follow the convention, or two files with one version,
// are errors: silently skipping a migration would be worse.
func readMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: list migrations: %w", err)
	}
	var out []migration
	seen := make(map[string]string)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			if strings.HasSuffix(name, ".sql") {
				return nil, fmt.Errorf("migrate: %s: name must look like 0001_name.sql", name)
			}
			continue
		}
		if prev, ok := seen[m[1]]; ok {
			return nil, fmt.Errorf("migrate: %s and %s share version %s", prev, name, m[1])
		}
		seen[m[1]] = name
		out = append(out, migration{version: m[1], file: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	applied := make(map[string]bool, len(versions))
	for _, v := range versions {
		applied[v] = true
	}
	return applied, nil
}

func applyMigration(ctx context.Context, conn *pgx.Conn, fsys fs.FS, m migration) error {
	body, err := fs.ReadFile(fsys, m.file)
	if err != nil {
		return fmt.Errorf("migrate: read %s: %w", m.file, err)
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// Without arguments pgx uses the simple protocol, which accepts a
		// file of several statements.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", m.version)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: apply %s: %w", m.file, err)
	}
	return nil
}
