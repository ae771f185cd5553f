package pg

import (
	"context"
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
