package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/repurpose/repurpose/core/transform"
)

// ParamBody describes one parameter of a transformation type.
type ParamBody struct {
	Type     string   `json:"type" enum:"string,integer,boolean,array"`
	Default  any      `json:"default,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	Min      *int     `json:"min,omitempty" doc:"Smallest integer, or shortest string or list"`
	Max      *int     `json:"max,omitempty" doc:"Largest integer, or longest string or list"`
	Required bool     `json:"required,omitempty"`
}

// TypeBody is one entry of the catalog.
type TypeBody struct {
	Type        string               `json:"type"`
	Description string               `json:"description"`
	Parameters  map[string]ParamBody `json:"parameters"`
}

type typesOutput struct {
	Body struct {
		TransformationTypes []TypeBody `json:"transformation_types"`
		Count               int        `json:"count"`
	}
}

func (s *server) registerTransformationCatalog() {
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "transformationTypes", Method: http.MethodGet, Path: "/api/transformations/types/available", Tags: []string{"Transformations"},
		Summary: "The transformation types and their parameters",
	}), func(ctx context.Context, _ *struct{}) (*typesOutput, error) {
		out := &typesOutput{}
		for _, spec := range transform.Specs() {
			t := TypeBody{Type: string(spec.Type), Description: spec.Description, Parameters: map[string]ParamBody{}}
			for _, p := range spec.Params {
				pb := ParamBody{Type: string(p.Kind), Default: p.Default, Enum: p.Enum, Required: p.Required}
				if p.Min != 0 || p.Max != 0 {
					pb.Min, pb.Max = intPtr(p.Min), intPtr(p.Max)
				}
				t.Parameters[p.Name] = pb
			}
			out.Body.TransformationTypes = append(out.Body.TransformationTypes, t)
		}
		out.Body.Count = len(out.Body.TransformationTypes)
		return out, nil
	})
}
