// Package postgres implements the relational ports on PostgreSQL with pgx:
// the unit of work and the stores bound to its transaction, the migrator,
// the connection pool, its health check and its metrics.
package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	pgxuuid "github.com/vgarvardt/pgx-google-uuid/v5"

	"github.com/repurpose/repurpose/ports"
)

// applicationName identifies our connections in pg_stat_activity unless the
// URL names another one.
const applicationName = "repurpose"

// defaultMaxConns is the pool size when the URL sets no pool_max_conns.
const defaultMaxConns = 16

// NewPool parses databaseURL (pool_max_conns and the other pgxpool
// parameters are honoured) and returns a pool. It does not connect: the
// first connection is made on first use, so a process can start while the
// database is still coming up and report it through the health check.
func NewPool(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := poolConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	return newPool(ctx, cfg)
}

// poolConfig is the configuration of NewPool's pool.
func poolConfig(databaseURL string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgconn redacts the password from its parse errors.
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	// pgxpool's default (max(4, NumCPU)) queues requests behind four
	// connections on a small machine; most of a request's time is waiting
	// on the network, so allow more unless the URL says otherwise.
	if !strings.Contains(databaseURL, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = applicationName
	}
	cfg.AfterConnect = registerTypes
	return cfg, nil
}

// registerTypes teaches a connection google/uuid's UUID, which the stores
// pass and scan everywhere: encoded and decoded as the 16 bytes it is,
// where pgx would otherwise go through its database/sql Value (a string
// to parse again) and Scan methods.
func registerTypes(_ context.Context, conn *pgx.Conn) error {
	pgxuuid.Register(conn.TypeMap())
	return nil
}

func newPool(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create database pool: %w", err)
	}
	return pool, nil
}

// HealthCheck reports whether the database answers, as the "database" entry
// of /api/health.
type HealthCheck struct {
	pool *pgxpool.Pool
}

var _ ports.HealthChecker = (*HealthCheck)(nil)

// NewHealthCheck returns a health check pinging pool.
func NewHealthCheck(pool *pgxpool.Pool) *HealthCheck { return &HealthCheck{pool: pool} }

// Name returns "database".
func (h *HealthCheck) Name() string { return "database" }

// Check acquires a connection and pings the server within ctx's deadline.
func (h *HealthCheck) Check(ctx context.Context) error {
	if err := h.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// PoolStatsCollector exposes the pool's own statistics to Prometheus at
// scrape time, so saturation (acquired = max, growing empty acquires and
// wait time) is visible before requests start timing out.
type PoolStatsCollector struct {
	pool *pgxpool.Pool

	acquired     *prometheus.Desc
	idle         *prometheus.Desc
	constructing *prometheus.Desc
	total        *prometheus.Desc
	max          *prometheus.Desc
	acquires     *prometheus.Desc
	acquireTime  *prometheus.Desc
	emptyAcq     *prometheus.Desc
	emptyWait    *prometheus.Desc
	canceled     *prometheus.Desc
}

var _ prometheus.Collector = (*PoolStatsCollector)(nil)

// NewPoolStatsCollector returns a collector of pool's statistics, to be
// registered once per pool.
func NewPoolStatsCollector(pool *pgxpool.Pool) *PoolStatsCollector {
	const prefix = "repurpose_db_pool_"
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prefix+name, help, nil, nil)
	}
	return &PoolStatsCollector{
		pool:         pool,
		acquired:     desc("acquired_connections", "Connections currently checked out of the pool."),
		idle:         desc("idle_connections", "Idle connections in the pool."),
		constructing: desc("constructing_connections", "Connections being established."),
		total:        desc("total_connections", "Connections in the pool: acquired, idle and constructing."),
		max:          desc("max_connections", "Maximum size of the pool."),
		acquires:     desc("acquires_total", "Successful connection acquires."),
		acquireTime:  desc("acquire_duration_seconds_total", "Total time spent in successful acquires."),
		emptyAcq:     desc("empty_acquires_total", "Successful acquires that had to wait because no connection was idle."),
		emptyWait:    desc("empty_acquire_wait_seconds_total", "Total time acquires waited for a connection to be released."),
		canceled:     desc("canceled_acquires_total", "Acquires abandoned because their context was canceled."),
	}
}

// Describe sends the descriptors of every metric of the collector.
func (c *PoolStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.acquired, c.idle, c.constructing, c.total, c.max,
		c.acquires, c.acquireTime, c.emptyAcq, c.emptyWait, c.canceled,
	} {
		ch <- d
	}
}

// Collect reads one snapshot of the pool's statistics.
func (c *PoolStatsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.acquireTime, s.AcquireDuration().Seconds())
	counter(c.emptyAcq, float64(s.EmptyAcquireCount()))
	counter(c.emptyWait, s.EmptyAcquireWaitTime().Seconds())
	counter(c.canceled, float64(s.CanceledAcquireCount()))
}
