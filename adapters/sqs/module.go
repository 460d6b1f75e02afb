package sqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/ports"
)

// Config is what the SQS module needs.
type Config struct {
	// QueueURL is the queue's URL (QUEUE_URL).
	QueueURL string
	// Endpoint overrides the SQS endpoint, for a local emulator
	// (SQS_ENDPOINT); empty uses AWS's.
	Endpoint string
}

// ErrNoQueueURL is returned when the module is used without a queue URL.
var ErrNoQueueURL = errors.New("sqs: QUEUE_URL is required")

// NewClient returns an SQS client with the default AWS configuration chain
// (environment, shared files, the Lambda role) and cfg's endpoint.
func NewClient(ctx context.Context, cfg Config) (*awssqs.Client, error) {
	if cfg.QueueURL == "" {
		return nil, ErrNoQueueURL
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	return awssqs.NewFromConfig(awsCfg, func(o *awssqs.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	}), nil
}

// Module provides ports.Queue, ports.QueueInspector and ports.Consumer on
// the SQS queue of Config.
var Module = fx.Module("sqs",
	fx.Provide(
		fx.Private,
		func(cfg Config) (*awssqs.Client, error) { return NewClient(context.Background(), cfg) },
	),
	fx.Provide(
		fx.Annotate(func(c *awssqs.Client, cfg Config) *Queue { return NewQueue(c, cfg.QueueURL) }, fx.As(new(ports.Queue))),
		fx.Annotate(func(c *awssqs.Client, cfg Config) *Inspector { return NewInspector(c, cfg.QueueURL) }, fx.As(new(ports.QueueInspector))),
		fx.Annotate(func(c *awssqs.Client, cfg Config, log *slog.Logger) *Consumer {
			return NewConsumer(c, cfg.QueueURL, ConsumerOptions{Logger: log})
		}, fx.As(new(ports.Consumer))),
	),
)
