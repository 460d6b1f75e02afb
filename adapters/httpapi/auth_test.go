package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/jwt"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		email := nextEmail("Reg")
		r := a.do("POST", "/api/auth/register", map[string]any{"email": email, "password": "a long unusual passphrase", "username": "Ada L", "workspace_name": "Ada's team"})
		require.Equal(t, http.StatusCreated, r.status, string(r.raw))
		require.Equal(t, email, r.str("email"))
		require.Equal(t, "Ada L", r.str("username"))
		require.Equal(t, "owner", r.str("role"))
		require.Equal(t, true, r.body["is_active"])
		require.Equal(t, false, r.body["is_verified"])
		_, err := uuid.Parse(r.str("workspace_id"))
		require.NoError(t, err)
		_, err = time.Parse(time.RFC3339, r.str("created_at"))
		require.NoError(t, err)
		require.NotContains(t, string(r.raw), "password")

		dup := a.do("POST", "/api/auth/register", map[string]any{"email": strings.ToUpper(email), "password": "another unusual passphrase"})
		require.Equal(t, http.StatusConflict, dup.status)
		require.Equal(t, "email already registered", dup.str("detail"))

		cases := []struct {
			name     string
			body     any
			ct       string
			status   int
			location string
		}{
			{"common password", map[string]any{"email": nextEmail("x"), "password": "password123456"}, "", 422, "body.password"},
			{"short password", map[string]any{"email": nextEmail("x"), "password": "short"}, "", 422, "body.password"},
			{"bad email", map[string]any{"email": "nope", "password": "a long unusual passphrase"}, "", 422, "body.email"},
			{"missing email", map[string]any{"password": "a long unusual passphrase"}, "", 422, "body.email"},
			{"wrong type", map[string]any{"email": 42, "password": "a long unusual passphrase"}, "", 422, "body.email"},
			{"malformed JSON", `{"email": "a@b.co", "password":`, "", 400, "body"},
			{"not JSON", "email=a@b.co", "text/plain", 415, ""},
		}
		for _, c := range cases {
			var hdr []string
			if c.ct != "" {
				hdr = []string{"Content-Type", c.ct}
			}
			r := a.do("POST", "/api/auth/register", c.body, hdr...)
			require.Equal(t, c.status, r.status, "%s: %s", c.name, r.raw)
			require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), c.name)
			require.NotEmpty(t, r.str("detail"), c.name)
			require.NotContains(t, string(r.raw), "a long unusual passphrase", "%s: bodies are never echoed", c.name)
			if c.location != "" {
				errs, _ := r.body["errors"].([]any)
				require.NotEmpty(t, errs, c.name)
				require.Equal(t, c.location, errs[0].(map[string]any)["location"], c.name)
			}
		}
	})
}

func TestOversizedBodyIs413(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], map[string]string{"MAX_BODY_SIZE": "2048"})
	big := `{"email":"a@b.co","password":"` + strings.Repeat("x", 4096) + `"}`
	r := a.do("POST", "/api/auth/register", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status, string(r.raw))

	// Without a Content-Length the limit holds while streaming.
	req, err := http.NewRequest("POST", a.srv.URL+"/api/auth/register", struct{ *strings.Reader }{strings.NewReader(big)})
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

func TestTokenFormAndJSON(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("tok")

		form := a.do("POST", "/api/auth/token", "username="+strings.ToUpper(acc.email)+"&password="+strings.ReplaceAll(acc.password, " ", "+"),
			"Content-Type", "application/x-www-form-urlencoded")
		require.Equal(t, http.StatusOK, form.status, string(form.raw))
		require.Equal(t, "bearer", form.str("token_type"))
		require.EqualValues(t, 900, form.body["expires_in"])
		require.Equal(t, "no-store", form.header.Get("Cache-Control"))

		wrong := a.do("POST", "/api/auth/token", map[string]any{"email": acc.email, "password": "not the password"})
		unknown := a.do("POST", "/api/auth/token", map[string]any{"email": nextEmail("ghost"), "password": "not the password"})
		require.Equal(t, http.StatusUnauthorized, wrong.status)
		require.Equal(t, http.StatusUnauthorized, unknown.status)
		require.Equal(t, wrong.str("detail"), unknown.str("detail"), "no account enumeration")
		require.Equal(t, "Bearer", wrong.header.Get("WWW-Authenticate"))

		require.Equal(t, http.StatusUnprocessableEntity, a.do("POST", "/api/auth/token", map[string]any{"email": acc.email}).status)
		require.Equal(t, http.StatusUnsupportedMediaType, a.do("POST", "/api/auth/token", "x", "Content-Type", "text/plain").status)
		require.Equal(t, http.StatusBadRequest, a.do("POST", "/api/auth/token", "{").status)
	})
}

func TestUnknownEmailTakesAsLongAsWrongPassword(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], map[string]string{"BCRYPT_ROUNDS": "10"})
	acc := a.register("timing")
	attempt := func(email string) time.Duration {
		start := time.Now()
		r := a.do("POST", "/api/auth/token", map[string]any{"email": email, "password": "not the password"})
		require.Equal(t, http.StatusUnauthorized, r.status)
		return time.Since(start)
	}
	// Interleaved, so load from other tests hits both sides alike; medians
	// ignore the odd stall.
	var known, unknown []time.Duration
	for range 7 {
		known = append(known, attempt(acc.email))
		unknown = append(unknown, attempt(nextEmail("nobody")))
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	ratio := float64(median(unknown)) / float64(median(known))
	// Without the dummy comparison an unknown email answers ~100x faster.
	require.Greater(t, ratio, 0.5, "unknown %v vs wrong password %v", median(unknown), median(known))
	require.Less(t, ratio, 2.0, "unknown %v vs wrong password %v", median(unknown), median(known))
}

func TestMe(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("me")
		r := a.do("GET", "/api/auth/me", nil, bearer(acc.access)...)
		require.Equal(t, http.StatusOK, r.status, string(r.raw))
		require.Equal(t, acc.userID, r.str("id"))
		require.Equal(t, acc.email, r.str("email"))
		require.NotEmpty(t, r.str("last_login_at"))
		ws := r.body["workspace"].(map[string]any)
		require.Equal(t, acc.workspaceID, ws["id"])
		require.Equal(t, "owner", ws["role"])
		require.Len(t, r.body["workspaces"], 1)
		require.EqualValues(t, 1, r.body["active_sessions"])

		// Trailing slash is accepted without a redirect.
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me/", nil, bearer(acc.access)...).status)
	})
}

// forge signs claims the server never issued.
func forge(t *testing.T, key []byte, method gojwt.SigningMethod, mutate func(gojwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	m := gojwt.MapClaims{"iss": jwt.Issuer, "aud": []string{jwt.Audience}, "sub": uuid.NewString(), "sid": uuid.NewString(),
		"typ": "access", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	if mutate != nil {
		mutate(m)
	}
	tok := gojwt.NewWithClaims(method, m)
	tok.Header["kid"] = jwt.KeyID(key)
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestBadTokensAre401(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("badtok")
		parts := strings.Split(acc.access, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		otherUser := strings.Replace(string(payload), acc.userID, uuid.NewString(), 1)
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(otherUser)) + "." + parts[2]
		noneTok := forge(t, []byte("test-secret-key-that-is-long-enough-0123456789"), gojwt.SigningMethodHS256, nil)
		noneParts := strings.Split(noneTok, ".")
		algNone := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + noneParts[1] + "."

		cases := map[string][]string{
			"no header":          nil,
			"not bearer":         {"Authorization", "Basic " + acc.access},
			"garbage":            bearer("garbage"),
			"tampered":           bearer(tampered),
			"alg none":           bearer(algNone),
			"forged key":         bearer(forge(t, []byte("another-secret-key-that-is-long-enough-99"), gojwt.SigningMethodHS256, nil)),
			"valid sig, no sess": bearer(noneTok),
			"refresh as access":  bearer(acc.refresh),
		}
		for name, hdr := range cases {
			r := a.do("GET", "/api/auth/me", nil, hdr...)
			require.Equal(t, http.StatusUnauthorized, r.status, name)
			require.Equal(t, "Bearer", r.header.Get("WWW-Authenticate"), name)
		}

		// Expired: the server's clock moves past the lifetime and leeway.
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(acc.access)...).status)
		a.clock.Advance(16 * time.Minute)
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(acc.access)...).status)
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("rot")
		first := a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": acc.refresh})
		require.Equal(t, http.StatusOK, first.status, string(first.raw))
		require.NotEqual(t, acc.refresh, first.str("refresh_token"))
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(first.str("access_token"))...).status)

		second := a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": first.str("refresh_token")})
		require.Equal(t, http.StatusOK, second.status)

		// The first token again: reuse. The whole family is revoked.
		reuse := a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": acc.refresh})
		require.Equal(t, http.StatusUnauthorized, reuse.status)
		require.Contains(t, reuse.str("detail"), "reuse")
		require.Equal(t, http.StatusUnauthorized, a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": second.str("refresh_token")}).status)
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(second.str("access_token"))...).status)

		require.Equal(t, http.StatusUnauthorized, a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": "made-up"}).status)
		require.Equal(t, http.StatusUnprocessableEntity, a.do("POST", "/api/auth/refresh", map[string]any{}).status)

		// Another login of the same user is untouched by the revocation.
		a.login(&acc)
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(acc.access)...).status)
	})
}

func TestConcurrentRefreshHasOneWinner(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("race")
		const n = 16
		statuses := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i] = a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": acc.refresh}).status
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				ok++
			} else {
				require.Equal(t, http.StatusUnauthorized, s)
			}
		}
		require.Equal(t, 1, ok, "statuses: %v", statuses)
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("out")
		other := acc
		a.login(&other)

		r := a.do("POST", "/api/auth/logout", nil, bearer(acc.access)...)
		require.Equal(t, http.StatusOK, r.status, string(r.raw))
		require.NotEmpty(t, r.str("message"))
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(acc.access)...).status, "ended at once")
		require.Equal(t, http.StatusUnauthorized, a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": acc.refresh}).status)
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(other.access)...).status, "other sessions live on")

		third := acc
		a.login(&third)
		all := a.do("POST", "/api/auth/logout", map[string]any{"all": true}, bearer(third.access)...)
		require.Equal(t, http.StatusOK, all.status)
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(other.access)...).status)
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(third.access)...).status)
		require.Equal(t, http.StatusUnauthorized, a.do("POST", "/api/auth/logout", nil, bearer(third.access)...).status)
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("sess")
		phone := acc
		a.login(&phone, "User-Agent", "phone/1.0")
		stranger := a.register("stranger")

		r := a.do("GET", "/api/auth/sessions", nil, bearer(acc.access)...)
		require.Equal(t, http.StatusOK, r.status)
		list := r.body["sessions"].([]any)
		require.Len(t, list, 2)
		var phoneID string
		current := 0
		for _, x := range list {
			s := x.(map[string]any)
			if s["current"] == true {
				current++
			}
			if s["user_agent"] == "phone/1.0" {
				phoneID = s["id"].(string)
				require.Equal(t, "127.0.0.1", s["ip_address"])
			}
		}
		require.Equal(t, 1, current)
		require.NotEmpty(t, phoneID)

		strangerSessions := a.do("GET", "/api/auth/sessions", nil, bearer(stranger.access)...).body["sessions"].([]any)
		strangerID := strangerSessions[0].(map[string]any)["id"].(string)
		require.Equal(t, http.StatusNotFound, a.do("DELETE", "/api/auth/sessions/"+strangerID, nil, bearer(acc.access)...).status, "not yours: 404")
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(stranger.access)...).status)
		require.Equal(t, http.StatusNotFound, a.do("DELETE", "/api/auth/sessions/"+uuid.NewString(), nil, bearer(acc.access)...).status)
		require.Equal(t, http.StatusUnprocessableEntity, a.do("DELETE", "/api/auth/sessions/not-a-uuid", nil, bearer(acc.access)...).status)

		del := a.do("DELETE", "/api/auth/sessions/"+phoneID, nil, bearer(acc.access)...)
		require.Equal(t, http.StatusNoContent, del.status)
		require.Empty(t, del.raw)
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(phone.access)...).status)
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(acc.access)...).status)
	})
}

func TestSessionCapEvictsOldest(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], map[string]string{"MAX_SESSIONS_PER_USER": "2"})
	first := a.register("cap")
	second, third := first, first
	a.clock.Advance(time.Second)
	a.login(&second)
	a.clock.Advance(time.Second)
	a.login(&third)
	require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(first.access)...).status)
	require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(second.access)...).status)
	require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(third.access)...).status)
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("pw")
		laptop := acc
		a.login(&laptop)

		wrong := a.do("POST", "/api/auth/change-password", map[string]any{"current_password": "not it at all", "new_password": "a different passphrase"}, bearer(acc.access)...)
		require.Equal(t, http.StatusBadRequest, wrong.status)
		weak := a.do("POST", "/api/auth/change-password", map[string]any{"current_password": acc.password, "new_password": "qwertyuiop123"}, bearer(acc.access)...)
		require.Equal(t, http.StatusUnprocessableEntity, weak.status)
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(laptop.access)...).status, "failed changes end nothing")

		ok := a.do("POST", "/api/auth/change-password", map[string]any{"current_password": acc.password, "new_password": "a different passphrase"}, bearer(acc.access)...)
		require.Equal(t, http.StatusOK, ok.status, string(ok.raw))
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(acc.access)...).status, "the current session stays")
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(laptop.access)...).status, "other sessions end")
		require.Equal(t, http.StatusUnauthorized, a.do("POST", "/api/auth/token", map[string]any{"email": acc.email, "password": acc.password}).status)
		acc.password = "a different passphrase"
		a.login(&acc)
	})
}

func TestAuthRateLimits(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"RATE_LIMIT_AUTH": "3/15m", "TRUST_PROXY_HEADERS": "true"})
		acc := a.register("limited")
		from := func(ip string) []string { return []string{"X-Forwarded-For", "203.0.113.9, " + ip} }

		// Per account, across client addresses.
		for i := range 3 {
			r := a.do("POST", "/api/auth/token", map[string]any{"email": acc.email, "password": "wrong password!"}, from("198.51.100."+string(rune('1'+i)))...)
			require.Equal(t, http.StatusUnauthorized, r.status)
		}
		r := a.do("POST", "/api/auth/token", map[string]any{"email": acc.email, "password": acc.password}, from("198.51.100.50")...)
		require.Equal(t, http.StatusTooManyRequests, r.status, "even the right password waits")
		require.NotEmpty(t, r.header.Get("Retry-After"))
		a.clock.Advance(6 * time.Minute) // one slot refills every 5 minutes
		ok := a.do("POST", "/api/auth/token", map[string]any{"email": acc.email, "password": acc.password}, from("198.51.100.51")...)
		require.Equal(t, http.StatusOK, ok.status, string(ok.raw))

		// Per client IP, across accounts (the proxy-appended address counts,
		// not the client-supplied first entry).
		for range 3 {
			r := a.do("POST", "/api/auth/token", map[string]any{"email": nextEmail("spray"), "password": "wrong password!"}, from("192.0.2.7")...)
			require.Equal(t, http.StatusUnauthorized, r.status)
		}
		r = a.do("POST", "/api/auth/token", map[string]any{"email": nextEmail("spray"), "password": "wrong password!"}, from("192.0.2.7")...)
		require.Equal(t, http.StatusTooManyRequests, r.status)

		// Registrations count per IP.
		for i := range 3 {
			r := a.do("POST", "/api/auth/register", map[string]any{"email": nextEmail("bulk"), "password": "a long unusual passphrase"}, from("192.0.2.8")...)
			require.Equal(t, http.StatusCreated, r.status, "registration %d", i)
		}
		r = a.do("POST", "/api/auth/register", map[string]any{"email": nextEmail("bulk"), "password": "a long unusual passphrase"}, from("192.0.2.8")...)
		require.Equal(t, http.StatusTooManyRequests, r.status)
	})
}
