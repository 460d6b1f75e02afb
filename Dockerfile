# syntax=docker/dockerfile:1
#
# Image of the repurpose binary: `serve` (default), `worker`, `migrate`.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t repurpose .
# BuildKit cache mounts keep the module and build caches between builds.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src

# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
# The same build as `make build`: a static binary, plus every AI provider
# plugin (each main package under plugins/) into /out/plugins.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    set -eu; \
    export CGO_ENABLED=0 GOOS="${TARGETOS:-linux}" GOARCH="${TARGETARCH:-amd64}"; \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/repurpose ./cmd/repurpose; \
    mkdir -p /out/plugins; \
    if [ -d plugins ]; then \
        for pkg in $(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./plugins/...); do \
            go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o "/out/plugins/${pkg##*/}" "$pkg"; \
        done; \
    fi

# Static, no shell, no package manager; runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/repurpose /repurpose
COPY --from=build /out/plugins /plugins
ENV PLUGIN_DIR=/plugins
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/repurpose"]
CMD ["serve"]
