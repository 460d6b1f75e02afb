// Package vendorerr builds the causes of the vendor AI adapters' errors
// from safe fields only. The vendor SDKs' error texts quote response
// bodies (which may echo prompts), so the openai and anthropic adapters
// never render them: they keep the SDK error reachable through Unwrap for
// errors.As, and show a status, a vendor error code, or a short
// description of a transport failure.
package vendorerr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Cause is a vendor API error rendered from its status and code.
type Cause struct {
	Status int
	// Code is the vendor's error code or type, already passed through
	// Token.
	Code string
	Err  error
}

func (e *Cause) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Status == http.StatusOK {
		s = "error event" // inside a stream that had started fine
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	return s
}

// Unwrap returns the SDK error.
func (e *Cause) Unwrap() error { return e.Err }

// Transport describes a transport or decoding failure without quoting a
// response body.
func Transport(err error) error {
	var urlErr *url.Error
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &described{msg: "timeout", err: err}
	case errors.As(err, &urlErr):
		return &described{msg: "connection: " + urlErr.Err.Error(), err: err}
	case errors.As(err, &netErr):
		return &described{msg: "connection failed", err: err}
	default:
		return &described{msg: "malformed or interrupted response", err: err}
	}
}

type described struct {
	msg string
	err error
}

func (e *described) Error() string { return e.msg }
func (e *described) Unwrap() error { return e.err }

// Token keeps a vendor error code or type only if it looks like one
// (snake_case and the like, at most 64 characters), so free text can't
// slip into a message; "" otherwise.
func Token(s string) string {
	if len(s) > 64 || strings.IndexFunc(s, func(r rune) bool { return !isTokenRune(r) }) >= 0 {
		return ""
	}
	return s
}

func isTokenRune(r rune) bool {
	return r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
