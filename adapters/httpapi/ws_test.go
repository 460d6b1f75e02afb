package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"
)

type wsMsg struct {
	Type      string         `json:"type"`
	Data      map[string]any `json:"data"`
	Timestamp time.Time      `json:"timestamp"`
}

func (a *api) dialWS(acc account) *websocket.Conn {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(a.srv.URL, "http") + "/api/ws?token=" + acc.access
	conn, resp, err := websocket.Dial(ctx, url, nil)
	require.NoError(a.t, err)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	a.t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

func readMsg(t *testing.T, conn *websocket.Conn, within time.Duration) (wsMsg, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var m wsMsg
	err := wsjson.Read(ctx, conn, &m)
	return m, err
}

func TestWebSocketEvents(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc, other := a.register("ws"), a.register("wsother")
		conn := a.dialWS(acc)
		hello, err := readMsg(t, conn, 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, "connection_established", hello.Type)
		require.Equal(t, acc.workspaceID, hello.Data["workspace_id"])

		require.NoError(t, wsjson.Write(context.Background(), conn, map[string]string{"type": "ping"}))
		pong, err := readMsg(t, conn, 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, "pong", pong.Type)

		// Another tenant's work never reaches this socket.
		otherDoc := a.createDoc(other, "Theirs", longArticle)
		theirs := a.do("POST", "/api/transformations", map[string]any{"document_id": otherDoc.str("id"), "transformation_type": "SUMMARY"}, bearer(other.access)...)
		require.Equal(t, http.StatusCreated, theirs.status)
		a.waitFinal(other, theirs.str("id"))

		doc := a.createDoc(acc, "Mine", longArticle)
		mine := a.do("POST", "/api/transformations", map[string]any{"document_id": doc.str("id"), "transformation_type": "SUMMARY"}, bearer(acc.access)...)
		require.Equal(t, http.StatusCreated, mine.status)
		var types []string
		for {
			m, err := readMsg(t, conn, 10*time.Second)
			require.NoError(t, err, "events so far: %v", types)
			require.Equal(t, mine.str("id"), m.Data["transformation_id"], "only this workspace's events")
			types = append(types, m.Type)
			if m.Type == "transformation_completed" {
				require.Equal(t, "COMPLETED", m.Data["status"])
				break
			}
		}
		require.Equal(t, "transformation_started", types[0])
	})
}

func TestWebSocketAuth(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], nil)
	acc := a.register("wsauth")
	for _, url := range []string{"/api/ws", "/api/ws?token=garbage"} {
		r := a.do("GET", url, nil)
		require.Equal(t, http.StatusUnauthorized, r.status, url)
	}
	conn := a.dialWS(acc)
	_, err := readMsg(t, conn, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, a.do("POST", "/api/auth/logout", nil, bearer(acc.access)...).status)
	// The socket closes once the session check sees the logout.
	var closeErr error
	for closeErr == nil {
		_, closeErr = readMsg(t, conn, 6*time.Second)
	}
	require.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(closeErr), "%v", closeErr)
}
