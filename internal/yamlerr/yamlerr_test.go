package yamlerr

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestInputError(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
	}{
		{"scanner error keeps its line", "a: 1\nb: \"open\n", 2},
		{"parser error is shifted to count from 1", "a:\n  - x\n - y\n", 3},
		{"unknown anchor at its first use", "a: 1\nb: *nope\n", 2},
		{"unclosed flow sequence: the line it opens on", "a:\n  b: [1, 2\n", 2},
		{"end of a file without a final newline: its last line", "[", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			err := yaml.Unmarshal([]byte(tt.src), &n)
			if err == nil {
				t.Fatal("the input parsed")
			}
			e := InputError("f.yml", []byte(tt.src), err)
			if e.File != "f.yml" || e.Line != tt.line || e.Msg == "" {
				t.Errorf("got %+v (from %q), want line %d", e, err, tt.line)
			}
		})
	}
}
