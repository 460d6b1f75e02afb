// Package core holds the domain: types, use cases, coded errors and the
// request identity carried in the context. It imports only the standard
// library, ports and small pure libraries; adapters translate everything else.
package core

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error so driving adapters can map it to a status in one
// place without looking at messages.
type Code string

// Error codes returned by the core and by adapters.
const (
	ENOTFOUND     Code = "not_found"
	EBADREQUEST   Code = "bad_request"
	EINVALID      Code = "invalid"
	ECONFLICT     Code = "conflict"
	EFORBIDDEN    Code = "forbidden"
	EUNAUTHORIZED Code = "unauthorized"
	EQUOTA        Code = "quota"
	// EPRECONDITION is a failed If-Match: the object changed since it was read.
	EPRECONDITION Code = "precondition_failed"
	// ETOOLARGE is a body or upload over its size limit.
	ETOOLARGE Code = "too_large"
	// EUNSUPPORTED is a media type the platform does not accept, or content
	// that does not match its declared type.
	EUNSUPPORTED Code = "unsupported_media_type"
	ERATELIMIT   Code = "rate_limited"
	EUNAVAILABLE Code = "unavailable"
	EINTERNAL    Code = "internal"
)

// FieldError names one bad input field for validation errors.
type FieldError struct {
	// Location is where the value came from, e.g. "body.password".
	Location string
	Message  string
}

// Error is the coded error of the domain. Message is safe to show to the
// caller; Err is the internal cause and is only ever logged.
type Error struct {
	Code       Code
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's code, so
// errors.Is(err, core.ErrNotFound) holds for every not-found error.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && isSentinel(t)
}

// Sentinel errors to compare against with errors.Is; they match any error of
// their code.
var (
	ErrNotFound     = &Error{Code: ENOTFOUND, Message: "not found"}
	ErrConflict     = &Error{Code: ECONFLICT, Message: "conflict"}
	ErrInvalid      = &Error{Code: EINVALID, Message: "invalid input"}
	ErrForbidden    = &Error{Code: EFORBIDDEN, Message: "forbidden"}
	ErrUnauthorized = &Error{Code: EUNAUTHORIZED, Message: "could not validate credentials"}
	ErrRateLimited  = &Error{Code: ERATELIMIT, Message: "too many requests"}
	ErrUnavailable  = &Error{Code: EUNAVAILABLE, Message: "a dependency is unavailable"}
	ErrInternal     = &Error{Code: EINTERNAL, Message: "internal error"}
	// ErrReuseDetected is returned when an already rotated refresh token is
	// presented again; its session has been revoked.
	ErrReuseDetected = &Error{Code: EUNAUTHORIZED, Message: "refresh token reuse detected; the session was revoked"}
)

var sentinels = []*Error{ErrNotFound, ErrConflict, ErrInvalid, ErrForbidden, ErrUnauthorized, ErrRateLimited, ErrUnavailable, ErrInternal}

func isSentinel(e *Error) bool {
	for _, s := range sentinels {
		if s == e {
			return true
		}
	}
	return false
}

// Errorf returns a coded error with a caller-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error listing the bad fields.
func Invalid(message string, fields ...FieldError) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// Internal wraps an unexpected cause; callers see only "internal error".
func Internal(err error) *Error {
	return &Error{Code: EINTERNAL, Message: "internal error", Err: err}
}

// ErrorCode returns the code of err, EINTERNAL for uncoded errors.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// AsError returns err as a core error; uncoded errors become internal ones.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}
