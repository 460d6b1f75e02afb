package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
)

// wsMessage is every server message on /api/ws.
type wsMessage struct {
	Type      string         `json:"type"`
	Data      map[string]any `json:"data,omitempty"`
	Timestamp time.Time      `json:"timestamp"`
}

// wsSessionCheck is how often an open socket re-checks that its session is
// still active (logout and revocation close it within this time).
const wsSessionCheck = 2 * time.Second

// websocketHandler serves /api/ws: the access token comes as ?token= or an
// Authorization header (browsers can't set headers on WebSockets). It sends
// connection_established, then the events of the token's workspace only,
// answers {"type":"ping"} with pong, pings the client, and closes when the
// session ends.
func (s *server) websocketHandler(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if token == "" {
		token, _ = bearerToken(r.Header.Get("Authorization"))
	}
	if token == "" {
		s.deps.Metrics.AuthFailure("missing_token")
		writeProblem(w, r, newProblem(http.StatusUnauthorized, "not authenticated", nil))
		return
	}
	id, err := s.deps.Auth.Authenticate(r.Context(), token)
	if err != nil {
		writeProblem(w, r, problemFor(r.Context(), s.log, err))
		return
	}
	if id.WorkspaceID == uuid.Nil {
		writeProblem(w, r, newProblem(http.StatusNotFound, "no current workspace; switch to one first", nil))
		return
	}
	origins := make([]string, 0, len(s.opts.CORSOrigins))
	for _, o := range s.opts.CORSOrigins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			origins = append(origins, u.Host)
		}
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: origins})
	if err != nil {
		return // Accept has answered the client
	}
	defer func() { _ = conn.CloseNow() }()
	conn.SetReadLimit(4 << 10)

	ctx, cancel := context.WithCancel(core.WithIdentity(r.Context(), id))
	defer cancel()
	events, unsubscribe, err := s.deps.Events.Subscribe(ctx, id.WorkspaceID)
	if err != nil {
		s.log.ErrorContext(ctx, "websocket subscribe", "err", err)
		conn.Close(websocket.StatusInternalError, "events unavailable")
		return
	}
	defer unsubscribe()

	out := make(chan wsMessage, 16)
	go s.readWebSocket(ctx, cancel, conn, out)
	send := func(m wsMessage) error {
		wctx, done := context.WithTimeout(ctx, 5*time.Second)
		defer done()
		return wsjson.Write(wctx, conn, m)
	}
	if send(wsMessage{Type: "connection_established", Data: map[string]any{"user_id": id.UserID.String(),
		"workspace_id": id.WorkspaceID.String()}, Timestamp: time.Now().UTC()}) != nil {
		return
	}
	check := time.NewTicker(wsSessionCheck)
	defer check.Stop()
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				conn.Close(websocket.StatusGoingAway, "event stream ended")
				return
			}
			err = send(wsMessage{Type: e.Type, Data: e.Data, Timestamp: e.Timestamp})
		case m := <-out:
			err = send(m)
		case <-check.C:
			if _, authErr := s.deps.Auth.Authenticate(ctx, token); authErr != nil {
				conn.Close(websocket.StatusPolicyViolation, "session ended")
				return
			}
		case <-ping.C:
			pctx, done := context.WithTimeout(ctx, 10*time.Second)
			err = conn.Ping(pctx)
			done()
		}
		if err != nil {
			return
		}
	}
}

// readWebSocket reads client messages: {"type":"ping"} is answered with
// pong; anything unreadable closes the connection.
func (s *server) readWebSocket(ctx context.Context, cancel context.CancelFunc, conn *websocket.Conn, out chan<- wsMessage) {
	defer cancel()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var msg struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(data, &msg) != nil {
			conn.Close(websocket.StatusUnsupportedData, "messages are JSON objects with a type")
			return
		}
		if msg.Type == "ping" {
			select {
			case out <- wsMessage{Type: "pong", Timestamp: time.Now().UTC()}:
			case <-ctx.Done():
				return
			}
		}
	}
}
