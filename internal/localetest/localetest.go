// Package localetest compiles glibc locales for tests that reproduce a
// collation change without a second glibc: data built under
// LOCPATH=dirA and read under LOCPATH=dirB, where both dirs hold a locale
// of the same name whose LC_COLLATE differs.
package localetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Sources is where Debian's locales package keeps the definitions.
const Sources = "/usr/share/i18n/locales"

// categories are the parts of a locale source; a variant copies all but
// LC_COLLATE from en_US.
var categories = []string{"LC_IDENTIFICATION", "LC_CTYPE", "LC_COLLATE", "LC_MONETARY", "LC_NUMERIC",
	"LC_TIME", "LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT"}

// EnUS compiles, for each collation source given, a directory holding a
// locale named en_US.UTF-8: en_US in every category but LC_COLLATE,
// which is copied from that source ("en_US" for the real one, "C" for
// byte order as musl has it, "da_DK" for Danish). The dirs are readable
// by the postgres user and removed at the end of the test. Without
// localedef or the sources the test is skipped, or fails in CI.
func EnUS(t testing.TB, collate ...string) []string {
	t.Helper()
	localedef, err := exec.LookPath("localedef")
	if err == nil {
		for _, f := range append([]string{"en_US", "iso14651_t1"}, collate...) {
			if _, err = os.Stat(filepath.Join(Sources, f)); err != nil {
				break
			}
		}
	}
	if err != nil {
		// postgresql depends on the locales package, which has them.
		if os.Getenv("CI") != "" {
			t.Fatalf("need localedef and the sources in %s (Debian package locales): %v", Sources, err)
		}
		t.Skipf("need localedef and the sources in %s (Debian package locales): %v", Sources, err)
	}
	// Not t.TempDir: the server runs as postgres and must read the files,
	// and t.TempDir's parents are private.
	base, err := os.MkdirTemp("", "breakwater-locales-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dirs := make([]string, len(collate))
	errs := make([]error, len(collate))
	var wg sync.WaitGroup
	// A compilation takes ~1.5 s; they run at once.
	for i, from := range collate {
		dirs[i] = filepath.Join(base, fmt.Sprintf("%d-%s", i, from))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = compile(localedef, base, dirs[i], from)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}

func compile(localedef, base, dir, collateFrom string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	input := "en_US"
	if collateFrom != "en_US" {
		var def []byte
		for _, cat := range categories {
			from := "en_US"
			if cat == "LC_COLLATE" {
				from = collateFrom
			}
			def = fmt.Appendf(def, "%s\ncopy \"%s\"\nEND %s\n\n", cat, from, cat)
		}
		input = filepath.Join(base, "en_US-"+collateFrom+"-collate")
		if err := os.WriteFile(input, def, 0o644); err != nil {
			return err
		}
	}
	out := filepath.Join(dir, "en_US.UTF-8")
	// -c: warnings about the sources are not our business as long as the
	// locale is written.
	b, err := exec.Command(localedef, "-c", "-i", input, "-f", "UTF-8", out).CombinedOutput()
	if _, serr := os.Stat(filepath.Join(out, "LC_COLLATE")); serr != nil {
		return fmt.Errorf("localedef -i %s: %v %v\n%s", input, err, serr, b)
	}
	return nil
}
