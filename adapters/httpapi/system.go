package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

type queueOutput struct {
	Body ports.QueueStats
}

type workersOutput struct {
	Body struct {
		Workers []ports.WorkerInfo `json:"workers"`
		Count   int                `json:"count"`
	}
}

// registerSystem serves the operators' views of the queue and workers
// (platform admins only: 403 for everyone else).
func (s *server) registerSystem() {
	tags := []string{"Operations"}
	admin := func(ctx context.Context) error {
		if !s.deps.Workspaces.IsPlatformAdmin(ctx) {
			return s.fail(ctx, core.Errorf(core.EFORBIDDEN, "platform admins only (PLATFORM_ADMIN_EMAILS)"))
		}
		return nil
	}
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "systemQueue", Method: http.MethodGet, Path: "/api/system/queue", Tags: tags,
		Summary: "Job queue counters (platform admins)", Errors: []int{http.StatusForbidden, http.StatusServiceUnavailable},
	}), func(ctx context.Context, _ *struct{}) (*queueOutput, error) {
		if err := admin(ctx); err != nil {
			return nil, err
		}
		st, err := s.deps.Inspector.Stats(ctx)
		if err != nil {
			return nil, s.fail(ctx, &core.Error{Code: core.EUNAVAILABLE, Message: "the queue did not answer", Err: err})
		}
		return &queueOutput{Body: st}, nil
	})
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "systemWorkers", Method: http.MethodGet, Path: "/api/system/workers", Tags: tags,
		Summary: "Worker processes consuming the queue (platform admins)", Errors: []int{http.StatusForbidden, http.StatusServiceUnavailable},
	}), func(ctx context.Context, _ *struct{}) (*workersOutput, error) {
		if err := admin(ctx); err != nil {
			return nil, err
		}
		list, err := s.deps.Inspector.Workers(ctx)
		if err != nil {
			return nil, s.fail(ctx, &core.Error{Code: core.EUNAVAILABLE, Message: "the queue did not answer", Err: err})
		}
		out := &workersOutput{}
		out.Body.Workers, out.Body.Count = list, len(list)
		return out, nil
	})
}
