package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkHandler compares, through the same handler and middleware, a
// route with no authentication (/healthz) to GET /api/auth/me (bearer
// verification, session check, membership lookup, profile), in memory.
func BenchmarkHandler(b *testing.B) {
	for _, bc := range []struct {
		name, path string
		auth       bool
	}{
		{"healthz", "/healthz", false},
		{"me", "/api/auth/me", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a, token := benchAPI(b)
			req := httptest.NewRequest("GET", bc.path, nil)
			if bc.auth {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				a.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", bc.path, rec.Code, rec.Body)
				}
			}
		})
	}
}

func benchAPI(b *testing.B) (*api, string) {
	b.Helper()
	a := newAPI(b, backends[0], nil)
	acc := a.register("bench")
	return a, acc.access
}
