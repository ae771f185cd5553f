ARG PG_MAJOR=16
ARG OS=bookworm
# want postgres/major-upgrade
FROM postgres:${PG_MAJOR}-${OS}
