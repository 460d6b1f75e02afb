package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
)

// requestIDPattern is what an incoming X-Request-ID must look like to be
// echoed; anything else is replaced, never reflected.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestMeta assigns the request id, finds the client IP and puts both
// (and the user agent) into the context as core.RequestMeta.
func requestMeta(trustProxy bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-ID")
			if !requestIDPattern.MatchString(id) {
				id = uuid.NewString()
			}
			w.Header().Set("X-Request-ID", id)
			meta := core.RequestMeta{RequestID: id, IPAddress: clientIP(r, trustProxy), UserAgent: r.UserAgent()}
			next.ServeHTTP(w, r.WithContext(core.WithRequestMeta(r.Context(), meta)))
		})
	}
}

// clientIP is the peer address, or, behind a trusted proxy, the last
// address in X-Forwarded-For (the one the proxy itself appended; earlier
// entries are whatever the client claimed).
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String()
	}
	return host
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status and size written.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush,
// hijack for WebSockets).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe logs each request (slog, with the request id) and records the
// Prometheus request metrics by route pattern, so ids in paths don't
// explode the label space.
func observe(log *slog.Logger, m *Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			elapsed := time.Since(start)
			route := "unmatched"
			if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePattern() != "" {
				route = rctx.RoutePattern()
			}
			m.observeRequest(r.Method, route, rec.status, elapsed)
			meta := core.RequestMetaFrom(r.Context())
			attrs := []any{"method", r.Method, "route", route, "path", r.URL.Path, "status", rec.status,
				"bytes", rec.bytes, "duration_ms", float64(elapsed.Microseconds()) / 1000, "request_id", meta.RequestID, "ip", meta.IPAddress}
			if id, ok := core.IdentityFrom(r.Context()); ok {
				attrs = append(attrs, "user_id", id.UserID, "workspace_id", id.WorkspaceID)
			}
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			log.Log(r.Context(), level, "http request", attrs...)
		})
	}
}

// recoverPanics turns a handler panic into a 500 problem without internals,
// logging the value and stack with the request id.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic in handler", "request_id", core.RequestMetaFrom(r.Context()).RequestID,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeProblem(w, r, newProblem(http.StatusInternalServerError, "internal error", nil))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// limitBodies refuses bodies over limitFor(r) bytes: at once when
// Content-Length says so, and while reading otherwise (huma answers 413
// when its own, equal limit is reached).
func limitBodies(limitFor func(*http.Request) int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			max := limitFor(r)
			if r.ContentLength > max {
				writeProblem(w, r, newProblem(http.StatusRequestEntityTooLarge,
					"request body is too large (limit "+strconv.FormatInt(max, 10)+" bytes)", nil))
				return
			}
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, max)
			}
			next.ServeHTTP(w, r)
		})
	}
}
