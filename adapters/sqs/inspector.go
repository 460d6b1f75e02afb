package sqs

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/repurpose/repurpose/ports"
)

// Inspector reports on an SQS queue from its approximate counters.
type Inspector struct {
	client *awssqs.Client
	url    string
	name   string
}

var _ ports.QueueInspector = (*Inspector)(nil)

// NewInspector returns the ports.QueueInspector of the queue at url.
func NewInspector(client *awssqs.Client, url string) *Inspector {
	return &Inspector{client: client, url: url, name: queueName(url)}
}

// Stats implements ports.QueueInspector: pending counts visible and
// delayed messages, active the hidden ones (running or waiting for a
// retry: SQS does not tell them apart). Processed, failed and archived
// (the dead-letter queue) are not known to SQS's counters and stay zero.
func (i *Inspector) Stats(ctx context.Context) (ports.QueueStats, error) {
	out, err := i.client.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(i.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return ports.QueueStats{}, fmt.Errorf("sqs queue attributes: %w", err)
	}
	n := func(a types.QueueAttributeName) int {
		v, _ := strconv.Atoi(out.Attributes[string(a)])
		return v
	}
	return ports.QueueStats{Queue: i.name,
		Pending: n(types.QueueAttributeNameApproximateNumberOfMessages) + n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
		Active:  n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)}, nil
}

// Workers implements ports.QueueInspector. SQS keeps no registry of its
// consumers (on Lambda they come and go with each batch): none are listed.
func (i *Inspector) Workers(context.Context) ([]ports.WorkerInfo, error) {
	return []ports.WorkerInfo{}, nil
}

// queueName is the last path segment of a queue URL.
func queueName(url string) string {
	for i := len(url) - 1; i >= 0; i-- {
		if url[i] == '/' {
			return url[i+1:]
		}
	}
	return url
}
