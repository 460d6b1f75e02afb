package core

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/google/uuid"
)

// EncodeCursor makes the opaque keyset cursor of a newest-first list: the
// position (time, id) of the last item of a page.
func EncodeCursor(at time.Time, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id.String()))
}

// DecodeCursor reads a cursor made by EncodeCursor; ok is false for "".
// Anything else that is not such a cursor is an EINVALID error on
// query.cursor.
func DecodeCursor(c string) (at time.Time, id uuid.UUID, ok bool, err error) {
	if c == "" {
		return time.Time{}, uuid.Nil, false, nil
	}
	bad := Invalid("invalid cursor", FieldError{Location: "query.cursor", Message: "not a cursor from this API"})
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, uuid.Nil, false, bad
	}
	ts, idStr, found := strings.Cut(string(raw), "|")
	if !found {
		return time.Time{}, uuid.Nil, false, bad
	}
	at, err1 := time.Parse(time.RFC3339Nano, ts)
	id, err2 := uuid.Parse(idStr)
	if err1 != nil || err2 != nil {
		return time.Time{}, uuid.Nil, false, bad
	}
	return at, id, true, nil
}

// PageLimit checks a list's ?limit=: 1..100, 0 meaning the default 50.
func PageLimit(limit int) (int, error) {
	if limit == 0 {
		return 50, nil
	}
	if limit < 1 || limit > 100 {
		return 0, Invalid("invalid limit", FieldError{Location: "query.limit", Message: "1 to 100"})
	}
	return limit, nil
}
