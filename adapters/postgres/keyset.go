package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// keysetList builds the newest-first list queries of the stores: a base
// SELECT … WHERE …, optional filters, the (created_at, id) keyset cursor,
// then the order and limit added by collectPage.
type keysetList struct {
	sql  strings.Builder
	args []any
}

func newKeysetList(base string) *keysetList {
	k := &keysetList{}
	k.sql.WriteString(base)
	return k
}

// arg binds v and returns its placeholder.
func (k *keysetList) arg(v any) string {
	k.args = append(k.args, v)
	return "$" + strconv.Itoa(len(k.args))
}

// and adds a filter condition.
func (k *keysetList) and(cond string) { k.sql.WriteString(" AND " + cond) }

// after keeps only the rows strictly after the position (at, id) in the
// newest-first order.
func (k *keysetList) after(at time.Time, id uuid.UUID) {
	k.and(`(created_at, id) < (` + k.arg(at) + `::timestamptz, ` + k.arg(id) + `::uuid)`)
}

// collectPage orders newest first, applies limit (<= 0: none), runs the
// query in db and scans every row; an empty slice, never nil, when there are
// none. op names the operation in errors.
func collectPage[T any](ctx context.Context, db querier, k *keysetList, limit int, op string, scan func(pgx.CollectableRow) (T, error)) ([]T, error) {
	k.sql.WriteString(` ORDER BY created_at DESC, id DESC`)
	if limit > 0 {
		k.sql.WriteString(` LIMIT ` + k.arg(limit))
	}
	rows, err := db.Query(ctx, k.sql.String(), k.args...)
	if err != nil {
		return nil, translate(err, op, "workspace not found")
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, translate(err, op, "workspace not found")
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}
