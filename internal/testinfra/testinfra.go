// Package testinfra finds the PostgreSQL and Redis servers integration tests
// run against: TEST_DATABASE_URL / TEST_REDIS_URL when set, otherwise
// containers started with testcontainers-go when a Docker engine answers.
// Without either, the tests are skipped locally and fail in CI (CI=true or
// REQUIRE_INTEGRATION=1), so CI can never pass by skipping them.
package testinfra

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	tcredis "github.com/testcontainers/testcontainers-go/modules/redis"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Required reports whether missing services must fail the test run.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("REQUIRE_INTEGRATION") == "1"
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if testing.Short() {
		t.Skipf("integration test (needs %s): skipped with -short", what)
	}
	if Required() {
		t.Fatalf("integration test needs %s and none is available (set TEST_DATABASE_URL / TEST_REDIS_URL): %v", what, err)
	}
	t.Skipf("no %s: set TEST_DATABASE_URL / TEST_REDIS_URL or run a Docker engine (%v)", what, err)
}

// RandomSuffix returns 8 random hex characters for unique names.
func RandomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	pgOnce sync.Once
	pgURL  string
	pgErr  error

	redisOnce sync.Once
	redisURL  string
	redisErr  error
)

func containerPostgres() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := tcpostgres.Run(ctx, "postgres:16-alpine",
		tcpostgres.WithDatabase("test"), tcpostgres.WithUsername("postgres"), tcpostgres.WithPassword("postgres"),
		testcontainers.WithWaitStrategy(wait.ForLog("database system is ready to accept connections").WithOccurrence(2)))
	if err != nil {
		return "", err
	}
	return c.ConnectionString(ctx, "sslmode=disable")
}

func containerRedis() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := tcredis.Run(ctx, "redis:7-alpine")
	if err != nil {
		return "", err
	}
	return c.ConnectionString(ctx)
}

// PostgresAdminURL returns a URL of a role that may create databases.
func PostgresAdminURL(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		unavailable(t, "PostgreSQL", nil)
	}
	pgOnce.Do(func() {
		if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
			pgURL = u
			return
		}
		pgURL, pgErr = containerPostgres()
	})
	if pgErr != nil {
		unavailable(t, "PostgreSQL", pgErr)
	}
	return pgURL
}

// NewDatabase creates an empty database for one test (or package) and drops
// it at cleanup. It returns the database's URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	defer conn.Close(ctx)
	name := "repurpose_test_" + RandomSuffix()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// RedisURL returns the URL of a Redis server; tests isolate themselves with a
// key prefix from RedisPrefix.
func RedisURL(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		unavailable(t, "Redis", nil)
	}
	redisOnce.Do(func() {
		if u := os.Getenv("TEST_REDIS_URL"); u != "" {
			redisURL = u
			return
		}
		redisURL, redisErr = containerRedis()
	})
	if redisErr != nil {
		unavailable(t, "Redis", redisErr)
	}
	return redisURL
}

// RedisClient returns a client to the test Redis server, closed at cleanup.
func RedisClient(t testing.TB) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(RedisURL(t))
	if err != nil {
		t.Fatalf("parse TEST_REDIS_URL: %v", err)
	}
	c := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		unavailable(t, "Redis", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// RedisPrefix returns a fresh key prefix and deletes every key under it at
// cleanup.
func RedisPrefix(t testing.TB, c *goredis.Client) string {
	t.Helper()
	prefix := "test:" + strings.ReplaceAll(t.Name(), "/", ":") + ":" + RandomSuffix() + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// AsynqQueue returns a fresh asynq queue name for one test (prefix plus a
// random suffix) and removes the queue when the test ends: every key of it,
// its stats counters included (asynq's own DeleteQueue leaves those), and
// its entry in the set of queues.
func AsynqQueue(t testing.TB, c *goredis.Client, prefix string) string {
	t.Helper()
	name := prefix + RandomSuffix()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, "asynq:{"+name+"}:*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := c.SRem(ctx, "asynq:queues", name).Err(); err != nil {
			t.Logf("remove asynq queue %s: %v", name, err)
		}
	})
	return name
}
