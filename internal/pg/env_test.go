package pg

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The SQL under test runs as a superuser and can read the server's
// environment, so the server gets an allow-list: breakwater's tokens
// and passwords never reach it.
func TestServerEnvironment(t *testing.T) {
	bin := needBinaries(t)
	t.Setenv("GITHUB_TOKEN", "ghs_never_in_the_server")
	t.Setenv("INPUT_GITHUB-TOKEN", "ghs_nor_this")
	t.Setenv("LC_MESSAGES", "C")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := StartThrowaway(ctx, ThrowawayOptions{Bin: bin, NoCache: true, Env: []string{"LOCPATH=/nonexistent-locales"}, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	db, err := cl.Scenario(ctx, "env")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(ctx, "CREATE TABLE e (line text); COPY e FROM PROGRAM 'env'"); err != nil {
		t.Fatal(err)
	}
	var env string
	if err := db.Pgx().QueryRow(ctx, "SELECT string_agg(line, E'\\n' ORDER BY line) FROM e").Scan(&env); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(env, "ghs_") {
		t.Errorf("a token reached the server's environment:\n%s", env)
	}
	for _, want := range []string{"PATH=", "LC_MESSAGES=C", "LOCPATH=/nonexistent-locales"} {
		if !strings.Contains(env, want) {
			t.Errorf("the server's environment lacks %s:\n%s", want, env)
		}
	}
}

// A wrong password against a server that checks passwords: the error
// says authentication failed and never shows the password.
func TestWrongPassword(t *testing.T) {
	bin := needBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := StartThrowaway(ctx, ThrowawayOptions{Bin: bin, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c, err := Connect(ctx, cl.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "ALTER ROLE postgres PASSWORD 'the-right-one'"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cl.dataDir, "pg_hba.conf"), []byte("local all all scram-sha-256\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cl.cred != nil {
		if err := os.Chown(filepath.Join(cl.dataDir, "pg_hba.conf"), int(cl.cred.Uid), int(cl.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	const wrong = "Wr0ng-Pa55word"
	u, err := url.Parse(cl.DSN())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("postgres", wrong)
	// The reload is asynchronous; the first refusal proves it took.
	var lastErr error
	for range 50 {
		if _, lastErr = External(ctx, u.String()); lastErr != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lastErr == nil {
		t.Fatal("a wrong password was accepted")
	}
	if strings.Contains(fmt.Sprintf("%v %+v", lastErr, lastErr), wrong) {
		t.Errorf("the password is in the error: %v", lastErr)
	}
	if !strings.Contains(lastErr.Error(), "password authentication failed") {
		t.Errorf("error %q does not say the password was refused", lastErr)
	}
}
