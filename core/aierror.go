package core

import (
	"context"
	"errors"
	"time"
)

// AI provider errors use the domain codes, so they travel through ports,
// plugins and the router unchanged (see ports.AIProvider):
//
//	ERATELIMIT   the provider throttled us (RetryAfter when it said)   retryable
//	EUNAVAILABLE overloaded, 5xx, timeout, connection or plugin gone     retryable
//	EUNSUPPORTED the provider can't do this type/model                   fail over, no retry
//	EFORBIDDEN   bad or missing credentials                              final
//	EINVALID     invalid request, content policy                        final
//
// Context cancellation is neither: the caller stopped.

// AIRateLimited is a provider's 429; retryAfter is zero when it gave none.
func AIRateLimited(provider string, retryAfter time.Duration, cause error) *Error {
	return &Error{Code: ERATELIMIT, Message: "the AI provider " + provider + " is rate limiting requests", RetryAfter: retryAfter, Err: cause}
}

// AIUnavailable is a retryable provider failure (overloaded, 5xx, timeout,
// network, plugin gone).
func AIUnavailable(provider string, cause error) *Error {
	return &Error{Code: EUNAVAILABLE, Message: "the AI provider " + provider + " is unavailable", Err: cause}
}

// AIUnsupported says the provider can't serve this request; a router tries
// the next provider.
func AIUnsupported(provider, what string) *Error {
	return &Error{Code: EUNSUPPORTED, Message: "the AI provider " + provider + " does not support " + what}
}

// AIAuth is a final credentials failure.
func AIAuth(provider string, cause error) *Error {
	return &Error{Code: EFORBIDDEN, Message: "the AI provider " + provider + " rejected the platform's credentials", Err: cause}
}

// AIRejected is a final refusal of the request itself (invalid request,
// content policy); message is safe to show.
func AIRejected(provider, message string, cause error) *Error {
	return &Error{Code: EINVALID, Message: "the AI provider " + provider + " rejected the request: " + message, Err: cause}
}

// AIRetryable reports whether a provider error is worth retrying (on the
// same provider, then the next).
func AIRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch ErrorCode(err) {
	case ERATELIMIT, EUNAVAILABLE:
		return true
	case EINTERNAL:
		// An uncoded error from an adapter: treat as transient.
		var e *Error
		return !errors.As(err, &e)
	default:
		return false
	}
}

// AIFailover reports whether a router should move on to the next provider
// after err (retryable errors once retries are spent, and "unsupported").
func AIFailover(err error) bool {
	return AIRetryable(err) || ErrorCode(err) == EUNSUPPORTED
}
