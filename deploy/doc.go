// Package deploy holds the deployment descriptions of Repurpose that live
// outside the Go build: the Kubernetes manifests under k8s/. Its tests load
// them, the repository's docker-compose.yml, Dockerfile and .dockerignore
// with the reference parsers and check the invariants that a typo would
// otherwise break only at deploy time. It has no code of its own.
package deploy
