package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// Key layout, under the store's prefix:
//
//	session:{id}               hash of the session's fields (see sessionFields), times
//	                           in unix milliseconds; PEXPIREAT its expires_at
//	refresh:{hash}             session id, for the current and every rotated-away refresh
//	                           hash; PEXPIREAT the session's expiry as of when the hash was
//	                           last current, so reuse is detected until then
//	user:{id}:sessions         zset of the user's session ids scored by created_at;
//	                           PEXPIREAT the latest expiry of its sessions
//
// A session is active while its hash exists: revoking deletes the hash and
// its zset entry, after which its refresh keys resolve to nothing until they
// expire. Zset entries of sessions that expired on their own are dropped by
// the next Create or RevokeAllForUser of the user.

// extendLua is prepended to scripts that (re)set a session's expiry: it
// makes the user's zset live at least as long as the session.
const extendLua = `
local function extend(key, at)
  local current = redis.call('PEXPIRETIME', key)
  if current == -1 or current < tonumber(at) then
    redis.call('PEXPIREAT', key, at)
  end
end
`

// createScript stores a session and its refresh hash, then evicts the
// user's oldest sessions beyond the cap, never the new one. It returns
// {'conflict'} when the id is taken, else {'ok', evicted ids...}.
//
// KEYS: session, refresh, user zset.
// ARGV: prefix, id, user_id, workspace_id, refresh_hash, created_at,
// last_used_at, expires_at, user_agent, ip_address, max per user.
var createScript = goredis.NewScript(extendLua + `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'conflict'}
end
redis.call('HSET', KEYS[1], 'user_id', ARGV[3], 'workspace_id', ARGV[4], 'refresh_hash', ARGV[5],
  'created_at', ARGV[6], 'last_used_at', ARGV[7], 'expires_at', ARGV[8],
  'user_agent', ARGV[9], 'ip_address', ARGV[10])
redis.call('PEXPIREAT', KEYS[1], ARGV[8])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[8])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[2])
extend(KEYS[3], ARGV[8])

local result = {'ok'}
local max = tonumber(ARGV[11])
if max <= 0 then
  return result
end
local live = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. 'session:' .. id) == 1 then
    table.insert(live, id)
  else
    redis.call('ZREM', KEYS[3], id)
  end
end
local excess = #live - max
for _, id in ipairs(live) do
  if excess <= 0 then
    break
  end
  if id ~= ARGV[2] then
    redis.call('DEL', ARGV[1] .. 'session:' .. id)
    redis.call('ZREM', KEYS[3], id)
    table.insert(result, id)
    excess = excess - 1
  end
end
return result
`)

// rotateScript replaces the current refresh hash. It returns nil when no
// active session knows the presented hash, {'reuse', id, fields...} after
// revoking a session whose rotated-away hash was presented, else
// {'ok', id, fields...} with the updated fields.
//
// KEYS: refresh of presented, refresh of next.
// ARGV: prefix, presented, next, now, expires_at.
var rotateScript = goredis.NewScript(extendLua + `
local id = redis.call('GET', KEYS[1])
if not id then
  return nil
end
local key = ARGV[1] .. 'session:' .. id
local fields = redis.call('HGETALL', key)
if #fields == 0 then
  return nil
end
local s = {}
for i = 1, #fields, 2 do
  s[fields[i]] = fields[i + 1]
end
local userKey = ARGV[1] .. 'user:' .. s['user_id'] .. ':sessions'
local status = 'ok'
if s['refresh_hash'] ~= ARGV[2] then
  redis.call('DEL', key)
  redis.call('ZREM', userKey, id)
  status = 'reuse'
else
  s['refresh_hash'] = ARGV[3]
  s['last_used_at'] = ARGV[4]
  s['expires_at'] = ARGV[5]
  redis.call('HSET', key, 'refresh_hash', ARGV[3], 'last_used_at', ARGV[4], 'expires_at', ARGV[5])
  redis.call('PEXPIREAT', key, ARGV[5])
  redis.call('SET', KEYS[2], id)
  redis.call('PEXPIREAT', KEYS[2], ARGV[5])
  -- The presented hash is now rotated away: keep it as long as the session
  -- so presenting it again is caught as reuse.
  redis.call('PEXPIREAT', KEYS[1], ARGV[5])
  extend(userKey, ARGV[5])
end
local out = {status, id}
for k, v in pairs(s) do
  table.insert(out, k)
  table.insert(out, v)
end
return out
`)

// reissueScript replaces the current refresh hash of a session without the
// old one being presented and sets its workspace and times. It returns nil
// when the session is not active, else {id, fields...} with the updated
// fields. The old refresh key is kept, like Rotate's presented one, until the
// new expiry so presenting it later is caught as reuse.
//
// KEYS: session, refresh of next.
// ARGV: prefix, id, next, workspace_id, now, expires_at.
var reissueScript = goredis.NewScript(extendLua + `
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then
  return nil
end
local s = {}
for i = 1, #fields, 2 do
  s[fields[i]] = fields[i + 1]
end
local oldKey = ARGV[1] .. 'refresh:' .. s['refresh_hash']
s['refresh_hash'] = ARGV[3]
s['workspace_id'] = ARGV[4]
s['last_used_at'] = ARGV[5]
s['expires_at'] = ARGV[6]
redis.call('HSET', KEYS[1], 'refresh_hash', ARGV[3], 'workspace_id', ARGV[4],
  'last_used_at', ARGV[5], 'expires_at', ARGV[6])
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[6])
-- The old hash is now rotated away: keep it as long as the session so
-- presenting it again is caught as reuse.
if oldKey ~= KEYS[2] then
  redis.call('SET', oldKey, ARGV[2])
  redis.call('PEXPIREAT', oldKey, ARGV[6])
end
extend(ARGV[1] .. 'user:' .. s['user_id'] .. ':sessions', ARGV[6])
local out = {ARGV[2]}
for k, v in pairs(s) do
  table.insert(out, k)
  table.insert(out, v)
end
return out
`)

// findScript returns {id, fields...} of the session whose current refresh
// hash was given, nil when there is none.
//
// KEYS: refresh. ARGV: prefix, hash.
var findScript = goredis.NewScript(`
local id = redis.call('GET', KEYS[1])
if not id then
  return nil
end
local key = ARGV[1] .. 'session:' .. id
if redis.call('HGET', key, 'refresh_hash') ~= ARGV[2] then
  return nil
end
local out = {id}
for _, v in ipairs(redis.call('HGETALL', key)) do
  table.insert(out, v)
end
return out
`)

// setFieldScript sets one field of an existing hash; nil when the hash does
// not exist (HSET alone would recreate it without expiry).
//
// KEYS: session. ARGV: field, value.
var setFieldScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return nil
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// revokeScript deletes a session and its zset entry; nil when it is not
// active.
//
// KEYS: session. ARGV: prefix, id.
var revokeScript = goredis.NewScript(`
local user = redis.call('HGET', KEYS[1], 'user_id')
if not user then
  return nil
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'user:' .. user .. ':sessions', ARGV[2])
return 1
`)

// revokeAllScript deletes every session of a user but one and returns how
// many were active.
//
// KEYS: user zset. ARGV: prefix, id to keep.
var revokeAllScript = goredis.NewScript(`
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if id ~= ARGV[2] then
    n = n + redis.call('DEL', ARGV[1] .. 'session:' .. id)
    redis.call('ZREM', KEYS[1], id)
  end
end
return n
`)

// Fields of a session hash.
const (
	fieldUserID      = "user_id"
	fieldWorkspaceID = "workspace_id"
	fieldRefreshHash = "refresh_hash"
	fieldCreatedAt   = "created_at"
	fieldLastUsedAt  = "last_used_at"
	fieldExpiresAt   = "expires_at"
	fieldUserAgent   = "user_agent"
	fieldIPAddress   = "ip_address"
)

// SessionStore is a ports.SessionStore in Redis, shared by every replica of
// the API. Get is a single HGETALL; every change is one Lua script.
type SessionStore struct {
	client goredis.UniversalClient
	prefix string
}

var _ ports.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns a store keeping its keys under prefix (e.g.
// "repurpose:"). Expiry follows the Redis server's clock.
func NewSessionStore(client goredis.UniversalClient, prefix string) *SessionStore {
	return &SessionStore{client: client, prefix: prefix}
}

func (r *SessionStore) sessionKey(id string) string { return r.prefix + "session:" + id }
func (r *SessionStore) refreshKey(h string) string  { return r.prefix + "refresh:" + h }
func (r *SessionStore) userKey(id uuid.UUID) string {
	return r.prefix + "user:" + id.String() + ":sessions"
}

// Create stores s with current refresh hash refreshHash and evicts the
// user's oldest sessions beyond maxPerUser (no cap when maxPerUser <= 0); the
// new session is never evicted. It returns core.ErrConflict when an active
// session already has s.ID.
func (r *SessionStore) Create(ctx context.Context, s core.Session, refreshHash string, maxPerUser int) ([]uuid.UUID, error) {
	id := s.ID.String()
	reply, err := createScript.Run(ctx, r.client,
		[]string{r.sessionKey(id), r.refreshKey(refreshHash), r.userKey(s.UserID)},
		r.prefix, id, s.UserID.String(), s.WorkspaceID.String(), refreshHash,
		s.CreatedAt.UnixMilli(), s.LastUsedAt.UnixMilli(), s.ExpiresAt.UnixMilli(),
		s.UserAgent, s.IPAddress, maxPerUser,
	).StringSlice()
	if err != nil {
		return nil, interpretError("create session", err)
	}
	if len(reply) == 0 || reply[0] != "ok" {
		if len(reply) > 0 && reply[0] == "conflict" {
			return nil, core.ErrConflict
		}
		return nil, fmt.Errorf("create session: unexpected reply %q", reply)
	}
	var evicted []uuid.UUID
	for _, v := range reply[1:] {
		evictedID, err := uuid.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("create session: evicted id %q: %w", v, err)
		}
		evicted = append(evicted, evictedID)
	}
	return evicted, nil
}

// Get returns an active session in one round trip; core.ErrNotFound when it
// is unknown, revoked or expired.
func (r *SessionStore) Get(ctx context.Context, id uuid.UUID) (core.Session, error) {
	fields, err := r.client.HGetAll(ctx, r.sessionKey(id.String())).Result()
	if err != nil {
		return core.Session{}, interpretError("get session", err)
	}
	return decodeSession(id, fields)
}

// Touch sets LastUsedAt of an active session; core.ErrNotFound otherwise.
func (r *SessionStore) Touch(ctx context.Context, id uuid.UUID, at time.Time) error {
	err := setFieldScript.Run(ctx, r.client, []string{r.sessionKey(id.String())}, fieldLastUsedAt, at.UnixMilli()).Err()
	return interpretError("touch session", err)
}

// Rotate atomically replaces the current refresh hash presented by next.
// Presenting a hash the session rotated away from revokes the session and
// returns core.ErrReuseDetected with it; core.ErrNotFound when no active
// session knows presented.
func (r *SessionStore) Rotate(ctx context.Context, presented, next string, now, expiresAt time.Time) (core.Session, error) {
	reply, err := rotateScript.Run(ctx, r.client,
		[]string{r.refreshKey(presented), r.refreshKey(next)},
		r.prefix, presented, next, now.UnixMilli(), expiresAt.UnixMilli(),
	).StringSlice()
	if err != nil {
		return core.Session{}, interpretError("rotate refresh token", err)
	}
	if len(reply) < 2 {
		return core.Session{}, fmt.Errorf("rotate refresh token: unexpected reply %q", reply)
	}
	s, err := decodeReply(reply[1:])
	if err != nil {
		return core.Session{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	switch reply[0] {
	case "ok":
		return s, nil
	case "reuse":
		return s, core.ErrReuseDetected
	default:
		return core.Session{}, fmt.Errorf("rotate refresh token: unexpected status %q", reply[0])
	}
}

// FindByRefresh returns the active session whose current refresh hash is h;
// core.ErrNotFound otherwise.
func (r *SessionStore) FindByRefresh(ctx context.Context, h string) (core.Session, error) {
	reply, err := findScript.Run(ctx, r.client, []string{r.refreshKey(h)}, r.prefix, h).StringSlice()
	if err != nil {
		return core.Session{}, interpretError("find session by refresh token", err)
	}
	s, err := decodeReply(reply)
	if err != nil {
		return core.Session{}, fmt.Errorf("find session by refresh token: %w", err)
	}
	return s, nil
}

// SetWorkspace changes the current workspace of an active session;
// core.ErrNotFound otherwise.
func (r *SessionStore) SetWorkspace(ctx context.Context, id, workspaceID uuid.UUID) error {
	err := setFieldScript.Run(ctx, r.client, []string{r.sessionKey(id.String())}, fieldWorkspaceID, workspaceID.String()).Err()
	return interpretError("set session workspace", err)
}

// Reissue atomically replaces the current refresh hash of an active session
// by next without the old one being presented, and sets its workspace,
// LastUsedAt and ExpiresAt. The old hash stays known as rotated away, so
// presenting it later is reuse. core.ErrNotFound when the session is not
// active.
func (r *SessionStore) Reissue(ctx context.Context, id uuid.UUID, next string, workspaceID uuid.UUID, now, expiresAt time.Time) (core.Session, error) {
	sid := id.String()
	reply, err := reissueScript.Run(ctx, r.client,
		[]string{r.sessionKey(sid), r.refreshKey(next)},
		r.prefix, sid, next, workspaceID.String(), now.UnixMilli(), expiresAt.UnixMilli(),
	).StringSlice()
	if err != nil {
		return core.Session{}, interpretError("reissue refresh token", err)
	}
	s, err := decodeReply(reply)
	if err != nil {
		return core.Session{}, fmt.Errorf("reissue refresh token: %w", err)
	}
	return s, nil
}

// Revoke ends an active session; core.ErrNotFound when it is not active.
func (r *SessionStore) Revoke(ctx context.Context, id uuid.UUID) error {
	err := revokeScript.Run(ctx, r.client, []string{r.sessionKey(id.String())}, r.prefix, id.String()).Err()
	return interpretError("revoke session", err)
}

// RevokeAllForUser ends every active session of userID except keep (uuid.Nil
// keeps none) and returns how many it ended.
func (r *SessionStore) RevokeAllForUser(ctx context.Context, userID, keep uuid.UUID) (int, error) {
	n, err := revokeAllScript.Run(ctx, r.client, []string{r.userKey(userID)}, r.prefix, keep.String()).Int()
	if err != nil {
		return 0, interpretError("revoke sessions of user", err)
	}
	return n, nil
}

// ListForUser returns the active sessions of userID, newest first, in two
// round trips (the id zset, then the hashes pipelined).
func (r *SessionStore) ListForUser(ctx context.Context, userID uuid.UUID) ([]core.Session, error) {
	ids, err := r.client.ZRevRange(ctx, r.userKey(userID), 0, -1).Result()
	if err != nil {
		return nil, interpretError("list sessions", err)
	}
	list := []core.Session{}
	if len(ids) == 0 {
		return list, nil
	}
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	_, err = r.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, r.sessionKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, interpretError("list sessions", err)
	}
	for i, cmd := range cmds {
		id, err := uuid.Parse(ids[i])
		if err != nil {
			return nil, fmt.Errorf("list sessions: id %q: %w", ids[i], err)
		}
		s, err := decodeSession(id, cmd.Val())
		if errors.Is(err, core.ErrNotFound) {
			continue // expired; the next Create drops it from the zset
		}
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		list = append(list, s)
	}
	return list, nil
}

// decodeReply decodes {id, field, value, ...} returned by a script.
func decodeReply(reply []string) (core.Session, error) {
	if len(reply)%2 != 1 {
		return core.Session{}, fmt.Errorf("unexpected session reply of %d items", len(reply))
	}
	id, err := uuid.Parse(reply[0])
	if err != nil {
		return core.Session{}, fmt.Errorf("session id %q: %w", reply[0], err)
	}
	fields := make(map[string]string, len(reply)/2)
	for i := 1; i < len(reply); i += 2 {
		fields[reply[i]] = reply[i+1]
	}
	return decodeSession(id, fields)
}

// decodeSession builds a session from its hash; core.ErrNotFound for an
// empty hash, which is how Redis reports a missing or expired key.
func decodeSession(id uuid.UUID, fields map[string]string) (core.Session, error) {
	if len(fields) == 0 {
		return core.Session{}, core.ErrNotFound
	}
	s := core.Session{ID: id, UserAgent: fields[fieldUserAgent], IPAddress: fields[fieldIPAddress]}
	var err error
	if s.UserID, err = uuid.Parse(fields[fieldUserID]); err != nil {
		return core.Session{}, fmt.Errorf("session %s: %s: %w", id, fieldUserID, err)
	}
	if s.WorkspaceID, err = uuid.Parse(fields[fieldWorkspaceID]); err != nil {
		return core.Session{}, fmt.Errorf("session %s: %s: %w", id, fieldWorkspaceID, err)
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{
		{fieldCreatedAt, &s.CreatedAt},
		{fieldLastUsedAt, &s.LastUsedAt},
		{fieldExpiresAt, &s.ExpiresAt},
	} {
		ms, err := strconv.ParseInt(fields[f.name], 10, 64)
		if err != nil {
			return core.Session{}, fmt.Errorf("session %s: %s: %w", id, f.name, err)
		}
		*f.dst = time.UnixMilli(ms).UTC()
	}
	return s, nil
}
