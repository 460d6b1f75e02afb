package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/plugins/proto/aiproviderv1"
)

// grpcCodes gives each core code the closest gRPC status code. Only the
// ProviderError in the details is read back; the status code is for tools
// (grpcurl, logs) that look at the wire.
var grpcCodes = map[core.Code]codes.Code{
	core.ERATELIMIT:   codes.ResourceExhausted,
	core.EUNAVAILABLE: codes.Unavailable,
	core.EUNSUPPORTED: codes.Unimplemented,
	core.EFORBIDDEN:   codes.PermissionDenied,
	core.EINVALID:     codes.InvalidArgument,
	core.ENOTFOUND:    codes.NotFound,
	core.ETOOLARGE:    codes.ResourceExhausted,
	core.EINTERNAL:    codes.Internal,
}

// toStatus turns a provider's error into a gRPC status carrying a
// ProviderError (plugin side).
func toStatus(err error) error {
	pe := &aiproviderv1.ProviderError{}
	code := codes.Unknown
	var ce *core.Error
	switch {
	case errors.As(err, &ce):
		pe.Code = string(ce.Code)
		pe.Message = ce.Message
		pe.RetryAfterNanos = int64(ce.RetryAfter)
		for _, f := range ce.Fields {
			pe.Fields = append(pe.Fields, &aiproviderv1.FieldError{Location: f.Location, Message: f.Message})
		}
		if ce.Err != nil {
			pe.Cause = ce.Err.Error()
		}
		if c, ok := grpcCodes[ce.Code]; ok {
			code = c
		}
	case errors.Is(err, context.Canceled):
		code, pe.Cause = codes.Canceled, err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		code, pe.Cause = codes.DeadlineExceeded, err.Error()
	default:
		pe.Cause = err.Error()
	}
	msg := pe.Message
	if msg == "" {
		msg = "provider error"
	}
	st, derr := status.New(code, msg).WithDetails(pe)
	if derr != nil {
		return status.Error(code, msg)
	}
	return st.Err()
}

// remoteError is the internal cause of a plugin's error, as text: logged
// by the host, never shown.
type remoteError struct{ text string }

func (e *remoteError) Error() string { return e.text }

// fromStatus turns the error of a call into the provider's error (host
// side). ctx is the call's: when it is done, the caller stopped, and the
// error wraps ctx.Err() whatever the plugin said.
func fromStatus(ctx context.Context, provider, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("plugin %s: %s: %w", provider, op, cerr)
	}
	st, ok := status.FromError(err)
	if !ok {
		return core.AIUnavailable(provider, fmt.Errorf("%s: %w: %w", op, ErrPluginShutdown, err))
	}
	for _, d := range st.Details() {
		pe, ok := d.(*aiproviderv1.ProviderError)
		if !ok {
			continue
		}
		var cause error
		if pe.GetCause() != "" {
			cause = &remoteError{text: pe.GetCause()}
		}
		if pe.GetCode() == "" {
			// An uncoded error stays uncoded: core.AIRetryable treats it as
			// transient, as it would in process.
			if cause == nil {
				cause = &remoteError{text: st.Message()}
			}
			return fmt.Errorf("plugin %s: %s: %w", provider, op, cause)
		}
		ce := &core.Error{
			Code:       core.Code(pe.GetCode()),
			Message:    pe.GetMessage(),
			RetryAfter: time.Duration(pe.GetRetryAfterNanos()),
			Err:        cause,
		}
		for _, f := range pe.GetFields() {
			ce.Fields = append(ce.Fields, core.FieldError{Location: f.GetLocation(), Message: f.GetMessage()})
		}
		return ce
	}
	// No ProviderError: the transport failed. Unavailable is a broken
	// connection or a dead process; Canceled with the caller's ctx alive
	// is the connection closing under the call.
	switch st.Code() {
	case codes.Unavailable, codes.Canceled:
		return core.AIUnavailable(provider, fmt.Errorf("%s: %w: %s", op, ErrPluginShutdown, st.Message()))
	default:
		return core.AIUnavailable(provider, fmt.Errorf("%s: plugin call failed: %s: %s", op, st.Code(), st.Message()))
	}
}
