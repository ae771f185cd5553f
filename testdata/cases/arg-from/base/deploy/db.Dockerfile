ARG PG_MAJOR=15
ARG OS=bookworm
FROM postgres:${PG_MAJOR}-${OS}
