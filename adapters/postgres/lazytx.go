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
	// ExecLater queues a write whose outcome the caller needs not at once:
	// it travels with the transaction's next statement or with its COMMIT,
	// and its failure (reported as op) fails that statement or the commit.
	ExecLater(op, sql string, args ...any)
	// ScopeWorkspace is the transaction's current workspace id, "" when
	// none: what app.workspace_id is set to.
	ScopeWorkspace() string
}

// identitySQL switches the transaction to a role and scopes it to a user
// and a workspace. is_local = true makes the role and the settings end with
// the transaction, so a pooled connection never carries one request's
// identity (nor the switched role) into the next; never a session-level SET.
// Row-level security policies read the settings as
//
//	NULLIF(current_setting('app.workspace_id', true), '')::uuid
const identitySQL = `SELECT set_config('role', $1, true), set_config('app.user_id', $2, true), set_config('app.workspace_id', $3, true)`

// lazyTx is a transaction on a pooled connection that is begun by its first
// statement: BEGIN, the switch to the role, the identity settings and that
// statement travel in one pipelined round trip. When the switch fails, the
// server skips the rest of the pipeline, so nothing runs unscoped.
//
// In autocommit mode every statement is a transaction of its own, sent with
// its BEGIN, identity and COMMIT in one round trip.
type lazyTx struct {
	conn                      *pgxpool.Conn
	role, userID, workspaceID string
	autocommit                bool
	open                      bool         // BEGIN was sent and no COMMIT yet
	later                     []laterWrite // ExecLater's writes, not sent yet
	// err is the failure of what send sent before a statement: every later
	// statement fails with it, so none can run outside the scope.
	err error
}

// laterWrite is a write of ExecLater.
type laterWrite struct {
	op string
	q  *pgx.QueuedQuery
}

var _ querier = (*lazyTx)(nil)

// send sends the queries of b on the connection in one pipeline, preceded
// by what must run first (BEGIN and the identity when no transaction is
// open, the later writes) and followed by COMMIT in autocommit mode. It reads the results of what
// precedes b; the returned results hold those of b (and the COMMIT).
func (l *lazyTx) send(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	if l.err != nil {
		return nil, l.err
	}
	if !l.open && l.conn.Conn().PgConn().TxStatus() == 'E' {
		// An autocommit statement failed: its transaction is aborted, and
		// the server would prepare nothing else until it is rolled back.
		if _, err := l.conn.Exec(ctx, "ROLLBACK"); err != nil {
			l.err = fmt.Errorf("roll back the failed statement: %w", err)
			return nil, l.err
		}
	}
	full := &pgx.Batch{}
	var before []string // what each query queued before b's is, for errors
	if !l.open {
		full.Queue("BEGIN")
		full.Queue(identitySQL, l.role, l.userID, l.workspaceID)
		before = append(before, "begin transaction", "switch to role "+l.role)
	}
	for _, w := range l.later {
		full.QueuedQueries = append(full.QueuedQueries, w.q)
		before = append(before, w.op)
	}
	l.later = nil
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	l.open = !l.autocommit
	if l.autocommit {
		full.Queue("COMMIT")
	}
	br := l.conn.SendBatch(ctx, full)
	for _, op := range before {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			l.err = fmt.Errorf("%s: %w", op, err)
			return nil, l.err
		}
	}
	return br, nil
}

// direct reports whether a statement can go as is: inside an open
// transaction, with nothing to send before or after it.
func (l *lazyTx) direct() bool { return l.open && len(l.later) == 0 && l.err == nil }

func (l *lazyTx) sendOne(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return l.send(ctx, b)
}

// commit ends the transaction: the later writes and COMMIT in one round
// trip (with BEGIN and the identity when only later writes were queued).
// Nothing to send when no statement ran.
func (l *lazyTx) commit(ctx context.Context) error {
	if !l.open && len(l.later) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	if !l.autocommit {
		b.Queue("COMMIT")
	}
	br, err := l.send(ctx, b)
	if err != nil {
		return err
	}
	tag, err := br.Exec()
	if err = closeBatch(br, err); err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback
	}
	return err
}

// ExecLater implements querier.
func (l *lazyTx) ExecLater(op, sql string, args ...any) {
	l.later = append(l.later, laterWrite{op: op, q: &pgx.QueuedQuery{SQL: sql, Arguments: args}})
}

// ScopeWorkspace implements querier.
func (l *lazyTx) ScopeWorkspace() string { return l.workspaceID }

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if l.direct() {
		return l.conn.Exec(ctx, sql, args...)
	}
	br, err := l.sendOne(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	return tag, closeBatch(br, err)
}

func (l *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if l.direct() {
		return l.conn.Query(ctx, sql, args...)
	}
	br, err := l.sendOne(ctx, sql, args)
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
	if l.direct() {
		return l.conn.QueryRow(ctx, sql, args...)
	}
	br, err := l.sendOne(ctx, sql, args)
	if err != nil {
		return errRow{err: err}
	}
	return batchRow{br: br}
}

func (l *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if l.direct() {
		return l.conn.SendBatch(ctx, b)
	}
	br, err := l.send(ctx, b)
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

// batchRow is the row of a statement sent by lazyTx.send.
type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	return closeBatch(r.br, r.br.QueryRow().Scan(dest...))
}

// errRow is a row that failed before it was read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// batchRows are the rows of a statement sent by lazyTx.send; closing them
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
