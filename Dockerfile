# syntax=docker/dockerfile:1
#
# Image of the repurpose binary: `serve` (default), `worker`, `migrate`,
# `healthcheck`, with the AI provider plugins in /plugins.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t repurpose .
# BuildKit cache mounts keep the module and build caches between builds.

# The minor version of the go line in go.mod (deploy/deploy_test.go checks).
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
# `make build` itself, so the image holds exactly what the Makefile builds:
# the static server at bin/repurpose and the plugins under bin/plugins
# (cross-compiled for the target platform; the Makefile sets CGO_ENABLED=0).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS="${TARGETOS:-linux}" GOARCH="${TARGETARCH:-amd64}" make build VERSION="${VERSION}" && \
    mkdir -p bin/plugins

# Static, no shell, no package manager; runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/repurpose /repurpose
COPY --from=build /src/bin/plugins /plugins
ENV PLUGIN_DIR=/plugins
USER nonroot:nonroot
EXPOSE 8080 9091
ENTRYPOINT ["/repurpose"]
CMD ["serve"]
