// Package bootstrap is the composition root: it reads the configuration and
// turns it into the fx options of each entry point (serve, worker, migrate),
// choosing the memory, PostgreSQL and Redis adapters by what is configured.
package bootstrap

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/airouter"
	"github.com/repurpose/repurpose/ports"
)

// Config is the whole configuration, read from the environment (and an
// optional .env file). The names are the contract of API.md.
type Config struct {
	Environment        string   `env:"ENVIRONMENT" envDefault:"development"`
	HTTPAddr           string   `env:"HTTP_ADDR" envDefault:":8080"`
	WorkerHTTPAddr     string   `env:"WORKER_HTTP_ADDR" envDefault:":9091"`
	DatabaseURL        string   `env:"DATABASE_URL"`
	MigrateDatabaseURL string   `env:"MIGRATE_DATABASE_URL"`
	AutoMigrate        bool     `env:"AUTO_MIGRATE" envDefault:"true"`
	RedisURL           string   `env:"REDIS_URL"`
	RedisKeyPrefix     string   `env:"REDIS_KEY_PREFIX" envDefault:"repurpose:"`
	SecretKey          string   `env:"SECRET_KEY"`
	PreviousSecretKeys []string `env:"SECRET_KEY_PREVIOUS" envSeparator:","`
	AccessTokenMinutes int      `env:"ACCESS_TOKEN_EXPIRE_MINUTES" envDefault:"15"`
	RefreshTokenDays   int      `env:"REFRESH_TOKEN_EXPIRE_DAYS" envDefault:"7"`
	MaxSessionsPerUser int      `env:"MAX_SESSIONS_PER_USER" envDefault:"10"`
	BcryptRounds       int      `env:"BCRYPT_ROUNDS" envDefault:"12"`
	RateLimitAuth      string   `env:"RATE_LIMIT_AUTH" envDefault:"5/15m"`
	MaxUploadSize      int64    `env:"MAX_UPLOAD_SIZE" envDefault:"10485760"`
	MaxBodySize        int64    `env:"MAX_BODY_SIZE" envDefault:"1048576"`
	PlatformAdmins     []string `env:"PLATFORM_ADMIN_EMAILS" envSeparator:","`
	PlanLimitsJSON     string   `env:"PLAN_LIMITS"`
	AIProviders        []string `env:"AI_PROVIDERS" envSeparator:"," envDefault:"local"`
	PluginDir          string   `env:"PLUGIN_DIR" envDefault:"bin/plugins"`
	// PluginMode: auto (a provider's plugin from PLUGIN_DIR when there is
	// one, else the compiled-in provider), plugin (plugins only) or
	// builtin (compiled in only, as on Lambda).
	PluginMode        string        `env:"PLUGIN_MODE" envDefault:"auto"`
	AIRateLimitsJSON  string        `env:"AI_RATE_LIMITS"`
	AIPricesJSON      string        `env:"AI_PRICES"`
	AIDeadline        time.Duration `env:"AI_DEADLINE" envDefault:"3m"`
	AIMaxAttempts     int           `env:"AI_MAX_ATTEMPTS" envDefault:"3"`
	AICircuitFailures int           `env:"AI_CIRCUIT_FAILURES" envDefault:"5"`
	AICircuitOpenFor  time.Duration `env:"AI_CIRCUIT_OPEN_FOR" envDefault:"30s"`
	WorkerConcurrency int           `env:"WORKER_CONCURRENCY" envDefault:"4"`
	QueueName         string        `env:"QUEUE_NAME" envDefault:"transformations"`
	QueuePollInterval time.Duration `env:"QUEUE_POLL_INTERVAL" envDefault:"10ms"`
	// JobHeartbeat is how often a running job proves its worker alive;
	// JobStalledAfter is when the sweeper (every SweepInterval) takes a
	// job whose heartbeat stopped back from its dead worker.
	JobHeartbeat      time.Duration `env:"JOB_HEARTBEAT_INTERVAL" envDefault:"10s"`
	JobStalledAfter   time.Duration `env:"JOB_STALLED_AFTER" envDefault:"1m"`
	SweepInterval     time.Duration `env:"SWEEP_INTERVAL" envDefault:"15s"`
	QueueURL          string        `env:"QUEUE_URL"`
	SQSQueueURL       string        `env:"SQS_QUEUE_URL"`
	SQSEndpoint       string        `env:"SQS_ENDPOINT"`
	CORSOrigins       []string      `env:"CORS_ORIGINS" envSeparator:","`
	TrustProxyHeaders bool          `env:"TRUST_PROXY_HEADERS" envDefault:"false"`
	LogLevel          string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat         string        `env:"LOG_FORMAT"`

	// AuthLimit is RateLimitAuth parsed.
	AuthLimit ports.RateLimit `env:"-"`
	// PlanLimits are the defaults with PLAN_LIMITS applied.
	PlanLimits map[core.Plan]core.PlanLimits `env:"-"`
	// AILimits and AIPrices are AI_RATE_LIMITS and AI_PRICES parsed (the
	// prices over DefaultAIPrices).
	AILimits map[string]airouter.Limits `env:"-"`
	AIPrices map[string]airouter.Price  `env:"-"`
	// getenv reads the environment the configuration came from (providers
	// read their own variables through it).
	getenv func(string) string
	// signingKey is SecretKey, or a random key when it is unset outside
	// production.
	signingKey []byte
	// generatedKey records that signingKey was made up at start.
	generatedKey bool
}

// Production reports whether ENVIRONMENT=production.
func (c *Config) Production() bool { return strings.EqualFold(c.Environment, "production") }

// SigningKey is the JWT signing key.
func (c *Config) SigningKey() []byte { return c.signingKey }

// LoadConfig reads .env (if present; real environment variables win) and the
// environment, then validates.
func LoadConfig() (*Config, error) {
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read .env: %w", err)
	}
	return ParseConfig(nil)
}

// ParseConfig reads the configuration from environ (nil: the process
// environment) and validates it.
func ParseConfig(environ map[string]string) (*Config, error) {
	var c Config
	opts := env.Options{}
	if environ != nil {
		opts.Environment = environ
	}
	if err := env.ParseWithOptions(&c, opts); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	c.getenv = os.Getenv
	if environ != nil {
		c.getenv = func(k string) string { return environ[k] }
	}
	if err := c.finish(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return &c, nil
}

// DefaultAIPrices are list prices (USD per million tokens) of the default
// models; AI_PRICES adds to and overrides them.
func DefaultAIPrices() map[string]airouter.Price {
	return map[string]airouter.Price{
		"gpt-4o-mini":       {InputPerMTok: 0.15, OutputPerMTok: 0.60},
		"gpt-4o":            {InputPerMTok: 2.50, OutputPerMTok: 10},
		"claude-sonnet-4-5": {InputPerMTok: 3, OutputPerMTok: 15},
		"claude-haiku-4-5":  {InputPerMTok: 1, OutputPerMTok: 5},
	}
}

// parseAIJSON decodes an AI_* JSON object strictly into out.
func parseAIJSON(name, raw string, out any) error {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// MinSecretKeyBytes is the shortest SECRET_KEY accepted.
const MinSecretKeyBytes = 32

func (c *Config) finish() error {
	var problems []string
	limit, err := ParseRateLimit(c.RateLimitAuth)
	if err != nil {
		problems = append(problems, err.Error())
	}
	c.AuthLimit = limit
	if c.PlanLimits, err = ParsePlanLimits(c.PlanLimitsJSON); err != nil {
		problems = append(problems, err.Error())
	}
	switch {
	case c.SecretKey == "" && c.Production():
		problems = append(problems, "SECRET_KEY is required when ENVIRONMENT=production")
	case c.SecretKey == "":
		c.signingKey = make([]byte, 32)
		_, _ = rand.Read(c.signingKey)
		c.generatedKey = true
	case len(c.SecretKey) < MinSecretKeyBytes:
		problems = append(problems, fmt.Sprintf("SECRET_KEY must be at least %d bytes", MinSecretKeyBytes))
	default:
		c.signingKey = []byte(c.SecretKey)
	}
	for _, k := range c.PreviousSecretKeys {
		if len(k) < MinSecretKeyBytes {
			problems = append(problems, fmt.Sprintf("every SECRET_KEY_PREVIOUS key must be at least %d bytes", MinSecretKeyBytes))
			break
		}
	}
	if c.AccessTokenMinutes < 1 || c.AccessTokenMinutes > 24*60 {
		problems = append(problems, "ACCESS_TOKEN_EXPIRE_MINUTES must be 1..1440")
	}
	if c.RefreshTokenDays < 1 || c.RefreshTokenDays > 365 {
		problems = append(problems, "REFRESH_TOKEN_EXPIRE_DAYS must be 1..365")
	}
	if c.BcryptRounds < 4 || c.BcryptRounds > 31 {
		problems = append(problems, "BCRYPT_ROUNDS must be 4..31")
	}
	if c.MaxBodySize < 1024 || c.MaxUploadSize < 1024 {
		problems = append(problems, "MAX_BODY_SIZE and MAX_UPLOAD_SIZE must be at least 1024")
	}
	if c.MaxSessionsPerUser < 1 {
		problems = append(problems, "MAX_SESSIONS_PER_USER must be at least 1")
	}
	c.AILimits, c.AIPrices = map[string]airouter.Limits{}, DefaultAIPrices()
	if err := parseAIJSON("AI_RATE_LIMITS", c.AIRateLimitsJSON, &c.AILimits); err != nil {
		problems = append(problems, err.Error())
	}
	if err := parseAIJSON("AI_PRICES", c.AIPricesJSON, &c.AIPrices); err != nil {
		problems = append(problems, err.Error())
	}
	switch c.PluginMode {
	case "auto", "plugin", "builtin":
	default:
		problems = append(problems, "PLUGIN_MODE must be auto, plugin or builtin")
	}
	if c.AIMaxAttempts < 1 || c.AICircuitFailures < 1 || c.AIDeadline <= 0 || c.AICircuitOpenFor <= 0 {
		problems = append(problems, "AI_MAX_ATTEMPTS and AI_CIRCUIT_FAILURES must be at least 1, AI_DEADLINE and AI_CIRCUIT_OPEN_FOR positive")
	}
	if len(providerNames(c)) == 0 {
		problems = append(problems, "AI_PROVIDERS names no provider")
	}
	if c.WorkerConcurrency < 1 {
		problems = append(problems, "WORKER_CONCURRENCY must be at least 1")
	}
	if c.JobHeartbeat <= 0 || c.SweepInterval <= 0 || c.JobStalledAfter < 3*c.JobHeartbeat {
		problems = append(problems, "JOB_HEARTBEAT_INTERVAL and SWEEP_INTERVAL must be positive, and JOB_STALLED_AFTER at least 3x JOB_HEARTBEAT_INTERVAL (a live job must never look stalled)")
	}
	if c.Production() {
		if c.BcryptRounds < 10 {
			problems = append(problems, "BCRYPT_ROUNDS below 10 is refused in production")
		}
		if limit.Disabled() {
			problems = append(problems, "RATE_LIMIT_AUTH=off is refused in production")
		}
		for _, o := range c.CORSOrigins {
			if strings.TrimSpace(o) == "*" {
				problems = append(problems, "CORS_ORIGINS=* is refused in production")
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// ParseRateLimit parses "N/duration" (e.g. "5/15m") or "off".
func ParseRateLimit(s string) (ports.RateLimit, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") || s == "" {
		return ports.RateLimit{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	events, err1 := strconv.Atoi(n)
	d, err2 := time.ParseDuration(per)
	if !ok || err1 != nil || err2 != nil || events < 1 || d <= 0 {
		return ports.RateLimit{}, fmt.Errorf("RATE_LIMIT_AUTH %q: want N/duration like 5/15m, or off", s)
	}
	return ports.RateLimit{Events: events, Per: d}, nil
}

// ParsePlanLimits applies a PLAN_LIMITS JSON object such as
// {"free": {"members": 5}, "pro": {"documents": 0}} to the default limits:
// only the fields given change.
func ParsePlanLimits(s string) (map[core.Plan]core.PlanLimits, error) {
	limits := core.DefaultPlanLimits()
	if strings.TrimSpace(s) == "" {
		return limits, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("PLAN_LIMITS: not a JSON object: %w", err)
	}
	for name, msg := range raw {
		plan, ok := core.ParsePlan(name)
		if !ok {
			return nil, fmt.Errorf("PLAN_LIMITS: unknown plan %q", name)
		}
		l := limits[plan]
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("PLAN_LIMITS %s: %w", name, err)
		}
		limits[plan] = l
	}
	return limits, nil
}

// Logger builds the process logger from LOG_LEVEL and LOG_FORMAT (JSON in
// production, text otherwise, unless set).
func (c *Config) Logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	format := c.LogFormat
	if format == "" {
		format = "text"
		if c.Production() {
			format = "json"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
