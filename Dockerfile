# The image behind the GitHub Action: a static breakwater binary plus the
# git it runs. Both stages pin their OS release, as breakwater asks of others.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/breakwater-ci/breakwater/internal/cli.Version=${VERSION}" \
      -o /out/breakwater ./cmd/breakwater

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/breakwater /usr/local/bin/breakwater
ENTRYPOINT ["/usr/local/bin/breakwater"]
CMD ["--help"]
