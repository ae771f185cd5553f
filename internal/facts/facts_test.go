package facts

import (
	"testing"

	"github.com/breakwater-ci/breakwater/internal/imageref"
)

func u(key, image string, db bool) *ImageUse {
	return &ImageUse{Key: key, Image: image, Identity: imageref.Identity{Ref: imageref.Ref{Path: image}, Database: db}}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name       string
		base, head []*ImageUse
		want       []string // "baseKey>headKey", "-" for nil
	}{
		{
			name: "by key",
			base: []*ImageUse{u("stage:build", "golang", false), u("final", "postgres", true)},
			head: []*ImageUse{u("final", "postgres", true), u("stage:build", "golang", false)},
			want: []string{"final>final", "stage:build>stage:build"},
		},
		{
			name: "renamed stage at the same place",
			base: []*ImageUse{u("stage:db", "postgres", true)},
			head: []*ImageUse{u("stage:database", "postgres", true)},
			want: []string{"stage:db>stage:database"},
		},
		{
			name: "a stage inserted above is not compared with the old first stage",
			base: []*ImageUse{u("stage#0", "postgres", true), u("final", "debian", false)},
			head: []*ImageUse{u("stage:build", "golang", false), u("stage#1", "node", false), u("final", "debian", false)},
			want: []string{"final>final", "->stage:build", "->stage#1", "stage#0>-"},
		},
		{
			name: "added and removed files",
			base: nil,
			head: []*ImageUse{u("final", "postgres", true)},
			want: []string{"->final"},
		},
		{
			name: "removed",
			base: []*ImageUse{u("final", "postgres", true)},
			want: []string{"final>-"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pairs := Match(tt.base, tt.head)
			var got []string
			for _, p := range pairs {
				b, h := "-", "-"
				if p.Base != nil {
					b = p.Base.Key
				}
				if p.Head != nil {
					h = p.Head.Key
				}
				got = append(got, b+">"+h)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			set := map[string]bool{}
			for _, g := range got {
				set[g] = true
			}
			for _, w := range tt.want {
				if !set[w] {
					t.Errorf("missing pair %s in %v", w, got)
				}
			}
		})
	}
}

func TestChanged(t *testing.T) {
	a := &ImageUse{Raw: "postgres:${V}", Image: "postgres:16"}
	b := &ImageUse{Raw: "postgres:${V}", Image: "postgres:17"}
	same := *a
	pg := *a
	pg.RunsPostgres = true
	for _, tt := range []struct {
		p    Pair
		want bool
	}{
		{Pair{nil, a}, true},
		{Pair{a, nil}, false},
		{Pair{a, b}, true},
		{Pair{a, &same}, false},
		{Pair{a, &pg}, true},
	} {
		if got := tt.p.Changed(); got != tt.want {
			t.Errorf("Changed(%+v, %+v) = %v, want %v", tt.p.Base, tt.p.Head, got, tt.want)
		}
	}
}
