package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// querier is what the stores run their SQL through: the transaction of one
// UnitOfWork.Do.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// identitySQL switches the transaction to a role and scopes it to a user
// and a workspace. is_local = true makes the role and the settings end with
// the transaction, so a pooled connection never carries one request's
// identity (nor the switched role) into the next; never a session-level SET.
const identitySQL = `SELECT set_config('role', $1, true), set_config('app.user_id', $2, true), set_config('app.workspace_id', $3, true)`

// lazyTx is a transaction on a pooled connection that is begun by its first
// statement: BEGIN, the switch to the role, the identity settings and that
// statement travel in one pipelined round trip. When the switch fails, the
// server skips the rest of the pipeline, so nothing runs unscoped.
type lazyTx struct {
	conn                      *pgxpool.Conn
	role, userID, workspaceID string
	tx                        pgx.Tx // nil until the first statement
}

var _ querier = (*lazyTx)(nil)

// start sends BEGIN, the identity and the queries of b, and reads the
// results of the first two; the returned results hold those of b.
func (l *lazyTx) start(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	full := &pgx.Batch{}
	full.BeginTx(pgx.TxOptions{})
	full.Queue(identitySQL, l.role, l.userID, l.workspaceID)
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	br := l.conn.SendBatch(ctx, full)
	l.tx = br.Tx()
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("switch to role %s: %w", l.role, err)
	}
	return br, nil
}

// startWith begins the transaction with sql as its first statement.
func (l *lazyTx) startWith(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return l.start(ctx, b)
}

// begun reports whether a statement ran, so there is a transaction to end.
func (l *lazyTx) begun() bool { return l.tx != nil }

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if l.tx != nil {
		return l.tx.Exec(ctx, sql, args...)
	}
	br, err := l.startWith(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	return tag, closeBatch(br, err)
}

func (l *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if l.tx != nil {
		return l.tx.Query(ctx, sql, args...)
	}
	br, err := l.startWith(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, closeBatch(br, err)
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (l *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if l.tx != nil {
		return l.tx.QueryRow(ctx, sql, args...)
	}
	br, err := l.startWith(ctx, sql, args)
	if err != nil {
		return errRow{err: err}
	}
	return batchRow{br: br}
}

func (l *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if l.tx != nil {
		return l.tx.SendBatch(ctx, b)
	}
	br, err := l.start(ctx, b)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return br
}

// closeBatch closes br after its last result was read with err; a failure
// of Close matters more than "no rows".
func closeBatch(br pgx.BatchResults, err error) error {
	if cerr := br.Close(); cerr != nil && (err == nil || errors.Is(err, pgx.ErrNoRows)) {
		return cerr
	}
	return err
}

// batchRow is the row of the first statement of a lazyTx.
type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	return closeBatch(r.br, r.br.QueryRow().Scan(dest...))
}

// errRow is a row that failed before it was read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// batchRows are the rows of the first statement of a lazyTx; closing them
// closes the batch.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.err = closeBatch(r.br, r.Rows.Err())
	}
}

func (r *batchRows) Err() error {
	if r.closed {
		return r.err
	}
	return r.Rows.Err()
}
