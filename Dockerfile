# The image behind the GitHub Action: breakwater, the git it runs, and a
# Postgres server for the throwaway clusters of the migration checks. Both
# stages pin the same OS release, as breakwater asks of others: the binary
# links libpg_query (cgo) against the glibc of the final stage.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath \
      -ldflags "-s -w -X github.com/breakwater-ci/breakwater/internal/cli.Version=${VERSION}" \
      -o /out/breakwater ./cmd/breakwater

FROM debian:bookworm-slim
# postgresql-common first, told not to create a cluster: breakwater makes
# its own throwaway ones.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates postgresql-common \
 && sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/breakwater /usr/local/bin/breakwater
ENTRYPOINT ["/usr/local/bin/breakwater"]
CMD ["--help"]
