# The operator image: a static Go binary on a distroless base, no shell, run
# as an unprivileged user. test/images checks what can be checked without a
# container engine (pinned bases, build command, packages copied, user).

# Build the manager binary.
FROM docker.io/library/golang:1.26.8-bookworm AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Download modules first: this layer is reused while go.mod and go.sum stay.
COPY go.mod go.mod
COPY go.sum go.sum
RUN go mod download

COPY cmd/ cmd/
COPY api/ api/
COPY controllers/ controllers/
COPY internal/ internal/

# CGO off: the binary runs on a base without a C library.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o manager ./cmd

# Run it on distroless: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
