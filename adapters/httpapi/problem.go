package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/repurpose/repurpose/core"
)

// statusByCode is the one table mapping core error codes to HTTP statuses.
var statusByCode = map[core.Code]int{
	core.EBADREQUEST:   http.StatusBadRequest,
	core.EINVALID:      http.StatusUnprocessableEntity,
	core.EUNAUTHORIZED: http.StatusUnauthorized,
	core.EQUOTA:        http.StatusPaymentRequired,
	core.EPRECONDITION: http.StatusPreconditionFailed,
	core.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	core.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	core.EFORBIDDEN:    http.StatusForbidden,
	core.ENOTFOUND:     http.StatusNotFound,
	core.ECONFLICT:     http.StatusConflict,
	core.ERATELIMIT:    http.StatusTooManyRequests,
	core.EUNAVAILABLE:  http.StatusServiceUnavailable,
	core.EINTERNAL:     http.StatusInternalServerError,
}

// FieldProblem is one bad input field of a 422.
type FieldProblem struct {
	Location string `json:"location,omitempty" doc:"Where the bad value is, e.g. body.password or query.limit"`
	Message  string `json:"message" doc:"What is wrong with it"`
}

// Problem is an RFC 9457 problem document; every non-2xx response carries one.
type Problem struct {
	Type      string          `json:"type,omitempty" doc:"A URI naming the problem type" default:"about:blank"`
	Title     string          `json:"title" doc:"The HTTP status text"`
	Status    int             `json:"status" doc:"The HTTP status code"`
	Detail    string          `json:"detail" doc:"A human-readable explanation"`
	Errors    []*FieldProblem `json:"errors,omitempty" doc:"The bad fields of a 422 (or 400)"`
	RequestID string          `json:"request_id,omitempty" doc:"The X-Request-ID of the request, for support"`

	headers http.Header
}

// Error implements error.
func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// GetHeaders implements huma.HeadersError (WWW-Authenticate, Retry-After).
func (p *Problem) GetHeaders() http.Header { return p.headers }

// ContentType implements huma.ContentTypeFilter.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

func newProblem(status int, detail string, fields []*FieldProblem) *Problem {
	p := &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: fields}
	switch status {
	case http.StatusUnauthorized:
		p.headers = http.Header{"Www-Authenticate": {`Bearer`}}
	case http.StatusUnprocessableEntity:
		if p.Detail == "" {
			p.Detail = "validation failed"
		}
	}
	return p
}

// humaNewError replaces huma's error constructor so validation and parse
// errors share our problem shape and never echo the submitted values back
// (they may be passwords).
func humaNewError(status int, msg string, errs ...error) huma.StatusError {
	return newHumaProblem(status, msg, errs...)
}

func newHumaProblem(status int, msg string, errs ...error) *Problem {
	var fields []*FieldProblem
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d huma.ErrorDetailer
		if errors.As(err, &d) {
			ed := d.ErrorDetail()
			loc := ed.Location
			// Point a missing property at the property, not its parent.
			if name, ok := strings.CutPrefix(ed.Message, "expected required property "); ok {
				if name, ok = strings.CutSuffix(name, " to be present"); ok {
					loc += "." + name
				}
			}
			fields = append(fields, &FieldProblem{Location: loc, Message: ed.Message})
			continue
		}
		fields = append(fields, &FieldProblem{Message: err.Error()})
	}
	switch {
	case status == http.StatusBadRequest && len(fields) > 0 && fields[0].Location == "body":
		// A JSON syntax error: say so without quoting the body.
		msg, fields = "the request body is not valid JSON", fields[:1]
	case status == http.StatusUnsupportedMediaType:
		msg, fields = "unsupported content type; send application/json", nil
	}
	return newProblem(status, msg, fields)
}

// humaNewErrorWithContext adds the request id to huma's own errors.
func humaNewErrorWithContext(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	p := newHumaProblem(status, msg, errs...)
	p.RequestID = core.RequestMetaFrom(ctx.Context()).RequestID
	return p
}

// problemFor maps an error from the core to a problem, logging internal
// causes (which are never rendered) with the request id.
func problemFor(ctx context.Context, log *slog.Logger, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	ce := core.AsError(err)
	status, ok := statusByCode[ce.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	meta := core.RequestMetaFrom(ctx)
	if status >= 500 {
		log.ErrorContext(ctx, "request failed", "request_id", meta.RequestID, "code", ce.Code, "err", err)
	}
	var fields []*FieldProblem
	for _, f := range ce.Fields {
		fields = append(fields, &FieldProblem{Location: f.Location, Message: f.Message})
	}
	p = newProblem(status, ce.Message, fields)
	p.RequestID = meta.RequestID
	if status == http.StatusTooManyRequests {
		secs := int(math.Ceil(ce.RetryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		p.headers = http.Header{"Retry-After": {strconv.Itoa(secs)}}
	}
	return p
}

// writeProblem renders a problem outside huma (middleware, plain routes).
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.RequestID == "" {
		p.RequestID = core.RequestMetaFrom(r.Context()).RequestID
	}
	for k, vs := range p.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
