package pg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultStatementTimeout bounds every statement, so a migration that
// waits on a lock or loops cannot hang the run.
const DefaultStatementTimeout = 60 * time.Second

// Conn is one session. Like pgx.Conn it is not safe for concurrent use.
type Conn struct {
	pgx     *pgx.Conn
	dsn     string
	timeout time.Duration
}

// Connect opens a session on dsn (URL or key=value) with the default
// statement_timeout.
func Connect(ctx context.Context, dsn string) (*Conn, error) {
	return connect(ctx, dsn, "", DefaultStatementTimeout)
}

func connect(ctx context.Context, dsn, dbname string, timeout time.Duration) (*Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pg: parse %s: %w", Redact(dsn), convertErr(err))
	}
	if dbname != "" {
		cfg.Database = dbname
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pg: connect to %s: %w", Redact(dsn), convertErr(err))
	}
	conn := &Conn{pgx: c, dsn: dsn, timeout: timeout}
	if err := conn.SetStatementTimeout(ctx, timeout); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// SetStatementTimeout changes the session's statement_timeout; 0 means no
// limit, as in Postgres.
func (c *Conn) SetStatementTimeout(ctx context.Context, d time.Duration) error {
	if err := c.Exec(ctx, fmt.Sprintf("SET statement_timeout = %d", d.Milliseconds())); err != nil {
		return fmt.Errorf("pg: set statement_timeout: %w", err)
	}
	c.timeout = d
	return nil
}

// Exec runs sql with the simple protocol, so text holding several
// statements (a migration file) runs as one call; results are discarded.
// Server errors come back as *Error. sql is one statement as far as the
// watchdog is concerned (ExecN).
func (c *Conn) Exec(ctx context.Context, sql string) error { return c.ExecN(ctx, sql, 1) }

// ExecN is Exec for text of n statements. The session's statement_timeout
// bounds each statement, but the SQL under test can turn it off (SET
// statement_timeout = 0, RESET, set_config) and then sleep or loop for
// ever, so the session's limit is also kept from outside: once n times
// the limit and a grace have passed, the statement is cancelled, and its
// error then says it ran into the statement timeout.
func (c *Conn) ExecN(ctx context.Context, sql string, n int) error {
	stop := c.watchdog(n)
	_, err := c.pgx.PgConn().Exec(ctx, sql).ReadAll()
	fired := stop()
	err = convertErr(err)
	var pe *Error
	if fired && errors.As(err, &pe) && pe.SQLState == SQLStateQueryCanceled {
		pe.Message = fmt.Sprintf("canceling statement due to statement timeout (%s, kept by breakwater: the SQL had turned the session's statement_timeout off)", c.timeout)
	}
	return err
}

// watchdog sends a cancel request for the session's statement once n
// statement timeouts and a grace have passed; stop disarms it and says
// whether it fired. A cancel that reaches the server after the statement
// ended is ignored by the server, and stop waits for a cancel in flight,
// so it cannot hit the next statement.
func (c *Conn) watchdog(n int) (stop func() bool) {
	if c.timeout <= 0 {
		return func() bool { return false }
	}
	limit := time.Duration(max(n, 1))*c.timeout + time.Second + c.timeout/10
	var fired atomic.Bool
	done := make(chan struct{})
	timer := time.AfterFunc(limit, func() {
		defer close(done)
		fired.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.pgx.PgConn().CancelRequest(ctx)
	})
	return func() bool {
		if !timer.Stop() {
			<-done
		}
		return fired.Load()
	}
}

// Pgx exposes the session for queries that read results.
func (c *Conn) Pgx() *pgx.Conn { return c.pgx }

// Close ends the session.
func (c *Conn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return convertErr(c.pgx.Close(ctx))
}

// External wraps an existing server (--postgres-url, a CI service
// container). It checks that it connects; Close does not stop the server.
func External(ctx context.Context, dsn string) (*Cluster, error) {
	c, err := Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var num int
	if err := c.pgx.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		return nil, fmt.Errorf("pg: %s: server version: %w", Redact(dsn), convertErr(err))
	}
	return &Cluster{dsn: dsn, major: num / 10000, timeout: DefaultStatementTimeout}, nil
}

// DB is a scenario database and a session on it. Close drops it.
type DB struct {
	*Conn
	Name    string
	cluster *Cluster
	once    sync.Once
	err     error
}

// Scenario creates a fresh database breakwater_<name>_<random> and opens
// a session on it with the cluster's statement_timeout. The random part
// keeps concurrent runs against one external server apart.
func (cl *Cluster) Scenario(ctx context.Context, name string) (*DB, error) {
	suffix := randomHex(4)
	clean := sanitizeName(name)
	// 63 bytes is NAMEDATALEN-1; longer names would be truncated by the
	// server and could collide.
	if max := 63 - len("breakwater__") - len(suffix); len(clean) > max {
		clean = clean[:max]
	}
	dbname := "breakwater_" + clean + "_" + suffix

	admin, err := connect(ctx, cl.dsn, "", DefaultStatementTimeout) // creating the database is not the statement under test
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbname}.Sanitize()); err != nil {
		return nil, fmt.Errorf("pg: create database %s: %w", dbname, err)
	}
	c, err := connect(ctx, cl.dsn, dbname, cl.StatementTimeout())
	if err != nil {
		_ = dropDatabase(context.Background(), admin, dbname, cl.major)
		return nil, err
	}
	return &DB{Conn: c, Name: dbname, cluster: cl}, nil
}

func sanitizeName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "scenario"
	}
	return b.String()
}

// DSN points at this database, for tools that take a connection string.
func (db *DB) DSN() string { return withDBName(db.cluster.dsn, db.Name) }

func withDBName(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	// In key=value DSNs a later key wins.
	return dsn + " dbname='" + name + "'"
}

// Close ends the session and drops the database. Safe to call twice.
func (db *DB) Close() error {
	db.once.Do(func() {
		db.Conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := connect(ctx, db.cluster.dsn, "", DefaultStatementTimeout)
		if err != nil {
			db.err = err
			return
		}
		defer admin.Close()
		db.err = dropDatabase(ctx, admin, db.Name, db.cluster.major)
	})
	return db.err
}

func dropDatabase(ctx context.Context, admin *Conn, name string, major int) error {
	id := pgx.Identifier{name}.Sanitize()
	// A scenario may leave sessions behind (a tool it ran, a background
	// worker); FORCE (PG13+) or pg_terminate_backend keeps DROP from
	// failing on them.
	if major >= 13 {
		if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("pg: drop database %s: %w", name, err)
		}
		return nil
	}
	_, err := admin.pgx.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
	if err != nil {
		return fmt.Errorf("pg: drop database %s: %w", name, convertErr(err))
	}
	if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+id); err != nil {
		return fmt.Errorf("pg: drop database %s: %w", name, err)
	}
	return nil
}

// Attach opens a session on an existing database of the cluster: a
// scenario database that outlived a restart or a swap of the server's
// runtime. Close drops it, as for a Scenario.
func (cl *Cluster) Attach(ctx context.Context, name string) (*DB, error) {
	c, err := connect(ctx, cl.dsn, name, cl.StatementTimeout())
	if err != nil {
		return nil, err
	}
	return &DB{Conn: c, Name: name, cluster: cl}, nil
}

// ServerVersion is the server's version string, "15.18 (Debian 15.18-0+deb12u1)".
func (c *Conn) ServerVersion(ctx context.Context) (string, error) {
	var v string
	if err := c.pgx.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "", fmt.Errorf("pg: server version: %w", convertErr(err))
	}
	return v, nil
}
