package rehearse

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
)

// Runtime kinds.
const (
	KindBin   = "bin"   // local binaries
	KindImage = "image" // a Docker image
)

// Runtime is one side of the rollout: what runs Postgres on the data.
type Runtime struct {
	Kind string
	// Dir holds the binaries (bin); "" finds them as the throwaway
	// cluster does (PATH, then the newest /usr/lib/postgresql). Locpath, when set, is the LOCPATH
	// the server runs with: a directory of compiled locales, which is how
	// a glibc locale change is reproduced without a second glibc. Locale
	// is initdb's locale, for the from side; default en_US.UTF-8, the
	// official images' default.
	Dir, Locpath, Locale string
	// Image is the reference (image), e.g. "postgres:15-bookworm".
	Image string
}

// ParseRuntime reads "bin:[DIR][?locpath=DIR&locale=NAME]" or "image:REF".
func ParseRuntime(s string) (Runtime, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Runtime{}, fmt.Errorf("runtime %q: want bin:DIR[?locpath=DIR&locale=NAME] or image:REF", s)
	}
	switch kind {
	case KindBin:
		dir, query, _ := strings.Cut(rest, "?")
		r := Runtime{Kind: KindBin}
		if dir != "" {
			r.Dir = filepath.Clean(dir)
		}
		if query != "" {
			q, err := url.ParseQuery(query)
			if err != nil {
				return Runtime{}, fmt.Errorf("runtime %q: %w", s, err)
			}
			for k, v := range q {
				switch k {
				case "locpath":
					r.Locpath = filepath.Clean(v[len(v)-1])
				case "locale":
					r.Locale = v[len(v)-1]
				default:
					return Runtime{}, fmt.Errorf("runtime %q: unknown option %q (want locpath or locale)", s, k)
				}
			}
		}
		return r, nil
	case KindImage:
		if _, err := reference.ParseNormalizedNamed(rest); err != nil {
			return Runtime{}, fmt.Errorf("runtime %q: %w", s, err)
		}
		return Runtime{Kind: KindImage, Image: rest}, nil
	}
	return Runtime{}, fmt.Errorf("runtime %q: unknown kind %q (want bin or image)", s, kind)
}

// String is the form ParseRuntime reads.
func (r Runtime) String() string {
	if r.Kind == KindImage {
		return "image:" + r.Image
	}
	s := "bin:" + r.Dir
	// Paths read better unescaped, and ParseQuery takes them so.
	var q []string
	if r.Locpath != "" {
		q = append(q, "locpath="+r.Locpath)
	}
	if r.Locale != "" {
		q = append(q, "locale="+url.QueryEscape(r.Locale))
	}
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

func (r Runtime) env() []string {
	if r.Locpath == "" {
		return nil
	}
	return []string{"LOCPATH=" + r.Locpath}
}
